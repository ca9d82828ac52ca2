// /api/v1/devices/{id}/lwm2m — a device's LwM2M registration (issue 20, lwm2m/README.md):
// GET shows it (viewers may read; "registered" is false once the lifetime ran out), and
// /lwm2m/operations queues a Read, Write or Execute of a path (editors and admins) that the CoAP
// server sends when the device can be reached — at most lwm2m::kMaxOpenOperations open per device,
// beyond that 429 — and lists them with their state and result (an expired one is failed);
// an observe or cancel-observe of a path starts or ends an observation (notifications become
// readings), and GET shows the active observations.
#include "api/common.h"
#include "core/time_format.h"
#include "lwm2m/operation.h"
#include "store/lwm2m_store.h"

namespace bysans::api {
namespace {

json ObjectList(const std::string& objects) {
  json out = json::array();
  size_t start = 0;
  while (start < objects.size()) {
    size_t comma = objects.find(',', start);
    out.push_back(objects.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

json ToJson(const Lwm2mRegistration& r, TimeMs now) {
  return {{"deviceId", r.device_id},
          {"registered", !r.ExpiredAt(now)},
          {"endpoint", r.endpoint},
          {"lifetime", r.lifetime_s},
          {"binding", r.binding},
          {"queueMode", r.queue_mode},
          {"lwm2mVersion", r.version},
          {"objects", ObjectList(r.objects)},
          {"registeredAt", FormatRfc3339(r.registered_ms)},
          {"updatedAt", FormatRfc3339(r.updated_ms)},
          {"expiresAt", FormatRfc3339(r.updated_ms + r.lifetime_s * 1000)}};
}

json ToJson(const Lwm2mOperation& op) {
  json out = {{"id", op.id},
              {"deviceId", op.device_id},
              {"kind", Lwm2mOpKindName(op.kind)},
              {"path", op.path},
              {"state", Lwm2mOpStateName(op.state)},
              {"createdAt", FormatRfc3339(op.created_ms)},
              {"updatedAt", FormatRfc3339(op.updated_ms)}};
  if (op.kind == Lwm2mOpKind::kWrite || op.kind == Lwm2mOpKind::kExecute) out["value"] = op.value;
  // A cancel-observe is done without a device's answer: no result code.
  if (op.state == Lwm2mOpState::kDone && op.result_code == 0) out["result"] = op.result_payload;
  if (op.state == Lwm2mOpState::kDone && op.result_code != 0) {
    out["resultCode"] = std::to_string(op.result_code / 100) + "." +
                        (op.result_code % 100 < 10 ? "0" : "") +
                        std::to_string(op.result_code % 100);
    out["result"] = op.result_payload;
  }
  if (op.state == Lwm2mOpState::kFailed) out["error"] = op.error;
  return out;
}

Result<http::Response> GetRegistration(ApiContext& ctx, http::Request& req,
                                       const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(Lwm2mRegistration r, ctx.store.lwm2m().GetRegistration(d.id));
  json out = ToJson(r, ctx.clock.NowMs());
  BYSANS_ASSIGN_OR_RETURN(auto observations, ctx.store.lwm2m().ListObservations(d.id));
  out["observations"] = json::array();
  for (const Lwm2mObservation& o : observations) {
    json j = {
        {"path", o.path}, {"since", FormatRfc3339(o.since_ms)}, {"notifications", o.notifications}};
    j["lastAt"] = o.last_ms ? json(FormatRfc3339(o.last_ms)) : json(nullptr);
    out["observations"].push_back(std::move(j));
  }
  return Json(200, out);
}

Result<http::Response> QueueOperation(ApiContext& ctx, http::Request& req,
                                      const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"kind", "path", "value"}));
  BYSANS_ASSIGN_OR_RETURN(std::string kind_text, RequiredString(body, "kind"));
  BYSANS_ASSIGN_OR_RETURN(std::string path, RequiredString(body, "path"));
  BYSANS_ASSIGN_OR_RETURN(std::optional<std::string> value, OptString(body, "value"));
  BYSANS_ASSIGN_OR_RETURN(Lwm2mOpKind kind, lwm2m::ParseKind(kind_text));
  if (kind == Lwm2mOpKind::kWrite && !value) return InvalidArgument("a write needs a value (text)");
  BYSANS_RETURN_IF_ERROR(lwm2m::ValidateOperation(kind, path, value.value_or("")));
  Lwm2mOperation op;
  op.device_id = d.id;
  op.kind = kind;
  op.path = path;
  op.value = value.value_or("");
  op.created_ms = ctx.clock.NowMs();
  auto added = ctx.store.lwm2m().AddOperation(std::move(op), lwm2m::kMaxOpenOperations);
  if (!added.ok() && added.status().code() == Code::kRateLimited)
    return Status(Code::kRateLimited,
                  "the device already has " + std::to_string(lwm2m::kMaxOpenOperations) +
                      " LwM2M operations queued or sent, the most it may have: queue more when "
                      "it has answered some (a queued operation fails as expired after "
                      "coap.lwm2m_operation_expiry_s, 24 h by default)");
  BYSANS_ASSIGN_OR_RETURN(op, std::move(added));
  Audit(ctx, p, req, d.org_id, "queue_lwm2m_operation", "device", std::to_string(d.id),
        std::string(Lwm2mOpKindName(op.kind)) + " " + op.path);
  return Json(201, ToJson(op));
}

Result<http::Response> ListOperations(ApiContext& ctx, http::Request& req,
                                      const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  // The newest 10,000 operations of the device are listed.
  BYSANS_ASSIGN_OR_RETURN(auto ops, ctx.store.lwm2m().ListOperations(d.id, 10'000));
  json items = json::array();
  for (size_t i = static_cast<size_t>(page.offset);
       i < ops.size() && items.size() < static_cast<size_t>(page.limit); ++i)
    items.push_back(ToJson(ops[i]));
  return PagedJson(std::move(items), static_cast<int64_t>(ops.size()), page);
}

}  // namespace

void RegisterLwm2mRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  AddAuthed(router, ctx, "GET", "/api/v1/devices/{id}/lwm2m",
            "The device's LwM2M registration (endpoint, lifetime, binding, objects, observations)",
            bind(GetRegistration));
  AddAuthed(router, ctx, "POST", "/api/v1/devices/{id}/lwm2m/operations",
            "Queue an LwM2M read, write, execute, observe or cancel-observe of a path ({\"kind\", "
            "\"path\", \"value\"})",
            bind(QueueOperation));
  AddAuthed(router, ctx, "GET", "/api/v1/devices/{id}/lwm2m/operations",
            "The device's LwM2M operations, newest first, with state and result",
            bind(ListOperations));
}

}  // namespace bysans::api

// Payload decoders: CRUD per organisation with version history, attachment to
// applications and devices, a test endpoint (editor role; runs on a dedicated
// decode thread, never on the HTTP io threads) and background re-decode jobs.
#include <spdlog/spdlog.h>

#include <memory>

#include "api/common.h"
#include "core/encoding.h"
#include "core/time_format.h"
#include "decode/redecode.h"
#include "store/decoder_store.h"

namespace bysans::api {

// api/jobs.cc. `rerun` queues a stored job again (its state is not queued or running).
void RegisterJobRoutes(http::Router& router, ApiContext& ctx,
                       const std::shared_ptr<decode::JobTable>& jobs,
                       const std::function<Status(const decode::JobStatus&)>& rerun);

namespace {

constexpr size_t kMaxCodeBytes = 256 * 1024;

// What the decoder routes share; lives as long as the router's handlers.
struct DecoderApi {
  explicit DecoderApi(ApiContext& ctx) : jobs(ctx.store.decoders(), ctx.clock, ctx.node_holder) {}
  decode::JobTable jobs;
  decode::DecodeThread test_thread;
  decode::DecodeThread job_thread;
};

// The organisation's decoder time limit per call (Organization::decoder_timeout_ms).
int64_t OrgTimeLimitMs(ApiContext& ctx, Id org_id) {
  auto o = ctx.store.GetOrganization(org_id);
  return o.ok() ? o->decoder_timeout_ms : 0;
}

json DecoderJson(const StoredDecoder& d) {
  return {{"id", d.id},
          {"orgId", d.org_id},
          {"name", d.name},
          {"kind", DecoderKindName(d.kind)},
          {"version", d.version},
          {"code", d.code},
          {"contract", d.contract},
          {"createdAt", FormatRfc3339(d.created_ms)},
          {"updatedAt", FormatRfc3339(d.updated_ms)}};
}

json ValueJson(const Value& v) {
  if (const double* d = std::get_if<double>(&v)) return *d;
  if (const bool* b = std::get_if<bool>(&v)) return *b;
  return std::get<std::string>(v);
}

Result<StoredDecoder> LoadDecoder(ApiContext& ctx, const auth::Principal& p, Id id, Role min) {
  auto d = ctx.store.decoders().GetDecoder(id);
  Status st = d.ok() ? RequireRole(ctx, p, d->org_id, min, "decoder", id) : d.status();
  if (st.code() == Code::kNotFound) return NotFound("no decoder with id " + std::to_string(id));
  if (!st.ok()) return st;
  return d;
}

Id UserOf(const auth::Principal& p) { return p.user_id.value_or(0); }

constexpr char kContracts[] = "auto, os2iot, ttn, chirpstack, chirpstack-v3, ttn-v2";

// The optional `contract` member: nullopt when absent, else one of kContracts.
Result<std::optional<std::string>> ContractField(const json& body) {
  BYSANS_ASSIGN_OR_RETURN(auto contract, OptString(body, "contract"));
  if (contract && !decode::ParseContractName(*contract).ok())
    return InvalidArgument(std::string("field 'contract' must be one of ") + kContracts);
  return contract;
}

// Applies name/kind/code/contract members of a body to `d`.
Status ApplyBody(const json& body, StoredDecoder& d) {
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"name", "kind", "code", "contract"}));
  BYSANS_ASSIGN_OR_RETURN(auto contract, ContractField(body));
  if (contract) d.contract = *contract;
  BYSANS_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
  BYSANS_ASSIGN_OR_RETURN(auto kind, OptString(body, "kind"));
  BYSANS_ASSIGN_OR_RETURN(auto code, OptString(body, "code"));
  if (name) {
    if (name->empty() || name->size() > 200)
      return InvalidArgument("field 'name' must be 1 to 200 characters");
    d.name = *name;
  }
  if (kind) {
    auto k = ParseDecoderKind(*kind);
    if (!k) return InvalidArgument("field 'kind' must be one of js, cayenne_lpp, senml");
    d.kind = *k;
  }
  if (code) {
    if (code->size() > kMaxCodeBytes) return InvalidArgument("field 'code' is larger than 256 KiB");
    d.code = *code;
  }
  if (d.kind == DecoderKind::kJs && d.contract == "auto" &&
      decode::DetectContract(d.code) == decode::Contract::kUnknown)
    return InvalidArgument("field 'code' defines none of decodeUplink, decode, Decode or Decoder");
  return Status::Ok();
}

Result<http::Response> Create(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  StoredDecoder d;
  d.org_id = o.id;
  BYSANS_RETURN_IF_ERROR(ApplyBody(body, d));
  if (d.name.empty()) return InvalidArgument("field 'name' is required");
  BYSANS_ASSIGN_OR_RETURN(d, ctx.store.decoders().CreateDecoder(d, UserOf(p), ctx.clock.NowMs()));
  Audit(ctx, p, req, d.org_id, "create", "decoder", std::to_string(d.id), d.name);
  return Json(201, DecoderJson(d));
}

Result<http::Response> List(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  BYSANS_ASSIGN_OR_RETURN(auto list, ctx.store.decoders().ListDecoders(o.id, page));
  json items = json::array();
  for (const auto& d : list.items) items.push_back(DecoderJson(d));
  return PagedJson(std::move(items), list.total, page);
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(StoredDecoder d, LoadDecoder(ctx, p, id, Role::kViewer));
  return Json(200, DecoderJson(d));
}

Result<http::Response> Patch(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(StoredDecoder d, LoadDecoder(ctx, p, id, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(ApplyBody(body, d));
  BYSANS_ASSIGN_OR_RETURN(d, ctx.store.decoders().UpdateDecoder(d, UserOf(p), ctx.clock.NowMs()));
  Audit(ctx, p, req, d.org_id, "update", "decoder", std::to_string(d.id),
        "version " + std::to_string(d.version));
  return Json(200, DecoderJson(d));
}

Result<http::Response> Delete(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(StoredDecoder d, LoadDecoder(ctx, p, id, Role::kEditor));
  BYSANS_RETURN_IF_ERROR(ctx.store.decoders().DeleteDecoder(d.id));
  Audit(ctx, p, req, d.org_id, "delete", "decoder", std::to_string(d.id), d.name);
  return NoContent();
}

Result<http::Response> Versions(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(StoredDecoder d, LoadDecoder(ctx, p, id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto versions, ctx.store.decoders().ListVersions(d.id));
  json items = json::array();
  for (const auto& v : versions)
    items.push_back({{"version", v.version},
                     {"code", v.code},
                     {"contract", v.contract},
                     {"createdAt", FormatRfc3339(v.created_ms)},
                     {"createdBy", v.created_by == 0 ? json(nullptr) : json(v.created_by)}});
  return Json(200, {{"decoderId", d.id}, {"items", std::move(items)}});
}

// {"decoderId": n|null} → the decoder (same organisation as `org`), or nullopt to detach.
Result<std::optional<Id>> AttachBody(ApiContext& ctx, http::Request& req, const auth::Principal& p,
                                     Id org) {
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"decoderId"}));
  auto it = body.find("decoderId");
  if (it == body.end()) return InvalidArgument("field 'decoderId' is required (a number or null)");
  if (it->is_null()) return std::optional<Id>();
  BYSANS_ASSIGN_OR_RETURN(auto id, OptInt(body, "decoderId"));
  BYSANS_ASSIGN_OR_RETURN(StoredDecoder d, LoadDecoder(ctx, p, *id, Role::kViewer));
  if (d.org_id != org) return NotFound("no decoder with id " + std::to_string(*id));
  return std::optional<Id>(d.id);
}

json AttachJson(std::optional<Id> id) { return {{"decoderId", id ? json(*id) : json(nullptr)}}; }

Result<http::Response> AttachApp(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(Application a, LoadApplication(ctx, p, id, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(auto dec, AttachBody(ctx, req, p, a.org_id));
  BYSANS_RETURN_IF_ERROR(ctx.store.decoders().SetApplicationDecoder(a.id, dec));
  Audit(ctx, p, req, a.org_id, "update", "application", std::to_string(a.id),
        AttachJson(dec).dump());
  return Json(200, AttachJson(dec));
}

Result<http::Response> AttachDevice(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(auto dec, AttachBody(ctx, req, p, d.org_id));
  BYSANS_RETURN_IF_ERROR(ctx.store.decoders().SetDeviceDecoder(d.id, dec));
  Audit(ctx, p, req, d.org_id, "update", "device", std::to_string(d.id), AttachJson(dec).dump());
  return Json(200, AttachJson(dec));
}

// The decoder attached to an application or a device (viewer role): {"decoderId": id or null}.
std::optional<Id> AttachedIn(const std::unordered_map<Id, Id>& by, Id id) {
  auto it = by.find(id);
  return it == by.end() ? std::nullopt : std::optional<Id>(it->second);
}

Result<http::Response> GetAppDecoder(ApiContext& ctx, http::Request& req,
                                     const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(Application a, LoadApplication(ctx, p, id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto att, ctx.store.decoders().ListAttachments());
  return Json(200, AttachJson(AttachedIn(att.by_app, a.id)));
}

Result<http::Response> GetDeviceDecoder(ApiContext& ctx, http::Request& req,
                                        const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto att, ctx.store.decoders().ListAttachments());
  return Json(200, AttachJson(AttachedIn(att.by_device, d.id)));
}

// ---- test decode -----------------------------------------------------------

// The decoder test payload's base64 (standard or URL-safe alphabet).
Result<std::string> PayloadFromBase64(std::string_view s) {
  auto bytes = DecodeBase64(s);
  if (!bytes.ok())
    return InvalidArgument("field 'payload' is neither hex nor base64 (" +
                           bytes.status().message() + ")");
  return bytes;
}

struct TestJob {
  StoredDecoder decoder;
  decode::DecodeInput input;
  Id device_id = 0;
  int64_t time_ms = 0;
};

// JSON text (already parsed and depth-checked), or its top-level `member`, serialised with the
// client's key order (json sorts keys): an OS2iot decoder that passes parts of the uplink
// through then gives them in the order Node would.
std::string InClientOrder(std::string_view text, const char* member) {
  auto j = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  return member != nullptr ? j[member].dump() : j.dump();
}

Result<TestJob> PrepareTest(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(
      RejectUnknownFields(body, {"code", "kind", "contract", "decoderId", "orgId", "payload",
                                 "encoding", "fPort", "deviceId"}));
  BYSANS_ASSIGN_OR_RETURN(auto contract, ContractField(body));
  TestJob job;
  BYSANS_ASSIGN_OR_RETURN(auto decoder_id, OptInt(body, "decoderId"));
  BYSANS_ASSIGN_OR_RETURN(auto org_id, OptInt(body, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(auto device_id, OptInt(body, "deviceId"));
  std::optional<Device> device;
  if (device_id) {
    BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, *device_id, Role::kEditor));
    device = WithoutPersonalMetadata(ctx.store, std::move(d));
  }
  if (decoder_id) {
    BYSANS_ASSIGN_OR_RETURN(job.decoder, LoadDecoder(ctx, p, *decoder_id, Role::kEditor));
  } else {
    Id org = org_id ? *org_id : device ? device->org_id : 0;
    if (org == 0) return InvalidArgument("give 'decoderId', or 'code' with 'orgId' or 'deviceId'");
    BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kEditor));
    job.decoder.org_id = o.id;
  }
  if (contract) job.decoder.contract = *contract;  // chosen per call: the cache is unaffected
  if (body.contains("code") || body.contains("kind")) {
    StoredDecoder d = job.decoder;
    d.code.clear();
    BYSANS_RETURN_IF_ERROR(ApplyBody(
        json{{"code", body.value("code", job.decoder.code)}, {"kind", body.value("kind", "js")}},
        d));
    d.id = 0;  // ad-hoc code: cached by its hash
    d.version = 0;
    job.decoder = std::move(d);
  }
  if (device && device->org_id != job.decoder.org_id)
    return NotFound("no device with id " + std::to_string(device->id));

  decode::DecodeInput& in = job.input;
  in.recv_time = ctx.clock.NowMs();
  BYSANS_ASSIGN_OR_RETURN(auto fport, OptInt(body, "fPort"));
  in.fport = static_cast<int>(fport.value_or(1));
  BYSANS_ASSIGN_OR_RETURN(auto encoding, OptString(body, "encoding"));
  auto pl = body.find("payload");
  if (pl == body.end()) return InvalidArgument("field 'payload' is required");
  if (pl->is_object() || pl->is_array() || encoding.value_or("") == "json") {
    json j = *pl;
    if (pl->is_string()) {
      BYSANS_ASSIGN_OR_RETURN(j, ParseJsonText(pl->get<std::string>(), "field 'payload': "));
    }
    in.uplink_json = pl->is_string() ? InClientOrder(pl->get_ref<const std::string&>(), nullptr)
                                     : InClientOrder(req.body, "payload");
    in.bytes = in.uplink_json;
    if (j.is_object()) {  // a ChirpStack uplink: the frame is in `data`
      if (auto d = j.find("data"); d != j.end() && d->is_string()) {
        BYSANS_ASSIGN_OR_RETURN(in.bytes, PayloadFromBase64(d->get<std::string>()));
      }
      if (auto f = j.find("fPort"); f != j.end() && f->is_number_integer())
        in.fport = f->get<int>();
    }
  } else if (pl->is_string()) {
    std::string s = pl->get<std::string>();
    std::string enc = encoding.value_or(IsHex(s) ? "hex" : "base64");
    if (enc == "hex") {
      if (!IsHex(s)) return InvalidArgument("field 'payload' is not hex");
      in.bytes = *DecodeHex(s);
    } else if (enc == "base64") {
      BYSANS_ASSIGN_OR_RETURN(in.bytes, PayloadFromBase64(s));
    } else {
      return InvalidArgument("field 'encoding' must be hex, base64 or json");
    }
  } else {
    return InvalidArgument("field 'payload' must be a string (hex, base64) or JSON");
  }
  if (in.bytes.size() > 64 * 1024) return InvalidArgument("field 'payload' is larger than 64 KiB");
  if (device) {
    in.device_json = decode::Os2iotDeviceJson(*device, decode::DeviceModelDoc(ctx.store, *device));
    in.variables = device->metadata;
    job.device_id = device->id;
  }
  job.time_ms = OrgTimeLimitMs(ctx, job.decoder.org_id);
  return job;
}

// The test answer as JSON text. `output` is the decoder's own JSON.stringify text, embedded as
// is (key order and number format as in Node), not re-parsed and re-dumped.
std::string ResultText(const decode::DecodeResult& r) {
  std::string out = "null";
  if (!r.output_json.empty()) {
    // A decoder's output is untrusted too: too deep or not JSON, it is shown as text.
    bool valid = ParseJsonText(r.output_json, "").ok();
    out = valid ? r.output_json
                : json(r.output_json).dump(-1, ' ', false, json::error_handler_t::replace);
  }
  json readings = json::array();
  for (const Reading& x : r.readings)
    readings.push_back({{"key", x.key},
                        {"ts", FormatRfc3339(x.ts)},
                        {"value", ValueJson(x.value)},
                        {"unit", x.unit}});
  json rest = {{"readings", readings},
               {"log", r.log},
               {"errors", r.errors},
               {"warnings", r.warnings},
               {"entryPoint", r.entry_point.empty() ? json(nullptr) : json(r.entry_point)},
               {"durationUs", r.duration_us},
               {"error", r.status.ok() ? json(nullptr) : json(r.status.message())}};
  std::string text = rest.dump(-1, ' ', false, json::error_handler_t::replace);
  return "{\"output\":" + out + "," + text.substr(1);
}

// Decoder tests run code on data of the organisation: audited like a write.
void AuditTest(ApiContext& ctx, const auth::Principal& p, const http::Request& req,
               const TestJob& job) {
  json detail = {{"payloadBytes", job.input.bytes.size()}};
  if (job.decoder.id != 0) detail["decoderId"] = job.decoder.id;
  if (job.device_id != 0) detail["deviceId"] = job.device_id;
  Audit(ctx, p, req, job.decoder.org_id, "test", "decoder",
        job.decoder.id != 0 ? std::to_string(job.decoder.id) : "ad-hoc", detail.dump());
}

void TestDecode(ApiContext& ctx, const std::shared_ptr<DecoderApi>& api, http::Request& req,
                const http::Responder& respond) {
  Result<TestJob> job = InvalidArgument("bad request");
  try {
    auto p = AuthenticateRequest(ctx, req);
    if (!p.ok()) return respond(http::ErrorResponse(p.status()));
    job = PrepareTest(ctx, req, *p);
    if (job.ok()) AuditTest(ctx, *p, req, *job);
  } catch (const json::type_error& e) {
    job = InvalidArgument(std::string("wrong JSON type: ") + e.what());
  } catch (const std::exception& e) {
    spdlog::error("decoder test failed: {}", e.what());
    job = Internal("internal error");
  }
  if (!job.ok()) return respond(http::ErrorResponse(job.status()));
  auto shared = std::make_shared<TestJob>(std::move(job).value());
  api->test_thread.Post(shared->decoder.org_id, [shared, respond](decode::DecoderRunner& runner) {
    try {
      auto r = runner.Run(shared->decoder, shared->input, shared->device_id, shared->time_ms);
      respond(http::JsonResponse(200, ResultText(r)));
    } catch (const std::exception& e) {
      spdlog::error("decoder test failed: {}", e.what());
      respond(http::ErrorResponse(Internal("internal error")));
    }
  });
}

// ---- re-decode --------------------------------------------------------------

Result<TimeMs> TimeField(const json& body, const char* field, TimeMs fallback) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return fallback;
  if (it->is_number_integer()) return it->get<TimeMs>();
  if (it->is_string())
    if (auto t = ParseTime(it->get<std::string>())) return *t;
  return InvalidArgument(std::string("field '") + field + "' must be RFC 3339 or ms");
}

json RequestJson(const decode::RedecodeRequest& rq) {
  return {{"decoderId", rq.decoder_id},
          {"from", rq.from},
          {"to", rq.to},
          {"deviceId", rq.device_id ? json(*rq.device_id) : json(nullptr)}};
}

Result<decode::RedecodeRequest> RequestFromJson(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("decoderId") || !j["decoderId"].is_number_integer())
    return FailedPrecondition("the job has no stored request to run again");
  decode::RedecodeRequest rq;
  rq.decoder_id = j["decoderId"].get<Id>();
  rq.from = j.value("from", INT64_MIN);
  rq.to = j.value("to", INT64_MAX);
  if (auto it = j.find("deviceId"); it != j.end() && it->is_number_integer())
    rq.device_id = it->get<Id>();
  return rq;
}

// Runs a re-decode job on the job thread; its progress and outcome go to the job table.
void QueueRedecode(ApiContext& ctx, const std::shared_ptr<DecoderApi>& api, Id org, Id job,
                   decode::RedecodeRequest rq) {
  Store& store = ctx.store;
  DecoderApi* raw = api.get();  // the thread belongs to *api, which outlives its tasks
  api->job_thread.Post(org, [raw, &store, rq, job](decode::DecoderRunner& runner) mutable {
    raw->jobs.Update(job, [](decode::JobStatus& j) {
      j.state = "running";
      j.error.clear();
    });
    if (auto dec = store.decoders().GetDecoder(rq.decoder_id); dec.ok()) {
      if (auto org = store.GetOrganization(dec->org_id); org.ok())
        rq.time_ms = org->decoder_timeout_ms;
    }
    Status st = decode::Redecode(
        store, runner, rq,
        [raw, job](int64_t done, int64_t total, int64_t errors) {
          raw->jobs.Update(job, [&](decode::JobStatus& j) {
            j.done = done;
            j.total = total;
            j.errors = errors;
          });
        },
        raw->job_thread.stopping());
    raw->jobs.Update(job, [&](decode::JobStatus& j) {
      j.state = st.ok() ? "done" : raw->job_thread.stopping() ? "cancelled" : "failed";
      j.error = st.ok() ? "" : st.message();
    });
  });
}

Result<http::Response> StartRedecode(ApiContext& ctx, const std::shared_ptr<DecoderApi>& api,
                                     http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(StoredDecoder d, LoadDecoder(ctx, p, id, Role::kEditor));
  json body = json::object();
  if (!req.body.empty()) {
    BYSANS_ASSIGN_OR_RETURN(body, ParseJsonObject(req));
  }
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"from", "to", "deviceId"}));
  decode::RedecodeRequest rq;
  rq.decoder_id = d.id;
  BYSANS_ASSIGN_OR_RETURN(rq.from, TimeField(body, "from", INT64_MIN));
  BYSANS_ASSIGN_OR_RETURN(rq.to, TimeField(body, "to", INT64_MAX));
  BYSANS_ASSIGN_OR_RETURN(auto dev, OptInt(body, "deviceId"));
  if (dev) {
    BYSANS_ASSIGN_OR_RETURN(Device device, LoadDevice(ctx, p, *dev, Role::kEditor));
    if (device.org_id != d.org_id) return NotFound("no device with id " + std::to_string(*dev));
    rq.device_id = device.id;
  }
  BYSANS_ASSIGN_OR_RETURN(Id job, api->jobs.Add(d.org_id, "redecode", RequestJson(rq).dump()));
  QueueRedecode(ctx, api, d.org_id, job, rq);
  Audit(ctx, p, req, d.org_id, "redecode", "decoder", std::to_string(d.id), body.dump());
  return Json(202, {{"jobId", job}});
}

}  // namespace

void RegisterDecoderRoutes(http::Router& router, ApiContext& ctx) {
  auto api = std::make_shared<DecoderApi>(ctx);
  // Jobs of an earlier process that never finished: no thread runs them any more. Another live
  // node's are left to it (issue 19).
  if (auto n = decode::InterruptJobsOfDeadNodes(ctx.store, ctx.clock.NowMs()); !n.ok()) {
    spdlog::warn("jobs: {}", n.status().message());
  } else if (*n > 0) {
    spdlog::info("jobs: {} unfinished job(s) of an earlier run marked interrupted", *n);
  }
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string list = "/api/v1/organizations/{orgId}/decoders";
  const std::string one = "/api/v1/decoders/{id}";
  AddAuthed(router, ctx, "POST", list, "Create a payload decoder", bind(Create));
  AddAuthed(router, ctx, "GET", list, "Payload decoders of an organisation", bind(List));
  AddAuthed(router, ctx, "GET", one, "One decoder (current version)", bind(Get));
  AddAuthed(router, ctx, "PATCH", one, "Change a decoder (new code = new version)", bind(Patch));
  AddAuthed(router, ctx, "DELETE", one, "Delete a decoder", bind(Delete));
  AddAuthed(router, ctx, "GET", one + "/versions", "A decoder's versions, newest first",
            bind(Versions));
  AddAuthed(router, ctx, "PUT", "/api/v1/applications/{appId}/decoder",
            "Attach (or detach) an application's decoder", bind(AttachApp));
  AddAuthed(router, ctx, "PUT", "/api/v1/devices/{id}/decoder",
            "Attach (or detach) a device's own decoder", bind(AttachDevice));
  AddAuthed(router, ctx, "GET", "/api/v1/applications/{appId}/decoder",
            "The decoder attached to an application", bind(GetAppDecoder));
  AddAuthed(router, ctx, "GET", "/api/v1/devices/{id}/decoder",
            "The decoder attached to a device itself (not its application's)",
            bind(GetDeviceDecoder));
  router.Add(
      "POST", "/api/v1/decoders/test",
      [&ctx, api](http::Request& req, http::Responder respond) {
        TestDecode(ctx, api, req, std::move(respond));
      },
      "Run decoder code or a stored decoder on a payload (editor role)");
  AddAuthed(router, ctx, "POST", one + "/redecode",
            "Re-decode stored raw messages with the current version (background job)",
            [&ctx, api](http::Request& req, const auth::Principal& p) {
              return StartRedecode(ctx, api, req, p);
            });
  // A weak reference: the router's handlers own `api`; this one must not keep it alive in a cycle.
  std::weak_ptr<DecoderApi> weak = api;
  RegisterJobRoutes(router, ctx, std::shared_ptr<decode::JobTable>(api, &api->jobs),
                    [&ctx, weak](const decode::JobStatus& j) -> Status {
                      auto a = weak.lock();
                      if (!a) return Unavailable("shutting down");
                      if (j.kind != "redecode") return FailedPrecondition("unknown job kind");
                      BYSANS_ASSIGN_OR_RETURN(decode::RedecodeRequest rq,
                                              RequestFromJson(j.request));
                      auto dec = ctx.store.decoders().GetDecoder(rq.decoder_id);
                      if (!dec.ok() || dec->org_id != j.org_id)
                        return FailedPrecondition("the job's decoder no longer exists");
                      a->jobs.Update(j.id, [](decode::JobStatus& s) {
                        s.state = "queued";
                        s.error.clear();
                      });
                      QueueRedecode(ctx, a, j.org_id, j.id, rq);
                      return Status::Ok();
                    });
}

}  // namespace bysans::api

// /api/v1/devices/{id}/coap-credentials — the DTLS pre-shared key of a CoAP device (issue 20,
// coap/README.md): POST creates it, or rotates the key (the identity is kept unless a new one
// is given); the key is in that answer only, sealed at rest (store/coap_credential_store.h) and
// never logged; GET shows the identity and when the key was made; DELETE removes it (the
// device can no longer complete a DTLS handshake). Editors and admins of the device's
// organisation only, for HTTP devices (the ones that may also use CoAP with their ingest key).
#include "api/common.h"
#include "core/time_format.h"
#include "store/coap_credential_store.h"

namespace bysans::api {
namespace {

constexpr size_t kMaxIdentity = 64;

Status CheckIdentity(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdentity)
    return InvalidArgument("identity must be 1 to 64 characters");
  for (char c : id) {
    if (c <= ' ' || c > '~')
      return InvalidArgument("identity must be printable ASCII without spaces");
  }
  return Status::Ok();
}

json ToJson(const CoapCredential& c) {
  return {{"deviceId", c.device_id},
          {"identity", c.identity},
          {"createdAt", FormatRfc3339(c.created_ms)}};
}

Result<Device> LoadCoapDevice(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kEditor));
  if (d.transport != Transport::kHttp)
    return FailedPrecondition("only HTTP devices (transport \"http\") can use CoAP");
  return d;
}

Result<http::Response> Put(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadCoapDevice(ctx, req, p));
  json body = json::object();
  if (!req.body.empty()) {
    BYSANS_ASSIGN_OR_RETURN(body, ParseJsonObject(req));
  }
  BYSANS_ASSIGN_OR_RETURN(std::optional<std::string> identity, OptString(body, "identity"));
  auto existing = ctx.store.coap_credentials().GetCoapCredential(d.id);
  if (!existing.ok() && existing.status().code() != Code::kNotFound) return existing.status();
  CoapCredential c;
  c.device_id = d.id;
  if (identity) {
    c.identity = *identity;
  } else if (existing.ok()) {
    c.identity = existing->identity;
  } else {
    c.identity = "d" + std::to_string(d.id) + "-" + ctx.random.Id();
  }
  BYSANS_RETURN_IF_ERROR(CheckIdentity(c.identity));
  const std::string key = ctx.random.Token(24);  // 32 characters; the PSK is these bytes
  BYSANS_ASSIGN_OR_RETURN(c.sealed_key, ctx.store.secrets().SealText(key));
  c.created_ms = ctx.clock.NowMs();
  BYSANS_RETURN_IF_ERROR(ctx.store.coap_credentials().PutCoapCredential(c));
  Audit(ctx, p, req, d.org_id,
        existing.ok() ? "rotate_coap_credentials" : "create_coap_credentials", "device",
        std::to_string(d.id), "identity " + c.identity);
  json out = ToJson(c);
  out["key"] = key;  // shown once
  return Json(existing.ok() ? 200 : 201, out);
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadCoapDevice(ctx, req, p));
  BYSANS_ASSIGN_OR_RETURN(CoapCredential c, ctx.store.coap_credentials().GetCoapCredential(d.id));
  return Json(200, ToJson(c));
}

Result<http::Response> Delete(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadCoapDevice(ctx, req, p));
  BYSANS_RETURN_IF_ERROR(ctx.store.coap_credentials().DeleteCoapCredential(d.id));
  Audit(ctx, p, req, d.org_id, "delete_coap_credentials", "device", std::to_string(d.id));
  return NoContent();
}

}  // namespace

void RegisterCoapCredentialRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string path = "/api/v1/devices/{id}/coap-credentials";
  AddAuthed(router, ctx, "POST", path,
            "Create or rotate the device's CoAP DTLS pre-shared key (the key is in this answer "
            "only); optional {\"identity\"}",
            bind(Put));
  AddAuthed(router, ctx, "GET", path, "The device's CoAP PSK identity (never the key)", bind(Get));
  AddAuthed(router, ctx, "DELETE", path, "Remove the device's CoAP PSK", bind(Delete));
}

}  // namespace bysans::api

#include "api/sms_gateway.h"

#include <memory>

#include "act/outbox.h"
#include "act/sms.h"
#include "api/common.h"
#include "core/time_format.h"
#include "model/contact.h"
#include "store/contact_store.h"

namespace bysans::api {
namespace {

json GatewayToJson(const SmsGateway& g) {
  return {{"url", g.url},
          {"method", g.method},
          {"headers", g.headers},
          {"bodyFormat", g.body_format},
          {"body", g.body},
          {"hasSecret", !g.secret_sealed.empty()},
          {"updatedAt", FormatRfc3339(g.updated_ms)}};
}

Result<Organization> LoadAdminOrg(ApiContext& ctx, const http::Request& req,
                                  const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  return LoadOrganization(ctx, p, org, Role::kAdmin);
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadAdminOrg(ctx, req, p));
  BYSANS_ASSIGN_OR_RETURN(SmsGateway g, ctx.store.contacts().GetSmsGateway(o.id));
  return Json(200, GatewayToJson(g));
}

// PUT: the whole gateway; "secret" a string sets it, null or "" removes it, absent keeps it
// while the gateway's server (scheme, host, port) is unchanged (else it must be given again).
Result<http::Response> Put(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadAdminOrg(ctx, req, p));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(
      RejectUnknownFields(body, {"url", "method", "headers", "bodyFormat", "body", "secret"}));
  SmsGateway g;
  g.org_id = o.id;
  BYSANS_ASSIGN_OR_RETURN(g.url, RequiredString(body, "url"));
  BYSANS_ASSIGN_OR_RETURN(auto method, OptString(body, "method"));
  if (method) g.method = *method;
  BYSANS_ASSIGN_OR_RETURN(auto format, OptString(body, "bodyFormat"));
  if (format) g.body_format = *format;
  BYSANS_ASSIGN_OR_RETURN(auto text, OptString(body, "body"));
  if (text) g.body = *text;
  if (auto h = body.find("headers"); h != body.end() && !h->is_null()) {
    if (!h->is_object()) return InvalidArgument("field 'headers' must be an object of strings");
    for (const auto& [name, value] : h->items()) {
      if (!value.is_string()) return InvalidArgument("field 'headers." + name + "' must be text");
      g.headers[name] = value.get<std::string>();
    }
  }
  BYSANS_RETURN_IF_ERROR(act::ValidateSmsGateway(g));
  auto old = ctx.store.contacts().GetSmsGateway(o.id);
  if (!old.ok() && old.status().code() != Code::kNotFound) return old.status();
  auto secret = body.find("secret");
  if (secret != body.end() && secret->is_string() && !secret->get<std::string>().empty()) {
    if (secret->get<std::string>().size() > 4096) {
      return InvalidArgument("field 'secret' must be at most 4096 bytes");
    }
    BYSANS_ASSIGN_OR_RETURN(g.secret_sealed,
                            ctx.store.secrets().SealText(secret->get<std::string>()));
  } else if (secret != body.end() && !secret->is_null() && !secret->is_string()) {
    return InvalidArgument("field 'secret' must be text or null");
  } else if (secret == body.end() && old.ok() && !old->secret_sealed.empty()) {
    if (act::TargetKeyOf(old->url) != act::TargetKeyOf(g.url)) {
      return InvalidArgument(
          "field 'secret' must be given again: the gateway's server (scheme, host or port) "
          "changed, and a stored secret is never sent to another server");
    }
    g.secret_sealed = old->secret_sealed;
  }
  g.updated_ms = ctx.clock.NowMs();
  BYSANS_RETURN_IF_ERROR(ctx.store.contacts().PutSmsGateway(g));
  Audit(ctx, p, req, o.id, "update", "sms_gateway", std::to_string(o.id), act::TargetKeyOf(g.url));
  return Json(200, GatewayToJson(g));
}

Result<http::Response> Delete(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadAdminOrg(ctx, req, p));
  BYSANS_RETURN_IF_ERROR(ctx.store.contacts().DeleteSmsGateway(o.id));
  Audit(ctx, p, req, o.id, "delete", "sms_gateway", std::to_string(o.id), "");
  return NoContent();
}

// POST .../test {"to": "+45...", "message"?}: one SMS now; answers the gateway's status.
Result<http::Response> Test(ApiContext& ctx, const OutboundPolicy& outbound, http::Request& req,
                            const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadAdminOrg(ctx, req, p));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"to", "message"}));
  BYSANS_ASSIGN_OR_RETURN(std::string to_text, RequiredString(body, "to"));
  auto to = NormalizePhone(to_text);
  if (!to.ok()) return InvalidArgument("field 'to' " + to.status().message());
  BYSANS_ASSIGN_OR_RETURN(auto message, OptString(body, "message"));
  const std::string text = message.value_or("Test from bysans");
  if (text.empty() || text.size() > act::kMaxSmsMessage) {
    return InvalidArgument("field 'message' must be 1 to " + std::to_string(act::kMaxSmsMessage) +
                           " bytes");
  }
  BYSANS_ASSIGN_OR_RETURN(SmsGateway g, ctx.store.contacts().GetSmsGateway(o.id));
  std::string secret;
  if (!g.secret_sealed.empty()) {
    BYSANS_ASSIGN_OR_RETURN(secret, ctx.store.secrets().UnsealText(g.secret_sealed));
  }
  BYSANS_ASSIGN_OR_RETURN(act::SmsRequest r, act::BuildSmsRequest(g, secret, *to, text));
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  act::SmsResult sent = act::SendSms(curl.get(), r, outbound, 10'000, nullptr);
  Audit(ctx, p, req, o.id, "test", "sms_gateway", std::to_string(o.id),
        sent.ok ? "sent" : sent.error);
  return Json(200, json{{"ok", sent.ok},
                        {"httpStatus", sent.http_status},
                        {"error", sent.ok ? json(nullptr) : json(sent.error)}});
}

}  // namespace

void RegisterSmsGatewayRoutes(http::Router& router, ApiContext& ctx,
                              const OutboundPolicy& outbound) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string one = "/api/v1/organizations/{orgId}/sms-gateway";
  AddAuthed(router, ctx, "GET", one, "The organisation's SMS gateway, without its secret (admins)",
            bind(Get));
  AddAuthed(router, ctx, "PUT", one, "Set the organisation's SMS gateway (admins)", bind(Put));
  AddAuthed(router, ctx, "DELETE", one, "Remove the organisation's SMS gateway (admins)",
            bind(Delete));
  AddAuthed(router, ctx, "POST", one + "/test", "Send one SMS now through the gateway (admins)",
            [&ctx, outbound](http::Request& req, const auth::Principal& p) {
              return Test(ctx, outbound, req, p);
            });
}

}  // namespace bysans::api

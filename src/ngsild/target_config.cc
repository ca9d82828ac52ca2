#include "ngsild/target_config.h"

namespace bysans::ngsild {
namespace {

using nlohmann::json;

// The string member `name` of `obj` into `out` (kept when absent).
Status Text(const json& obj, const char* name, std::string& out) {
  if (!obj.contains(name) || obj[name].is_null()) return Status::Ok();
  if (!obj[name].is_string()) return InvalidArgument(std::string(name) + " must be a string");
  out = obj[name].get<std::string>();
  return Status::Ok();
}

Status Flag(const json& obj, const char* name, bool& out) {
  if (!obj.contains(name) || obj[name].is_null()) return Status::Ok();
  if (!obj[name].is_boolean()) return InvalidArgument(std::string(name) + " must be true or false");
  out = obj[name].get<bool>();
  return Status::Ok();
}

Status ReadAuth(const json& auth, NgsiLdTarget& t) {
  if (!auth.is_object()) return InvalidArgument("auth must be an object");
  std::string type = "none";
  if (Status s = Text(auth, "type", type); !s.ok()) return s;
  if (type == "none") {
    t.auth = AuthKind::kNone;
    return Status::Ok();
  }
  if (type == "header") {
    t.auth = AuthKind::kHeader;
    for (Status s : {Text(auth, "name", t.header_name), Text(auth, "value", t.header_value)}) {
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }
  if (type == "oauth2") {
    t.auth = AuthKind::kOAuth2;
    OAuth2Settings& o = t.oauth2;
    for (Status s : {Text(auth, "tokenUrl", o.token_url), Text(auth, "clientId", o.client_id),
                     Text(auth, "clientSecret", o.client_secret), Text(auth, "scope", o.scope),
                     Flag(auth, "credentialsInBody", o.credentials_in_body)}) {
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }
  return InvalidArgument("auth.type must be none, header or oauth2");
}

}  // namespace

Result<TargetSettings> TargetFromJson(const json& spec) {
  if (!spec.is_object()) return InvalidArgument("the NGSI-LD settings must be an object");
  TargetSettings out;
  NgsiLdTarget& t = out.target;
  std::string mode = "link";
  for (Status s : {Text(spec, "url", t.url), Text(spec, "tenant", t.tenant),
                   Text(spec, "context", t.context), Text(spec, "contextMode", mode),
                   Flag(spec, "unmappedAsMeasurements", out.build.unmapped_as_measurements)}) {
    if (!s.ok()) return s;
  }
  if (mode == "link") {
    t.context_mode = ContextMode::kLinkHeader;
  } else if (mode == "body") {
    t.context_mode = ContextMode::kInBody;
  } else {
    return InvalidArgument("contextMode must be link or body");
  }
  if (spec.contains("timeoutMs") && !spec["timeoutMs"].is_null()) {
    if (!spec["timeoutMs"].is_number_integer() || spec["timeoutMs"].get<int64_t>() < 100 ||
        spec["timeoutMs"].get<int64_t>() > 60'000) {
      return InvalidArgument("timeoutMs must be 100..60000");
    }
    t.timeout_ms = spec["timeoutMs"].get<int64_t>();
  }
  if (spec.contains("auth") && !spec["auth"].is_null()) {
    if (Status s = ReadAuth(spec["auth"], t); !s.ok()) return s;
  }
  if (Status s = ValidateTarget(t); !s.ok()) return s;
  return out;
}

}  // namespace bysans::ngsild

#include "share/ngsild_push.h"

#include <algorithm>

#include "act/outbox.h"
#include "ngsild/catalogue.h"
#include "ngsild/client.h"
#include "ngsild/entities.h"
#include "ngsild/target_config.h"

namespace bysans::share {
namespace {

using json = nlohmann::json;

// What ngsild::TargetFromJson reads: the stored settings with the target's URL and timeout.
json SpecOf(const std::string& stored, const std::string& url, TimeMs timeout_ms) {
  json spec = stored.empty() ? json::object() : json::parse(stored, nullptr, false);
  if (!spec.is_object()) spec = json::object();
  spec["url"] = url;
  spec["timeoutMs"] = std::clamp<TimeMs>(timeout_ms, 100, 60'000);
  return spec;
}

std::string AuthType(const json& spec) {
  auto it = spec.find("auth");
  return it != spec.end() && it->is_object() ? it->value("type", "none") : "none";
}

// The secret where the settings want it: a header's value or the OAuth2 client secret.
void PutSecret(json& spec, const std::string& secret) {
  const std::string type = AuthType(spec);
  if (type == "header") spec["auth"]["value"] = secret;
  if (type == "oauth2") spec["auth"]["clientSecret"] = secret;
}

}  // namespace

std::string NgsiLdSecretHost(const std::string& stored, const std::string& url) {
  json spec = SpecOf(stored, url, 0);
  if (AuthType(spec) == "oauth2") return act::TargetKeyOf(spec["auth"].value("tokenUrl", ""));
  return act::TargetKeyOf(url);
}

Result<NgsiLdSettings> ParseNgsiLdSettings(const json& member, const std::string& url,
                                           TimeMs timeout_ms) {
  if (!member.is_object()) return InvalidArgument("field 'ngsiLd' must be an object");
  for (const char* own : {"url", "timeoutMs"}) {
    if (member.contains(own)) {
      return InvalidArgument("field 'ngsiLd." + std::string(own) + "': the target's own '" + own +
                             "' is used");
    }
  }
  json stored = member;
  NgsiLdSettings out;
  if (auto auth = stored.find("auth"); auth != stored.end() && auth->is_object()) {
    for (const char* secret : {"value", "clientSecret"}) {
      auto it = auth->find(secret);
      if (it == auth->end()) continue;
      if (!it->is_string()) {
        return InvalidArgument("field 'ngsiLd.auth." + std::string(secret) + "' must be a string");
      }
      out.secret = it->get<std::string>();
      auth->erase(it);
    }
  }
  if (AuthType(stored) == "none") out.secret = "";  // nothing to keep
  // Checked as a whole, a stand-in where the secret is not given (the stored one is used).
  json spec = SpecOf(stored.dump(), url, timeout_ms);
  PutSecret(spec, out.secret.value_or("stored"));
  if (auto checked = ngsild::TargetFromJson(spec); !checked.ok())
    return InvalidArgument("field 'ngsiLd': " + checked.status().message());
  out.stored = stored.dump();
  out.secret_host = NgsiLdSecretHost(out.stored, url);
  if (AuthType(spec) == "oauth2") out.token_url = spec["auth"].value("tokenUrl", "");
  return out;
}

NgsiLdPusher::NgsiLdPusher(const Clock& clock, OutboundPolicy policy)
    : client_(std::make_unique<ngsild::NgsiLdClient>(clock, std::move(policy))) {
  auto catalogue = ngsild::Catalogue::Embedded();
  if (catalogue.ok()) catalogue_ = std::make_unique<ngsild::Catalogue>(std::move(*catalogue));
}

NgsiLdPusher::~NgsiLdPusher() = default;

PushResult NgsiLdPusher::Send(const DataTarget& t, const std::string& secret,
                              std::span<const ShareRecord> records, const DeviceFor& device_for,
                              const ModelFor& model_for) {
  if (!catalogue_) return {false, 0, "the Smart Data Models are not available in this build"};
  json spec = SpecOf(t.ngsild_json, t.url, t.timeout_ms);
  PutSecret(spec, secret);
  auto settings = ngsild::TargetFromJson(spec);
  if (!settings.ok()) return {false, 0, "NGSI-LD settings: " + settings.status().message()};
  // OAuth2 tokens are cached per owner (and credentials): one target never gets another's.
  settings->target.owner = "org " + std::to_string(t.org_id) + " target " + std::to_string(t.id);
  json entities = json::array();
  std::string skipped;  // records no entity can be made of (a decoder's malformed entities)
  for (const ShareRecord& r : records) {
    std::shared_ptr<const Device> device = device_for(r.device_id);
    if (!device) continue;  // deleted since: nothing left to describe it with
    std::shared_ptr<const DeviceModel> model =
        device->device_model_id ? model_for(*device->device_model_id) : nullptr;
    ngsild::BuildInput in{ngsild::DeviceInfoOf(*device, model.get()), r.readings, nullptr};
    if (!r.decoded_json.empty()) {
      in.decoded = json::parse(r.decoded_json, nullptr, false);
      if (in.decoded.is_discarded()) in.decoded = nullptr;
    }
    auto built = ngsild::BuildEntities(in, *catalogue_, settings->build);
    if (!built.ok()) {
      skipped += (skipped.empty() ? "" : "; ") + std::string("message ") +
                 std::to_string(r.message_id) + " not sent: " + built.status().message();
      continue;
    }
    for (json& e : *built) entities.push_back(std::move(e));
  }
  if (entities.empty()) return {true, 0, skipped};
  auto sent = client_->Upsert(settings->target, entities);
  if (!sent.ok()) return {false, 0, sent.status().message()};
  PushResult out;
  out.http_status = sent->http_status;
  // A partial answer's refusals would be refused again: delivered, the errors logged.
  out.ok =
      sent->outcome == ngsild::Outcome::kDelivered || sent->outcome == ngsild::Outcome::kPartial;
  out.error = sent->outcome == ngsild::Outcome::kDelivered ? "" : sent->Summary();
  if (!skipped.empty()) out.error += (out.error.empty() ? "" : "; ") + skipped;
  return out;
}

}  // namespace bysans::share

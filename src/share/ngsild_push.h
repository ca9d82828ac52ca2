// FIWARE NGSI-LD data targets: each record becomes the entities of its device's Smart Data
// Model (ngsild/entities.h; a decoder's own entities pass through), sent in one upsert per
// slice by ngsild::NgsiLdClient (Link header or in-body @context, NGSILD-Tenant, no auth, a
// static header or OAuth2 client credentials; the outbound-address policy on every socket).
// A 207 whose refusals retrying cannot fix counts as delivered, its errors in the delivery log.
// Thread-safe: one pusher serves every worker.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>

#include "core/clock.h"
#include "core/outbound_policy.h"
#include "model/model.h"
#include "share/http_push.h"
#include "store/target_store.h"

namespace bysans::ngsild {
class Catalogue;
class NgsiLdClient;
}  // namespace bysans::ngsild

namespace bysans::share {

// The device of a record and its device model (null when none), as the service caches them.
using DeviceFor = std::function<std::shared_ptr<const Device>(Id device_id)>;
using ModelFor = std::function<std::shared_ptr<const DeviceModel>(Id model_id)>;

// The settings of an NGSI-LD target's API body member "ngsiLd", checked: what to store
// (`stored`: without the secret) and the secret it gave (`secret`: nullopt = not given, "" =
// none). InvalidArgument naming the member.
struct NgsiLdSettings {
  std::string stored;
  std::optional<std::string> secret;
  std::string secret_host;  // the server the secret is sent to (token URL, else the broker)
  std::string token_url;    // OAuth2: where the client secret is posted ("" = no OAuth2)
};
Result<NgsiLdSettings> ParseNgsiLdSettings(const nlohmann::json& body_member,
                                           const std::string& url, TimeMs timeout_ms);
// The server an NGSI-LD target's secret goes to, from its stored settings and URL.
std::string NgsiLdSecretHost(const std::string& stored, const std::string& url);

class NgsiLdPusher {
 public:
  NgsiLdPusher(const Clock& clock, OutboundPolicy policy);
  ~NgsiLdPusher();
  NgsiLdPusher(const NgsiLdPusher&) = delete;
  NgsiLdPusher& operator=(const NgsiLdPusher&) = delete;

  // One upsert of the records' entities; `secret` is the opened header value or client secret.
  PushResult Send(const DataTarget& t, const std::string& secret,
                  std::span<const ShareRecord> records, const DeviceFor& device_for,
                  const ModelFor& model_for);

 private:
  std::unique_ptr<ngsild::Catalogue> catalogue_;  // null when the embedded models do not load
  std::unique_ptr<ngsild::NgsiLdClient> client_;
};

}  // namespace bysans::share

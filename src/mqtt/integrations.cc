#include "mqtt/integrations.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <vector>

#include "mqtt/gateway_ingest.h"
#include "mqtt/url.h"

namespace bysans::mqtt {
namespace {

// Whether a running client can keep serving `b` after it was configured as `a`.
bool SameConnection(const MqttIntegration& a, const MqttIntegration& b) {
  return a.kind == b.kind && a.org_id == b.org_id && a.app_id == b.app_id && a.url == b.url &&
         a.username == b.username && a.client_id == b.client_id &&
         a.topic_filter == b.topic_filter && a.device_topic_level == b.device_topic_level &&
         a.device_match == b.device_match && a.ca_cert == b.ca_cert &&
         a.client_cert == b.client_cert;
}

}  // namespace

struct IntegrationManager::Running {
  std::shared_ptr<const MqttIntegration> cfg;
  Secrets secrets;
  std::unique_ptr<MqttClient> client;
  // Set before the manager stops the client: its last disconnect is not a state change.
  std::shared_ptr<std::atomic<bool>> retired = std::make_shared<std::atomic<bool>>(false);
};

IntegrationManager::IntegrationManager(MqttStore& store, Metrics& metrics, const Clock& clock,
                                       Random& random, IntegrationOptions options, Handler handler)
    : store_(store),
      metrics_(metrics),
      clock_(clock),
      random_(random),
      opts_(options),
      handler_(std::move(handler)) {}

IntegrationManager::~IntegrationManager() { Stop(); }

Status IntegrationManager::Start() {
  {
    std::lock_guard lock(watch_mu_);
    if (started_) return FailedPrecondition("integration manager already started");
    started_ = true;
    stop_ = false;
  }
  watcher_ = std::thread([this] { Watch(); });
  return Status::Ok();
}

void IntegrationManager::Stop() {
  {
    std::lock_guard lock(watch_mu_);
    if (!started_) return;
    stop_ = true;
  }
  watch_cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  std::map<Id, std::unique_ptr<Running>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(running_);
  }
  for (auto& [id, r] : all) {
    r->retired->store(true);
    r->client->Stop();
    SetState(id, "stopped", "");
  }
  std::lock_guard lock(watch_mu_);
  started_ = false;
}

void IntegrationManager::SetState(Id id, std::string status, std::string error) {
  store_.SetIntegrationState(id,
                             IntegrationState{std::move(status), std::move(error), clock_.NowMs()});
}

void IntegrationManager::Watch() {
  int64_t seen = -1;
  bool seen_active = false;
  std::unique_lock lock(watch_mu_);
  while (!stop_) {
    int64_t gen = store_.integrations_generation();
    const bool active = !opts_.may_run || opts_.may_run();
    if (gen != seen || active != seen_active) {
      lock.unlock();
      Reconcile(active);
      seen = gen;
      seen_active = active;
      lock.lock();
      continue;
    }
    // A periodic check, not synchronisation: wakes early only to stop.
    watch_cv_.wait_for(lock, std::chrono::milliseconds(opts_.poll_ms), [this] { return stop_; });
  }
}

std::unique_ptr<IntegrationManager::Running> IntegrationManager::Launch(const MqttIntegration& cfg,
                                                                        Secrets secrets) {
  auto url = ParseBrokerUrl(cfg.url, "url");
  if (!url.ok()) {
    SetState(cfg.id, "error", url.status().message());
    return nullptr;
  }
  ClientOptions co;
  co.host = url->host;
  co.port = url->port;
  co.tls = url->tls;
  co.tls_ca_pem = cfg.ca_cert;  // empty: the system's CAs
  co.tls_cert_pem = cfg.client_cert;
  co.tls_key_pem = secrets.client_key;
  co.client_id = cfg.client_id;
  if (!cfg.username.empty()) co.username = cfg.username;
  if (!secrets.password.empty()) co.password = secrets.password;
  co.clean_session = false;
  co.max_inflight = opts_.max_inflight;
  co.max_packet_size = opts_.max_packet_size;
  co.reconnect_min_ms = opts_.reconnect_min_ms;
  co.reconnect_max_ms = opts_.reconnect_max_ms;
  co.random = &random_;
  co.outbound = opts_.outbound;  // co.trusted stays false: a user-configured broker
  auto r = std::make_unique<Running>();
  r->cfg = std::make_shared<const MqttIntegration>(cfg);
  r->secrets = std::move(secrets);
  r->client = std::make_unique<MqttClient>(co);
  const std::string label = cfg.kind + "-" + std::to_string(cfg.id);
  prometheus::Counter& connects =
      metrics_.Counter("bysans_mqtt_connections_total",
                       "Connections (first and re-) of bysans' MQTT clients", {{"client", label}});
  prometheus::Gauge& connected = metrics_.Gauge(
      "bysans_mqtt_connected", "1 while the MQTT client is connected", {{"client", label}});
  const Id id = cfg.id;
  std::shared_ptr<const MqttIntegration> shared = r->cfg;
  r->client->set_on_message([this, shared](IncomingMessage msg, AckHandle ack) {
    handler_(*shared, std::move(msg), std::move(ack));
  });
  r->client->set_on_connect([this, id, &connects, &connected](const ConnectInfo&) {
    connects.Increment();
    connected.Set(1);
    SetState(id, "connected", "");
  });
  r->client->set_on_disconnect(
      [this, id, label, &connected, retired = r->retired](const Status& st) {
        connected.Set(0);
        if (retired->load()) return;
        if (!st.ok()) {
          spdlog::warn("mqtt integration {}: {}", label, st.message());
          SetState(id, "error", st.message());
        } else {
          SetState(id, "connecting", "");
        }
      });
  // A ChirpStack integration also carries the organisation's gateway events.
  std::vector<SubscribeFilter> filters;
  if (cfg.kind == "chirpstack") {
    filters = {SubscribeFilter{"application/+/device/+/event/+", 1, false},
               SubscribeFilter{kGatewayConnFilter, 1, false},
               SubscribeFilter{kGatewayStatsFilter, 1, false}};
  } else {
    filters = {SubscribeFilter{cfg.topic_filter, 1, false}};
  }
  Status st = r->client->Subscribe(filters);
  if (st.ok()) st = r->client->Start();
  if (!st.ok()) {
    SetState(cfg.id, "error", st.message());
    return nullptr;
  }
  SetState(cfg.id, "connecting", "");
  spdlog::info("mqtt integration {} \"{}\": connecting to {} as client id {}", label, cfg.name,
               cfg.url, cfg.client_id);
  return r;
}

void IntegrationManager::Reconcile(bool active) {
  auto list = store_.ListIntegrations("", 0, 0);
  if (!list.ok()) {
    spdlog::error("mqtt integrations: cannot list: {}", list.status().message());
    return;
  }
  if (!active) list->clear();  // another node runs them: stop ours
  std::map<Id, std::pair<MqttIntegration, Secrets>> wanted;
  for (MqttIntegration& i : *list) {
    if (!i.enabled) {
      SetState(i.id, "disabled", "");
      continue;
    }
    auto pw = store_.IntegrationPassword(i.id);
    auto key = pw.ok() && i.has_client_key ? store_.IntegrationClientKey(i.id)
                                           : Result<std::string>(std::string());
    if (!pw.ok() || !key.ok()) {
      SetState(i.id, "error", (pw.ok() ? key.status() : pw.status()).message());
      continue;
    }
    Id id = i.id;
    wanted.emplace(id, std::make_pair(std::move(i), Secrets{std::move(*pw), std::move(*key)}));
  }
  // Stop what is gone or changed (outside the lock: Stop joins the client's thread).
  std::vector<std::unique_ptr<Running>> retired;
  {
    std::lock_guard lock(mu_);
    for (auto it = running_.begin(); it != running_.end();) {
      auto w = wanted.find(it->first);
      bool same = w != wanted.end() && SameConnection(w->second.first, *it->second->cfg) &&
                  w->second.second == it->second->secrets;
      if (same) {
        wanted.erase(w);
        ++it;
      } else {
        retired.push_back(std::move(it->second));
        it = running_.erase(it);
      }
    }
  }
  for (auto& r : retired) {
    r->retired->store(true);
    r->client->Stop();
    if (wanted.count(r->cfg->id) == 0) {
      // Disabled (state set above) or deleted.
      if (store_.integration_state(r->cfg->id).status != "disabled")
        SetState(r->cfg->id, "stopped", "");
    }
    spdlog::info("mqtt integration {}-{}: disconnected (changed or removed)", r->cfg->kind,
                 r->cfg->id);
  }
  for (auto& [id, w] : wanted) {
    auto r = Launch(w.first, std::move(w.second));
    if (!r) continue;
    std::lock_guard lock(mu_);
    running_[id] = std::move(r);
  }
}

Status IntegrationManager::Publish(Id id, std::string topic, std::string payload,
                                   std::function<void(const Status&)> done) {
  std::lock_guard lock(mu_);
  auto it = running_.find(id);
  if (it == running_.end())
    return Unavailable("integration " + std::to_string(id) + " is not running (disabled?)");
  return it->second->client->Publish(std::move(topic), std::move(payload), 1, false,
                                     std::move(done));
}

}  // namespace bysans::mqtt

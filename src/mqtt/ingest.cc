#include "mqtt/ingest.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "ingest/receive.h"
#include "lorawan/chirpstack.h"
#include "mqtt/broker.h"
#include "mqtt/broker_probe.h"
#include "mqtt/client.h"
#include "mqtt/dedup_key.h"
#include "mqtt/device_cache.h"
#include "mqtt/gateway_ingest.h"
#include "mqtt/integrations.h"
#include "mqtt/session_rescue.h"
#include "mqtt/url.h"
#include "pipeline/retry_delay.h"
#include "store/mqtt_store.h"

namespace bysans::mqtt {
namespace fs = std::filesystem;

namespace {

// The broker user for local integrations (a ChirpStack publishing into the supervised broker,
// readers of rule actions): bysans' own identity is for bysans alone.
constexpr const char* kIntegratorUser = "bysans-integrator";
// The broker user that publishes rule actions (act/outbox.h, type "mqtt"). The broker lets it
// write below orgs/ only, every organisation's action namespace (act/action_topics.h), and read
// nothing: should bysans' own check of an action's topic ever fail, the broker still refuses a
// topic bysans trusts (devices' uplinks, SensorThings Observations, gateway events).
constexpr const char* kActionsUser = "bysans-actions";
constexpr const char* kActionsTopics = "orgs/+/#";
constexpr size_t kKeptBadPayload = 64 * 1024;  // bytes of a refused payload kept as raw message

// The results counted in bysans_mqtt_messages_total{result}.
constexpr const char* kResults[] = {
    "stored",          "stored_raw",     "bad_json",       "bad_shape",       "bad_base64",
    "bad_topic",       "unknown_device", "unknown_deveui", "wrong_transport", "too_large",
    "store_error",     "lorawan_event",  "unmapped_topic", "duplicate",       "gateway_event",
    "gateway_ignored", "bad_cbor"};

// A broker identity of bysans, generated once and kept in a 0600 file of the data directory:
// the password on the first line, the user name on the second.
struct Identity {
  std::string username;
  std::string password;
};

Result<Identity> LoadOrCreateIdentity(const fs::path& path, const std::string& fixed_username,
                                      Random& random) {
  Identity id;
  {
    std::ifstream in(path);
    if (in) {
      std::getline(in, id.password);
      std::getline(in, id.username);
    }
  }
  if (!fixed_username.empty() && id.username != fixed_username) {
    id.username = fixed_username;
    id.password.clear();
  }
  if (!id.password.empty() && !id.username.empty()) return id;
  if (id.password.empty()) id.password = random.Token(24);
  // Random, so that nobody can guess the client id of bysans' session (it is the user name).
  if (id.username.empty()) id.username = "bysans-" + random.Id();
  std::string tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Internal("cannot write " + tmp);
    ::chmod(tmp.c_str(), 0600);
    out << id.password << "\n" << id.username << "\n";
    if (!out.flush()) return Internal("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Internal("cannot rename " + tmp + ": " + ec.message());
  return id;
}

// bysans' own users of the supervised broker: its service user and the integrator may read and
// write everything; the actions user may only write below orgs/.
std::vector<BrokerUser> OwnBrokerUsers(const Identity& service_id, const Identity& integrator_id,
                                       const Identity& actions_id) {
  std::vector<BrokerUser> users;
  for (const Identity* id : {&service_id, &integrator_id, &actions_id}) {
    BrokerUser u;
    u.username = id->username;
    u.password = id->password;
    u.is_service = id != &actions_id;
    if (id == &actions_id) u.publish_topics = {kActionsTopics};
    users.push_back(std::move(u));
  }
  return users;
}

// The rule actions' client: the actions user on bysans' own connection's broker, a clean
// session (nothing to receive), MQTT 5 so that a publish the broker's ACL refuses comes back as
// an error (reason code 0x87) in the actions log instead of being dropped in silence.
ClientOptions ActionsClientOptions(const ClientOptions& service, const Identity& actions_id,
                                   Random& random) {
  ClientOptions o;
  o.host = service.host;
  o.port = service.port;
  o.client_id = actions_id.username;  // the broker makes the user name the client id
  o.username = actions_id.username;
  o.password = actions_id.password;
  o.clean_session = true;
  o.session_expiry_s = 0;
  o.protocol = 5;
  o.quick_ack = true;  // a publisher: PUBACKs without the delayed-ACK wait
  o.max_inflight = 16;
  o.trusted = true;
  o.random = &random;
  return o;
}

// Earlier versions connected to the supervised broker with the fixed client id
// `mqtt.client_id` ("bysans-1") and a persistent session, which would go on queueing every
// device's messages (for persistent_client_expiration, 30 days) now that bysans' client id is
// its service user name. A one-time user of that name (no topics) connects once with a clean
// session, which makes the broker discard that session. nullopt when there is none to retire.
std::optional<BrokerUser> RetiringUser(const std::string& client_id,
                                       const std::vector<BrokerUser>& users, Random& random) {
  if (client_id.empty() || client_id.size() > 64) return std::nullopt;
  for (char c : client_id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return std::nullopt;
  }
  for (const BrokerUser& u : users) {
    if (u.username == client_id) return std::nullopt;
  }
  BrokerUser u;
  u.username = client_id;
  u.password = random.Token(18);
  return u;
}

size_t FirstNonSpace(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return i;
}

Reading MakeReading(Id device, std::string key, TimeMs ts, double v, std::string unit = {}) {
  Reading r;
  r.device_id = device;
  r.key = std::move(key);
  r.ts = ts;
  r.value = v;
  r.unit = std::move(unit);
  return r;
}

// One message on its way through the pipeline: the uplink, the PUBACK sent after its commit and
// the result counted then. One allocation, shared by the pipeline (as the uplink) and the
// completion callback, and kept as it is for a retry after back-pressure.
struct InFlight {
  pipeline::Uplink uplink;
  AckHandle ack;
  const char* result = nullptr;
  // After the store refused the message for a reason retrying cannot fix: it is being stored
  // raw, without readings (KeepRawAfterRefusal); a failure of that is retried with a delay.
  bool raw_only = false;
  int64_t retry_delay_ms = 0;
  // While the organisation holds its share of the pipeline (kRateLimited): the delay before the
  // next try, growing while that lasts (pipeline/retry_delay.h).
  int64_t busy_delay_ms = 0;
  std::chrono::steady_clock::time_point retry_at{};
};

// The delay before storing a raw message again after the store refused it: from 1 s, doubling
// up to a minute (the store is failing for everyone then: a full disk, a broken database).
constexpr int64_t kFirstRefusalDelayMs = 1000, kMaxRefusalDelayMs = 60'000;

std::shared_ptr<InFlight> NewInFlight(const std::shared_ptr<const Device>& d, AckHandle ack) {
  auto f = std::make_shared<InFlight>();
  f->uplink.device = d;
  // A QoS 1 stream: the broker keeps sending while this waits for its PUBACK, so the store
  // may pace commits (IngestBatch::paced).
  f->uplink.paced = true;
  f->ack = std::move(ack);
  return f;
}

}  // namespace

struct MqttService::Impl {
  ServiceOptions opts;
  Store& store;
  pipeline::Pipeline& pipeline;
  Metrics& metrics;
  const Clock& clock;
  Random& random;

  std::map<std::string, prometheus::Counter*, std::less<>> counters;  // by result
  std::unique_ptr<BrokerSupervisor> broker;
  std::unique_ptr<MqttClient> client;
  std::unique_ptr<MqttClient> actions_client;  // supervised broker only: as kActionsUser
  std::vector<BrokerUser> own_users;           // service, integrator, actions (supervised)
  std::unique_ptr<SessionRescue> rescue;  // several nodes: session leases, dead sessions drained
  std::unique_ptr<IntegrationManager> integrations;  // third-party brokers (integrations.h)
  std::atomic<bool> client_started{false};           // `client` may be used by Publish
  std::string url;

  // Device caches, the flattener and the event parser: used under `handle_mu` (bysans' own client
  // and every integration client call the handlers from their own I/O threads).
  std::mutex handle_mu;
  // Another node's device change (PostgreSQL change feed) expires every entry at once.
  std::function<uint64_t()> devices_generation = [this] { return store.devices_generation(); };
  DeviceCache<Id> by_id{clock, refresher, {}, 100'000, devices_generation};
  DeviceCache<std::string> by_eui{clock, refresher, {}, 100'000, devices_generation};
  DeviceCache<std::string> by_topic_key{
      clock, refresher, {}, 100'000, devices_generation};  // external brokers
  GatewayEventLimiter gateway_limiter;                     // per organisation
  ingest::JsonFlattener flattener;
  lorawan::EventParser event_parser;  // ChirpStack events
  // ChirpStack application id + "#" + integration id stored per device (downlink route).
  std::unordered_map<Id, std::string> app_of_device;

  std::mutex log_mu;
  std::set<std::string> logged;

  // Uplinks the pipeline refused for back-pressure, retried by `retrier`; their un-acked
  // handles keep the client's receive window closed meanwhile.
  std::mutex retry_mu;
  std::condition_variable retry_cv;
  std::deque<std::shared_ptr<InFlight>> retry_queue;
  bool stopping = false;
  std::thread retrier;

  // Reloads the broker's credentials when they change.
  std::thread watcher;
  prometheus::Gauge* broker_restarts = nullptr;  // set by the watcher
  std::mutex watch_mu;
  std::condition_variable watch_cv;
  bool watch_stop = false;

  // Reloads expired device cache entries off the message path (device_cache.h). Declared
  // after the caches: destroyed (stopped) before them.
  Refresher refresher;

  Impl(ServiceOptions o, Store& s, pipeline::Pipeline& p, Metrics& m, const Clock& c, Random& r)
      : opts(std::move(o)), store(s), pipeline(p), metrics(m), clock(c), random(r) {
    for (const char* res : kResults) {
      counters[res] = &metrics.Counter("bysans_mqtt_messages_total",
                                       "MQTT messages received, by outcome", {{"result", res}});
    }
    broker_restarts = &metrics.Gauge("bysans_mqtt_broker_restarts",
                                     "Restarts of the supervised Mosquitto after it died");
  }

  // Per message: a lookup without building a std::string (transparent comparator).
  // A result missing from kResults is a programming error: it is counted nowhere (and said so
  // once) rather than taking the server down.
  void Count(std::string_view result) {
    auto it = counters.find(result);
    if (it != counters.end()) {
      it->second->Increment();
      return;
    }
    static std::once_flag once;
    std::call_once(once, [&] { spdlog::error("mqtt: no counter for result '{}'", result); });
  }

  void LogOnce(const std::string& reason, const std::string& detail) {
    std::lock_guard lock(log_mu);
    if (logged.insert(reason).second)
      spdlog::warn(
          "mqtt: {} ({}); further messages with this problem are only counted in "
          "bysans_mqtt_messages_total",
          detail, reason);
  }

  // bysans' own broker users (Start), then the devices' and the extra ones.
  Result<std::vector<BrokerUser>> BrokerUsers() {
    std::vector<BrokerUser> users = own_users;
    BYSANS_ASSIGN_OR_RETURN(auto creds, store.mqtt().ListCredentials());
    for (const MqttCredential& c : creds) {
      BrokerUser u = DeviceBrokerUser(c.username, "", std::to_string(c.device_id));
      u.password_hash = c.password_hash;
      users.push_back(std::move(u));
    }
    if (opts.extra_users) {
      BYSANS_ASSIGN_OR_RETURN(std::vector<BrokerUser> extra, opts.extra_users());
      for (BrokerUser& u : extra) users.push_back(std::move(u));
    }
    return users;
  }

  // Reloads the broker's credentials after every change; the API waits for
  // MqttStore::WaitCredentialsApplied, so it answers with credentials the broker accepts.
  void WatchCredentials(int64_t seen) {
    std::unique_lock lock(watch_mu);
    while (!watch_stop) {
      watch_cv.wait_for(lock, std::chrono::milliseconds(20));
      if (watch_stop) break;
      broker_restarts->Set(broker->restarts());
      int64_t gen = store.mqtt().credentials_generation();
      if (gen == seen) continue;
      lock.unlock();
      auto users = BrokerUsers();
      Status st = users.ok() ? broker->SetCredentials(*users) : users.status();
      if (st.ok()) {
        seen = gen;
        store.mqtt().SetCredentialsApplied(gen);
      } else {
        spdlog::error("mqtt: could not reload broker credentials: {}", st.message());
      }
      lock.lock();
    }
  }

  std::shared_ptr<const Device> DeviceById(Id id) {
    return by_id.Get(id, [this, id] { return store.GetDevice(id); });
  }

  std::shared_ptr<const Device> DeviceByEui(const std::string& eui) {
    return by_eui.Get(eui, [this, eui] { return store.FindDeviceByDevEui(eui); });
  }

  void Submit(std::shared_ptr<InFlight> f, const char* result) {
    f->result = result;
    // On kUnavailable the pipeline hands the message back in f->uplink: retried without a copy.
    std::shared_ptr<pipeline::Uplink> uplink(f, &f->uplink);
    pipeline.Submit(std::move(uplink), [this, f = std::move(f)](const Status& st) {
      if (st.ok()) {
        f->ack.Ack();
        // A copy of a message already stored (same dedup key) is acknowledged, not stored.
        Count(f->uplink.duplicate ? "duplicate" : f->result);
        return;
      }
      if (st.code() == Code::kRateLimited) {  // the organisation holds its share
        f->busy_delay_ms = pipeline::NextShareRetryMs(f->busy_delay_ms);
        f->retry_at =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(f->busy_delay_ms);
      } else if (st.code() != Code::kUnavailable) {
        Count("store_error");
        LogOnce("store_error", "could not commit a message: " + st.message());
        KeepRawAfterRefusal(*f, st);
      }
      std::lock_guard lock(retry_mu);
      if (!stopping) {
        retry_queue.push_back(f);
        retry_cv.notify_one();
      }
      // Not acked until stored: redelivered after a reconnect if we stop now.
    });
  }

  // The store refused the message (the pipeline handed it back in f.uplink): it is stored again
  // raw, without readings and with the reason, as an undecodable message is, and then
  // acknowledged. Left unacknowledged, it would hold one of the broker's in-flight slots until
  // a reconnect, and enough of them (one device's messages) would stop ingest for every
  // organisation. If the raw message is refused too, it is tried again with a growing delay.
  void KeepRawAfterRefusal(InFlight& f, const Status& refused) {
    if (!f.raw_only) {
      f.raw_only = true;
      pipeline::Uplink& u = f.uplink;
      u.readings.clear();
      u.decoded_json.clear();
      u.skip_decode = true;
      u.raw.decode_status = DecodeStatus::kError;
      u.raw.decode_error = "not stored as readings: the store refused them (" + refused.message() +
                           "); the message is kept as received";
      u.raw.decode_errors.clear();
      u.raw.decode_warnings.clear();
      return;  // at once
    }
    f.retry_delay_ms = std::clamp(f.retry_delay_ms * 2, kFirstRefusalDelayMs, kMaxRefusalDelayMs);
    f.retry_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(f.retry_delay_ms);
  }

  void RetryLoop() {
    std::unique_lock lock(retry_mu);
    while (!stopping) {
      if (retry_queue.empty()) {
        retry_cv.wait(lock);
        continue;
      }
      // Give the store at least kFullRetryMs to drain, then resubmit everything that is due.
      const auto earliest =
          std::min_element(retry_queue.begin(), retry_queue.end(),
                           [](const auto& a, const auto& b) { return a->retry_at < b->retry_at; });
      retry_cv.wait_until(lock, std::max(std::chrono::steady_clock::now() +
                                             std::chrono::milliseconds(pipeline::kFullRetryMs),
                                         (*earliest)->retry_at));
      if (stopping) break;
      std::deque<std::shared_ptr<InFlight>> due, later;
      const auto now = std::chrono::steady_clock::now();
      for (auto& f : retry_queue) (f->retry_at <= now ? due : later).push_back(std::move(f));
      retry_queue.swap(later);
      lock.unlock();
      for (std::shared_ptr<InFlight>& f : due) Submit(f, f->result);
      lock.lock();
    }
    retry_queue.clear();
  }

  // A message that cannot become readings but belongs to a known device: stored raw with
  // the error, then acknowledged.
  void StoreRejected(const std::shared_ptr<const Device>& d, Transport transport,
                     const IncomingMessage& msg, const std::string& error, AckHandle ack,
                     const char* result) {
    auto f = NewInFlight(d, std::move(ack));
    RawMessage& raw = f->uplink.raw;
    raw.device_id = d->id;
    raw.received_ms = clock.NowMs();
    raw.transport = transport;
    raw.content_type = "application/octet-stream";
    raw.payload = msg.payload.substr(0, kKeptBadPayload);
    raw.decode_status = DecodeStatus::kError;
    raw.decode_error = error;
    Submit(std::move(f), result);
  }

  // The handlers take the message's payload into the stored message instead of copying it.
  void OnMessage(IncomingMessage&& msg, AckHandle ack) {
    std::lock_guard lock(handle_mu);
    if (msg.topic.rfind("devices/", 0) == 0) {
      HandleDevice(msg, std::move(ack));
    } else if (msg.topic.rfind("application/", 0) == 0) {
      HandleChirpstack(msg, std::move(ack));
    } else if (IsGatewayTopic(msg.topic)) {
      HandleGateway(msg, std::move(ack), nullptr);
    } else {
      Count("bad_topic");
      LogOnce("bad_topic", "message on unexpected topic " + msg.topic);
      ack.Ack();
    }
  }

  // A message from a third-party broker integration (integrations.h).
  void OnIntegrationMessage(const MqttIntegration& via, IncomingMessage&& msg, AckHandle ack) {
    std::lock_guard lock(handle_mu);
    if (via.kind == "chirpstack" && IsGatewayTopic(msg.topic)) {
      HandleGateway(msg, std::move(ack), &via);
    } else if (via.kind == "chirpstack") {
      HandleChirpstack(msg, std::move(ack), &via);
    } else {
      HandleExternal(via, msg, std::move(ack));
    }
  }

  // A ChirpStack gateway event (gateway_ingest.h): written at once (a few per gateway and
  // minute), then acknowledged.
  void HandleGateway(const IncomingMessage& msg, AckHandle ack, const MqttIntegration* via) {
    std::string error;
    const char* result =
        HandleGatewayEvent(store, clock, gateway_limiter, msg.topic, msg.payload, via, &error);
    Count(result);
    if (!error.empty()) LogOnce(std::string("gateway_") + result, error);
    ack.Ack();
  }

  // External broker: the device named at topic level `device_topic_level`, matched by id,
  // name or DevEUI within the integration's application.
  void HandleExternal(const MqttIntegration& via, IncomingMessage& msg, AckHandle ack) {
    std::string value;
    size_t level = 0, begin = 0;
    while (true) {
      size_t end = msg.topic.find('/', begin);
      if (level == static_cast<size_t>(via.device_topic_level)) {
        value = msg.topic.substr(begin, end == std::string::npos ? end : end - begin);
        break;
      }
      if (end == std::string::npos) break;
      begin = end + 1;
      ++level;
    }
    std::shared_ptr<const Device> d;
    if (!value.empty()) {
      std::string key = std::to_string(via.app_id) + "|" + via.device_match + "|" + value;
      d = by_topic_key.Get(key, [this, via, value]() -> Result<Device> {
        Result<Device> found = NotFound("no device");
        if (via.device_match == "id") {
          Id id = 0;
          for (char c : value) {
            if (c < '0' || c > '9' || id > (int64_t{1} << 58)) return NotFound("not an id");
            id = id * 10 + (c - '0');
          }
          found = store.GetDevice(id);
        } else if (via.device_match == "devEui") {
          std::string eui = value;
          for (char& c : eui) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          found = store.FindDeviceByDevEui(eui);
        } else {
          DeviceFilter f;
          f.app_id = via.app_id;
          f.search = value;
          Page page;
          page.limit = 100;
          auto list = store.ListDevices(f, page);
          if (!list.ok()) return list.status();
          for (Device& cand : list->items) {
            if (cand.name == value) return std::move(cand);
          }
          return NotFound("no device named " + value);
        }
        if (found.ok() && found->app_id != via.app_id) return NotFound("another application");
        return found;
      });
    }
    if (!d) {
      Count("unmapped_topic");
      LogOnce("unmapped:" + std::to_string(via.id),
              "external broker integration " + std::to_string(via.id) + ": topic " + msg.topic +
                  " names no device of application " + std::to_string(via.app_id) + " (by " +
                  via.device_match + ", topic level " + std::to_string(via.device_topic_level) +
                  ")");
      ack.Ack();
      return;
    }
    HandlePayload(d, msg, std::move(ack));
  }

  void HandleDevice(IncomingMessage& msg, AckHandle ack) {
    // devices/{id}/up, or devices/{id}/up/senml-cbor for SenML CBOR; the id in decimal digits
    // (at most 18: no overflow)
    std::string_view rest = std::string_view(msg.topic).substr(8);
    auto slash = rest.find('/');
    Id id = 0;
    const bool senml_cbor =
        slash != std::string_view::npos && rest.substr(slash) == "/up/senml-cbor";
    bool ok = slash != std::string_view::npos && (rest.substr(slash) == "/up" || senml_cbor) &&
              slash > 0 && slash < 19;
    for (size_t i = 0; ok && i < slash; ++i) {
      if (rest[i] < '0' || rest[i] > '9') ok = false;
    }
    if (ok) std::from_chars(rest.data(), rest.data() + slash, id);
    if (!ok) {
      Count("bad_topic");
      LogOnce("bad_topic", "message on unexpected topic " + msg.topic);
      ack.Ack();
      return;
    }
    auto d = DeviceById(id);
    if (!d) {
      Count("unknown_device");
      LogOnce("unknown_device", "message for unknown device " + std::to_string(id));
      ack.Ack();
      return;
    }
    if (d->transport != Transport::kMqtt) {
      Count("wrong_transport");
      LogOnce("wrong_transport", "device " + std::to_string(id) + " does not use MQTT");
      ack.Ack();
      return;
    }
    HandlePayload(d, msg, std::move(ack), senml_cbor);
  }

  // The readings of a JSON payload starting with `first`: a SenML pack when it is one, else
  // any JSON document. Returns the content type stored with the message.
  Result<const char*> ParseJsonPayload(Id device, std::string_view payload, char first, TimeMs now,
                                       std::vector<Reading>& readings) {
    using ingest::PayloadKind;
    if (first == '[' &&
        ingest::ParseReadings(PayloadKind::kSenml, payload, device, now, readings, &flattener)
            .ok()) {
      return "application/senml+json";
    }
    BYSANS_RETURN_IF_ERROR(
        ingest::ParseReadings(PayloadKind::kJson, payload, device, now, readings, &flattener));
    return "application/json";
  }

  // JSON, SenML or raw bytes of a device (its own topic or an external broker), or a SenML CBOR
  // pack (`senml_cbor`: its topic said so). The payload moves into the stored message.
  void HandlePayload(const std::shared_ptr<const Device>& d, IncomingMessage& msg, AckHandle ack,
                     bool senml_cbor = false) {
    const Id id = d->id;
    if (msg.payload.size() >= opts.max_payload) {
      LogOnce("too_large", "payload of " + std::to_string(msg.payload.size()) +
                               " bytes from device " + std::to_string(id));
      StoreRejected(d, Transport::kMqtt, msg,
                    "payload of " + std::to_string(msg.payload.size()) +
                        " bytes exceeds the limit; first bytes kept",
                    std::move(ack), "too_large");
      return;
    }
    TimeMs now = clock.NowMs();
    size_t first = FirstNonSpace(msg.payload);
    char c = first < msg.payload.size() ? msg.payload[first] : '\0';
    const bool json = !senml_cbor && (c == '{' || c == '[');
    // Raw bytes are kept for a decoder (next issue), without readings.
    const char* content_type = "application/octet-stream";
    std::vector<Reading> readings;
    if (senml_cbor) {
      Status parsed = ingest::ParseReadings(ingest::PayloadKind::kSenmlCbor, msg.payload, id, now,
                                            readings, &flattener);
      if (!parsed.ok()) {
        const std::string why = "SenML CBOR: " + parsed.message();
        LogOnce("bad_cbor", "bad SenML CBOR from device " + std::to_string(id) + ": " + why);
        StoreRejected(d, Transport::kMqtt, msg, why, std::move(ack), "bad_cbor");
        return;
      }
      content_type = "application/senml+cbor";
    } else if (json) {
      Result<const char*> parsed = ParseJsonPayload(id, msg.payload, c, now, readings);
      if (!parsed.ok()) {
        const std::string& why = parsed.status().message();
        LogOnce("bad_json", "bad JSON from device " + std::to_string(id) + ": " + why);
        StoreRejected(d, Transport::kMqtt, msg, why, std::move(ack), "bad_json");
        return;
      }
      content_type = *parsed;
    }
    auto f = NewInFlight(d, std::move(ack));
    pipeline::Uplink& u = f->uplink;
    u.raw.device_id = id;
    u.raw.received_ms = now;
    u.raw.transport = Transport::kMqtt;
    u.raw.content_type = content_type;
    u.raw.payload = std::move(msg.payload);
    u.raw.decode_status = DecodeStatus::kNone;
    u.readings = std::move(readings);
    // MQTT carries no message id. A JSON message with its own time (top-level
    // timestamp/time/ts) is identified by device, that time and its bytes, so a copy
    // redelivered after a crash is stored once; messages without a time of their own may be
    // stored twice after a crash (README.md).
    // (The key's format is kept as stored by earlier versions; the store matches keys by hash
    // in its dedup window, store/sqlite/dedup_window.h.)
    if (!u.readings.empty() && u.readings.front().ts != now) {
      u.dedup_key = DeviceMessageDedupKey(u.readings.front().ts, id, u.raw.payload);
    }
    Submit(std::move(f), json || senml_cbor ? "stored" : "stored_raw");
  }

  // `via`: the organisation's ChirpStack integration that received it; nullptr = bysans' own
  // broker (any organisation).
  void HandleChirpstack(IncomingMessage& msg, AckHandle ack, const MqttIntegration* via = nullptr) {
    auto topic = lorawan::ParseEventTopic(msg.topic);
    if (!topic.ok()) {
      Count("bad_topic");
      LogOnce("bad_topic", topic.status().message());
      ack.Ack();
      return;
    }
    auto d = DeviceByEui(topic->dev_eui);
    // Tenancy: an organisation's integration reaches only that organisation's devices.
    if (d && via != nullptr && d->org_id != via->org_id) d = nullptr;
    if (!d || d->transport != Transport::kLorawan) {
      if (topic->type == lorawan::EventType::kUp) {
        Status st = via != nullptr
                        ? store.mqtt().CountUnknownOrgDevice(via->org_id, via->id, topic->dev_eui,
                                                             topic->application_id, clock.NowMs())
                        : store.mqtt().CountUnknownDevice(topic->dev_eui, topic->application_id,
                                                          clock.NowMs());
        if (!st.ok()) spdlog::warn("mqtt: could not record unknown DevEUI: {}", st.message());
      }
      Count("unknown_deveui");
      LogOnce("unknown_deveui", "ChirpStack event from unknown DevEUI " + topic->dev_eui);
      ack.Ack();
      return;
    }
    if (msg.payload.size() >= opts.max_payload) {
      LogOnce("too_large", "ChirpStack event of " + std::to_string(msg.payload.size()) +
                               " bytes for DevEUI " + topic->dev_eui);
      StoreRejected(d, Transport::kLorawan, msg, "payload exceeds the limit; first bytes kept",
                    std::move(ack), "too_large");
      return;
    }
    auto ev = event_parser.Parse(*topic, msg.payload);
    if (!ev.ok()) {
      const std::string& why = ev.status().message();
      const char* result = why.find("not valid JSON") != std::string::npos ? "bad_json"
                           : why.find("base64") != std::string::npos       ? "bad_base64"
                                                                           : "bad_shape";
      LogOnce(result, why + " (DevEUI " + topic->dev_eui + ")");
      StoreRejected(d, Transport::kLorawan, msg, why, std::move(ack), result);
      return;
    }
    TimeMs now = clock.NowMs();
    TimeMs ts = ev->time_ms.value_or(now);
    auto f = NewInFlight(d, std::move(ack));
    pipeline::Uplink& u = f->uplink;
    u.raw.device_id = d->id;
    u.raw.received_ms = now;
    u.raw.transport = Transport::kLorawan;
    u.raw.content_type = "application/json";
    u.raw.payload = std::move(msg.payload);
    u.raw.decode_status = DecodeStatus::kNone;
    const std::string id =
        !ev->deduplication_id.empty()
            ? std::move(ev->deduplication_id)
            : (ev->fcnt ? std::to_string(*ev->fcnt) : std::string("-")) + ":" + std::to_string(ts);
    const char* result = "lorawan_event";
    if (ev->type == lorawan::EventType::kUp) {
      u.dedup_key = LorawanEventDedupKey("up", d->id, id);
      // Downlinks go to ChirpStack's application id, known only from its topics, through the
      // connection that delivered the uplink.
      const Id via_id = via != nullptr ? via->id : 0;
      const std::string route = topic->application_id + "#" + std::to_string(via_id);
      if (auto it = app_of_device.find(d->id); it == app_of_device.end() || it->second != route) {
        if (store.mqtt().SetLorawanRoute(d->id, topic->application_id, via_id).ok())
          app_of_device[d->id] = route;
      }
      u.fport = ev->fport;
      u.frame = std::move(ev->frame);
      if (ev->fcnt) u.readings.push_back(MakeReading(d->id, "lorawan.fcnt", ts, double(*ev->fcnt)));
      if (const lorawan::GatewayRx* g = lorawan::BestGateway(*ev)) {
        if (g->rssi) u.readings.push_back(MakeReading(d->id, "lorawan.rssi", ts, *g->rssi, "dBm"));
        if (g->snr) u.readings.push_back(MakeReading(d->id, "lorawan.snr", ts, *g->snr, "dB"));
      }
      if (ev->dr) u.readings.push_back(MakeReading(d->id, "lorawan.dr", ts, double(*ev->dr)));
      // An organisation's own integration names gateways on its own say-so: recorded for it, but
      // never as seen on bysans' broker, whose gateway events go by what that broker carried
      // (gateway_ingest.h).
      const UplinkSource source =
          via != nullptr ? UplinkSource::kIntegration : UplinkSource::kLocalBroker;
      for (const lorawan::GatewayRx& g : ev->gateways) {
        if (g.gateway_id.empty()) continue;
        Status st =
            store.mqtt().TouchGateway(d->org_id, g.gateway_id, ts, source, d->id, g.rssi, g.snr);
        if (!st.ok()) spdlog::warn("mqtt: could not record gateway: {}", st.message());
      }
      result = "stored";
    } else {
      // Other events are kept as raw messages; keys are namespaced by event type.
      u.dedup_key = LorawanEventDedupKey(topic->type_name, d->id, id);
      if (ev->battery_level)
        u.readings.push_back(MakeReading(d->id, "battery", ts, *ev->battery_level, "%"));
      if (ev->margin)
        u.readings.push_back(MakeReading(d->id, "lorawan.margin", ts, double(*ev->margin), "dB"));
    }
    Submit(std::move(f), result);
  }
};

std::string SharedFilter(const std::string& group, const std::string& filter) {
  return group.empty() ? filter : "$share/" + group + "/" + filter;
}

MqttService::MqttService(ServiceOptions options, Store& store, pipeline::Pipeline& pipeline,
                         Metrics& metrics, const Clock& clock, Random& random)
    : impl_(std::make_unique<Impl>(std::move(options), store, pipeline, metrics, clock, random)) {}

MqttService::~MqttService() { Stop(); }

std::string MqttService::url() const { return impl_->url; }

bool MqttService::supervised() const { return impl_->broker != nullptr; }

Status MqttService::Start() {
  Impl& m = *impl_;
  const ServiceOptions& o = m.opts;
  ClientOptions co;
  co.client_id = o.client_id;
  co.clean_session = false;
  co.max_inflight = o.max_inflight;
  co.max_inflight_bytes = o.max_inflight_bytes;
  co.max_packet_size = o.max_payload * 2 + 4096;
  co.random = &m.random;
  co.trusted = true;  // bysans' own broker (supervised, or the operator's mqtt.url)
  if (o.external_url.empty()) {
    if (::access(o.mosquitto_path.c_str(), X_OK) != 0) {
      return FailedPrecondition("the MQTT broker mosquitto was not found at " + o.mosquitto_path +
                                "; install the Debian package 'mosquitto' (scripts/install-deps) "
                                "or set mqtt.url to use an external broker");
    }
    BYSANS_ASSIGN_OR_RETURN(
        Identity service_id,
        LoadOrCreateIdentity(fs::path(o.data_dir) / "mqtt-service.secret", "", m.random));
    BYSANS_ASSIGN_OR_RETURN(Identity integrator_id,
                            LoadOrCreateIdentity(fs::path(o.data_dir) / "mqtt-integrator.secret",
                                                 kIntegratorUser, m.random));
    BYSANS_ASSIGN_OR_RETURN(
        Identity actions_id,
        LoadOrCreateIdentity(fs::path(o.data_dir) / "mqtt-actions.secret", kActionsUser, m.random));
    m.own_users = OwnBrokerUsers(service_id, integrator_id, actions_id);
    BrokerOptions bo;
    bo.dir = (fs::path(o.data_dir) / "mosquitto").string();
    bo.mosquitto_path = o.mosquitto_path;
    bo.bind_address = o.bind_address;
    bo.max_packet_size = o.max_payload * 2 + 4096;
    bo.max_inflight_messages = static_cast<int>(o.max_inflight);  // bysans' receive window
    bo.max_inflight_bytes = o.max_inflight_bytes;
    bo.random = &m.random;
    if (o.port == 0) {
      BYSANS_ASSIGN_OR_RETURN(bo.port, PickFreePort(o.bind_address));
    } else {
      bo.port = static_cast<uint16_t>(o.port);
    }
    std::error_code ec;
    fs::create_directories(bo.dir, ec);
    if (ec) return Internal("cannot create " + bo.dir + ": " + ec.message());
    m.broker = std::make_unique<BrokerSupervisor>(bo);
    int64_t gen = m.store.mqtt().credentials_generation();
    BYSANS_ASSIGN_OR_RETURN(auto users, m.BrokerUsers());
    std::optional<BrokerUser> retiring = RetiringUser(o.client_id, users, m.random);
    if (retiring) users.push_back(*retiring);
    BYSANS_RETURN_IF_ERROR(m.broker->SetCredentials(users));
    m.store.mqtt().SetCredentialsApplied(gen);  // the broker starts with these files
    BYSANS_RETURN_IF_ERROR(m.broker->Start());
    Status ready = m.broker->WaitReady(20000);
    if (!ready.ok()) {
      return Unavailable("the supervised MQTT broker did not start listening on " + o.bind_address +
                         ":" + std::to_string(m.broker->port()) + " (see " + m.broker->log_path() +
                         "): " + ready.message());
    }
    if (retiring) {
      Result<int> rc = ProbeConnect(o.bind_address == "0.0.0.0" ? "127.0.0.1" : o.bind_address,
                                    m.broker->port(), retiring->username, retiring->password, 5000);
      if (!rc.ok() || *rc != 0) {
        spdlog::warn("mqtt: could not end the session of former client id {}: {}",
                     retiring->username,
                     rc.ok() ? "CONNACK " + std::to_string(*rc) : rc.status().message());
      }
      // Its user (no topics, a password nobody knows) leaves with the next reload.
    }
    m.watcher = std::thread([&m, gen] { m.WatchCredentials(gen); });
    co.host = o.bind_address == "0.0.0.0" ? "127.0.0.1" : o.bind_address;
    co.port = m.broker->port();
    m.actions_client = std::make_unique<MqttClient>(ActionsClientOptions(co, actions_id, m.random));
    BYSANS_RETURN_IF_ERROR(m.actions_client->Start());
    // The broker makes a client's id its user name (use_username_as_clientid): bysans' session
    // is the service user's, which nobody else can log in as.
    co.client_id = service_id.username;
    co.username = service_id.username;
    co.password = service_id.password;
  } else {
    BYSANS_ASSIGN_OR_RETURN(BrokerUrl e, ParseBrokerUrl(o.external_url, "mqtt.url"));
    co.host = e.host;
    co.port = e.port;
    co.tls = e.tls;
    co.username = e.username;
    co.password = e.password;
  }
  m.url = "mqtt://" + co.host + ":" + std::to_string(co.port);
  m.store.mqtt().SetBrokerEndpoint(co.host, co.port);
  {
    std::ofstream out(fs::path(o.data_dir) / "mqtt.url");
    out << m.url << "\n";
  }
  m.retrier = std::thread([&m] { m.RetryLoop(); });
  // A shared group's session may have been changed by another node's drain (session_rescue.h).
  co.always_resubscribe = !o.shared_group.empty();
  m.client = std::make_unique<MqttClient>(co);
  m.client->set_on_message(
      [&m](IncomingMessage msg, AckHandle ack) { m.OnMessage(std::move(msg), std::move(ack)); });
  prometheus::Counter& connects = m.metrics.Counter(
      "bysans_mqtt_connections_total", "Connections (first and re-) of bysans' MQTT clients",
      {{"client", "service"}});
  prometheus::Gauge& connected = m.metrics.Gauge(
      "bysans_mqtt_connected", "1 while the MQTT client is connected", {{"client", "service"}});
  m.client->set_on_connect([&connects, &connected](const ConnectInfo&) {
    connects.Increment();
    connected.Set(1);
  });
  m.client->set_on_disconnect([&m, &connected](const Status& st) {
    connected.Set(0);
    m.LogOnce("disconnect:" + st.message(), "MQTT connection to the broker lost: " + st.message());
  });
  std::vector<SubscribeFilter> filters = {{"devices/+/up", 1, false},
                                          {"devices/+/up/senml-cbor", 1, false}};
  if (o.subscribe_chirpstack) {
    filters.push_back({"application/+/device/+/event/+", 1, false});
    filters.push_back({kGatewayConnFilter, 1, false});
    filters.push_back({kGatewayStatsFilter, 1, false});
  }
  for (SubscribeFilter& f : filters) f.filter = SharedFilter(o.shared_group, f.filter);
  BYSANS_RETURN_IF_ERROR(m.client->Subscribe(filters));
  bool connect_now = true;
  if (!o.external_url.empty() && !o.shared_group.empty() && !o.node_holder.empty() &&
      m.store.leases().shared()) {
    SessionRescueOptions ro;
    ro.leases = &m.store.leases();
    ro.holder = o.node_holder;
    ro.client = co;
    for (const SubscribeFilter& f : filters) ro.filters.push_back(f.filter);
    m.rescue = std::make_unique<SessionRescue>(
        std::move(ro),
        [&m](IncomingMessage msg, AckHandle ack) { m.OnMessage(std::move(msg), std::move(ack)); },
        [&m] {
          if (m.client_started.exchange(true)) return;
          if (Status s = m.client->Start(); !s.ok())
            spdlog::error("mqtt: the client did not start: {}", s.message());
        });
    BYSANS_ASSIGN_OR_RETURN(connect_now, m.rescue->Start());
  }
  if (connect_now) {
    BYSANS_RETURN_IF_ERROR(m.client->Start());
    m.client_started.store(true);
  }
  if (o.run_integrations) {
    IntegrationOptions io;
    io.max_inflight = o.max_inflight;
    io.max_packet_size = o.max_payload * 2 + 4096;
    io.outbound = o.outbound;
    io.may_run = o.integrations_may_run;
    m.integrations = std::make_unique<IntegrationManager>(
        m.store.mqtt(), m.metrics, m.clock, m.random, io,
        [&m](const MqttIntegration& via, IncomingMessage msg, AckHandle ack) {
          m.OnIntegrationMessage(via, std::move(msg), std::move(ack));
        });
    BYSANS_RETURN_IF_ERROR(m.integrations->Start());
  }
  spdlog::info("mqtt: {} broker at {}, client id {}{}",
               o.external_url.empty() ? "supervised" : "external", m.url, co.client_id,
               o.shared_group.empty() ? "" : ", shared-subscription group " + o.shared_group);
  return Status::Ok();
}

void MqttService::Stop() {
  if (!impl_) return;
  Impl& m = *impl_;
  if (m.integrations) m.integrations->Stop();
  if (m.rescue) m.rescue->Stop();
  if (m.client) m.client->Stop();
  if (m.actions_client) m.actions_client->Stop();
  {
    std::lock_guard lock(m.retry_mu);
    m.stopping = true;
  }
  m.retry_cv.notify_all();
  if (m.retrier.joinable()) m.retrier.join();
  m.refresher.Stop();
  {
    std::lock_guard lock(m.watch_mu);
    m.watch_stop = true;
  }
  m.watch_cv.notify_all();
  if (m.watcher.joinable()) m.watcher.join();
  if (m.broker) m.broker->Stop();
}

Status MqttService::PublishVia(Id integration_id, std::string topic, std::string payload,
                               std::function<void(const Status&)> done) {
  if (integration_id == 0) return Publish(std::move(topic), std::move(payload), std::move(done));
  if (!impl_->client_started.load() || !impl_->integrations)
    return Unavailable("MQTT integrations are not running");
  return impl_->integrations->Publish(integration_id, std::move(topic), std::move(payload),
                                      std::move(done));
}

Status MqttService::Publish(std::string topic, std::string payload,
                            std::function<void(const Status&)> done) {
  if (!impl_->client_started.load()) return Unavailable("MQTT is not started");
  return impl_->client->Publish(std::move(topic), std::move(payload), 1, false, std::move(done));
}

Status MqttService::PublishAction(std::string topic, std::string payload,
                                  std::function<void(const Status&)> done) {
  if (!impl_->actions_client) return Publish(std::move(topic), std::move(payload), std::move(done));
  return impl_->actions_client->Publish(std::move(topic), std::move(payload), 1, false,
                                        std::move(done));
}

}  // namespace bysans::mqtt

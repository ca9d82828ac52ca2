#include "mqtt/ingest.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "ingest/receive.h"
#include "lorawan/chirpstack.h"
#include "mqtt/broker.h"
#include "mqtt/client.h"
#include "store/mqtt_store.h"

namespace bysans::mqtt {
namespace fs = std::filesystem;

namespace {

constexpr const char* kServiceUser = "bysans-service";
constexpr TimeMs kCacheTtlMs = 5000;
constexpr TimeMs kNegativeTtlMs = 1000;
constexpr size_t kKeptBadPayload = 64 * 1024;  // bytes of a refused payload kept as raw message

// The results counted in bysans_mqtt_messages_total{result}.
constexpr const char* kResults[] = {"stored",         "stored_raw",     "bad_json",
                                    "bad_shape",      "bad_base64",     "bad_topic",
                                    "unknown_device", "unknown_deveui", "wrong_transport",
                                    "too_large",      "store_error",    "lorawan_event"};

struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 1883;
  std::optional<std::string> username, password;
};

Result<Endpoint> ParseUrl(const std::string& url) {
  std::string rest = url;
  const std::string scheme = "mqtt://";
  if (rest.rfind(scheme, 0) != 0)
    return InvalidArgument("invalid setting mqtt.url=\"" + url + "\": must start with mqtt://");
  rest = rest.substr(scheme.size());
  Endpoint e;
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    std::string cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    auto colon = cred.find(':');
    e.username = cred.substr(0, colon);
    if (colon != std::string::npos) e.password = cred.substr(colon + 1);
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    int port = 0;
    try {
      port = std::stoi(rest.substr(colon + 1));
    } catch (...) {
      port = -1;
    }
    if (port <= 0 || port > 65535)
      return InvalidArgument("invalid setting mqtt.url=\"" + url + "\": bad port");
    e.port = static_cast<uint16_t>(port);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return InvalidArgument("invalid setting mqtt.url=\"" + url + "\": no host");
  e.host = rest;
  return e;
}

// The service password: generated once, kept in <data_dir>/mqtt-service.secret (0600).
Result<std::string> ServicePassword(const std::string& data_dir, Random& random) {
  fs::path path = fs::path(data_dir) / "mqtt-service.secret";
  {
    std::ifstream in(path);
    std::string s;
    if (in && std::getline(in, s) && !s.empty()) return s;
  }
  std::string secret = random.Token(24);
  std::string tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Internal("cannot write " + tmp);
    ::chmod(tmp.c_str(), 0600);
    out << secret << "\n";
    if (!out.flush()) return Internal("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Internal("cannot rename " + tmp + ": " + ec.message());
  return secret;
}

size_t FirstNonSpace(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return i;
}

// FNV-1a, 64 bits: stable across builds (dedup keys outlive a process).
uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
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

}  // namespace

struct MqttService::Impl {
  ServiceOptions opts;
  Store& store;
  pipeline::Pipeline& pipeline;
  Metrics& metrics;
  const Clock& clock;
  Random& random;

  std::map<std::string, prometheus::Counter*> counters;
  std::unique_ptr<BrokerSupervisor> broker;
  std::unique_ptr<MqttClient> client;
  std::atomic<bool> client_started{false};  // `client` may be used by Publish
  std::string url;

  // Device caches: used only on the client's I/O thread.
  struct CacheEntry {
    std::shared_ptr<const Device> device;  // null = none
    TimeMs expires = 0;
  };
  std::unordered_map<Id, CacheEntry> by_id;
  std::unordered_map<std::string, CacheEntry> by_eui;
  ingest::JsonFlattener flattener;
  std::unordered_map<Id, std::string> app_of_device;  // ChirpStack application ids stored

  std::mutex log_mu;
  std::set<std::string> logged;

  // Uplinks the pipeline refused for back-pressure, retried by `retrier`; their un-acked
  // handles keep the client's receive window closed meanwhile.
  struct Pending {
    std::shared_ptr<pipeline::Uplink> uplink;
    std::shared_ptr<AckHandle> ack;
    const char* result;
  };
  std::mutex retry_mu;
  std::condition_variable retry_cv;
  std::deque<Pending> retry_queue;
  bool stopping = false;
  std::thread retrier;

  // Reloads the broker's credentials when they change.
  std::thread watcher;
  std::mutex watch_mu;
  std::condition_variable watch_cv;
  bool watch_stop = false;

  Impl(ServiceOptions o, Store& s, pipeline::Pipeline& p, Metrics& m, const Clock& c, Random& r)
      : opts(std::move(o)), store(s), pipeline(p), metrics(m), clock(c), random(r) {
    for (const char* res : kResults) {
      counters[res] = &metrics.Counter("bysans_mqtt_messages_total",
                                       "MQTT messages received, by outcome", {{"result", res}});
    }
  }

  void Count(const char* result) { counters.at(result)->Increment(); }

  void LogOnce(const std::string& reason, const std::string& detail) {
    std::lock_guard lock(log_mu);
    if (logged.insert(reason).second)
      spdlog::warn(
          "mqtt: {} ({}); further messages with this problem are only counted in "
          "bysans_mqtt_messages_total",
          detail, reason);
  }

  Result<std::vector<BrokerUser>> BrokerUsers(const std::string& service_password) {
    std::vector<BrokerUser> users;
    BrokerUser service;
    service.username = kServiceUser;
    service.password = service_password;
    service.is_service = true;
    users.push_back(std::move(service));
    BYSANS_ASSIGN_OR_RETURN(auto creds, store.mqtt().ListCredentials());
    for (const MqttCredential& c : creds) {
      BrokerUser u = DeviceBrokerUser(c.username, "", std::to_string(c.device_id));
      u.password_hash = c.password_hash;
      users.push_back(std::move(u));
    }
    return users;
  }

  void WatchCredentials(std::string service_password, int64_t seen) {
    std::unique_lock lock(watch_mu);
    while (!watch_stop) {
      watch_cv.wait_for(lock, std::chrono::milliseconds(200));
      if (watch_stop) break;
      int64_t gen = store.mqtt().credentials_generation();
      if (gen == seen) continue;
      lock.unlock();
      auto users = BrokerUsers(service_password);
      Status st = users.ok() ? broker->SetCredentials(*users) : users.status();
      if (st.ok()) {
        seen = gen;
      } else {
        spdlog::error("mqtt: could not reload broker credentials: {}", st.message());
      }
      lock.lock();
    }
  }

  // Looks a device up through a small TTL cache (negative answers cached
  // briefly too, so floods of unknown ids do not reach the store).
  template <typename Key, typename Load>
  std::shared_ptr<const Device> Cached(std::unordered_map<Key, CacheEntry>& cache, const Key& key,
                                       Load load) {
    TimeMs now = clock.NowMs();
    auto it = cache.find(key);
    if (it != cache.end() && it->second.expires > now) return it->second.device;
    Result<Device> d = load();
    CacheEntry e;
    if (d.ok()) {
      e.device = std::make_shared<const Device>(std::move(*d));
      e.expires = now + kCacheTtlMs;
    } else {
      e.expires = now + kNegativeTtlMs;
    }
    if (cache.size() > 100000) cache.clear();
    cache[key] = e;
    return e.device;
  }

  std::shared_ptr<const Device> DeviceById(Id id) {
    return Cached(by_id, id, [&] { return store.GetDevice(id); });
  }

  std::shared_ptr<const Device> DeviceByEui(const std::string& eui) {
    return Cached(by_eui, eui, [&] { return store.FindDeviceByDevEui(eui); });
  }

  void Submit(std::shared_ptr<pipeline::Uplink> u, std::shared_ptr<AckHandle> ack,
              const char* result) {
    pipeline::Uplink copy = *u;
    pipeline.Submit(std::move(copy), [this, u, ack, result](Status st) {
      if (st.ok()) {
        ack->Ack();
        Count(result);
        return;
      }
      if (st.code() == Code::kUnavailable) {
        std::lock_guard lock(retry_mu);
        if (!stopping) {
          retry_queue.push_back(Pending{u, ack, result});
          retry_cv.notify_one();
        }
        return;  // not acked: redelivered after a reconnect if we stop now
      }
      Count("store_error");
      LogOnce("store_error", "could not commit a message: " + st.message());
      // The handle is dropped without a PUBACK: the broker redelivers after a reconnect.
    });
  }

  void RetryLoop() {
    std::unique_lock lock(retry_mu);
    while (!stopping) {
      if (retry_queue.empty()) {
        retry_cv.wait(lock);
        continue;
      }
      // Give the store time to drain, then resubmit everything waiting.
      retry_cv.wait_for(lock, std::chrono::milliseconds(20));
      if (stopping) break;
      std::deque<Pending> batch;
      batch.swap(retry_queue);
      lock.unlock();
      for (Pending& p : batch) Submit(p.uplink, p.ack, p.result);
      lock.lock();
    }
    retry_queue.clear();
  }

  // A message that cannot become readings but belongs to a known device: stored raw with
  // the error, then acknowledged.
  void StoreRejected(std::shared_ptr<const Device> d, Transport transport,
                     const IncomingMessage& msg, const std::string& error,
                     std::shared_ptr<AckHandle> ack, const char* result) {
    auto u = std::make_shared<pipeline::Uplink>();
    u->device = d;
    u->raw.device_id = d->id;
    u->raw.received_ms = clock.NowMs();
    u->raw.transport = transport;
    u->raw.content_type = "application/octet-stream";
    u->raw.payload = msg.payload.substr(0, kKeptBadPayload);
    u->raw.decode_status = DecodeStatus::kError;
    u->raw.decode_error = error;
    Submit(std::move(u), std::move(ack), result);
  }

  void OnMessage(IncomingMessage msg, AckHandle handle) {
    auto ack = std::make_shared<AckHandle>(std::move(handle));
    if (msg.topic.rfind("devices/", 0) == 0) {
      HandleDevice(msg, ack);
    } else if (msg.topic.rfind("application/", 0) == 0) {
      HandleChirpstack(msg, ack);
    } else {
      Count("bad_topic");
      LogOnce("bad_topic", "message on unexpected topic " + msg.topic);
      ack->Ack();
    }
  }

  void HandleDevice(const IncomingMessage& msg, std::shared_ptr<AckHandle> ack) {
    // devices/{id}/up
    std::string rest = msg.topic.substr(8);
    auto slash = rest.find('/');
    Id id = 0;
    bool ok = slash != std::string::npos && rest.substr(slash) == "/up" && slash > 0 && slash < 19;
    for (size_t i = 0; ok && i < slash; ++i) {
      if (rest[i] < '0' || rest[i] > '9') ok = false;
    }
    if (ok) id = std::stoll(rest.substr(0, slash));
    if (!ok) {
      Count("bad_topic");
      LogOnce("bad_topic", "message on unexpected topic " + msg.topic);
      ack->Ack();
      return;
    }
    auto d = DeviceById(id);
    if (!d) {
      Count("unknown_device");
      LogOnce("unknown_device", "message for unknown device " + std::to_string(id));
      ack->Ack();
      return;
    }
    if (d->transport != Transport::kMqtt) {
      Count("wrong_transport");
      LogOnce("wrong_transport", "device " + std::to_string(id) + " does not use MQTT");
      ack->Ack();
      return;
    }
    if (msg.payload.size() >= opts.max_payload) {
      LogOnce("too_large", "payload of " + std::to_string(msg.payload.size()) +
                               " bytes from device " + std::to_string(id));
      StoreRejected(d, Transport::kMqtt, msg,
                    "payload of " + std::to_string(msg.payload.size()) +
                        " bytes exceeds the limit; first bytes kept",
                    ack, "too_large");
      return;
    }
    TimeMs now = clock.NowMs();
    size_t first = FirstNonSpace(msg.payload);
    char c = first < msg.payload.size() ? msg.payload[first] : '\0';
    auto u = std::make_shared<pipeline::Uplink>();
    u->device = d;
    if (c == '{' || c == '[') {
      const char* ct = "application/json";
      Result<IngestBatch> batch = InvalidArgument("unparsed");
      if (c == '[') {
        batch = ingest::BuildHttpIngest(*d, "application/senml+json", msg.payload, now, &flattener);
        if (batch.ok()) ct = "application/senml+json";
      }
      if (c == '{' || !batch.ok())
        batch = ingest::BuildHttpIngest(*d, "application/json", msg.payload, now, &flattener);
      if (!batch.ok() || batch->messages.size() != 1) {
        std::string why = batch.ok() ? "no message" : batch.status().message();
        LogOnce("bad_json", "bad JSON from device " + std::to_string(id) + ": " + why);
        StoreRejected(d, Transport::kMqtt, msg, why, ack, "bad_json");
        return;
      }
      u->raw = std::move(batch->messages[0]);
      u->raw.content_type = ct;
      u->readings = std::move(batch->readings);
    } else {
      // Raw bytes: kept for a decoder (next issue), no readings.
      u->raw.device_id = d->id;
      u->raw.received_ms = now;
      u->raw.content_type = "application/octet-stream";
      u->raw.payload = msg.payload;
      u->raw.decode_status = DecodeStatus::kNone;
    }
    u->raw.transport = Transport::kMqtt;
    // MQTT carries no message id. A JSON message with its own time (top-level
    // timestamp/time/ts) is identified by device, that time and its bytes, so a copy
    // redelivered after a crash is stored once; messages without a time of their own may be
    // stored twice after a crash (README.md).
    if (!u->readings.empty() && u->readings.front().ts != now) {
      u->dedup_key = "mqtt:" + std::to_string(d->id) + ":" +
                     std::to_string(u->readings.front().ts) + ":" +
                     std::to_string(Fnv1a(msg.payload));
    }
    Submit(std::move(u), std::move(ack), c == '{' || c == '[' ? "stored" : "stored_raw");
  }

  void HandleChirpstack(const IncomingMessage& msg, std::shared_ptr<AckHandle> ack) {
    auto topic = lorawan::ParseEventTopic(msg.topic);
    if (!topic.ok()) {
      Count("bad_topic");
      LogOnce("bad_topic", topic.status().message());
      ack->Ack();
      return;
    }
    auto d = DeviceByEui(topic->dev_eui);
    if (!d || d->transport != Transport::kLorawan) {
      if (topic->type == lorawan::EventType::kUp) {
        Status st =
            store.mqtt().CountUnknownDevice(topic->dev_eui, topic->application_id, clock.NowMs());
        if (!st.ok()) spdlog::warn("mqtt: could not record unknown DevEUI: {}", st.message());
      }
      Count("unknown_deveui");
      LogOnce("unknown_deveui", "ChirpStack event from unknown DevEUI " + topic->dev_eui);
      ack->Ack();
      return;
    }
    if (msg.payload.size() >= opts.max_payload) {
      LogOnce("too_large", "ChirpStack event of " + std::to_string(msg.payload.size()) +
                               " bytes for DevEUI " + topic->dev_eui);
      StoreRejected(d, Transport::kLorawan, msg, "payload exceeds the limit; first bytes kept", ack,
                    "too_large");
      return;
    }
    auto ev = lorawan::ParseEvent(*topic, msg.payload);
    if (!ev.ok()) {
      const std::string& why = ev.status().message();
      const char* result = why.find("not valid JSON") != std::string::npos ? "bad_json"
                           : why.find("base64") != std::string::npos       ? "bad_base64"
                                                                           : "bad_shape";
      LogOnce(result, why + " (DevEUI " + topic->dev_eui + ")");
      StoreRejected(d, Transport::kLorawan, msg, why, ack, result);
      return;
    }
    TimeMs now = clock.NowMs();
    TimeMs ts = ev->time_ms.value_or(now);
    auto u = std::make_shared<pipeline::Uplink>();
    u->device = d;
    u->raw.device_id = d->id;
    u->raw.received_ms = now;
    u->raw.transport = Transport::kLorawan;
    u->raw.content_type = "application/json";
    u->raw.payload = msg.payload;
    u->raw.decode_status = DecodeStatus::kNone;
    std::string fallback = std::to_string(d->id) + ":" +
                           (ev->fcnt ? std::to_string(*ev->fcnt) : std::string("-")) + ":" +
                           std::to_string(ts);
    std::string id = ev->deduplication_id.empty() ? fallback : ev->deduplication_id;
    const char* result = "lorawan_event";
    if (ev->type == lorawan::EventType::kUp) {
      u->dedup_key = id;
      if (auto it = app_of_device.find(d->id);
          it == app_of_device.end() || it->second != topic->application_id) {
        // Downlinks go to ChirpStack's application id, known only from its topics.
        if (store.mqtt().SetLorawanApplication(d->id, topic->application_id).ok())
          app_of_device[d->id] = topic->application_id;
      }
      u->fport = ev->fport;
      u->frame = std::move(ev->frame);
      if (ev->fcnt)
        u->readings.push_back(MakeReading(d->id, "lorawan.fcnt", ts, double(*ev->fcnt)));
      if (const lorawan::GatewayRx* g = lorawan::BestGateway(*ev)) {
        if (g->rssi) u->readings.push_back(MakeReading(d->id, "lorawan.rssi", ts, *g->rssi, "dBm"));
        if (g->snr) u->readings.push_back(MakeReading(d->id, "lorawan.snr", ts, *g->snr, "dB"));
      }
      if (ev->dr) u->readings.push_back(MakeReading(d->id, "lorawan.dr", ts, double(*ev->dr)));
      for (const lorawan::GatewayRx& g : ev->gateways) {
        if (g.gateway_id.empty()) continue;
        Status st = store.mqtt().TouchGateway(d->org_id, g.gateway_id, ts);
        if (!st.ok()) spdlog::warn("mqtt: could not record gateway: {}", st.message());
      }
      result = "stored";
    } else {
      // Other events are kept as raw messages; keys are namespaced by event type.
      u->dedup_key = topic->type_name + ":" + id;
      if (ev->battery_level)
        u->readings.push_back(MakeReading(d->id, "battery", ts, *ev->battery_level, "%"));
      if (ev->margin)
        u->readings.push_back(MakeReading(d->id, "lorawan.margin", ts, double(*ev->margin), "dB"));
    }
    Submit(std::move(u), std::move(ack), result);
  }
};

MqttService::MqttService(ServiceOptions options, Store& store, pipeline::Pipeline& pipeline,
                         Metrics& metrics, const Clock& clock, Random& random)
    : impl_(std::make_unique<Impl>(std::move(options), store, pipeline, metrics, clock, random)) {}

MqttService::~MqttService() { Stop(); }

std::string MqttService::url() const { return impl_->url; }

Status MqttService::Start() {
  Impl& m = *impl_;
  const ServiceOptions& o = m.opts;
  ClientOptions co;
  co.client_id = o.client_id;
  co.clean_session = false;
  co.max_inflight = o.max_inflight;
  co.max_packet_size = o.max_payload * 2 + 4096;
  co.random = &m.random;
  if (o.external_url.empty()) {
    if (::access(o.mosquitto_path.c_str(), X_OK) != 0) {
      return FailedPrecondition("the MQTT broker mosquitto was not found at " + o.mosquitto_path +
                                "; install the Debian package 'mosquitto' (scripts/install-deps) "
                                "or set mqtt.url to use an external broker");
    }
    BYSANS_ASSIGN_OR_RETURN(std::string service_password, ServicePassword(o.data_dir, m.random));
    BrokerOptions bo;
    bo.dir = (fs::path(o.data_dir) / "mosquitto").string();
    bo.mosquitto_path = o.mosquitto_path;
    bo.bind_address = o.bind_address;
    bo.max_packet_size = o.max_payload * 2 + 4096;
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
    BYSANS_ASSIGN_OR_RETURN(auto users, m.BrokerUsers(service_password));
    BYSANS_RETURN_IF_ERROR(m.broker->SetCredentials(users));
    BYSANS_RETURN_IF_ERROR(m.broker->Start());
    Status ready = m.broker->WaitReady(20000);
    if (!ready.ok()) {
      return Unavailable("the supervised MQTT broker did not start listening on " + o.bind_address +
                         ":" + std::to_string(m.broker->port()) + " (see " + m.broker->log_path() +
                         "): " + ready.message());
    }
    m.watcher =
        std::thread([&m, service_password, gen] { m.WatchCredentials(service_password, gen); });
    co.host = o.bind_address == "0.0.0.0" ? "127.0.0.1" : o.bind_address;
    co.port = m.broker->port();
    co.username = kServiceUser;
    co.password = service_password;
  } else {
    BYSANS_ASSIGN_OR_RETURN(Endpoint e, ParseUrl(o.external_url));
    co.host = e.host;
    co.port = e.port;
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
  m.client = std::make_unique<MqttClient>(co);
  m.client->set_on_message(
      [&m](IncomingMessage msg, AckHandle ack) { m.OnMessage(std::move(msg), std::move(ack)); });
  m.client->set_on_disconnect([&m](const Status& st) {
    m.LogOnce("disconnect:" + st.message(), "MQTT connection to the broker lost: " + st.message());
  });
  std::vector<SubscribeFilter> filters = {{"devices/+/up", 1, false}};
  if (o.subscribe_chirpstack) filters.push_back({"application/+/device/+/event/+", 1, false});
  BYSANS_RETURN_IF_ERROR(m.client->Subscribe(filters));
  BYSANS_RETURN_IF_ERROR(m.client->Start());
  m.client_started.store(true);
  spdlog::info("mqtt: {} broker at {}, client id {}",
               o.external_url.empty() ? "supervised" : "external", m.url, o.client_id);
  return Status::Ok();
}

void MqttService::Stop() {
  if (!impl_) return;
  Impl& m = *impl_;
  if (m.client) m.client->Stop();
  {
    std::lock_guard lock(m.retry_mu);
    m.stopping = true;
  }
  m.retry_cv.notify_all();
  if (m.retrier.joinable()) m.retrier.join();
  {
    std::lock_guard lock(m.watch_mu);
    m.watch_stop = true;
  }
  m.watch_cv.notify_all();
  if (m.watcher.joinable()) m.watcher.join();
  if (m.broker) m.broker->Stop();
}

Status MqttService::Publish(std::string topic, std::string payload,
                            std::function<void(const Status&)> done) {
  if (!impl_->client_started.load()) return Unavailable("MQTT is not started");
  return impl_->client->Publish(std::move(topic), std::move(payload), 1, false, std::move(done));
}

}  // namespace bysans::mqtt

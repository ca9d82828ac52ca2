#include "server/sta_mqtt.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "act/outbox.h"
#include "auth/key_authority.h"
#include "mqtt/client.h"
#include "pipeline/retry_delay.h"
#include "sta/catalog.h"
#include "sta/mqtt_topics.h"
#include "store/mqtt_store.h"

namespace bysans {

namespace {

constexpr const char* kStaUser = "bysans-sta";
// The outcomes counted in bysans_sta_mqtt_creates_total{result}.
constexpr const char* kCreateResults[] = {"stored", "bad_topic", "bad_body", "unknown_datastream",
                                          "store_error"};

using OrgSet = std::unordered_set<Id>;

// One committed message of an organisation with MQTT keys, waiting to be published.
struct Committed {
  std::shared_ptr<const Device> device;
  std::shared_ptr<const std::vector<Reading>> readings;
};

// A created Observation on its way through the pipeline; its PUBACK goes out after the commit.
struct Creating {
  pipeline::Uplink uplink;
  mqtt::AckHandle ack;
  // After a refusal for back-pressure: when to submit it again (pipeline/retry_delay.h), and the
  // last wait while its organisation holds its share of the pipeline.
  std::chrono::steady_clock::time_point retry_at{};
  int64_t share_delay_ms = 0;
};

std::string SeriesKey(Id device, const std::string& key) {
  return std::to_string(device) + '\n' + key;
}

}  // namespace

struct StaMqttService::Impl {
  Store& store;
  pipeline::Pipeline& pipeline;
  const Clock& clock;
  StaMqttOptions opts;
  std::string base_url;        // set by Start, before the worker runs
  const std::string password;  // of kStaUser, new at every start
  sta::Catalog catalog;        // of no organisation: renders Observations only

  prometheus::Counter* published = nullptr;
  prometheus::Counter* dropped = nullptr;
  std::map<std::string, prometheus::Counter*, std::less<>> creates;

  // Organisations with at least one unexpired MQTT key: read on every commit, after `any_keys`
  // (so that a server where no organisation uses it pays one relaxed load per commit).
  std::atomic<bool> any_keys{false};
  std::shared_ptr<const OrgSet> orgs = std::make_shared<const OrgSet>();

  // Known series (device, key) -> id of those organisations, the earliest key expiry, and
  // whether the ACL misses a series or a key expired since the last reload.
  std::mutex mu;
  std::unordered_map<std::string, int64_t> series_ids;
  std::optional<TimeMs> next_expiry;
  bool acl_stale = false;
  TimeMs last_reload_ms = 0;

  std::mutex q_mu;
  std::condition_variable q_cv;
  std::deque<Committed> queue;
  size_t queued_readings = 0;
  std::deque<sta::EntityChange> changes;        // bounded by opts.queue_capacity too
  std::deque<std::shared_ptr<Creating>> retry;  // refused by the pipeline (back-pressure)
  bool retry_added = false;                     // since Run last looked at `retry`
  bool stopping = false;
  std::thread worker;

  std::unique_ptr<mqtt::MqttClient> client;

  std::mutex log_mu;
  std::set<std::string> logged;

  Impl(Store& s, pipeline::Pipeline& p, Metrics& m, const Clock& c, Random& r, StaMqttOptions o)
      : store(s),
        pipeline(p),
        clock(c),
        opts(std::move(o)),
        password(r.Token(24)),
        catalog(s, std::vector<Id>{}) {
    published = &m.Counter("bysans_sta_mqtt_notifications_total",
                           "SensorThings MQTT notifications published", {});
    dropped = &m.Counter("bysans_sta_mqtt_notifications_dropped_total",
                         "SensorThings MQTT notifications dropped (queue full or broker away)", {});
    for (const char* res : kCreateResults) {
      creates[res] =
          &m.Counter("bysans_sta_mqtt_creates_total",
                     "Observations published to bysans over MQTT, by outcome", {{"result", res}});
    }
  }

  void LogOnce(const std::string& reason, const std::string& detail) {
    std::lock_guard lock(log_mu);
    if (logged.insert(reason).second) spdlog::warn("sta mqtt: {} (logged once)", detail);
  }

  // ---- broker users

  Result<std::vector<mqtt::BrokerUser>> BrokerUsers() {
    std::vector<mqtt::BrokerUser> users;
    mqtt::BrokerUser self;
    self.username = kStaUser;
    self.password = password;
    self.publish_topics = {"v1.1/#"};
    self.subscribe_topics = {"v1.1/#"};
    users.push_back(std::move(self));

    BYSANS_ASSIGN_OR_RETURN(std::vector<ApiKey> keys, store.ListMqttApiKeys());
    const TimeMs now = clock.NowMs();
    std::optional<TimeMs> expiry;
    std::map<Id, sta::MqttAclScope> scopes;
    std::unordered_map<std::string, int64_t> ids;
    auto new_orgs = std::make_shared<OrgSet>();
    for (const ApiKey& k : keys) {
      if (k.expires_ms && *k.expires_ms <= now) continue;  // expired: no broker user
      // What the key may do now: no more than its creator holds (auth/key_authority.h).
      BYSANS_ASSIGN_OR_RETURN(std::optional<Role> role, auth::KeyRole(store, k));
      if (!role) continue;
      if (k.expires_ms && (!expiry || *k.expires_ms < *expiry)) expiry = k.expires_ms;
      auto it = scopes.find(k.org_id);
      if (it == scopes.end()) {
        BYSANS_ASSIGN_OR_RETURN(sta::MqttAclScope scope, sta::LoadMqttAclScope(store, k.org_id));
        for (const SeriesRef& sr : scope.series) ids[SeriesKey(sr.device_id, sr.key)] = sr.id;
        it = scopes.emplace(k.org_id, std::move(scope)).first;
        new_orgs->insert(k.org_id);
      }
      const bool can_write = *role >= Role::kEditor;
      if (size_t n = sta::MqttKeyAclTopicCount(it->second, can_write);
          n > sta::kMaxMqttKeyAclTopics) {
        // Fail closed: a longer ACL would stall the broker at every reload (sta/mqtt_topics.h).
        LogOnce("too_large:" + std::to_string(k.id),
                "API key " + std::to_string(k.id) + " is no broker user: its organisation " +
                    std::to_string(k.org_id) + " has " + std::to_string(n) +
                    " SensorThings topics, more than " + std::to_string(sta::kMaxMqttKeyAclTopics));
        continue;
      }
      mqtt::BrokerUser u;
      u.username = sta::MqttKeyUserName(k.id);
      u.password_hash = k.mqtt_hash;
      sta::AppendKeyAclTopics(it->second, can_write, u.subscribe_topics, u.publish_topics);
      // What its organisation's rules publish ("mqtt" actions, act/outbox.h): read only.
      u.subscribe_topics.push_back(act::ActionTopicPrefix(k.org_id) + "#");
      users.push_back(std::move(u));
    }
    {
      std::lock_guard lock(mu);
      series_ids = std::move(ids);
      next_expiry = expiry;
      acl_stale = false;
      last_reload_ms = now;
    }
    any_keys.store(!new_orgs->empty(), std::memory_order_relaxed);
    std::atomic_store(&orgs, std::shared_ptr<const OrgSet>(std::move(new_orgs)));
    return users;
  }

  // ---- receive updates (A.8)

  void OnCommitted(std::shared_ptr<const Device> device,
                   std::shared_ptr<const std::vector<Reading>> readings) {
    if (!any_keys.load(std::memory_order_relaxed) || readings->empty()) return;
    std::shared_ptr<const OrgSet> with_keys = std::atomic_load(&orgs);
    if (!with_keys->count(device->org_id)) return;
    {
      std::lock_guard lock(q_mu);
      if (queued_readings + readings->size() > opts.queue_capacity) {
        dropped->Increment(static_cast<double>(readings->size()));
        return;
      }
      queued_readings += readings->size();
      queue.push_back({std::move(device), std::move(readings)});
    }
    q_cv.notify_one();
  }

  void OnEntityChange(const sta::EntityChange& change) {
    if (!any_keys.load(std::memory_order_relaxed)) return;
    std::shared_ptr<const OrgSet> with_keys = std::atomic_load(&orgs);
    if (!with_keys->count(change.org_id)) return;
    {
      std::lock_guard lock(q_mu);
      if (changes.size() >= opts.queue_capacity) {
        dropped->Increment();
        return;
      }
      changes.push_back(change);
    }
    q_cv.notify_one();
  }

  // Publishes the notifications of the changes (sta/entity_changes.h), each rendered with a
  // Catalog of its organisation. A new Thing or Datastream is not yet in the keys' ACL: a reload
  // is asked for (MaybeReload, at most every entity_refresh_ms).
  void PublishChanges(std::deque<sta::EntityChange>& batch) {
    std::vector<mqtt::OutgoingMessage> out;
    for (const sta::EntityChange& c : batch) {
      using K = sta::EntityChange::Kind;
      if (c.kind == K::kThingCreated || c.kind == K::kDatastreamCreated) {
        std::lock_guard lock(mu);
        acl_stale = true;
      }
      sta::Catalog catalog(store, std::vector<Id>{c.org_id});
      if (c.kind == K::kDatastreamCreated) {
        if (const SeriesRef* s = catalog.series(c.series_id)) {
          std::lock_guard lock(mu);  // known now: its first reading announces nothing more
          series_ids.emplace(SeriesKey(s->device_id, s->key), s->id);
        }
      }
      for (sta::MqttNotification& n : sta::ChangeNotifications(catalog, base_url, c))
        out.push_back({std::move(n.topic), std::move(n.payload)});
    }
    PublishCounted(std::move(out));
  }

  // Publishes at QoS 0 and counts the messages as published or dropped.
  void PublishCounted(std::vector<mqtt::OutgoingMessage> out) {
    if (out.empty()) return;
    const double n = static_cast<double>(out.size());
    Status st = client->PublishBatch(std::move(out), 0, false, [this, n](const Status& s) {
      if (s.ok()) {
        published->Increment(n);
      } else {
        dropped->Increment(n);
      }
    });
    if (!st.ok()) dropped->Increment(n);
  }

  // The series id of a reading: from the map the last reload built, else (a series newer than
  // the ACL) from the store, and the ACL is then refreshed; a series that was not known is
  // added to `created` (a Datastream created by a device's reading, announced as such).
  std::optional<int64_t> SeriesOf(const Reading& r, std::vector<sta::EntityChange>& created,
                                  Id org_id) {
    const std::string key = SeriesKey(r.device_id, r.key);
    {
      std::lock_guard lock(mu);
      if (auto it = series_ids.find(key); it != series_ids.end()) return it->second;
    }
    auto list = store.ListSeries({r.device_id});
    if (!list.ok()) return std::nullopt;
    std::lock_guard lock(mu);
    std::optional<int64_t> found;
    for (const SeriesRef& s : *list) {
      if (series_ids.emplace(SeriesKey(s.device_id, s.key), s.id).second) {
        acl_stale = true;
        created.push_back(
            {sta::EntityChange::Kind::kDatastreamCreated, org_id, s.device_id, s.id, {}, false});
      }
      if (s.key == r.key) found = s.id;
    }
    return found;
  }

  void Publish(std::deque<Committed>& batch) {
    std::vector<mqtt::OutgoingMessage> out;
    auto flush = [&] {
      PublishCounted(std::move(out));
      out.clear();
    };
    for (const Committed& c : batch) {
      for (const Reading& r : *c.readings) {
        std::vector<sta::EntityChange> new_series;
        std::optional<int64_t> series = SeriesOf(r, new_series, c.device->org_id);
        if (!new_series.empty()) {
          flush();  // the Datastream is announced before its first Observation
          std::deque<sta::EntityChange> changes(new_series.begin(), new_series.end());
          PublishChanges(changes);
        }
        if (!series) continue;
        out.push_back({sta::DatastreamObservationsTopic(*series),
                       sta::ObservationNotification(catalog, base_url, *series, r)});
        if (out.size() >= opts.max_batch) flush();
      }
    }
    flush();
  }

  // Asks the broker watcher to rebuild the users when a key expired or the ACL misses a new
  // series (at most once per entity_refresh_ms for the latter).
  void MaybeReload() {
    const TimeMs now = clock.NowMs();
    bool reload = false;
    {
      std::lock_guard lock(mu);
      if (next_expiry && *next_expiry <= now) reload = true;
      if (acl_stale && now - last_reload_ms >= opts.entity_refresh_ms) reload = true;
      if (reload) {
        next_expiry.reset();
        acl_stale = false;
        last_reload_ms = now;
      }
    }
    if (reload) store.mqtt().BumpCredentialsGeneration();
  }

  void Run() {
    std::unique_lock lock(q_mu);
    while (!stopping) {
      q_cv.wait_until(lock, NextRetryAt(), [&] {
        return stopping || !queue.empty() || retry_added || !changes.empty();
      });
      if (stopping) break;
      retry_added = false;
      std::deque<sta::EntityChange> entity_changes;
      entity_changes.swap(changes);
      std::deque<Committed> batch;
      batch.swap(queue);
      queued_readings = 0;
      std::vector<std::shared_ptr<Creating>> due = TakeDueRetries();
      lock.unlock();
      if (!entity_changes.empty()) PublishChanges(entity_changes);
      if (!batch.empty()) Publish(batch);
      for (auto& c : due) Submit(std::move(c));
      MaybeReload();
      lock.lock();
    }
    retry.clear();  // un-acked: redelivered by the broker after the next connect
  }

  // Under q_mu: when the first refused Observation is due again (at most 200 ms from now).
  std::chrono::steady_clock::time_point NextRetryAt() const {
    auto at = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    for (const auto& c : retry) at = std::min(at, c->retry_at);
    return at;
  }

  // Under q_mu: the refused Observations whose wait is over, taken out of `retry`.
  std::vector<std::shared_ptr<Creating>> TakeDueRetries() {
    if (retry.empty()) return {};  // the usual wake-up: a commit to notify, nothing refused
    std::vector<std::shared_ptr<Creating>> due;
    std::deque<std::shared_ptr<Creating>> later;
    const auto now = std::chrono::steady_clock::now();
    for (auto& c : retry) {
      if (c->retry_at <= now) {
        due.push_back(std::move(c));
      } else {
        later.push_back(std::move(c));
      }
    }
    retry.swap(later);
    return due;
  }

  // ---- create (A.7)

  void Count(std::string_view result) { creates.find(result)->second->Increment(); }

  void Submit(std::shared_ptr<Creating> c) {
    std::shared_ptr<pipeline::Uplink> uplink(c, &c->uplink);
    pipeline.Submit(std::move(uplink), [this, c](const Status& st) {
      if (st.ok()) {
        c->ack.Ack();
        Count("stored");
        return;
      }
      if (st.code() == Code::kUnavailable || st.code() == Code::kRateLimited) {  // back-pressure
        int64_t wait_ms = pipeline::kFullRetryMs;  // let the store drain
        if (st.code() == Code::kRateLimited) {     // the organisation holds its share
          c->share_delay_ms = pipeline::NextShareRetryMs(c->share_delay_ms);
          wait_ms = c->share_delay_ms;
        }
        c->retry_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
        {
          std::lock_guard lock(q_mu);
          if (stopping) return;
          retry.push_back(c);
          retry_added = true;
        }
        q_cv.notify_one();
        return;
      }
      Count("store_error");
      LogOnce("store_error", "could not commit an Observation: " + st.message());
    });
  }

  void Refuse(const char* result, const std::string& detail, mqtt::AckHandle ack) {
    Count(result);
    LogOnce(result, detail);
    ack.Ack();  // never redelivered: it would be refused again
  }

  void OnMessage(mqtt::IncomingMessage msg, mqtt::AckHandle ack) {
    std::optional<int64_t> id = sta::ParseDatastreamObservationsTopic(msg.topic);
    if (!id) return Refuse("bad_topic", "message on unexpected topic " + msg.topic, std::move(ack));
    const TimeMs now = clock.NowMs();
    Result<sta::NewObservation> obs = sta::ParseMqttObservation(msg.payload, *id, now);
    if (!obs.ok()) {
      return Refuse("bad_body", msg.topic + ": " + obs.status().message(), std::move(ack));
    }
    // The broker let the publisher write this topic: an editor or admin key of the
    // Datastream's organisation (or bysans' own users). The Datastream must still exist.
    Result<SeriesRef> series = store.GetSeries(*id);
    Result<Device> device =
        series.ok() ? store.GetDevice(series->device_id) : Result<Device>(series.status());
    if (!device.ok()) {
      return Refuse("unknown_datastream", msg.topic + ": no such Datastream", std::move(ack));
    }
    if (std::string why = sta::ResultTypeError(*series, obs->value); !why.empty())
      return Refuse("bad_body", msg.topic + ": " + why, std::move(ack));
    auto c = std::make_shared<Creating>();
    c->ack = std::move(ack);
    pipeline::Uplink& u = c->uplink;
    u.device = std::make_shared<const Device>(std::move(*device));
    u.skip_decode = true;
    u.paced = true;
    u.raw.device_id = u.device->id;
    u.raw.received_ms = now;
    u.raw.transport = Transport::kMqtt;
    u.raw.content_type = "application/json";
    u.raw.payload = std::move(msg.payload);
    u.raw.decode_status = DecodeStatus::kNone;
    Reading r;
    r.device_id = u.device->id;
    r.key = series->key;
    r.ts = obs->ts;
    r.value = obs->value;
    r.unit = series->unit;
    u.readings.push_back(std::move(r));
    Submit(std::move(c));
  }
};

StaMqttService::StaMqttService(Store& store, pipeline::Pipeline& pipeline, Metrics& metrics,
                               const Clock& clock, Random& random, StaMqttOptions options)
    : impl_(std::make_unique<Impl>(store, pipeline, metrics, clock, random, std::move(options))) {}

StaMqttService::~StaMqttService() { Stop(); }

Result<std::vector<mqtt::BrokerUser>> StaMqttService::BrokerUsers() { return impl_->BrokerUsers(); }

void StaMqttService::OnCommitted(std::shared_ptr<const Device> device,
                                 std::shared_ptr<const std::vector<Reading>> readings) {
  impl_->OnCommitted(std::move(device), std::move(readings));
}

void StaMqttService::OnEntityChange(const sta::EntityChange& change) {
  impl_->OnEntityChange(change);
}

Status StaMqttService::Start(const std::string& host, uint16_t port, std::string base_url) {
  Impl& m = *impl_;
  m.base_url = std::move(base_url);
  mqtt::ClientOptions co;
  co.host = host;
  co.port = port;
  co.client_id = kStaUser;
  co.username = kStaUser;
  co.password = m.password;
  co.protocol = 5;  // no_local: bysans' own notifications are not Observations to create
  co.clean_session = false;
  co.max_inflight = 100;
  co.trusted = true;
  m.client = std::make_unique<mqtt::MqttClient>(co);
  m.client->set_on_message([&m](mqtt::IncomingMessage msg, mqtt::AckHandle ack) {
    m.OnMessage(std::move(msg), std::move(ack));
  });
  BYSANS_RETURN_IF_ERROR(m.client->Subscribe({{"v1.1/+/Observations", 1, true}}));
  BYSANS_RETURN_IF_ERROR(m.client->Start());
  m.worker = std::thread([&m] { m.Run(); });
  return Status::Ok();
}

void StaMqttService::Stop() {
  if (!impl_) return;
  Impl& m = *impl_;
  if (m.client) m.client->Stop();
  {
    std::lock_guard lock(m.q_mu);
    m.stopping = true;
  }
  m.q_cv.notify_all();
  if (m.worker.joinable()) m.worker.join();
}

}  // namespace bysans

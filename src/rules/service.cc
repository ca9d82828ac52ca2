#include "rules/service.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <thread>
#include <unordered_map>
#include <utility>

#include "act/outbox.h"
#include "act/template.h"
#include "core/fair_queue.h"
#include "core/log_budget.h"
#include "core/thread_name.h"
#include "core/time_format.h"
#include "rules/alarm.h"
#include "rules/engine.h"
#include "rules/feed_backlog.h"
#include "rules/gateway_engine.h"
#include "rules/json.h"
#include "store/gateway_store.h"
#include "store/rule_store.h"

namespace bysans::rules {
namespace {

// Whether `i` is still what DeviceInfoOf(d) builds (compares in place, allocates nothing).
bool InfoMatches(const DeviceInfo& i, const Device& d) {
  return i.id == d.id && i.org_id == d.org_id && i.app_id == d.app_id &&
         i.model_id == d.device_model_id && i.expected_interval_s == d.expected_interval_s &&
         i.in_maintenance == d.in_maintenance && i.tags == d.tags;
}

// A device as last handed to the rules thread, with the engine's view of it built once.
struct KnownDevice {
  std::shared_ptr<const Device> device;
  DeviceInfo info;
};

struct LoadedRule {
  Rule rule;
  json actions = json::array();
  std::string definition;  // the stored record's (a reload-all skips a rule not changed since)
};

// The alarm an event belongs to: (rule, device) or (rule, gateway).
struct AlarmKey {
  Id rule_id = 0;
  Id device_id = 0;
  std::string gateway_id;
  auto operator<=>(const AlarmKey&) const = default;
};
AlarmKey KeyOf(const AlarmEvent& ev) { return {ev.rule_id, ev.device_id, ev.gateway_id}; }
AlarmKey KeyOf(const AlarmRecord& a) { return {a.rule_id, a.device_id, a.gateway_id}; }

}  // namespace

struct RulesService::Impl {
  Store& store;
  const Clock& clock;
  RulesServiceOptions opts;
  std::function<void(std::vector<OutboxEntry>)> on_outbox;
  RuleEngine engine;
  GatewayRuleEngine gateway_engine;
  TimeMs next_gateway_eval_ms = 0;  // rules thread only
  // The last complete hour's stats per (organisation, gateway), read once per hour.
  std::map<std::pair<Id, std::string>, std::pair<TimeMs, std::optional<GatewayHourCounters>>>
      hour_stats;

  // Shared with the pipeline: queuing a batch copies two pointers, nothing else.
  struct Batch {
    std::shared_ptr<const Device> device;
    std::shared_ptr<const std::vector<Reading>> readings;
  };
  std::mutex mu;
  std::condition_variable cv;
  FairQueue<Batch> queue{1};  // by organisation, lanes = devices; one rules thread takes them
  LogBudget<Id> drop_log{1.0 / 60, 3};  // per organisation whose batches are shed (under mu)
  std::vector<RuleStoreChange> changes;
  bool stop = false;
  std::atomic<uint64_t> dropped{0};
  uint64_t handed = 0, done = 0;  // batches + changes handed over / processed (guarded by mu)
  std::condition_variable done_cv;
  std::thread thread;

  // Several nodes (RulePartitions); rules thread only.
  std::optional<RulePartitions> cluster;
  uint64_t seen_generation = 0;
  bool balanced = false;      // Rebalance ran once
  std::set<int> owned;        // the partitions whose devices the engine holds
  bool gateway_role = false;  // this node judges the gateway rules
  bool feed_behind = false;   // entries wait in feed_backlog, or a read was full: go on at once
  bool feed_more = false;     // the last read was full for an organisation: more rows wait
  TimeMs feed_error_logged_ms = 0;
  FeedBacklog feed_backlog;  // entries read, not yet evaluated (several nodes)
  std::chrono::steady_clock::time_point feed_read_at{};  // the last read of the feed
  // Per organisation whose read was full: when its backlog was last bounded (ShedFeed).
  std::unordered_map<Id, std::chrono::steady_clock::time_point> feed_shed_at;

  // Rules thread only.
  std::unordered_map<Id, LoadedRule> rules;
  std::unordered_map<Id, KnownDevice> devices;
  // Silences as applied to the engine, keyed by (organisation, device or rule): a silence
  // of another organisation than its object's is ignored by the engine.
  using SilenceKey = std::pair<Id, Id>;
  std::map<SilenceKey, TimeMs> device_silences, rule_silences;
  // A silence was added or deleted: every silence in force is read again (ApplySilences), once
  // per set of changes taken together, however many of them are silences.
  bool silences_changed = false;

  Impl(Store& s, const Clock& c, RulesServiceOptions o,
       std::function<void(std::vector<OutboxEntry>)> cb)
      : store(s), clock(c), opts(o), on_outbox(std::move(cb)), engine(c), gateway_engine(c) {}

  Status LoadRule(const RuleRecord& rec, std::vector<AlarmEvent>* events) {
    LoadedRule lr;
    json def = json::parse(rec.definition, nullptr, false);
    BYSANS_RETURN_IF_ERROR(RuleFromJson(def, &lr.rule, &lr.actions));
    lr.rule.id = rec.id;
    lr.rule.org_id = rec.org_id;
    lr.rule.enabled = rec.enabled;
    lr.definition = rec.definition;
    // A rule's scope may change between devices and gateways: the other engine forgets it.
    if (IsGatewayRule(lr.rule)) {
      BYSANS_RETURN_IF_ERROR(gateway_engine.UpsertRule(lr.rule, events));
      (void)engine.RemoveRule(rec.id, events);
    } else {
      BYSANS_RETURN_IF_ERROR(engine.UpsertRule(lr.rule, events));
      (void)gateway_engine.RemoveRule(rec.id, events);
    }
    rules[rec.id] = std::move(lr);
    return Status::Ok();
  }

  void ApplySilences() {
    auto s = store.rules().ListSilences(std::nullopt, clock.NowMs());
    if (!s.ok()) return;
    std::map<SilenceKey, TimeMs> dev, rule;
    for (const auto& x : *s) {
      if (x.device_id) {
        TimeMs& until = dev[{x.org_id, *x.device_id}];
        until = std::max(until, x.until_ms);
      }
      if (x.rule_id) {
        TimeMs& until = rule[{x.org_id, *x.rule_id}];
        until = std::max(until, x.until_ms);
      }
    }
    // Silences removed since the last call are lifted (a time in the past).
    for (const auto& [key, until] : device_silences) {
      if (!dev.count(key)) engine.SilenceDevice(key.first, key.second, 0);
    }
    for (const auto& [key, until] : rule_silences) {
      if (!rule.count(key)) {
        (void)engine.SilenceRule(key.first, key.second, 0);
        (void)gateway_engine.SilenceRule(key.first, key.second, 0);
      }
    }
    for (const auto& [key, until] : dev) engine.SilenceDevice(key.first, key.second, until);
    for (const auto& [key, until] : rule) {
      Status st = engine.SilenceRule(key.first, key.second, until);
      if (!st.ok()) st = gateway_engine.SilenceRule(key.first, key.second, until);
      if (!st.ok()) spdlog::debug("silence of rule {} ignored: {}", key.second, st.message());
    }
    device_silences = std::move(dev);
    rule_silences = std::move(rule);
  }

  // Calls visit(device) for every stored device, page by page.
  template <typename Visit>
  Status ForEachDevice(const Visit& visit) {
    Page page{10000, 0};
    while (true) {
      BYSANS_ASSIGN_OR_RETURN(auto devs, store.ListDevices(DeviceFilter{}, page));
      for (auto& d : devs.items) visit(std::move(d));
      page.offset += static_cast<int64_t>(devs.items.size());
      if (devs.items.empty() || page.offset >= devs.total) return Status::Ok();
    }
  }

  // Calls visit(alarm) for every alarm not cleared, page by page.
  template <typename Visit>
  Status ForEachOpenAlarm(const Visit& visit) {
    AlarmFilter f;
    f.states = {"active", "acknowledged"};
    Page ap{10000, 0};
    while (true) {
      BYSANS_ASSIGN_OR_RETURN(auto alarms, store.rules().ListAlarms(f, ap));
      for (const auto& a : alarms.items) visit(a);
      ap.offset += static_cast<int64_t>(alarms.items.size());
      if (alarms.items.empty() || ap.offset >= alarms.total) return Status::Ok();
    }
  }

  void RestoreDeviceAlarm(const AlarmRecord& a) {
    auto d = devices.find(a.device_id);
    if (d != devices.end()) (void)engine.RestoreActive(a.rule_id, d->second.info, a.raised_ms);
  }

  // The stored for-duration waits of loaded devices, after their open alarms: each goes on from
  // its stored start (a takeover or a restart does not restart it). A wait of a device not
  // loaded here is another node's; one the engine refuses (its rule is gone, disabled or no
  // longer covers the device) is removed from the store.
  void RestoreWaits(const std::vector<RuleWaitRecord>& waits) {
    std::vector<RuleWaitChange> stale;
    for (const RuleWaitRecord& w : waits) {
      auto d = devices.find(w.device_id);
      if (d == devices.end()) continue;
      Status s = engine.RestorePending(w.rule_id, d->second.info, w.since_ms);
      if (!s.ok()) {
        spdlog::debug("rules: wait of rule {} on device {} dropped: {}", w.rule_id, w.device_id,
                      s.message());
        stale.push_back({w.rule_id, w.device_id, std::nullopt});
      }
    }
    std::vector<RuleStore::AlarmWrite> none;
    if (Status s = store.rules().WriteAlarms(none, stale); !s.ok())
      spdlog::warn("rules: {} stale wait(s) not removed: {}", stale.size(), s.message());
  }

  // The stored latest values of loaded devices into the engine (each run of one device's readings
  // at once), so that rules naming several keys go on with what was known before.
  // The devices' latest readings, a slice of at most kLatestSliceBytes at a time, to `each`
  // (a device's readings may come in two slices): a device keeps up to 1,000 keys of texts up
  // to 64 KiB, so all of them at once could be more than the machine holds.
  static constexpr size_t kLatestSliceBytes = size_t{8} << 20;
  Status ForEachLatestSlice(std::vector<Id> ids,
                            const std::function<void(std::vector<Reading>&)>& each) {
    LatestQuery q;
    q.device_ids = std::move(ids);
    q.max_bytes = kLatestSliceBytes;
    while (true) {
      BYSANS_ASSIGN_OR_RETURN(LatestSlice slice, store.LatestWithin(q));
      each(slice.readings);
      if (!slice.next) return Status::Ok();
      q.start = std::move(slice.next);
    }
  }

  void RestoreLatestValues(const std::vector<Reading>& latest) {
    for (size_t i = 0; i < latest.size();) {
      size_t j = i;
      while (j < latest.size() && latest[j].device_id == latest[i].device_id) ++j;
      auto d = devices.find(latest[i].device_id);
      if (d != devices.end())
        engine.RestoreLatest(d->second.info, std::span<const Reading>(&latest[i], j - i));
      i = j;
    }
  }

  Status Load() {
    std::vector<AlarmEvent> ignored;
    BYSANS_ASSIGN_OR_RETURN(auto recs, store.rules().ListAllRules());
    for (const auto& r : recs) {
      Status s = LoadRule(r, &ignored);
      if (!s.ok()) spdlog::warn("rule {} not loaded: {}", r.id, s.message());
    }
    ApplySilences();
    if (cluster) return Status::Ok();  // devices and alarms come with the partitions (Rebalance)
    BYSANS_RETURN_IF_ERROR(ForEachDevice([&](Device d) {
      DeviceInfo info = DeviceInfoOf(d);
      engine.UpsertDevice(info, std::nullopt, &ignored);
      const Id id = d.id;
      devices[id] = {std::make_shared<const Device>(std::move(d)), std::move(info)};
    }));
    std::vector<Id> ids;
    for (const auto& [id, dev] : devices) ids.push_back(id);
    BYSANS_RETURN_IF_ERROR(ForEachLatestSlice(
        std::move(ids), [&](std::vector<Reading>& latest) { RestoreLatestValues(latest); }));
    BYSANS_RETURN_IF_ERROR(ForEachOpenAlarm([&](const AlarmRecord& a) {
      if (a.gateway_id.empty()) {
        RestoreDeviceAlarm(a);
      } else {
        (void)gateway_engine.RestoreActive(a.rule_id, a.org_id, a.gateway_id, a.raised_ms);
      }
    }));
    BYSANS_ASSIGN_OR_RETURN(std::vector<RuleWaitRecord> waits,
                            store.rules().ListRuleWaits(std::nullopt));
    RestoreWaits(waits);
    return Status::Ok();
  }

  // Several nodes: when what this node holds changed, forget the devices of the partitions it
  // lost and load those of the partitions it gained, with their open alarms and the time of
  // their last reading. A store error leaves the gained partitions to the next call.
  void Rebalance() {
    const uint64_t generation = cluster->generation();
    if (balanced && generation == seen_generation) return;
    const std::vector<int> now = cluster->owned();
    const std::set<int> now_set(now.begin(), now.end());
    for (auto it = devices.begin(); it != devices.end();) {
      if (now_set.count(cluster->partition_of(it->first)) == 0) {
        engine.RemoveDevice(it->first);
        it = devices.erase(it);
      } else {
        ++it;
      }
    }
    std::set<int> gained;
    for (int p : now_set)
      if (owned.count(p) == 0) gained.insert(p);
    if (!gained.empty()) {
      if (Status st = LoadPartitions(gained); !st.ok()) {
        spdlog::warn("rules: partitions not taken over yet: {}", st.message());
        std::set<int> kept;  // the gained ones are loaded again at the next call
        for (int p : now_set)
          if (owned.count(p)) kept.insert(p);
        owned = std::move(kept);
        return;  // seen_generation unchanged: the next call tries again
      }
    }
    owned = now_set;
    const bool gateway_now = cluster->gateway_rules();
    if (gateway_now && !gateway_role) {
      (void)ForEachOpenAlarm([&](const AlarmRecord& a) {
        if (!a.gateway_id.empty())
          (void)gateway_engine.RestoreActive(a.rule_id, a.org_id, a.gateway_id, a.raised_ms);
      });
    }
    gateway_role = gateway_now;
    seen_generation = generation;
    balanced = true;
  }

  Status LoadPartitions(const std::set<int>& gained) {
    std::vector<AlarmEvent> ignored;
    std::vector<Device> loaded;
    BYSANS_RETURN_IF_ERROR(ForEachDevice([&](Device d) {
      if (gained.count(cluster->partition_of(d.id))) loaded.push_back(std::move(d));
    }));
    // The time of each device's newest reading, never before this node started nor after now;
    // and the devices' for-duration waits (restored after the open alarms).
    std::unordered_map<Id, TimeMs> last_seen;
    std::vector<Reading> latest_values;
    std::vector<RuleWaitRecord> waits;
    constexpr size_t kChunk = 1000;
    for (size_t i = 0; i < loaded.size(); i += kChunk) {
      std::vector<Id> ids;
      for (size_t j = i; j < std::min(loaded.size(), i + kChunk); ++j) ids.push_back(loaded[j].id);
      BYSANS_RETURN_IF_ERROR(ForEachLatestSlice(ids, [&](std::vector<Reading>& latest) {
        for (Reading& r : latest) {
          TimeMs& seen = last_seen[r.device_id];
          seen = std::max(seen, r.ts);
          if (engine.NamesKey(r.key)) latest_values.push_back(std::move(r));
        }
      }));
      BYSANS_ASSIGN_OR_RETURN(std::vector<RuleWaitRecord> some, store.rules().ListRuleWaits(ids));
      waits.insert(waits.end(), some.begin(), some.end());
    }
    const TimeMs now = clock.NowMs();
    for (Device& d : loaded) {
      DeviceInfo info = DeviceInfoOf(d);
      auto seen = last_seen.find(d.id);
      const TimeMs since = std::clamp(seen == last_seen.end() ? cluster->started_ms : seen->second,
                                      std::min(cluster->started_ms, now), now);
      engine.RemoveDevice(d.id);  // whatever this node knew of it before is stale
      engine.UpsertDevice(info, since, &ignored);
      const Id id = d.id;
      devices[id] = {std::make_shared<const Device>(std::move(d)), std::move(info)};
    }
    RestoreLatestValues(latest_values);
    BYSANS_RETURN_IF_ERROR(ForEachOpenAlarm([&](const AlarmRecord& a) {
      if (a.gateway_id.empty() && gained.count(cluster->partition_of(a.device_id)))
        RestoreDeviceAlarm(a);
    }));
    RestoreWaits(waits);
    return Status::Ok();
  }

  // Several nodes: the feed's rows of this node's partitions not held yet → feed_backlog, at most
  // kFeedRowsPerOrg of each organisation's per read. While entries wait, the feed is read at most
  // every poll_ms (another organisation's new rows are then read that soon, whatever one
  // organisation's backlog); otherwise at each wake-up.
  void ReadFeed() {
    const int64_t per_read = std::max<int64_t>(1, cluster->feed_rows_per_read);
    if (owned.empty()) {
      feed_more = false;
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!feed_backlog.empty() && now - feed_read_at < std::chrono::milliseconds(cluster->poll_ms))
      return;
    feed_read_at = now;
    const std::vector<int> parts(owned.begin(), owned.end());
    auto entries = cluster->feed->ReadFeed(parts, per_read);
    if (!entries.ok()) {
      const TimeMs t = clock.NowMs();
      if (t - feed_error_logged_ms >= 10'000) {
        spdlog::warn("rules: the rule feed could not be read: {}", entries.status().message());
        feed_error_logged_ms = t;
      }
      return;
    }
    feed_more = false;
    std::unordered_map<Id, std::set<int64_t>> rows_of;  // organisation → rows read
    std::vector<RuleFeedEntry> held;
    for (RuleFeedEntry& e : *entries) {
      if (owned.count(e.partition) == 0 || !e.device) continue;
      rows_of[e.device->org_id].insert(e.id);
      held.push_back(std::move(e));
    }
    for (const auto& [org, rows] : rows_of) {
      if (static_cast<int64_t>(rows.size()) < per_read) continue;
      feed_more = true;
      BoundFeedOf(org, parts, now);
    }
    feed_backlog.Add(std::move(held));
  }

  // An organisation whose read was full may have more rows waiting than feed_capacity: beyond
  // it, its newest are deleted unevaluated (at most once a second per organisation: the delete
  // walks the rows it keeps).
  void BoundFeedOf(Id org, const std::vector<int>& parts,
                   std::chrono::steady_clock::time_point now) {
    auto [it, first] = feed_shed_at.try_emplace(org, now);
    if (!first && now - it->second < std::chrono::seconds(1)) return;
    it->second = now;
    auto shed = cluster->feed->ShedFeed(org, parts, cluster->feed_capacity);
    if (!shed.ok()) {
      spdlog::warn("rules: the rule feed of organisation {} could not be bounded: {}", org,
                   shed.status().message());
      return;
    }
    if (*shed == 0) return;
    dropped.fetch_add(static_cast<uint64_t>(*shed));
    int64_t unlogged = 0;
    std::lock_guard lk(mu);
    if (drop_log.Allow(org, clock.NowMs(), &unlogged))
      spdlog::warn(
          "rules: organisation {} has more than {} rows of readings waiting for its rules in the "
          "rule feed; its newest {} are dropped, not evaluated ({} more since the last such line)",
          org, cluster->feed_capacity, *shed, unlogged);
  }

  // Evaluates feed_backlog's entries, by organisation in turn, until it is empty or round_ms has
  // passed; `acks` gets the rows done, acknowledged once the events they caused are stored. An
  // entry of a partition this node no longer holds is dropped (its row stays for the new holder).
  void EvaluateFeed(std::vector<AlarmEvent>* events, std::vector<int64_t>* acks) {
    using Steady = std::chrono::steady_clock;
    const auto start = Steady::now();
    auto mark = start;
    while (std::optional<FeedBacklog::Taken> t = feed_backlog.Next()) {
      const bool held = owned.count(t->entry.partition) > 0;
      if (held) engine.OnReadings(Known(t->entry.device), t->entry.readings, events);
      const auto now = Steady::now();
      feed_backlog.Done(
          *t, std::chrono::duration_cast<std::chrono::nanoseconds>(now - mark).count(), held);
      mark = now;
      if (now - start >= std::chrono::milliseconds(opts.round_ms)) break;
    }
    *acks = feed_backlog.TakeFinished();
    feed_behind = feed_more || !feed_backlog.empty();
  }

  json Context(const AlarmEvent& ev, const Alarm& a, Id alarm_id) {
    const LoadedRule* lr = rules.count(ev.rule_id) ? &rules[ev.rule_id] : nullptr;
    json dev = {{"id", ev.device_id}};
    if (!ev.gateway_id.empty()) dev = json::object();  // a gateway alarm: no device
    if (auto it = devices.find(ev.device_id); it != devices.end()) {
      const Device& d = *it->second.device;
      dev["name"] = d.name;
      dev["devEui"] = d.dev_eui;
      dev["tags"] = d.tags;
      dev["applicationId"] = d.app_id;
    }
    json readings = json::object();
    for (const auto& [k, v] : ev.values) readings[k] = ValueToJson(v);
    json alarm = {{"id", alarm_id},
                  {"ruleId", ev.rule_id},
                  {"ruleName", lr ? lr->rule.name : ""},
                  {"deviceId", ev.device_id},
                  {"gatewayId", ev.gateway_id},
                  {"severity", SeverityName(a.severity)},
                  {"state", AlarmStateName(a.state)},
                  {"event", AlarmEventKindName(ev.kind)},
                  {"message", a.message},
                  {"raisedAt", FormatRfc3339(a.raised_ms)},
                  {"at", FormatRfc3339(ev.ts)}};
    json out = {{"alarm", alarm}, {"device", dev}, {"readings", readings}};
    if (!ev.gateway_id.empty()) out["gateway"] = {{"id", ev.gateway_id}};
    return out;
  }

  std::vector<OutboxEntry> OutboxFor(const AlarmEvent& ev, const Alarm& a, Id alarm_id) {
    std::vector<OutboxEntry> out;
    auto it = rules.find(ev.rule_id);
    if (it == rules.end()) return out;
    const char* event = AlarmEventKindName(ev.kind);
    json ctx;
    for (const auto& act : it->second.actions) {
      json on = act.value("on", json::array({"raise", "clear"}));
      if (std::find(on.begin(), on.end(), event) == on.end()) continue;
      std::string type = act.value("type", "");
      // A gateway has no device and no contacts (rule validation refuses these actions).
      if (!ev.gateway_id.empty() && (type == "downlink" || type == "notify_contacts")) continue;
      if (ctx.is_null()) ctx = Context(ev, a, alarm_id);
      OutboxEntry e;
      e.org_id = ev.org_id;
      e.rule_id = ev.rule_id;
      e.alarm_id = alarm_id;
      e.event = event;
      std::string url = act.value("url", "");
      e.target_key = act::TargetKeyOf(url);
      e.spec = act.dump();
      if (type == "mqtt") {
        // The topic is rendered now; wildcard characters from values are neutralised.
        json spec = act;
        std::string topic = act::Render(act.value("topic", ""), ctx, false);
        for (char& ch : topic) {
          if (ch == '+' || ch == '#' || ch == '\0') ch = '_';
        }
        spec["topic"] = topic;
        e.spec = spec.dump();
        e.target_key = act::kMqttTargetKey;
        e.payload = act.contains("payload")
                        ? act::Render(act["payload"].get<std::string>(), ctx, true)
                        : ctx.dump();
      } else if (type == "downlink") {
        json spec = act;
        spec["deviceId"] = ev.device_id;
        e.spec = spec.dump();
        e.target_key = act::kMqttTargetKey;
        e.payload =
            json{{"deviceId", ev.device_id},
                 {"fPort", act.value("fPort", -1)},
                 {"frame", act.contains("hex") ? act.value("hex", "") : act.value("data", "")},
                 {"confirmed", act.value("confirmed", false)}}
                .dump();
      } else if (type == "webhook") {
        e.payload = act.contains("body") ? act::Render(act["body"].get<std::string>(), ctx, true)
                                         : ctx.dump();
      } else if (type == "sms" || type == "notify_contacts") {
        // The recipients are resolved at delivery (act/outbox.h ContactResolver); the row
        // holds the rendered message (and subject for e-mail).
        e.target_key = act::ContactsTargetKey(ev.org_id);
        e.payload = act.contains("message")
                        ? act::Render(act["message"].get<std::string>(), ctx, false)
                        : a.message;
        if (type == "notify_contacts") {
          json spec = act;
          spec["subject"] = act.contains("subject")
                                ? act::Render(act["subject"].get<std::string>(), ctx, false)
                                : "[bysans] " + a.message;
          e.spec = spec.dump();
        }
      } else {
        std::string subject = act.contains("subject")
                                  ? act::Render(act["subject"].get<std::string>(), ctx, false)
                                  : "[bysans] " + a.message;
        std::string body = act.contains("body")
                               ? act::Render(act["body"].get<std::string>(), ctx, false)
                               : a.message + "\n\n" + ctx.dump(2);
        e.payload = act::MailPayload(act.value("from", ""),
                                     act.value("to", std::vector<std::string>{}), subject, body);
      }
      e.next_attempt_ms = clock.NowMs();
      e.created_ms = e.next_attempt_ms;
      out.push_back(std::move(e));
    }
    return out;
  }

  // The engine matches only devices of the rule's organisation; an event that says otherwise
  // is a bug, never an alarm or an action.
  bool OfRuleOrganisation(const AlarmEvent& ev) const {
    if (!ev.gateway_id.empty()) {  // the gateway engine judges only its rule's organisation
      auto r = rules.find(ev.rule_id);
      if (ev.device_id == 0 && r != rules.end() && r->second.rule.org_id == ev.org_id) return true;
      // The clear of a removed rule's alarm: Handle checks the stored alarm's organisation.
      if (ev.device_id == 0 && r == rules.end() && ev.kind == AlarmEventKind::kClear) return true;
      spdlog::error("rule {} (organisation {}): gateway event of another organisation dropped",
                    ev.rule_id, ev.org_id);
      return false;
    }
    auto it = devices.find(ev.device_id);
    if (it != devices.end() && it->second.info.org_id == ev.org_id) return true;
    if (it == devices.end()) {  // known to the engine only (e.g. silenced before its first message)
      auto d = store.GetDevice(ev.device_id);
      if (d.ok() && d->org_id == ev.org_id) return true;
    }
    spdlog::error("rule {} (organisation {}): event for device {} of another organisation dropped",
                  ev.rule_id, ev.org_id, ev.device_id);
    return false;
  }

  // Stores the events' alarms with their outbox rows in one transaction (one commit per wake-up,
  // not one per event: under load those commits were the rules thread's bottleneck and its queue
  // grew), then hands the committed rows to the sender in memory (no store poll on this path).
  // An event of an alarm raised in the same batch first commits what is pending, so it is
  // built with the alarm's id, as before.
  // A failed alarm write (the database busy for 30 s, an I/O error, a full disk) is retried
  // with backoff (50 ms doubling to 5 s) until it is stored or the service stops: an alarm the
  // engine raised must not vanish. Meanwhile committed readings queue up (RulesServiceOptions::
  // queue_capacity) and are evaluated once the store writes again.
  Status WriteAlarmsRetrying(std::vector<RuleStore::AlarmWrite>& writes,
                             const std::vector<RuleWaitChange>& waits) {
    TimeMs backoff_ms = 50;
    for (int attempt = 1;; ++attempt) {
      Status s = store.rules().WriteAlarms(writes, waits);
      if (s.ok() || (s.code() != Code::kUnavailable && s.code() != Code::kInternal)) return s;
      spdlog::error("{} alarm change(s) not stored (attempt {}), retrying in {} ms: {}",
                    writes.size(), attempt, backoff_ms, s.message());
      std::unique_lock lk(mu);
      if (cv.wait_for(lk, std::chrono::milliseconds(backoff_ms), [&] { return stop; })) return s;
      backoff_ms = std::min<TimeMs>(backoff_ms * 2, 5000);
    }
  }

  // `waits`: the for-duration waits the engine changed in this wake-up (TakeWaitChanges),
  // written with the last commit of its alarms (a raise and the end of its wait together).
  void Handle(const std::vector<AlarmEvent>& events, const std::vector<RuleWaitChange>& waits) {
    std::vector<RuleStore::AlarmWrite> writes;  // not yet committed
    // The newest record of each alarm changed by this call (id 0: created, not yet committed).
    std::map<AlarmKey, AlarmRecord> newest;
    auto commit = [&](const std::vector<RuleWaitChange>& with) {
      if (writes.empty() && with.empty()) return;
      Status s = WriteAlarmsRetrying(writes, with);
      if (!s.ok() && !with.empty())
        spdlog::warn("{} for-duration wait change(s) not stored: {}", with.size(), s.message());
      for (RuleStore::AlarmWrite& w : writes) {
        const AlarmKey key = KeyOf(w.alarm);
        if (!s.ok() || !w.status.ok()) {
          spdlog::warn("alarm of rule {} not stored: {}", w.alarm.rule_id,
                       (s.ok() ? w.status : s).message());
          newest.erase(key);  // the store's record counts again
          continue;
        }
        newest[key] = w.alarm;
        if (!w.outbox.empty() && on_outbox) on_outbox(std::move(w.outbox));
      }
      writes.clear();
    };
    for (const auto& ev : events) {
      if (!OfRuleOrganisation(ev)) continue;
      const AlarmKey key = KeyOf(ev);
      RuleStore::AlarmWrite w;
      if (ev.kind == AlarmEventKind::kRaise) {
        auto a = AlarmFromRaise(ev);
        if (!a.ok()) continue;
        w.alarm.org_id = ev.org_id;
        w.alarm.rule_id = ev.rule_id;
        w.alarm.device_id = ev.device_id;
        w.alarm.gateway_id = ev.gateway_id;
        w.alarm.raised_ms = ev.ts;
        SaveToRecord(*a, &w.alarm);
        w.outbox = OutboxFor(ev, *a, 0);
      } else {
        auto it = newest.find(key);
        if (it != newest.end() && it->second.id == 0) {
          commit({});  // the alarm's id is needed
          it = newest.find(key);
        }
        if (it != newest.end()) {
          if (it->second.state == "cleared") continue;  // no open alarm (as FindOpenAlarm)
          w.alarm = it->second;
        } else {
          auto rec = ev.gateway_id.empty()
                         ? store.rules().FindOpenAlarm(ev.rule_id, ev.device_id)
                         : store.rules().FindOpenGatewayAlarm(ev.rule_id, ev.gateway_id);
          if (!rec.ok()) continue;  // cleared by hand meanwhile
          w.alarm = std::move(*rec);
        }
        if (w.alarm.org_id != ev.org_id) continue;  // never another organisation's alarm
        auto a = AlarmFromDoc(w.alarm.doc);
        if (!a.ok() || !ApplyEvent(&*a, ev).ok()) continue;
        SaveToRecord(*a, &w.alarm);
        w.outbox = OutboxFor(ev, *a, w.alarm.id);
      }
      newest[key] = w.alarm;
      writes.push_back(std::move(w));
    }
    commit(waits);
  }

  // The engine's wait changes since the last call, as the store writes them.
  std::vector<RuleWaitChange> TakeWaitChanges() {
    std::vector<RuleWaitChange> out;
    for (const WaitChange& c : engine.TakeWaitChanges())
      out.push_back({c.rule_id, c.device_id, c.since});
    return out;
  }

  void ApplyChange(const RuleStoreChange& c, std::vector<AlarmEvent>* events) {
    switch (c.kind) {
      case RuleStoreChange::Kind::kRuleUpserted: {
        auto rec = store.rules().GetRule(c.id);
        if (rec.ok()) {
          Status s = LoadRule(*rec, events);
          if (!s.ok()) spdlog::warn("rule {} not loaded: {}", c.id, s.message());
        }
        break;
      }
      case RuleStoreChange::Kind::kRuleDeleted:
        (void)engine.RemoveRule(c.id, events);
        (void)gateway_engine.RemoveRule(c.id, events);
        rules.erase(c.id);
        break;
      case RuleStoreChange::Kind::kSilenceAdded:
      case RuleStoreChange::Kind::kSilenceDeleted:
        silences_changed = true;  // read once after the changes taken together
        break;
      case RuleStoreChange::Kind::kAlarmCreated:
      case RuleStoreChange::Kind::kAlarmUpdated:
        break;  // not queued (see Start)
      case RuleStoreChange::Kind::kReloadAll:
        ReloadRules(events);
        silences_changed = true;
        break;
    }
  }

  // Every rule as stored now: each loaded again (as kRuleUpserted does), those gone removed.
  void ReloadRules(std::vector<AlarmEvent>* events) {
    auto recs = store.rules().ListAllRules();
    if (!recs.ok()) {
      spdlog::warn("rules not reloaded: {}", recs.status().message());
      return;
    }
    std::set<Id> stored;
    for (const auto& r : *recs) {
      stored.insert(r.id);
      if (auto it = rules.find(r.id); it != rules.end() && it->second.definition == r.definition &&
                                      it->second.rule.enabled == r.enabled)
        continue;  // unchanged: its evaluation state stays
      Status s = LoadRule(r, events);
      if (!s.ok()) spdlog::warn("rule {} not loaded: {}", r.id, s.message());
    }
    for (auto it = rules.begin(); it != rules.end();) {
      if (stored.count(it->first)) {
        ++it;
        continue;
      }
      (void)engine.RemoveRule(it->first, events);
      (void)gateway_engine.RemoveRule(it->first, events);
      it = rules.erase(it);
    }
  }

  // The engine's view of a batch's device, re-built only when the device changed.
  // Criterion: devices are immutable snapshots (made once as shared_ptr<const Device>; a
  // change arrives as a new snapshot) and `devices` holds the last one, so its address is
  // not reused: the same pointer is the same device. A new pointer (a device cache's TTL
  // refresh, another cache, a caller's copy) is compared field by field with the cached
  // info, without allocating; only a real change (tags, application, model, interval,
  // maintenance) copies the tags again. The pointer is kept either way (alarm contexts
  // read the device's name and EUI from it).
  const DeviceInfo& Known(std::shared_ptr<const Device> device) {
    auto [it, added] = devices.try_emplace(device->id);
    KnownDevice& k = it->second;
    if (k.device == device) return k.info;
    if (added || !InfoMatches(k.info, *device)) k.info = DeviceInfoOf(*device);
    k.device = std::move(device);
    return k.info;
  }

  // The gateways of every organisation with gateway rules, judged now. A store error skips the
  // organisation this time (logged); the next evaluation reads again.
  void EvaluateGateways(std::vector<AlarmEvent>* events) {
    const TimeMs now = clock.NowMs();
    const TimeMs hour = GatewayRuleEngine::PacketsHourStart(now);
    for (Id org : gateway_engine.Organizations()) {
      auto list = store.gateways().ListGatewayHealth(org);
      if (!list.ok()) {
        spdlog::warn("gateway rules of organisation {}: {}", org, list.status().message());
        continue;
      }
      const bool stats = gateway_engine.NeedsStats(org);
      std::vector<GatewaySnapshot> snaps;
      snaps.reserve(list->size());
      for (const GatewayHealth& h : *list) {
        GatewaySnapshot s;
        s.gateway_id = h.gateway_id;
        s.online = h.online;
        s.state_ms = h.state_ms;
        s.last_seen_ms = h.last_seen_ms;
        if (stats) {
          auto& cached = hour_stats[{org, h.gateway_id}];
          if (cached.first != hour) {
            auto b = store.gateways().GatewayStatsHistory(org, h.gateway_id, hour, hour, 3'600'000);
            if (!b.ok()) continue;  // judged at the next evaluation
            cached = {hour, std::nullopt};
            for (const auto& bucket : *b) {
              if (bucket.start_ms != hour) continue;
              const GatewayCounters& c = bucket.counters;
              cached.second =
                  GatewayHourCounters{c.rx_received, c.rx_received_ok, c.tx_received, c.tx_emitted};
            }
          }
          s.last_hour = cached.second;
        }
        snaps.push_back(std::move(s));
      }
      gateway_engine.Evaluate(org, snaps, events);
    }
  }

  // Events of the clock (a silence raised, a reminder, a for-duration wait ended) may be about a
  // device deleted since, here or on another node: the engine knows devices from their readings
  // and from the start, not from deletions. Such a device's events from `first` on are dropped
  // and the engine forgets it. One store read per device with a clock event (rare), none per
  // reading.
  void DropEventsOfDeletedDevices(std::vector<AlarmEvent>& events, size_t first) {
    std::unordered_map<Id, bool> exists;
    auto gone = [&](const AlarmEvent& ev) {
      if (ev.device_id == 0) return false;  // a gateway alarm
      auto [it, fresh] = exists.try_emplace(ev.device_id, true);
      if (fresh) it->second = store.GetDevice(ev.device_id).status().code() != Code::kNotFound;
      return !it->second;
    };
    auto kept =
        std::stable_partition(events.begin() + static_cast<std::ptrdiff_t>(first), events.end(),
                              [&](const AlarmEvent& ev) { return !gone(ev); });
    events.erase(kept, events.end());
    for (const auto& [id, present] : exists) {
      if (present) continue;
      spdlog::info("rules: device {} was deleted: its rules are no longer evaluated", id);
      engine.RemoveDevice(id);
      devices.erase(id);
    }
  }

  // The rule and silence changes handed over, then the queued batches in turn by organisation
  // (the one that used the least evaluation time first), until nothing waits or this wake-up has
  // worked for round_ms; the caller then stores the events, and the next wake-up goes on at once.
  // Changes that come meanwhile are applied before the next batch is taken, so a batch is always
  // evaluated with every change handed over before it (a new rule, then a reading that should
  // raise it), and a stream of changes does not hold the batches back. Takes `mu` only to take
  // changes and to take and account a batch. Returns the changes and batches done.
  size_t WorkThroughQueue(std::vector<AlarmEvent>* events) {
    using Steady = std::chrono::steady_clock;
    const auto start = Steady::now();
    const auto round = std::chrono::milliseconds(opts.round_ms);
    auto mark = start;
    size_t n = 0;
    std::unique_lock lk(mu);
    while (true) {
      if (!changes.empty()) {
        std::vector<RuleStoreChange> ch;
        ch.swap(changes);
        lk.unlock();
        for (const auto& c : ch) ApplyChange(c, events);
        if (std::exchange(silences_changed, false)) ApplySilences();
        mark = Steady::now();
        lk.lock();
        n += ch.size();
        if (mark - start >= round) break;
        continue;
      }
      std::optional<FairQueue<Batch>::Ticket> t = queue.Pop();
      if (!t) break;
      lk.unlock();
      engine.OnReadings(Known(std::move(t->item.device)), *t->item.readings, events);
      const auto now = Steady::now();
      lk.lock();
      queue.Done(t->org, t->lane,
                 std::chrono::duration_cast<std::chrono::nanoseconds>(now - mark).count());
      mark = now;
      ++n;
      if (now - start >= round) break;
    }
    return n;
  }

  // The queue is full and a batch of `org` comes (mu held): the organisation with the most
  // waiting loses its newest batch — this one when that is `org` (false: do not queue it).
  bool ShedForBatchOf(Id org) {
    std::optional<Id> largest = queue.Largest();
    const bool own = !largest || queue.Pending(org) >= queue.Pending(*largest);
    const Id loser = own ? org : *largest;
    if (!own && queue.DropNewest(loser)) ++done;  // it was handed over: Drain must not wait for it
    dropped.fetch_add(1);
    int64_t unlogged = 0;
    if (drop_log.Allow(loser, clock.NowMs(), &unlogged))
      spdlog::warn(
          "rules: organisation {} has {} batches of readings waiting for its rules; its newest is "
          "dropped, not evaluated ({} more since the last such line)",
          loser, queue.Pending(loser), unlogged);
    return !own;
  }

  void Loop() {
    NameThisThread("rules");
    std::vector<AlarmEvent> events;
    bool backlog = false;  // the last wake-up left batches: go on without gathering
    std::unique_lock lk(mu);
    while (true) {
      auto due = engine.NextDueMs();
      TimeMs wait = opts.tick_ms;
      if (due) wait = std::clamp<TimeMs>(*due - clock.NowMs(), 1, opts.tick_ms);
      if (gateway_engine.rule_count() > 0) {
        wait = std::clamp<TimeMs>(next_gateway_eval_ms - clock.NowMs(), 1, wait);
      }
      if (cluster) wait = feed_behind ? 0 : std::min(wait, cluster->poll_ms);
      cv.wait_for(lk, std::chrono::milliseconds(wait),
                  [&] { return stop || !queue.empty() || !changes.empty(); });
      if (stop) return;
      if (!backlog && !queue.empty() && opts.gather_ms > 0) {
        // Producers only notify an empty queue (OnCommitted), so this waits the whole window.
        cv.wait_for(lk, std::chrono::milliseconds(opts.gather_ms), [&] { return stop; });
        if (stop) return;
      }
      lk.unlock();
      events.clear();
      std::vector<int64_t> acks;
      const size_t worked = WorkThroughQueue(&events);
      if (cluster) {
        Rebalance();
        ReadFeed();
        EvaluateFeed(&events, &acks);
      }
      const size_t before_tick = events.size();
      engine.OnTick(&events);
      DropEventsOfDeletedDevices(events, before_tick);
      if (gateway_engine.rule_count() > 0 && clock.NowMs() >= next_gateway_eval_ms &&
          (!cluster || gateway_role)) {
        EvaluateGateways(&events);
        next_gateway_eval_ms = clock.NowMs() + opts.gateway_eval_ms;
      }
      const std::vector<RuleWaitChange> waits = TakeWaitChanges();
      if (!events.empty() || !waits.empty()) Handle(events, waits);
      // After the alarms are stored: a holder that dies before this line leaves the entries to
      // the next holder, which restored the stored alarms (no alarm twice).
      // Not when stopping: an alarm write may have given up then (WriteAlarmsRetrying), and its
      // entries must stay for the next holder.
      bool stopping = false;
      {
        std::lock_guard stop_lk(mu);
        stopping = stop;
      }
      if (!acks.empty() && !stopping) {
        if (Status st = cluster->feed->AcknowledgeFeed(acks); !st.ok())
          spdlog::warn("rules: {} feed entries not acknowledged (evaluated again): {}", acks.size(),
                       st.message());
      }
      lk.lock();
      done += worked;
      backlog = !queue.empty() || !changes.empty();
      done_cv.notify_all();
    }
  }
};

RulesService::RulesService(Store& store, const Clock& clock, RulesServiceOptions options,
                           std::function<void(std::vector<OutboxEntry>)> on_outbox)
    : impl_(std::make_unique<Impl>(store, clock, options, std::move(on_outbox))) {}

struct RulesService::ListenerGuard {
  std::mutex mu;
  Impl* impl = nullptr;  // null once the service is gone
};

RulesService::~RulesService() {
  Stop();
  if (listener_guard_) {
    std::lock_guard lk(listener_guard_->mu);  // waits for a listener call in progress
    listener_guard_->impl = nullptr;
  }
}

void RulesService::SetPartitions(RulePartitions partitions) {
  impl_->cluster = std::move(partitions);
}

Status RulesService::Start() {
  Impl* m = impl_.get();
  listener_guard_ = std::make_shared<ListenerGuard>();
  listener_guard_->impl = m;
  m->store.rules().AddListener([guard = listener_guard_](const RuleStoreChange& c) {
    // Alarm changes (this service's own writes, hand changes through the API)
    // are for the live stream (api/stream.cc): nothing to reload here.
    if (c.kind == RuleStoreChange::Kind::kAlarmCreated ||
        c.kind == RuleStoreChange::Kind::kAlarmUpdated)
      return;
    std::lock_guard alive(guard->mu);
    Impl* m = guard->impl;
    if (m == nullptr) return;  // the service is gone; the store outlives it
    {
      std::lock_guard lk(m->mu);
      m->changes.push_back(c);
      ++m->handed;
    }
    m->cv.notify_one();
  });
  BYSANS_RETURN_IF_ERROR(m->Load());
  m->thread = std::thread([m] { m->Loop(); });
  return Status::Ok();
}

void RulesService::Stop() {
  {
    std::lock_guard lk(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  impl_->done_cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void RulesService::OnCommitted(const Device& device, const std::vector<Reading>& readings) {
  OnCommitted(std::make_shared<const Device>(device),
              std::make_shared<const std::vector<Reading>>(readings));
}

void RulesService::OnCommitted(std::shared_ptr<const Device> device,
                               std::shared_ptr<const std::vector<Reading>> readings) {
  bool wake = false;
  {
    std::lock_guard lk(impl_->mu);
    if (impl_->stop) return;
    const Id org = device->org_id, lane = device->id;
    if (impl_->queue.size() >= impl_->opts.queue_capacity && !impl_->ShedForBatchOf(org)) return;
    // Loop() empties the queue before it sleeps again, so only the first batch of an empty
    // queue needs to wake it (not a futex wake per message under load).
    wake = impl_->queue.empty();
    impl_->queue.Push(org, lane, {std::move(device), std::move(readings)});
    ++impl_->handed;
  }
  if (wake) impl_->cv.notify_one();
}

void RulesService::Drain() {
  std::unique_lock lk(impl_->mu);
  uint64_t target = impl_->handed;
  impl_->done_cv.wait(lk, [&] { return impl_->stop || impl_->done >= target; });
}

uint64_t RulesService::dropped() const { return impl_->dropped.load(); }

}  // namespace bysans::rules

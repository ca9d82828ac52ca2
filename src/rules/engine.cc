#include "rules/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <queue>
#include <string_view>
#include <unordered_map>

#include "core/string_map.h"

namespace bysans::rules {

DeviceInfo DeviceInfoOf(const Device& d) {
  DeviceInfo i;
  i.id = d.id;
  i.org_id = d.org_id;
  i.app_id = d.app_id;
  i.model_id = d.device_model_id;
  i.tags = d.tags;
  i.expected_interval_s = d.expected_interval_s;
  i.in_maintenance = d.in_maintenance;
  return i;
}

const char* AlarmEventKindName(AlarmEventKind k) {
  switch (k) {
    case AlarmEventKind::kRaise:
      return "raise";
    case AlarmEventKind::kClear:
      return "clear";
    case AlarmEventKind::kRemind:
      return "remind";
  }
  return "raise";
}

namespace {

using KeyId = uint32_t;
constexpr KeyId kNoKey = std::numeric_limits<KeyId>::max();
constexpr TimeMs kNever = std::numeric_limits<TimeMs>::max();
constexpr TimeMs kNone = std::numeric_limits<TimeMs>::min();
constexpr size_t kMaxRateSamples = 10000;  // per (rule, device); see rule.h

using Interner = StringMap<uint32_t>;

// (scope kind, scope value, key) → rules. key == kNoKey for silence rules.
struct IndexKey {
  uint8_t kind = 0;
  int64_t value = 0;
  KeyId key = kNoKey;
  bool operator==(const IndexKey&) const = default;
};
struct IndexKeyHash {
  size_t operator()(const IndexKey& k) const {
    uint64_t h = static_cast<uint64_t>(k.value) * 0x9E3779B97F4A7C15ull;
    h ^= (static_cast<uint64_t>(k.key) << 8 | k.kind) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
    return static_cast<size_t>(h ^ (h >> 31));
  }
};

struct ScopeRef {
  uint8_t kind;
  int64_t value;
};

struct CompiledRule {
  Rule rule;
  bool live = false;
  Expr cond;
  Expr clear;
  bool has_clear = false;
  std::vector<KeyId> cond_keys;   // per slot of cond
  std::vector<KeyId> clear_keys;  // per slot of clear
  std::vector<KeyId> all_keys;    // union, indexed
  std::vector<std::string> all_key_names;
  KeyId rate_key = kNoKey;
  ScopeRef scope{};
  TimeMs silenced_until = kNone;
  uint64_t touch_epoch = 0;
};

struct LatestValue {
  KeyId key;
  TimeMs ts;
  Value value;
};

struct RuleState;
using StateRef = std::pair<uint32_t, RuleState*>;  // rule slot, its state for this device

// The rules that a reading of `key` touches on one device.
struct Route {
  KeyId key;
  std::vector<StateRef> rules;
};

struct DeviceSlot {
  bool live = false;
  DeviceInfo info;
  std::vector<ScopeRef> scopes;
  // Cached from the scope index; rebuilt when rules_version changes. The
  // RuleState pointers stay valid: states live in a node-based map and are
  // only erased together with a rule change (which bumps the version).
  std::vector<Route> routes;
  std::vector<StateRef> silence;
  uint64_t scopes_version = 0;
  std::vector<LatestValue> latest;
  TimeMs last_seen = 0;
  // Silences by organisation (SilenceDevice); only the device's own organisation's counts.
  std::vector<std::pair<Id, TimeMs>> silences;
};

struct Sample {
  TimeMs ts;
  double v;
};

struct RuleState {
  bool active = false;
  bool held = false;  // condition satisfied but suppressed
  Truth last_cond = Truth::kUnknown;
  bool clear_true = false;
  TimeMs pending_since = kNone;
  TimeMs last_remind = 0;
  TimeMs armed_due = kNever;
  double last_change = 0;
  std::vector<Sample> samples;
  size_t head = 0;
};

struct Timer {
  TimeMs due;
  uint32_t rule;
  uint32_t dev;
  bool operator>(const Timer& o) const { return due > o.due; }
};

uint64_t StateKey(uint32_t rule, uint32_t dev) { return (uint64_t{rule} << 32) | dev; }

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

enum class Trigger { kReading, kTick };

struct RuleEngine::Impl {
  explicit Impl(const Clock& c) : clock(c) {}

  const Clock& clock;
  std::vector<CompiledRule> rules;
  std::vector<uint32_t> free_rules;
  std::unordered_map<Id, uint32_t> rule_by_id;
  std::vector<DeviceSlot> devices;
  std::vector<uint32_t> free_devices;
  std::unordered_map<Id, uint32_t> device_by_id;
  Interner keys;
  Interner tags;
  // (scope kind, scope value) → enabled rules with that scope.
  std::unordered_map<IndexKey, std::vector<uint32_t>, IndexKeyHash> by_scope;
  std::unordered_map<uint64_t, RuleState> states;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  uint64_t rules_version = 1;
  uint64_t epoch = 0;
  // Wait changes not yet taken (TakeWaitChanges): (rule id, device id) → since, kNone = over.
  std::map<std::pair<Id, Id>, TimeMs> wait_changes;
  std::vector<StateRef> touched;    // scratch
  std::vector<const Value*> slots;  // scratch

  // ---- interning -------------------------------------------------------
  KeyId InternKey(const std::string& k) {
    auto it = keys.find(std::string_view(k));
    if (it != keys.end()) return it->second;
    auto id = static_cast<KeyId>(keys.size());
    keys.emplace(k, id);
    return id;
  }
  KeyId FindKey(std::string_view k) const {
    auto it = keys.find(k);
    return it == keys.end() ? kNoKey : it->second;
  }

  ScopeRef ScopeOf(const Rule& r) {
    if (r.scope.kind == ScopeKind::kTag) {
      auto it = tags.find(std::string_view(r.scope.tag));
      uint32_t id;
      if (it == tags.end()) {
        id = static_cast<uint32_t>(tags.size());
        tags.emplace(r.scope.tag, id);
      } else {
        id = it->second;
      }
      return {static_cast<uint8_t>(ScopeKind::kTag), id};
    }
    return {static_cast<uint8_t>(r.scope.kind), r.scope.id};
  }

  // ---- devices ---------------------------------------------------------
  // Organisation first: a rule never sees a device of another organisation,
  // whatever its scope names (a tag is interned across organisations, and a
  // stored scope may name another organisation's object).
  static bool SameOrg(const CompiledRule& cr, const DeviceSlot& d) {
    return cr.rule.org_id == d.info.org_id;
  }

  void ComputeScopes(uint32_t dv) {
    DeviceSlot& d = devices[dv];
    d.scopes.clear();
    d.scopes.push_back({static_cast<uint8_t>(ScopeKind::kDevice), d.info.id});
    if (d.info.app_id != 0) {
      d.scopes.push_back({static_cast<uint8_t>(ScopeKind::kApplication), d.info.app_id});
    }
    if (d.info.model_id) {
      d.scopes.push_back({static_cast<uint8_t>(ScopeKind::kDeviceModel), *d.info.model_id});
    }
    for (const auto& t : d.info.tags) {
      auto it = tags.find(std::string_view(t));
      if (it != tags.end()) d.scopes.push_back({static_cast<uint8_t>(ScopeKind::kTag), it->second});
    }
    d.routes.clear();
    d.silence.clear();
    auto add_route = [&d](KeyId k, StateRef ref) {
      for (auto& route : d.routes) {
        if (route.key == k) {
          route.rules.push_back(ref);
          return;
        }
      }
      d.routes.push_back(Route{k, {ref}});
    };
    for (const ScopeRef& sc : d.scopes) {
      auto it = by_scope.find(IndexKey{sc.kind, sc.value, 0});
      if (it == by_scope.end()) continue;
      for (uint32_t r : it->second) {
        const CompiledRule& cr = rules[r];
        if (!SameOrg(cr, d)) continue;
        StateRef ref{r, &StateFor(r, dv)};
        switch (cr.rule.kind) {
          case ConditionKind::kExpression:
            for (KeyId k : cr.all_keys) add_route(k, ref);
            break;
          case ConditionKind::kRateOfChange:
            add_route(cr.rate_key, ref);
            break;
          case ConditionKind::kSilence:
            d.silence.push_back(ref);
            break;
          case ConditionKind::kGatewayOffline:  // never stored here (UpsertRule)
          case ConditionKind::kGatewayPackets:
            break;
        }
      }
    }
    d.scopes_version = rules_version;
  }

  static bool SameInfo(const DeviceInfo& a, const DeviceInfo& b) {
    return a.org_id == b.org_id && a.app_id == b.app_id && a.model_id == b.model_id &&
           a.expected_interval_s == b.expected_interval_s && a.in_maintenance == b.in_maintenance &&
           a.tags == b.tags;
  }

  // Finds or creates the device slot and brings its info up to date.
  // `created` tells whether it is new.
  // The device's latest value of key k becomes the reading's when it is newer (or as new, when
  // same_time_wins).
  static void PutLatest(DeviceSlot& dev, KeyId k, const Reading& rd, bool same_time_wins) {
    for (auto& lv : dev.latest) {
      if (lv.key != k) continue;
      if (rd.ts > lv.ts || (same_time_wins && rd.ts == lv.ts)) {
        lv.ts = rd.ts;
        lv.value = rd.value;
      }
      return;
    }
    dev.latest.push_back(LatestValue{k, rd.ts, rd.value});
  }

  uint32_t TouchDevice(const DeviceInfo& info, TimeMs now, bool* created,
                       std::vector<AlarmEvent>* events) {
    auto it = device_by_id.find(info.id);
    *created = it == device_by_id.end();
    uint32_t slot;
    if (*created) {
      if (!free_devices.empty()) {
        slot = free_devices.back();
        free_devices.pop_back();
      } else {
        slot = static_cast<uint32_t>(devices.size());
        devices.emplace_back();
      }
      device_by_id.emplace(info.id, slot);
      DeviceSlot& d = devices[slot];
      d = DeviceSlot{};
      d.live = true;
      d.info = info;
      d.last_seen = now;
      ComputeScopes(slot);
      return slot;
    }
    slot = it->second;
    DeviceSlot& d = devices[slot];
    if (!SameInfo(d.info, info)) {
      bool leaving_maintenance = d.info.in_maintenance && !info.in_maintenance;
      bool interval_changed = d.info.expected_interval_s != info.expected_interval_s;
      d.info = info;
      ComputeScopes(slot);
      ForgetOutOfScope(slot, now, events);
      if (leaving_maintenance || interval_changed) WakeDevice(slot, now, events);
    } else if (d.scopes_version != rules_version) {
      ComputeScopes(slot);
    }
    return slot;
  }

  // After a device's app, model or tags changed: states of rules that no
  // longer cover it are dropped, their active alarms cleared.
  void ForgetOutOfScope(uint32_t dv, TimeMs now, std::vector<AlarmEvent>* events) {
    const DeviceSlot& d = devices[dv];
    for (auto it = states.begin(); it != states.end();) {
      auto r = static_cast<uint32_t>(it->first >> 32);
      bool in_scope = static_cast<uint32_t>(it->first & 0xffffffffu) != dv;
      if (!in_scope && SameOrg(rules[r], d)) {
        for (const auto& sc : d.scopes) {
          if (sc.kind == rules[r].scope.kind && sc.value == rules[r].scope.value) in_scope = true;
        }
      }
      if (in_scope || !rules[r].live) {
        ++it;
        continue;
      }
      if (it->second.active) {
        Emit(AlarmEventKind::kClear, rules[r], d, it->second, now,
             "cleared (device left the rule's scope)", events);
      }
      EndWait(rules[r], d, it->second);
      it = states.erase(it);
    }
  }

  // Re-runs the time-based step of every state of a device now.
  void WakeDevice(uint32_t dev, TimeMs now, std::vector<AlarmEvent>* events) {
    for (auto& [key, st] : states) {
      if (static_cast<uint32_t>(key & 0xffffffffu) != dev) continue;
      auto r = static_cast<uint32_t>(key >> 32);
      Step(r, dev, st, now, Trigger::kTick, events);
    }
  }

  void WakeRule(uint32_t r, TimeMs now, std::vector<AlarmEvent>* events) {
    for (auto& [key, st] : states) {
      if (static_cast<uint32_t>(key >> 32) != r) continue;
      Step(r, static_cast<uint32_t>(key & 0xffffffffu), st, now, Trigger::kTick, events);
    }
  }

  // Arms an immediate timer for every held state matching the filter.
  template <typename Pred>
  void ArmHeldNow(TimeMs now, Pred pred) {
    for (auto& [key, st] : states) {
      auto r = static_cast<uint32_t>(key >> 32);
      auto d = static_cast<uint32_t>(key & 0xffffffffu);
      if (!pred(r, d)) continue;
      if (st.held || st.active) Arm(st, r, d, now);
    }
  }

  // ---- for-duration waits reported to the caller ---------------------------
  static bool HasWait(const CompiledRule& cr) {
    return cr.rule.for_ms > 0 && (cr.rule.kind == ConditionKind::kExpression ||
                                  cr.rule.kind == ConditionKind::kRateOfChange);
  }
  void NoteWait(const CompiledRule& cr, const DeviceSlot& d, TimeMs since) {
    if (HasWait(cr)) wait_changes[{cr.rule.id, d.info.id}] = since;
  }
  // A state about to be forgotten or reset: a wait in progress is over.
  void EndWait(const CompiledRule& cr, const DeviceSlot& d, const RuleState& st) {
    if (st.pending_since != kNone && !st.active) NoteWait(cr, d, kNone);
  }

  // ---- rules -----------------------------------------------------------
  void IndexRule(uint32_t slot, bool add) {
    CompiledRule& cr = rules[slot];
    IndexKey ik{cr.scope.kind, cr.scope.value, 0};
    if (add) {
      by_scope[ik].push_back(slot);
      return;
    }
    auto it = by_scope.find(ik);
    if (it == by_scope.end()) return;
    auto& v = it->second;
    v.erase(std::remove(v.begin(), v.end(), slot), v.end());
    if (v.empty()) by_scope.erase(it);
  }

  void DropRule(uint32_t slot, const char* why, std::vector<AlarmEvent>* events) {
    CompiledRule& cr = rules[slot];
    TimeMs now = clock.NowMs();
    for (auto it = states.begin(); it != states.end();) {
      if (static_cast<uint32_t>(it->first >> 32) != slot) {
        ++it;
        continue;
      }
      auto d = static_cast<uint32_t>(it->first & 0xffffffffu);
      if (it->second.active && devices[d].live) {
        Emit(AlarmEventKind::kClear, cr, devices[d], it->second, now, why, events);
      }
      if (devices[d].live) EndWait(cr, devices[d], it->second);
      it = states.erase(it);
    }
    if (cr.rule.enabled) IndexRule(slot, false);
    rule_by_id.erase(cr.rule.id);
    cr = CompiledRule{};
    free_rules.push_back(slot);
    ++rules_version;
  }

  bool ScopeMatches(const CompiledRule& cr, uint32_t dv) {
    if (devices[dv].scopes_version != rules_version) ComputeScopes(dv);
    const DeviceSlot& d = devices[dv];
    if (!SameOrg(cr, d)) return false;
    for (const auto& s : d.scopes) {
      if (s.kind == cr.scope.kind && s.value == cr.scope.value) return true;
    }
    return false;
  }

  // ---- evaluation ------------------------------------------------------
  static const Value* Latest(const DeviceSlot& d, KeyId k) {
    for (const auto& lv : d.latest) {
      if (lv.key == k) return &lv.value;
    }
    return nullptr;
  }

  Truth EvalWith(const Expr& e, const std::vector<KeyId>& ids, const DeviceSlot& d) {
    slots.resize(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) slots[i] = Latest(d, ids[i]);
    return e.EvaluateSlots(slots);
  }

  TimeMs SilenceTimeout(const CompiledRule& cr, const DeviceSlot& d) const {
    const auto& s = cr.rule.silence;
    if (s.fixed_ms > 0) return s.fixed_ms;
    if (d.info.expected_interval_s <= 0) return 0;
    double ms = s.interval_multiple * static_cast<double>(d.info.expected_interval_s) * 1000.0;
    if (!(ms >= 1)) return 0;
    if (ms > 1e15) return static_cast<TimeMs>(1e15);
    return static_cast<TimeMs>(ms);
  }

  static TimeMs DeviceSilence(const DeviceSlot& d) {
    for (const auto& [org, until] : d.silences) {
      if (org == d.info.org_id) return until;
    }
    return kNone;
  }

  bool Suppressed(const CompiledRule& cr, const DeviceSlot& d, TimeMs now) const {
    return d.info.in_maintenance || DeviceSilence(d) > now || cr.silenced_until > now;
  }

  // When a suppression with a known end ends (kNever for maintenance).
  TimeMs SuppressionEnd(const CompiledRule& cr, const DeviceSlot& d, TimeMs now) const {
    if (d.info.in_maintenance) return kNever;
    TimeMs end = now;
    if (DeviceSilence(d) > end) end = DeviceSilence(d);
    if (cr.silenced_until > end) end = cr.silenced_until;
    return end;
  }

  void Arm(RuleState& st, uint32_t r, uint32_t d, TimeMs due) {
    if (due == kNever) return;
    if (st.armed_due != kNever && st.armed_due <= due) return;
    st.armed_due = due;
    timers.push(Timer{due, r, d});
  }

  void Emit(AlarmEventKind kind, const CompiledRule& cr, const DeviceSlot& d, const RuleState& st,
            TimeMs now, const std::string& what, std::vector<AlarmEvent>* events) {
    AlarmEvent ev;
    ev.kind = kind;
    ev.rule_id = cr.rule.id;
    ev.org_id = cr.rule.org_id;
    ev.device_id = d.info.id;
    ev.ts = now;
    ev.severity = cr.rule.severity;
    ev.require_acknowledge = RequiresAcknowledge(cr.rule);
    ev.message = cr.rule.name + ": " + what;
    switch (cr.rule.kind) {
      case ConditionKind::kExpression:
        for (size_t i = 0; i < cr.all_keys.size(); ++i) {
          if (const Value* v = Latest(d, cr.all_keys[i])) {
            ev.values.emplace_back(cr.all_key_names[i], *v);
          }
        }
        break;
      case ConditionKind::kRateOfChange:
        if (const Value* v = Latest(d, cr.rate_key)) ev.values.emplace_back(cr.rule.rate.key, *v);
        ev.values.emplace_back("change", Value(st.last_change));
        break;
      case ConditionKind::kSilence:
        ev.values.emplace_back("last_seen_ms", Value(static_cast<double>(d.last_seen)));
        break;
      case ConditionKind::kGatewayOffline:
      case ConditionKind::kGatewayPackets:
        break;
    }
    events->push_back(std::move(ev));
  }

  std::string Describe(const CompiledRule& cr, const DeviceSlot& d, const RuleState& st) const {
    switch (cr.rule.kind) {
      case ConditionKind::kExpression:
        return cr.rule.expression;
      case ConditionKind::kRateOfChange:
        return cr.rule.rate.key + " changed by " + FormatNumber(st.last_change) + " within " +
               FormatNumber(static_cast<double>(cr.rule.rate.window_ms) / 1000.0) + " s";
      case ConditionKind::kSilence:
        return "no message for " +
               FormatNumber(static_cast<double>(SilenceTimeout(cr, d)) / 1000.0) + " s";
      case ConditionKind::kGatewayOffline:
      case ConditionKind::kGatewayPackets:
        break;
    }
    return "";
  }

  void UpdateRate(const CompiledRule& cr, RuleState& st) {
    if (st.head >= st.samples.size()) {
      st.last_cond = Truth::kUnknown;
      st.last_change = 0;
      return;
    }
    double change = st.samples.back().v - st.samples[st.head].v;
    st.last_change = change;
    double th = cr.rule.rate.threshold;
    bool hit = false;
    switch (cr.rule.rate.direction) {
      case Direction::kRise:
        hit = change >= th;
        break;
      case Direction::kFall:
        hit = change <= -th;
        break;
      case Direction::kEither:
        hit = std::fabs(change) >= th;
        break;
    }
    st.last_cond = hit ? Truth::kTrue : Truth::kFalse;
  }

  static void AddSample(const CompiledRule& cr, RuleState& st, TimeMs ts, double v) {
    if (!std::isfinite(v)) return;
    if (st.head < st.samples.size() && ts < st.samples.back().ts) return;  // out of order
    st.samples.push_back({ts, v});
    TimeMs from = ts - cr.rule.rate.window_ms;
    while (st.head < st.samples.size() && st.samples[st.head].ts < from) ++st.head;
    if (st.samples.size() - st.head > kMaxRateSamples) ++st.head;  // bound memory
    if (st.head > 16 && st.head * 2 > st.samples.size()) {
      st.samples.erase(st.samples.begin(), st.samples.begin() + static_cast<ptrdiff_t>(st.head));
      st.head = 0;
    }
  }

  // The heart: one decision for (rule, device) at `now`.
  void Step(uint32_t r, uint32_t dv, RuleState& st, TimeMs now, Trigger trig,
            std::vector<AlarmEvent>* events) {
    const CompiledRule& cr = rules[r];
    const DeviceSlot& d = devices[dv];
    if (!cr.live || !d.live) return;
    Truth cond = Truth::kUnknown;
    bool clear_now = false;
    TimeMs timeout = 0;
    switch (cr.rule.kind) {
      case ConditionKind::kExpression:
        if (trig == Trigger::kReading) {
          st.last_cond = EvalWith(cr.cond, cr.cond_keys, d);
          st.clear_true = cr.has_clear ? EvalWith(cr.clear, cr.clear_keys, d) == Truth::kTrue
                                       : st.last_cond == Truth::kFalse;
        }
        cond = st.last_cond;
        clear_now = st.clear_true;
        break;
      case ConditionKind::kRateOfChange:
        if (trig == Trigger::kReading) UpdateRate(cr, st);
        cond = st.last_cond;
        clear_now = cond == Truth::kFalse;
        break;
      case ConditionKind::kSilence:
        timeout = SilenceTimeout(cr, d);
        if (trig == Trigger::kReading || timeout <= 0) {
          cond = Truth::kFalse;
        } else {
          cond = now - d.last_seen >= timeout ? Truth::kTrue : Truth::kFalse;
        }
        clear_now = trig == Trigger::kReading;
        break;
      case ConditionKind::kGatewayOffline:
      case ConditionKind::kGatewayPackets:
        break;
    }

    if (st.active) {
      if (clear_now) {
        st.active = false;
        st.held = false;
        st.pending_since = kNone;
        Emit(AlarmEventKind::kClear, cr, d, st, now, "cleared", events);
      } else if (cr.rule.remind_every_ms > 0 && now >= st.last_remind + cr.rule.remind_every_ms) {
        if (!Suppressed(cr, d, now)) {
          Emit(AlarmEventKind::kRemind, cr, d, st, now, "still active: " + Describe(cr, d, st),
               events);
        }
        st.last_remind = now;
      }
    }
    if (!st.active) {
      if (cond == Truth::kTrue) {
        if (st.pending_since == kNone) {
          st.pending_since = cr.rule.kind == ConditionKind::kSilence ? d.last_seen + timeout : now;
          if (cr.rule.for_ms > 0) NoteWait(cr, d, st.pending_since);
        }
        if (now >= st.pending_since + cr.rule.for_ms) {
          if (Suppressed(cr, d, now)) {
            st.held = true;
          } else {
            st.held = false;
            st.active = true;
            st.last_remind = now;
            if (cr.rule.for_ms > 0) NoteWait(cr, d, kNone);
            st.pending_since = kNone;  // the wait is over (a clear starts the next one afresh)
            Emit(AlarmEventKind::kRaise, cr, d, st, now, Describe(cr, d, st), events);
          }
        }
      } else {
        if (st.pending_since != kNone && cr.rule.for_ms > 0) NoteWait(cr, d, kNone);
        st.pending_since = kNone;
        st.held = false;
      }
    }

    // Next time this state needs a look without new readings.
    TimeMs due = kNever;
    if (st.active) {
      if (cr.rule.remind_every_ms > 0) due = st.last_remind + cr.rule.remind_every_ms;
    } else if (st.held) {
      due = SuppressionEnd(cr, d, now);
      if (due <= now) due = now + 1;
    } else if (st.pending_since != kNone) {
      due = st.pending_since + cr.rule.for_ms;
    } else if (cr.rule.kind == ConditionKind::kSilence && timeout > 0) {
      due = d.last_seen + timeout;
    }
    Arm(st, r, dv, due);
  }

  RuleState& StateFor(uint32_t r, uint32_t d) { return states[StateKey(r, d)]; }

  // Creates states for a silence rule on every known device in its scope.
  void AttachSilenceRule(uint32_t r, TimeMs now, std::vector<AlarmEvent>* events) {
    for (uint32_t d = 0; d < devices.size(); ++d) {
      if (!devices[d].live || !ScopeMatches(rules[r], d)) continue;
      Step(r, d, StateFor(r, d), now, Trigger::kTick, events);
    }
  }

  void AttachSilenceRulesToDevice(uint32_t d, TimeMs now, Trigger trig,
                                  std::vector<AlarmEvent>* events) {
    if (devices[d].scopes_version != rules_version) ComputeScopes(d);
    for (const StateRef& ref : devices[d].silence)
      Step(ref.first, d, *ref.second, now, trig, events);
  }
};

RuleEngine::RuleEngine(const Clock& clock) : impl_(std::make_unique<Impl>(clock)) {}
RuleEngine::~RuleEngine() = default;

Status RuleEngine::UpsertRule(const Rule& rule, std::vector<AlarmEvent>* events) {
  BYSANS_RETURN_IF_ERROR(ValidateRule(rule));
  if (IsGatewayRule(rule)) {
    return InvalidArgument("rule " + std::to_string(rule.id) +
                           " watches gateways: the gateway engine evaluates it (gateway_engine.h)");
  }
  Impl& m = *impl_;
  CompiledRule cr;
  cr.rule = rule;
  cr.live = true;
  if (rule.kind == ConditionKind::kExpression) {
    auto cond = Expr::Parse(rule.expression);
    if (!cond.ok()) return cond.status();
    cr.cond = std::move(cond).value();
    if (!rule.clear_expression.empty()) {
      auto clear = Expr::Parse(rule.clear_expression);
      if (!clear.ok()) return clear.status();
      cr.clear = std::move(clear).value();
      cr.has_clear = true;
    }
    auto add_keys = [&](const Expr& e, std::vector<KeyId>* ids) {
      for (const auto& k : e.Keys()) {
        KeyId id = m.InternKey(k);
        ids->push_back(id);
        if (std::find(cr.all_keys.begin(), cr.all_keys.end(), id) == cr.all_keys.end()) {
          cr.all_keys.push_back(id);
          cr.all_key_names.push_back(k);
        }
      }
    };
    add_keys(cr.cond, &cr.cond_keys);
    if (cr.has_clear) add_keys(cr.clear, &cr.clear_keys);
  } else if (rule.kind == ConditionKind::kRateOfChange) {
    cr.rate_key = m.InternKey(rule.rate.key);
  }
  TimeMs silenced_until = kNone;
  if (auto it = m.rule_by_id.find(rule.id); it != m.rule_by_id.end()) {
    silenced_until = m.rules[it->second].silenced_until;
    m.DropRule(it->second, "cleared (rule changed)", events);
  }
  cr.silenced_until = silenced_until;
  cr.scope = m.ScopeOf(rule);
  uint32_t slot;
  if (!m.free_rules.empty()) {
    slot = m.free_rules.back();
    m.free_rules.pop_back();
  } else {
    slot = static_cast<uint32_t>(m.rules.size());
    m.rules.emplace_back();
  }
  m.rules[slot] = std::move(cr);
  m.rule_by_id[rule.id] = slot;
  ++m.rules_version;
  if (rule.enabled) {
    m.IndexRule(slot, true);
    if (rule.kind == ConditionKind::kSilence) m.AttachSilenceRule(slot, m.clock.NowMs(), events);
  } else {
    m.rules[slot].live = false;  // kept for its id, never evaluated
  }
  return Status::Ok();
}

Status RuleEngine::RemoveRule(Id rule_id, std::vector<AlarmEvent>* events) {
  auto it = impl_->rule_by_id.find(rule_id);
  if (it == impl_->rule_by_id.end()) return NotFound("rule " + std::to_string(rule_id));
  impl_->DropRule(it->second, "cleared (rule removed)", events);
  return Status::Ok();
}

void RuleEngine::UpsertDevice(const DeviceInfo& info, std::optional<TimeMs> last_seen_ms,
                              std::vector<AlarmEvent>* events) {
  Impl& m = *impl_;
  TimeMs now = m.clock.NowMs();
  bool created = false;
  uint32_t d = m.TouchDevice(info, now, &created, events);
  if (last_seen_ms) m.devices[d].last_seen = *last_seen_ms;
  m.AttachSilenceRulesToDevice(d, now, Trigger::kTick, events);
}

void RuleEngine::RemoveDevice(Id device_id) {
  Impl& m = *impl_;
  auto it = m.device_by_id.find(device_id);
  if (it == m.device_by_id.end()) return;
  uint32_t d = it->second;
  for (auto s = m.states.begin(); s != m.states.end();) {
    if (static_cast<uint32_t>(s->first & 0xffffffffu) == d) {
      s = m.states.erase(s);
    } else {
      ++s;
    }
  }
  m.devices[d] = DeviceSlot{};
  m.free_devices.push_back(d);
  m.device_by_id.erase(it);
}

void RuleEngine::SilenceDevice(Id org_id, Id device_id, TimeMs until_ms) {
  Impl& m = *impl_;
  auto it = m.device_by_id.find(device_id);
  uint32_t d;
  if (it == m.device_by_id.end()) {
    // Remember the silence for a device not seen yet (honoured once its info
    // shows it belongs to `org_id`).
    DeviceInfo info;
    info.id = device_id;
    info.org_id = org_id;
    bool created = false;
    std::vector<AlarmEvent> none;
    d = m.TouchDevice(info, m.clock.NowMs(), &created, &none);
  } else {
    d = it->second;
  }
  auto& silences = m.devices[d].silences;
  auto own = std::find_if(silences.begin(), silences.end(),
                          [org_id](const auto& s) { return s.first == org_id; });
  if (own == silences.end()) {
    silences.emplace_back(org_id, until_ms);
  } else {
    own->second = until_ms;
  }
  if (it == m.device_by_id.end()) return;
  TimeMs now = m.clock.NowMs();
  m.ArmHeldNow(now, [d](uint32_t, uint32_t dev) { return dev == d; });
}

Status RuleEngine::SilenceRule(Id org_id, Id rule_id, TimeMs until_ms) {
  Impl& m = *impl_;
  auto it = m.rule_by_id.find(rule_id);
  if (it == m.rule_by_id.end() || m.rules[it->second].rule.org_id != org_id) {
    return NotFound("rule " + std::to_string(rule_id));
  }
  uint32_t r = it->second;
  m.rules[r].silenced_until = until_ms;
  m.ArmHeldNow(m.clock.NowMs(), [r](uint32_t rule, uint32_t) { return rule == r; });
  return Status::Ok();
}

Status RuleEngine::RestoreActive(Id rule_id, const DeviceInfo& device, TimeMs raised_ms) {
  Impl& m = *impl_;
  auto it = m.rule_by_id.find(rule_id);
  if (it == m.rule_by_id.end() || m.rules[it->second].rule.org_id != device.org_id) {
    return NotFound("rule " + std::to_string(rule_id));
  }
  TimeMs now = m.clock.NowMs();
  bool created = false;
  std::vector<AlarmEvent> none;
  uint32_t d = m.TouchDevice(device, now, &created, &none);
  RuleState& st = m.StateFor(it->second, d);
  const CompiledRule& cr = m.rules[it->second];
  m.EndWait(cr, m.devices[d], st);
  st.active = true;
  st.held = false;
  st.last_remind = std::max(raised_ms, now);
  st.pending_since = kNone;
  if (cr.rule.remind_every_ms > 0)
    m.Arm(st, it->second, d, st.last_remind + cr.rule.remind_every_ms);
  return Status::Ok();
}

Status RuleEngine::RestorePending(Id rule_id, const DeviceInfo& device, TimeMs since) {
  Impl& m = *impl_;
  auto it = m.rule_by_id.find(rule_id);
  if (it == m.rule_by_id.end() || !m.rules[it->second].live ||
      m.rules[it->second].rule.org_id != device.org_id) {
    return NotFound("rule " + std::to_string(rule_id));
  }
  const uint32_t r = it->second;
  if (!Impl::HasWait(m.rules[r])) {
    return InvalidArgument("rule " + std::to_string(rule_id) +
                           " has no for-duration wait (no forMs, or a silence rule)");
  }
  TimeMs now = m.clock.NowMs();
  bool created = false;
  std::vector<AlarmEvent> none;
  uint32_t d = m.TouchDevice(device, now, &created, &none);
  if (!m.ScopeMatches(m.rules[r], d)) {
    return NotFound("device " + std::to_string(device.id) + " is not in the scope of rule " +
                    std::to_string(rule_id));
  }
  RuleState& st = m.StateFor(r, d);
  if (st.active) return Status::Ok();
  st.last_cond = Truth::kTrue;
  st.clear_true = false;
  st.pending_since = since;
  m.Arm(st, r, d, since + m.rules[r].rule.for_ms);
  return Status::Ok();
}

std::vector<WaitChange> RuleEngine::TakeWaitChanges() {
  std::vector<WaitChange> out;
  out.reserve(impl_->wait_changes.size());
  for (const auto& [key, since] : impl_->wait_changes) {
    WaitChange c{key.first, key.second, std::nullopt};
    if (since != kNone) c.since = since;
    out.push_back(c);
  }
  impl_->wait_changes.clear();
  return out;
}

bool RuleEngine::NamesKey(std::string_view key) const { return impl_->FindKey(key) != kNoKey; }

void RuleEngine::RestoreLatest(const DeviceInfo& device, std::span<const Reading> latest) {
  Impl& m = *impl_;
  bool created = false;
  std::vector<AlarmEvent> none;  // the device is known (UpsertDevice): nothing to report
  DeviceSlot& dev = m.devices[m.TouchDevice(device, m.clock.NowMs(), &created, &none)];
  for (const Reading& rd : latest) {
    if (rd.device_id != device.id) continue;
    const KeyId k = m.FindKey(rd.key);
    if (k != kNoKey) Impl::PutLatest(dev, k, rd, /*same_time_wins=*/false);
  }
}

void RuleEngine::OnReadings(const DeviceInfo& device, std::span<const Reading> readings,
                            std::vector<AlarmEvent>* events) {
  Impl& m = *impl_;
  TimeMs now = m.clock.NowMs();
  bool created = false;
  uint32_t d = m.TouchDevice(device, now, &created, events);
  DeviceSlot& dev = m.devices[d];
  dev.last_seen = now;
  ++m.epoch;
  m.touched.clear();
  for (const Reading& rd : readings) {
    KeyId k = m.FindKey(rd.key);
    if (k == kNoKey) continue;
    Impl::PutLatest(dev, k, rd, /*same_time_wins=*/true);
    for (const Route& route : dev.routes) {
      if (route.key != k) continue;
      for (const StateRef& ref : route.rules) {
        CompiledRule& cr = m.rules[ref.first];
        if (cr.rule.kind == ConditionKind::kRateOfChange) {
          if (const double* v = std::get_if<double>(&rd.value)) {
            Impl::AddSample(cr, *ref.second, rd.ts, *v);
          }
        }
        if (cr.touch_epoch != m.epoch) {
          cr.touch_epoch = m.epoch;
          m.touched.push_back(ref);
        }
      }
      break;
    }
  }
  for (const StateRef& ref : m.touched) {
    m.Step(ref.first, d, *ref.second, now, Trigger::kReading, events);
  }
  m.AttachSilenceRulesToDevice(d, now, Trigger::kReading, events);
}

void RuleEngine::OnTick(std::vector<AlarmEvent>* events) {
  Impl& m = *impl_;
  TimeMs now = m.clock.NowMs();
  while (!m.timers.empty() && m.timers.top().due <= now) {
    Timer t = m.timers.top();
    m.timers.pop();
    auto it = m.states.find(StateKey(t.rule, t.dev));
    if (it == m.states.end()) continue;
    RuleState& st = it->second;
    if (st.armed_due != t.due) continue;  // superseded
    st.armed_due = kNever;
    m.Step(t.rule, t.dev, st, now, Trigger::kTick, events);
  }
}

std::optional<TimeMs> RuleEngine::NextDueMs() const {
  if (impl_->timers.empty()) return std::nullopt;
  return impl_->timers.top().due;
}

bool RuleEngine::IsActive(Id rule_id, Id device_id) const {
  auto r = impl_->rule_by_id.find(rule_id);
  auto d = impl_->device_by_id.find(device_id);
  if (r == impl_->rule_by_id.end() || d == impl_->device_by_id.end()) return false;
  auto s = impl_->states.find(StateKey(r->second, d->second));
  return s != impl_->states.end() && s->second.active;
}

size_t RuleEngine::rule_count() const { return impl_->rule_by_id.size(); }
size_t RuleEngine::device_count() const { return impl_->device_by_id.size(); }

}  // namespace bysans::rules

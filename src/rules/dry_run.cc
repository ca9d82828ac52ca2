#include "rules/dry_run.h"

namespace bysans::rules {

namespace {

void Collect(const std::vector<AlarmEvent>& events, DryRunResult* out) {
  for (const auto& e : events) {
    if (e.kind == AlarmEventKind::kRaise) {
      ++out->raises;
      out->raise_ts.push_back(e.ts);
    } else if (e.kind == AlarmEventKind::kClear) {
      ++out->clears;
      out->clear_ts.push_back(e.ts);
    }
  }
}

}  // namespace

Result<DryRunResult> DryRun(const Rule& rule, const DeviceInfo& device,
                            std::span<const Reading> history, TimeMs end_ms) {
  if (device.org_id != rule.org_id)
    return NotFound("no device with id " + std::to_string(device.id));
  if (IsGatewayRule(rule)) {
    return InvalidArgument(
        "a dry run replays a device's readings; a gateway rule watches gateway events instead");
  }
  for (size_t i = 1; i < history.size(); ++i) {
    if (history[i].ts < history[i - 1].ts) {
      return InvalidArgument("history must be sorted by time (reading " + std::to_string(i) +
                             " is older than the one before)");
    }
  }
  Rule r = rule;
  r.enabled = true;
  r.remind_every_ms = 0;
  r.scope.kind = ScopeKind::kDevice;
  r.scope.id = device.id > 0 ? device.id : 1;
  r.scope.tag.clear();
  DeviceInfo dev = device;
  dev.id = r.scope.id;
  dev.in_maintenance = false;

  DryRunResult out;
  if (history.empty()) {
    BYSANS_RETURN_IF_ERROR(ValidateRule(r));
    return out;
  }
  ManualClock clock(history.front().ts);
  RuleEngine engine(clock);
  std::vector<AlarmEvent> events;
  BYSANS_RETURN_IF_ERROR(engine.UpsertRule(r, &events));
  engine.UpsertDevice(dev, history.front().ts, &events);

  // Runs every timer due up to and including `until`, each at its own time.
  auto advance = [&](TimeMs until) {
    while (true) {
      auto due = engine.NextDueMs();
      if (!due || *due > until) break;
      if (*due > clock.NowMs()) clock.Set(*due);
      engine.OnTick(&events);
    }
    if (until > clock.NowMs()) clock.Set(until);
    engine.OnTick(&events);
  };

  size_t i = 0;
  while (i < history.size() && history[i].ts <= end_ms) {
    size_t j = i;
    while (j < history.size() && history[j].ts == history[i].ts) ++j;
    advance(history[i].ts);
    engine.OnReadings(dev, history.subspan(i, j - i), &events);
    out.readings_used += j - i;
    i = j;
  }
  advance(end_ms);
  Collect(events, &out);
  out.active_at_end = engine.IsActive(r.id, dev.id);
  return out;
}

}  // namespace bysans::rules

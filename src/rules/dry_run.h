// Dry run: replays a device's stored history through a private RuleEngine
// on simulated time and reports when one rule would have raised and cleared
// ("how often would this have fired last month?"). Pure function.
#pragma once

#include <span>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "rules/engine.h"
#include "rules/rule.h"

namespace bysans::rules {

struct DryRunResult {
  int raises = 0;
  int clears = 0;
  std::vector<TimeMs> raise_ts;
  std::vector<TimeMs> clear_ts;
  bool active_at_end = false;
  size_t readings_used = 0;  // readings with a timestamp inside the range
};

// Replays `history` (readings of `device`, sorted by ts; readings sharing a
// ts count as one message) from its first reading until `end_ms`. Silence is
// measured between messages, for-duration and hysteresis as live. The rule is
// applied to the device whatever its scope; reminders, silencing and the
// device's maintenance flag are ignored. InvalidArgument for an invalid rule
// or unsorted history; NotFound for a device of another organisation than the
// rule's (device.org_id != rule.org_id).
Result<DryRunResult> DryRun(const Rule& rule, const DeviceInfo& device,
                            std::span<const Reading> history, TimeMs end_ms);

}  // namespace bysans::rules

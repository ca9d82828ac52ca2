// The for-duration waits of the SQLite RuleStore (rules.cc): table rule_waits of migration 41,
// written in the caller's transaction (WriteAlarms, UpdateRule), read by ListRuleWaits. Rows go
// with their rule or device by foreign key (ON DELETE CASCADE).
#pragma once

#include <optional>
#include <vector>

#include "core/status.h"
#include "store/rule_store.h"
#include "store/sqlite/db.h"

namespace bysans::sqlite {

// In the caller's write transaction: each change in order (a start replaces the stored wait, an
// end removes it); a wait whose rule or device is gone is skipped.
Status WriteRuleWaits(Db& db, const std::vector<RuleWaitChange>& waits);

// In the caller's write transaction: every wait of the rule removed.
Status DeleteRuleWaits(Db& db, Id rule_id);

// The waits of these devices (nullopt = all), by rule and device.
Result<std::vector<RuleWaitRecord>> ListRuleWaits(Db& db,
                                                  const std::optional<std::vector<Id>>& device_ids);

}  // namespace bysans::sqlite

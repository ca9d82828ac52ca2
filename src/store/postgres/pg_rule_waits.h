// The for-duration waits of the PostgreSQL RuleStore (pg_rule_store.cc): table rule_waits of
// migration 17 (schema_rules.cc), written in the caller's transaction (WriteAlarms, UpdateRule),
// read by ListRuleWaits. Rows go with their rule or device by foreign key (ON DELETE CASCADE).
// Folder-private (libpqxx).
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <vector>

#include "store/rule_store.h"

namespace bysans::pg {

// In the caller's transaction: the changes as if applied in order (the last change of each
// (rule, device) counts), in two statements; a wait whose rule or device is gone is skipped.
void WriteRuleWaits(pqxx::work& w, const std::vector<RuleWaitChange>& waits);

// In the caller's transaction: every wait of the rule removed.
void DeleteRuleWaits(pqxx::work& w, Id rule_id);

// The waits of these devices (nullopt = all), by rule and device.
std::vector<RuleWaitRecord> ListRuleWaits(pqxx::work& w,
                                          const std::optional<std::vector<Id>>& device_ids);

}  // namespace bysans::pg

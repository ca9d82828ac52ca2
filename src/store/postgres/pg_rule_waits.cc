#include "store/postgres/pg_rule_waits.h"

#include <map>
#include <utility>

#include "store/postgres/sql_text.h"

namespace bysans::pg {

void WriteRuleWaits(pqxx::work& w, const std::vector<RuleWaitChange>& waits) {
  if (waits.empty()) return;
  std::map<std::pair<Id, Id>, std::optional<TimeMs>> last;
  for (const RuleWaitChange& c : waits) last[{c.rule_id, c.device_id}] = c.since_ms;
  std::vector<int64_t> end_rules, end_devices, rules, devices, since;
  for (const auto& [key, s] : last) {
    if (!s) {
      end_rules.push_back(key.first);
      end_devices.push_back(key.second);
      continue;
    }
    rules.push_back(key.first);
    devices.push_back(key.second);
    since.push_back(*s);
  }
  if (!end_rules.empty()) {
    w.exec_params(
        "DELETE FROM rule_waits USING unnest($1::bigint[], $2::bigint[]) AS t(r, d) "
        "WHERE rule_id = t.r AND device_id = t.d",
        IntArray(end_rules), IntArray(end_devices));
  }
  if (!rules.empty()) {
    // The rule and the device are locked (as the foreign keys' checks would) and skipped when
    // gone: a rule or device deleted while the rules thread evaluated it must not fail the
    // alarms written in this transaction.
    w.exec_params(
        "INSERT INTO rule_waits (rule_id, device_id, since_ms) "
        "SELECT t.r, t.d, t.s FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS t(r, d, s) "
        "WHERE EXISTS (SELECT 1 FROM rules WHERE id = t.r FOR KEY SHARE) "
        "AND EXISTS (SELECT 1 FROM devices WHERE id = t.d FOR KEY SHARE) "
        "ON CONFLICT (rule_id, device_id) DO UPDATE SET since_ms = excluded.since_ms",
        IntArray(rules), IntArray(devices), IntArray(since));
  }
}

void DeleteRuleWaits(pqxx::work& w, Id rule_id) {
  w.exec_params("DELETE FROM rule_waits WHERE rule_id = $1", rule_id);
}

std::vector<RuleWaitRecord> ListRuleWaits(pqxx::work& w,
                                          const std::optional<std::vector<Id>>& device_ids) {
  std::vector<int64_t> ids;
  if (device_ids) ids.assign(device_ids->begin(), device_ids->end());
  std::vector<RuleWaitRecord> out;
  for (const auto& row : w.exec_params(
           "SELECT rule_id, device_id, since_ms FROM rule_waits "
           "WHERE $1 = false OR device_id = ANY ($2::bigint[]) ORDER BY rule_id, device_id",
           device_ids.has_value(), IntArray(ids)))
    out.push_back({row[0].as<Id>(), row[1].as<Id>(), row[2].as<TimeMs>()});
  return out;
}

}  // namespace bysans::pg

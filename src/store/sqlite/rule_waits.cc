#include "store/sqlite/rule_waits.h"

#include <nlohmann/json.hpp>
#include <string>

namespace bysans::sqlite {

Status WriteRuleWaits(Db& db, const std::vector<RuleWaitChange>& waits) {
  for (const RuleWaitChange& w : waits) {
    if (!w.since_ms) {
      BYSANS_ASSIGN_OR_RETURN(auto q,
                              db.Prepare("DELETE FROM rule_waits WHERE rule_id=? AND device_id=?"));
      BYSANS_RETURN_IF_ERROR(q->Bind(1, w.rule_id).Bind(2, w.device_id).Run());
      continue;
    }
    // Checked here rather than refused by the foreign keys: a rule or device deleted while
    // the rules thread evaluated it must not fail the alarms written with the wait.
    BYSANS_ASSIGN_OR_RETURN(
        auto q,
        db.Prepare("INSERT INTO rule_waits(rule_id, device_id, since_ms) "
                   "SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM rules WHERE id=?1) "
                   "AND EXISTS (SELECT 1 FROM devices WHERE id=?2) "
                   "ON CONFLICT(rule_id, device_id) DO UPDATE SET since_ms=excluded.since_ms"));
    BYSANS_RETURN_IF_ERROR(q->Bind(1, w.rule_id).Bind(2, w.device_id).Bind(3, *w.since_ms).Run());
  }
  return Status::Ok();
}

Status DeleteRuleWaits(Db& db, Id rule_id) {
  BYSANS_ASSIGN_OR_RETURN(auto q, db.Prepare("DELETE FROM rule_waits WHERE rule_id=?"));
  return q->Bind(1, rule_id).Run();
}

Result<std::vector<RuleWaitRecord>> ListRuleWaits(
    Db& db, const std::optional<std::vector<Id>>& device_ids) {
  BYSANS_ASSIGN_OR_RETURN(
      auto q, db.Prepare("SELECT rule_id, device_id, since_ms FROM rule_waits WHERE ?1 IS NULL "
                         "OR device_id IN (SELECT value FROM json_each(?1)) "
                         "ORDER BY rule_id, device_id"));
  if (device_ids) q->Bind(1, nlohmann::json(*device_ids).dump());
  std::vector<RuleWaitRecord> out;
  while (q->Step()) out.push_back({q->Int(0), q->Int(1), q->Int(2)});
  BYSANS_RETURN_IF_ERROR(q->status());
  return out;
}

}  // namespace bysans::sqlite

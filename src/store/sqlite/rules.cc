// SqliteRuleStore: rules, alarms, silences, outbox and delivery log in the
// same SQLite file as everything else (migration 3).
#include <algorithm>
#include <atomic>
#include <mutex>

#include "store/rule_store.h"
#include "store/sqlite/rule_waits.h"
#include "store/sqlite/statements.h"
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

int64_t ClampLimit(int64_t l) { return std::clamp<int64_t>(l, 1, 10000); }

RuleRecord RuleFrom(const Stmt& s) {
  RuleRecord r;
  r.id = s.Int(0);
  r.org_id = s.Int(1);
  r.enabled = s.Int(2) != 0;
  r.definition = s.Text(3);
  r.created_ms = s.Int(4);
  r.updated_ms = s.Int(5);
  return r;
}
constexpr const char* kRuleCols = "id, org_id, enabled, definition, created_ms, updated_ms";

AlarmRecord AlarmFrom(const Stmt& s) {
  AlarmRecord a;
  a.id = s.Int(0);
  a.org_id = s.Int(1);
  a.rule_id = s.Int(2);
  a.device_id = s.Int(3);
  a.state = s.Text(4);
  a.raised_ms = s.Int(5);
  a.doc = s.Text(6);
  a.awaiting_ack = s.Int(7) != 0;
  a.gateway_id = s.Text(8);
  return a;
}
constexpr const char* kAlarmCols =
    "id, org_id, rule_id, device_id, state, raised_ms, doc, awaiting_ack, gateway_id";

SilenceRecord SilenceFrom(const Stmt& q) {
  SilenceRecord s;
  s.id = q.Int(0);
  s.org_id = q.Int(1);
  if (!q.IsNull(2)) s.device_id = q.Int(2);
  if (!q.IsNull(3)) s.rule_id = q.Int(3);
  s.until_ms = q.Int(4);
  s.created_by = q.Text(5);
  s.created_ms = q.Int(6);
  return s;
}

OutboxEntry OutboxFrom(const Stmt& s) {
  OutboxEntry e;
  e.id = s.Int(0);
  e.org_id = s.Int(1);
  e.rule_id = s.Int(2);
  e.alarm_id = s.Int(3);
  e.event = s.Text(4);
  e.target_key = s.Text(5);
  e.spec = s.Text(6);
  e.payload = s.Text(7);
  e.state = s.Text(8);
  e.attempts = static_cast<int>(s.Int(9));
  e.next_attempt_ms = s.Int(10);
  e.last_error = s.Text(11);
  e.created_ms = s.Int(12);
  return e;
}

class SqliteRuleStore final : public RuleStore {
 public:
  explicit SqliteRuleStore(Pool& pool) : pool_(pool) {}

  Result<RuleRecord> CreateRule(RuleRecord r) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("INSERT INTO rules(org_id, enabled, definition, "
                                                "created_ms, updated_ms) VALUES(?,?,?,?,?)"));
    BYSANS_RETURN_IF_ERROR(q->Bind(1, r.org_id)
                               .Bind(2, r.enabled)
                               .Bind(3, r.definition)
                               .Bind(4, r.created_ms)
                               .Bind(5, r.updated_ms)
                               .Run());
    r.id = db->LastInsertId();
    Notify({RuleStoreChange::Kind::kRuleUpserted, r.id});
    return r;
  }

  Result<RuleRecord> GetRule(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    return GetOne<RuleRecord>(*db, std::string("SELECT ") + kRuleCols + " FROM rules WHERE id=?",
                              RuleFrom, "rule " + std::to_string(id), id);
  }

  Result<Paged<RuleRecord>> ListRules(Id org_id, Page page) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Paged<RuleRecord> out;
    {
      BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT count(*) FROM rules WHERE org_id=?"));
      q->Bind(1, org_id);
      if (q->Step()) out.total = q->Int(0);
      BYSANS_RETURN_IF_ERROR(q->status());
    }
    BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare(std::string("SELECT ") + kRuleCols +
                                                " FROM rules WHERE org_id=? ORDER BY id "
                                                "LIMIT ? OFFSET ?"));
    q->Bind(1, org_id).Bind(2, ClampLimit(page.limit)).Bind(3, std::max<int64_t>(0, page.offset));
    while (q->Step()) out.items.push_back(RuleFrom(*q));
    BYSANS_RETURN_IF_ERROR(q->status());
    return out;
  }

  Result<std::vector<RuleRecord>> ListAllRules() override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto q, db->Prepare(std::string("SELECT ") + kRuleCols + " FROM rules ORDER BY id"));
    std::vector<RuleRecord> out;
    while (q->Step()) out.push_back(RuleFrom(*q));
    BYSANS_RETURN_IF_ERROR(q->status());
    return out;
  }

  Status UpdateRule(const RuleRecord& r) override {
    {
      BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
      Txn txn(*db, true);
      BYSANS_RETURN_IF_ERROR(txn.begin_status());
      {
        BYSANS_ASSIGN_OR_RETURN(
            auto q,
            db->Prepare("UPDATE rules SET enabled=?, definition=?, updated_ms=? WHERE id=?"));
        BYSANS_RETURN_IF_ERROR(
            q->Bind(1, r.enabled).Bind(2, r.definition).Bind(3, r.updated_ms).Bind(4, r.id).Run());
        if (db->Changes() == 0) return NotFound("rule " + std::to_string(r.id) + " not found");
      }
      BYSANS_RETURN_IF_ERROR(DeleteRuleWaits(*db, r.id));  // the engine starts the rule afresh
      BYSANS_RETURN_IF_ERROR(txn.Commit());
    }
    Notify({RuleStoreChange::Kind::kRuleUpserted, r.id});
    return Status::Ok();
  }

  Status DeleteRule(Id id) override {
    {
      BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
      Txn txn(*db, true);
      BYSANS_RETURN_IF_ERROR(txn.begin_status());
      {
        BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("DELETE FROM rules WHERE id=?"));
        BYSANS_RETURN_IF_ERROR(q->Bind(1, id).Run());
        if (db->Changes() == 0) return NotFound("rule " + std::to_string(id) + " not found");
      }
      {  // a silence never outlives its rule
        BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("DELETE FROM silences WHERE rule_id=?"));
        BYSANS_RETURN_IF_ERROR(q->Bind(1, id).Run());
      }
      BYSANS_RETURN_IF_ERROR(DeleteRuleWaits(*db, id));  // also by foreign key
      BYSANS_RETURN_IF_ERROR(txn.Commit());
    }
    Notify({RuleStoreChange::Kind::kRuleDeleted, id});
    return Status::Ok();
  }

  // In the caller's transaction: inserts `a` (its id filled in) and its outbox entries.
  Status InsertAlarm(Db& db, AlarmRecord& a, std::vector<OutboxEntry>* outbox) {
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto q, db.Prepare("INSERT INTO alarms(org_id, rule_id, device_id, state, raised_ms, "
                             "doc, awaiting_ack, gateway_id) VALUES(?,?,?,?,?,?,?,?)"));
      BYSANS_RETURN_IF_ERROR(q->Bind(1, a.org_id)
                                 .Bind(2, a.rule_id)
                                 .Bind(3, a.device_id)
                                 .Bind(4, a.state)
                                 .Bind(5, a.raised_ms)
                                 .Bind(6, a.doc)
                                 .Bind(7, a.awaiting_ack)
                                 .Bind(8, a.gateway_id)
                                 .Run());
      a.id = db.LastInsertId();
    }
    if (outbox) {
      for (auto& e : *outbox) e.alarm_id = a.id;
      BYSANS_RETURN_IF_ERROR(InsertOutbox(db, *outbox));
    }
    return Status::Ok();
  }

  // In the caller's transaction: saves `a` and adds its outbox entries; kNotFound (nothing
  // written) when the alarm is gone.
  Status SaveAlarm(Db& db, const AlarmRecord& a, std::vector<OutboxEntry>* outbox) {
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto q, db.Prepare("UPDATE alarms SET state=?, doc=?, awaiting_ack=? WHERE id=?"));
      BYSANS_RETURN_IF_ERROR(
          q->Bind(1, a.state).Bind(2, a.doc).Bind(3, a.awaiting_ack).Bind(4, a.id).Run());
      if (db.Changes() == 0) return NotFound("alarm " + std::to_string(a.id) + " not found");
    }
    if (outbox) {
      for (auto& e : *outbox) e.alarm_id = a.id;
      BYSANS_RETURN_IF_ERROR(InsertOutbox(db, *outbox));
    }
    return Status::Ok();
  }

  Result<AlarmRecord> CreateAlarm(AlarmRecord a, std::vector<OutboxEntry>* outbox) override {
    {
      BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
      Txn txn(*db, true);
      BYSANS_RETURN_IF_ERROR(txn.begin_status());
      BYSANS_RETURN_IF_ERROR(InsertAlarm(*db, a, outbox));
      BYSANS_RETURN_IF_ERROR(txn.Commit());
    }
    Notify({RuleStoreChange::Kind::kAlarmCreated, a.id, &a});
    return a;
  }

  Status UpdateAlarm(const AlarmRecord& a, std::vector<OutboxEntry>* outbox) override {
    {
      BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
      Txn txn(*db, true);
      BYSANS_RETURN_IF_ERROR(txn.begin_status());
      BYSANS_RETURN_IF_ERROR(SaveAlarm(*db, a, outbox));
      BYSANS_RETURN_IF_ERROR(txn.Commit());
    }
    Notify({RuleStoreChange::Kind::kAlarmUpdated, a.id, &a});
    return Status::Ok();
  }

  // WriteAlarms' transaction; on an error nothing is committed (ids may have been filled in).
  Status WriteAlarmsTxn(std::vector<AlarmWrite>& writes, const std::vector<RuleWaitChange>& waits) {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    for (AlarmWrite& w : writes) {
      w.status = w.alarm.id == 0 ? InsertAlarm(*db, w.alarm, &w.outbox)
                                 : SaveAlarm(*db, w.alarm, &w.outbox);
      if (!w.status.ok() && w.status.code() != Code::kNotFound) return w.status;
    }
    BYSANS_RETURN_IF_ERROR(WriteRuleWaits(*db, waits));
    return txn.Commit();
  }

  using RuleStore::WriteAlarms;
  Status WriteAlarms(std::vector<AlarmWrite>& writes,
                     const std::vector<RuleWaitChange>& waits) override {
    if (writes.empty() && waits.empty()) return Status::Ok();
    std::vector<bool> created(writes.size());
    for (size_t i = 0; i < writes.size(); ++i) created[i] = writes[i].alarm.id == 0;
    Status st = WriteAlarmsTxn(writes, waits);
    if (!st.ok()) {
      // Rolled back: the batch goes back to how the caller gave it, so it can be written again.
      for (size_t i = 0; i < writes.size(); ++i) {
        AlarmWrite& w = writes[i];
        if (created[i]) w.alarm.id = 0;
        for (OutboxEntry& e : w.outbox) {
          e.id = 0;
          if (created[i]) e.alarm_id = 0;
        }
        w.status = Status::Ok();
      }
      return st;
    }
    for (size_t i = 0; i < writes.size(); ++i) {
      if (!writes[i].status.ok()) continue;
      Notify(
          {created[i] ? RuleStoreChange::Kind::kAlarmCreated : RuleStoreChange::Kind::kAlarmUpdated,
           writes[i].alarm.id, &writes[i].alarm});
    }
    return Status::Ok();
  }

  Result<std::vector<RuleWaitRecord>> ListRuleWaits(
      const std::optional<std::vector<Id>>& device_ids) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    return sqlite::ListRuleWaits(*db, device_ids);
  }

  Result<AlarmRecord> GetAlarm(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    return GetOne<AlarmRecord>(*db, std::string("SELECT ") + kAlarmCols + " FROM alarms WHERE id=?",
                               AlarmFrom, "alarm " + std::to_string(id), id);
  }

  Result<AlarmRecord> FindOpenAlarm(Id rule_id, Id device_id) override {
    return OpenAlarm("device_id", rule_id, device_id);
  }

  Result<AlarmRecord> FindOpenGatewayAlarm(Id rule_id, const std::string& gateway_id) override {
    if (gateway_id.empty()) return NotFound("no open alarm");
    return OpenAlarm("gateway_id", rule_id, gateway_id);
  }

  Result<Paged<AlarmRecord>> ListAlarms(const AlarmFilter& f, Page page) override {
    std::string where = " WHERE 1=1";
    if (f.org_id) where += " AND org_id=" + std::to_string(*f.org_id);
    if (f.device_id) where += " AND device_id=" + std::to_string(*f.device_id);
    if (f.app_ids) {
      std::string ids;
      for (Id a : *f.app_ids) ids += (ids.empty() ? "" : ",") + std::to_string(a);
      where += " AND gateway_id='' AND device_id IN (SELECT id FROM devices WHERE app_id IN (" +
               ids + "))";
    }
    std::vector<std::string> binds;  // in the order of the ?s below
    if (f.gateway_id) {
      where += " AND gateway_id=?";
      binds.push_back(*f.gateway_id);
    }
    const std::vector<std::string> none;
    const std::vector<std::string>& states = f.open ? none : f.states;
    if (f.open) {
      where += " AND (state<>'cleared' OR awaiting_ack=1)";
    } else if (f.awaiting_ack) {
      where += *f.awaiting_ack ? " AND awaiting_ack=1" : " AND awaiting_ack=0";
    }
    if (!states.empty()) {
      where += " AND state IN (";
      for (size_t i = 0; i < states.size(); ++i) where += i ? ",?" : "?";
      where += ")";
      binds.insert(binds.end(), states.begin(), states.end());
    }
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Paged<AlarmRecord> out;
    {
      BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT count(*) FROM alarms" + where));
      for (size_t i = 0; i < binds.size(); ++i) q->Bind(static_cast<int>(i) + 1, binds[i]);
      if (q->Step()) out.total = q->Int(0);
      BYSANS_RETURN_IF_ERROR(q->status());
    }
    BYSANS_ASSIGN_OR_RETURN(
        auto q, db->Prepare(std::string("SELECT ") + kAlarmCols + " FROM alarms" + where +
                            " ORDER BY id DESC LIMIT ? OFFSET ?"));
    int n = static_cast<int>(binds.size());
    for (int i = 0; i < n; ++i) q->Bind(i + 1, binds[static_cast<size_t>(i)]);
    q->Bind(n + 1, ClampLimit(page.limit)).Bind(n + 2, std::max<int64_t>(0, page.offset));
    while (q->Step()) out.items.push_back(AlarmFrom(*q));
    BYSANS_RETURN_IF_ERROR(q->status());
    return out;
  }

  Result<SilenceRecord> CreateSilence(SilenceRecord s) override {
    {
      BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
      BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("INSERT INTO silences(org_id, device_id, "
                                                  "rule_id, until_ms, created_by, created_ms) "
                                                  "VALUES(?,?,?,?,?,?)"));
      q->Bind(1, s.org_id);
      if (s.device_id) q->Bind(2, *s.device_id);
      if (s.rule_id) q->Bind(3, *s.rule_id);
      BYSANS_RETURN_IF_ERROR(
          q->Bind(4, s.until_ms).Bind(5, s.created_by).Bind(6, s.created_ms).Run());
      s.id = db->LastInsertId();
    }
    Notify({RuleStoreChange::Kind::kSilenceAdded, s.id});
    return s;
  }

  Result<SilenceRecord> GetSilence(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    return GetOne<SilenceRecord>(*db,
                                 "SELECT id, org_id, device_id, rule_id, until_ms, created_by, "
                                 "created_ms FROM silences WHERE id=?",
                                 SilenceFrom, "silence " + std::to_string(id), id);
  }

  Status DeleteSilence(Id id) override {
    {
      BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
      BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare("DELETE FROM silences WHERE id=?"));
      BYSANS_RETURN_IF_ERROR(q->Bind(1, id).Run());
      if (db->Changes() == 0) return NotFound("silence " + std::to_string(id) + " not found");
    }
    Notify({RuleStoreChange::Kind::kSilenceDeleted, id});
    return Status::Ok();
  }

  Result<std::vector<SilenceRecord>> ListSilences(std::optional<Id> org_id, TimeMs now) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    std::string sql =
        "SELECT id, org_id, device_id, rule_id, until_ms, created_by, created_ms FROM silences "
        "WHERE until_ms > ?";
    if (org_id) sql += " AND org_id=" + std::to_string(*org_id);
    BYSANS_ASSIGN_OR_RETURN(auto q, db->Prepare(sql + " ORDER BY id"));
    q->Bind(1, now);
    std::vector<SilenceRecord> out;
    while (q->Step()) out.push_back(SilenceFrom(*q));
    BYSANS_RETURN_IF_ERROR(q->status());
    return out;
  }

  Result<std::vector<OutboxEntry>> ListPendingOutbox(int64_t limit) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(
        auto q, db->Prepare("SELECT id, org_id, rule_id, alarm_id, event, target_key, spec, "
                            "payload, state, attempts, next_attempt_ms, last_error, created_ms "
                            "FROM outbox WHERE state='pending' ORDER BY id LIMIT ?"));
    q->Bind(1, ClampLimit(limit));
    std::vector<OutboxEntry> out;
    while (q->Step()) out.push_back(OutboxFrom(*q));
    BYSANS_RETURN_IF_ERROR(q->status());
    return out;
  }

  // One writer at a time (an IMMEDIATE transaction): the selection and its claim are one step.
  Result<std::vector<OutboxEntry>> ClaimDueOutbox(int64_t limit, TimeMs now,
                                                  TimeMs lease_ms) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    std::vector<OutboxEntry> out;
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto q, db->Prepare("SELECT id, org_id, rule_id, alarm_id, event, target_key, spec, "
                              "payload, state, attempts, next_attempt_ms, last_error, created_ms "
                              "FROM outbox WHERE state='pending' AND next_attempt_ms<=? AND "
                              "claimed_until<=? ORDER BY id LIMIT ?"));
      q->Bind(1, now).Bind(2, now).Bind(3, ClampLimit(limit));
      while (q->Step()) out.push_back(OutboxFrom(*q));
      BYSANS_RETURN_IF_ERROR(q->status());
    }
    if (out.empty()) return out;
    std::string ids;
    for (const OutboxEntry& e : out) ids += (ids.empty() ? "" : ",") + std::to_string(e.id);
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto q, db->Prepare("UPDATE outbox SET claimed_until=? WHERE id IN (" + ids + ")"));
      BYSANS_RETURN_IF_ERROR(q->Bind(1, now + std::max<TimeMs>(1, lease_ms)).Run());
    }
    BYSANS_RETURN_IF_ERROR(txn.Commit());
    return out;
  }

  Status ExtendOutboxClaims(const std::vector<Id>& ids, TimeMs now, TimeMs lease_ms) override {
    if (ids.empty()) return Status::Ok();
    std::string list;
    for (Id id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    BYSANS_ASSIGN_OR_RETURN(auto q,
                            db->Prepare("UPDATE outbox SET claimed_until=? WHERE id IN (" + list +
                                        ") AND state='pending' AND claimed_until>?"));
    return q->Bind(1, now + std::max<TimeMs>(0, lease_ms)).Bind(2, now).Run();
  }

  void SetOutboxWriteLease(TimeMs lease_ms) override {
    write_lease_ms_ = std::max<TimeMs>(0, lease_ms);
  }

  Status RecordAttempt(const OutboxEntry& e, DeliveryLogEntry log) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Txn txn(*db, true);
    BYSANS_RETURN_IF_ERROR(txn.begin_status());
    {
      BYSANS_ASSIGN_OR_RETURN(auto q,
                              db->Prepare("UPDATE outbox SET state=?, attempts=?, "
                                          "next_attempt_ms=?, last_error=?, claimed_until=0 "
                                          "WHERE id=?"));
      BYSANS_RETURN_IF_ERROR(q->Bind(1, e.state)
                                 .Bind(2, e.attempts)
                                 .Bind(3, e.next_attempt_ms)
                                 .Bind(4, e.last_error)
                                 .Bind(5, e.id)
                                 .Run());
    }
    {
      BYSANS_ASSIGN_OR_RETURN(
          auto q, db->Prepare("INSERT INTO delivery_log(org_id, outbox_id, rule_id, alarm_id, "
                              "target_key, action_type, attempt, ts, ok, error) "
                              "VALUES(?,?,?,?,?,?,?,?,?,?)"));
      BYSANS_RETURN_IF_ERROR(q->Bind(1, log.org_id)
                                 .Bind(2, log.outbox_id)
                                 .Bind(3, log.rule_id)
                                 .Bind(4, log.alarm_id)
                                 .Bind(5, log.target_key)
                                 .Bind(6, log.action_type)
                                 .Bind(7, log.attempt)
                                 .Bind(8, log.ts)
                                 .Bind(9, log.ok)
                                 .Bind(10, log.error)
                                 .Run());
    }
    return txn.Commit();
  }

  Result<Paged<DeliveryLogEntry>> ListDeliveryLog(Id org_id, Page page) override {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    Paged<DeliveryLogEntry> out;
    {
      BYSANS_ASSIGN_OR_RETURN(auto q,
                              db->Prepare("SELECT count(*) FROM delivery_log WHERE org_id=?"));
      q->Bind(1, org_id);
      if (q->Step()) out.total = q->Int(0);
      BYSANS_RETURN_IF_ERROR(q->status());
    }
    BYSANS_ASSIGN_OR_RETURN(
        auto q, db->Prepare("SELECT id, org_id, outbox_id, rule_id, alarm_id, target_key, "
                            "action_type, attempt, ts, ok, error FROM delivery_log WHERE "
                            "org_id=? ORDER BY id DESC LIMIT ? OFFSET ?"));
    q->Bind(1, org_id).Bind(2, ClampLimit(page.limit)).Bind(3, std::max<int64_t>(0, page.offset));
    while (q->Step()) {
      DeliveryLogEntry l;
      l.id = q->Int(0);
      l.org_id = q->Int(1);
      l.outbox_id = q->Int(2);
      l.rule_id = q->Int(3);
      l.alarm_id = q->Int(4);
      l.target_key = q->Text(5);
      l.action_type = q->Text(6);
      l.attempt = static_cast<int>(q->Int(7));
      l.ts = q->Int(8);
      l.ok = q->Int(9) != 0;
      l.error = q->Text(10);
      out.items.push_back(std::move(l));
    }
    BYSANS_RETURN_IF_ERROR(q->status());
    return out;
  }

  void AddListener(std::function<void(const RuleStoreChange&)> listener) override {
    std::lock_guard lk(mu_);
    listeners_.push_back(std::move(listener));
  }

 private:
  // The newest alarm of rule `rule_id` whose `column` (device_id or gateway_id) is `value` and
  // that is not cleared.
  template <typename V>
  Result<AlarmRecord> OpenAlarm(const char* column, Id rule_id, const V& value) {
    BYSANS_ASSIGN_OR_RETURN(auto db, pool_.Acquire());
    return FirstRow<AlarmRecord>(*db,
                                 std::string("SELECT ") + kAlarmCols +
                                     " FROM alarms WHERE rule_id=? AND " + column +
                                     "=? AND state!='cleared' ORDER BY id DESC LIMIT 1",
                                 AlarmFrom, "no open alarm", rule_id, value);
  }

  // Claimed by their writer until created_ms + the write lease (RuleStore::SetOutboxWriteLease).
  Status InsertOutbox(Db& db, std::vector<OutboxEntry>& outbox) {
    const TimeMs lease = write_lease_ms_;
    for (auto& e : outbox) {
      BYSANS_ASSIGN_OR_RETURN(
          auto q, db.Prepare("INSERT INTO outbox(org_id, rule_id, alarm_id, event, target_key, "
                             "spec, payload, state, attempts, next_attempt_ms, last_error, "
                             "created_ms, claimed_until) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)"));
      BYSANS_RETURN_IF_ERROR(q->Bind(1, e.org_id)
                                 .Bind(2, e.rule_id)
                                 .Bind(3, e.alarm_id)
                                 .Bind(4, e.event)
                                 .Bind(5, e.target_key)
                                 .Bind(6, e.spec)
                                 .Bind(7, e.payload)
                                 .Bind(8, e.state)
                                 .Bind(9, e.attempts)
                                 .Bind(10, e.next_attempt_ms)
                                 .Bind(11, e.last_error)
                                 .Bind(12, e.created_ms)
                                 .Bind(13, lease > 0 ? e.created_ms + lease : TimeMs{0})
                                 .Run());
      e.id = db.LastInsertId();
    }
    return Status::Ok();
  }

  void Notify(const RuleStoreChange& c) {
    std::vector<std::function<void(const RuleStoreChange&)>> ls;
    {
      std::lock_guard lk(mu_);
      ls = listeners_;
    }
    for (auto& l : ls) l(c);
  }

  Pool& pool_;
  std::atomic<TimeMs> write_lease_ms_{0};
  std::mutex mu_;
  std::vector<std::function<void(const RuleStoreChange&)>> listeners_;
};

}  // namespace

std::unique_ptr<RuleStore> NewSqliteRuleStore(Pool& pool) {
  return std::make_unique<SqliteRuleStore>(pool);
}

}  // namespace bysans::sqlite

// RuleStore on PostgreSQL (pg_rule_store.h). Ids come from identity columns, so they are never
// reused (RuleStore::DeleteRule's contract). Every change that calls the listeners also sends a
// change notification in its transaction (change_feed.h): the other nodes' PostgresStores call
// their listeners with it (NotifyListeners).
#include "store/postgres/pg_rule_store.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "store/node_leases.h"
#include "store/postgres/change_feed.h"
#include "store/postgres/pg_rule_waits.h"
#include "store/postgres/pool.h"
#include "store/postgres/sql_text.h"

namespace bysans {
namespace {

int64_t ClampLimit(int64_t l) { return std::clamp<int64_t>(l, 1, 10000); }
int64_t ClampOffset(int64_t o) { return std::max<int64_t>(0, o); }

constexpr char kRuleCols[] = "id, org_id, enabled, definition, created_ms, updated_ms";
RuleRecord RuleFrom(const pqxx::row& r) {
  RuleRecord x;
  x.id = r[0].as<Id>();
  x.org_id = r[1].as<Id>();
  x.enabled = r[2].as<bool>();
  x.definition = r[3].as<std::string>();
  x.created_ms = r[4].as<TimeMs>();
  x.updated_ms = r[5].as<TimeMs>();
  return x;
}

constexpr char kAlarmCols[] =
    "id, org_id, rule_id, device_id, state, raised_ms, doc, awaiting_ack, gateway_id";
AlarmRecord AlarmFrom(const pqxx::row& r) {
  AlarmRecord a;
  a.id = r[0].as<Id>();
  a.org_id = r[1].as<Id>();
  a.rule_id = r[2].as<Id>();
  a.device_id = r[3].as<Id>();
  a.state = r[4].as<std::string>();
  a.raised_ms = r[5].as<TimeMs>();
  a.doc = r[6].as<std::string>();
  a.awaiting_ack = r[7].as<bool>();
  a.gateway_id = r[8].as<std::string>();
  return a;
}

constexpr char kSilenceCols[] = "id, org_id, device_id, rule_id, until_ms, created_by, created_ms";
SilenceRecord SilenceFrom(const pqxx::row& r) {
  SilenceRecord s;
  s.id = r[0].as<Id>();
  s.org_id = r[1].as<Id>();
  if (!r[2].is_null()) s.device_id = r[2].as<Id>();
  if (!r[3].is_null()) s.rule_id = r[3].as<Id>();
  s.until_ms = r[4].as<TimeMs>();
  s.created_by = r[5].as<std::string>();
  s.created_ms = r[6].as<TimeMs>();
  return s;
}

constexpr char kOutboxCols[] =
    "id, org_id, rule_id, alarm_id, event, target_key, spec, payload, state, attempts, "
    "next_attempt_ms, last_error, created_ms";
OutboxEntry OutboxFrom(const pqxx::row& r) {
  OutboxEntry e;
  e.id = r[0].as<Id>();
  e.org_id = r[1].as<Id>();
  e.rule_id = r[2].as<Id>();
  e.alarm_id = r[3].as<Id>();
  e.event = r[4].as<std::string>();
  e.target_key = r[5].as<std::string>();
  e.spec = r[6].as<std::string>();
  e.payload = r[7].as<std::string>();
  e.state = r[8].as<std::string>();
  e.attempts = r[9].as<int>();
  e.next_attempt_ms = r[10].as<TimeMs>();
  e.last_error = r[11].as<std::string>();
  e.created_ms = r[12].as<TimeMs>();
  return e;
}

DeliveryLogEntry DeliveryFrom(const pqxx::row& r) {
  DeliveryLogEntry l;
  l.id = r[0].as<Id>();
  l.org_id = r[1].as<Id>();
  l.outbox_id = r[2].as<Id>();
  l.rule_id = r[3].as<Id>();
  l.alarm_id = r[4].as<Id>();
  l.target_key = r[5].as<std::string>();
  l.action_type = r[6].as<std::string>();
  l.attempt = r[7].as<int>();
  l.ts = r[8].as<TimeMs>();
  l.ok = r[9].as<bool>();
  l.error = r[10].as<std::string>();
  return l;
}

// ListAlarms' filter as one fixed WHERE clause of parameters $1..$11 (a filter not given is
// switched off by its flag; PostgreSQL plans each call with its values, so the switched-off parts
// fold away).
constexpr char kAlarmWhere[] =
    " WHERE ($1 = false OR org_id = $2) AND ($3 = false OR device_id = $4)"
    " AND ($5 = false OR (gateway_id = '' AND device_id IN"
    " (SELECT id FROM devices WHERE app_id = ANY($6::bigint[]))))"
    " AND ($7 = false OR gateway_id = $8)"
    " AND ($9 = 0 OR ($9 = 1 AND (state <> 'cleared' OR awaiting_ack))"
    " OR ($9 = 2 AND awaiting_ack) OR ($9 = 3 AND NOT awaiting_ack))"
    " AND (cardinality($10::text[]) = 0 OR state = ANY($10::text[]))";

class PgRuleStore final : public PostgresRuleStore {
 public:
  explicit PgRuleStore(pg::Pool& pool) : pool_(pool) {}

  Result<RuleRecord> CreateRule(RuleRecord r) override {
    BYSANS_ASSIGN_OR_RETURN(
        r.id, pool_.Transact<Result<Id>>("CreateRule", [&](pqxx::work& w) -> Result<Id> {
          const Id id = w.exec_params1(
                             "INSERT INTO rules (org_id, enabled, definition, created_ms, "
                             "updated_ms) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                             r.org_id, r.enabled, r.definition, r.created_ms, r.updated_ms)[0]
                            .as<Id>();
          pg::NotifyChange(w, pool_, pg::change::kRuleUpserted, id);
          return id;
        }));
    Notify({RuleStoreChange::Kind::kRuleUpserted, r.id});
    return r;
  }

  Result<RuleRecord> GetRule(Id id) override {
    return pool_.Transact<Result<RuleRecord>>("GetRule", [&](pqxx::work& w) -> Result<RuleRecord> {
      pqxx::result r =
          w.exec_params(std::string("SELECT ") + kRuleCols + " FROM rules WHERE id = $1", id);
      if (r.empty()) return NotFound("rule " + std::to_string(id) + " not found");
      return RuleFrom(r[0]);
    });
  }

  Result<Paged<RuleRecord>> ListRules(Id org_id, Page page) override {
    return pool_.Transact<Result<Paged<RuleRecord>>>(
        "ListRules", [&](pqxx::work& w) -> Result<Paged<RuleRecord>> {
          Paged<RuleRecord> out;
          out.total = w.exec_params1("SELECT count(*) FROM rules WHERE org_id = $1", org_id)[0]
                          .as<int64_t>();
          for (const auto& row :
               w.exec_params(std::string("SELECT ") + kRuleCols +
                                 " FROM rules WHERE org_id = $1 ORDER BY id LIMIT $2 OFFSET $3",
                             org_id, ClampLimit(page.limit), ClampOffset(page.offset)))
            out.items.push_back(RuleFrom(row));
          return out;
        });
  }

  Result<std::vector<RuleRecord>> ListAllRules() override {
    return pool_.Transact<Result<std::vector<RuleRecord>>>(
        "ListAllRules", [&](pqxx::work& w) -> Result<std::vector<RuleRecord>> {
          std::vector<RuleRecord> out;
          for (const auto& row :
               w.exec(std::string("SELECT ") + kRuleCols + " FROM rules ORDER BY id"))
            out.push_back(RuleFrom(row));
          return out;
        });
  }

  Status UpdateRule(const RuleRecord& r) override {
    BYSANS_RETURN_IF_ERROR(pool_.Transact<Status>("UpdateRule", [&](pqxx::work& w) -> Status {
      if (w.exec_params("UPDATE rules SET enabled = $1, definition = $2, updated_ms = $3 "
                        "WHERE id = $4",
                        r.enabled, r.definition, r.updated_ms, r.id)
              .affected_rows() == 0)
        return NotFound("rule " + std::to_string(r.id) + " not found");
      pg::DeleteRuleWaits(w, r.id);  // the engine starts the rule afresh
      pg::NotifyChange(w, pool_, pg::change::kRuleUpserted, r.id);
      return Status::Ok();
    }));
    Notify({RuleStoreChange::Kind::kRuleUpserted, r.id});
    return Status::Ok();
  }

  Status DeleteRule(Id id) override {
    BYSANS_RETURN_IF_ERROR(pool_.Transact<Status>("DeleteRule", [&](pqxx::work& w) -> Status {
      if (w.exec_params("DELETE FROM rules WHERE id = $1", id).affected_rows() == 0)
        return NotFound("rule " + std::to_string(id) + " not found");
      // A silence never outlives its rule. A silence created for this rule by another node at
      // the same moment commits after this statement and stays (as on SQLite with two
      // processes; the API checks the rule before creating a silence).
      w.exec_params("DELETE FROM silences WHERE rule_id = $1", id);
      // Its for-duration waits go by foreign key (ON DELETE CASCADE).
      pg::NotifyChange(w, pool_, pg::change::kRuleDeleted, id);
      return Status::Ok();
    }));
    Notify({RuleStoreChange::Kind::kRuleDeleted, id});
    return Status::Ok();
  }

  Result<AlarmRecord> CreateAlarm(AlarmRecord a, std::vector<OutboxEntry>* outbox) override {
    BYSANS_RETURN_IF_ERROR(pool_.Transact<Status>("CreateAlarm", [&](pqxx::work& w) -> Status {
      InsertAlarm(w, a, outbox);
      pg::NotifyChange(w, pool_, pg::change::kAlarmCreated, a.id);
      return Status::Ok();
    }));
    Notify({RuleStoreChange::Kind::kAlarmCreated, a.id, &a});
    return a;
  }

  Status UpdateAlarm(const AlarmRecord& a, std::vector<OutboxEntry>* outbox) override {
    BYSANS_RETURN_IF_ERROR(pool_.Transact<Status>("UpdateAlarm", [&](pqxx::work& w) -> Status {
      BYSANS_RETURN_IF_ERROR(SaveAlarm(w, a, outbox));
      pg::NotifyChange(w, pool_, pg::change::kAlarmUpdated, a.id);
      return Status::Ok();
    }));
    Notify({RuleStoreChange::Kind::kAlarmUpdated, a.id, &a});
    return Status::Ok();
  }

  // Written from a copy that replaces `writes` only after the commit: a failed batch leaves the
  // caller's as it was given.
  using RuleStore::WriteAlarms;
  Status WriteAlarms(std::vector<AlarmWrite>& writes,
                     const std::vector<RuleWaitChange>& waits) override {
    if (writes.empty() && waits.empty()) return Status::Ok();
    std::vector<AlarmWrite> done = writes;
    BYSANS_RETURN_IF_ERROR(pool_.Transact<Status>("WriteAlarms", [&](pqxx::work& w) -> Status {
      std::vector<std::pair<std::string, int64_t>> changes;
      for (AlarmWrite& x : done) {
        const bool create = x.alarm.id == 0;
        if (create) {
          InsertAlarm(w, x.alarm, &x.outbox);
          x.status = Status::Ok();
        } else {
          x.status = SaveAlarm(w, x.alarm, &x.outbox);  // only kNotFound comes back
        }
        if (x.status.ok())
          changes.emplace_back(create ? pg::change::kAlarmCreated : pg::change::kAlarmUpdated,
                               x.alarm.id);
      }
      pg::WriteRuleWaits(w, waits);
      pg::NotifyChanges(w, pool_, changes);
      return Status::Ok();
    }));
    for (size_t i = 0; i < done.size(); ++i) {
      if (!done[i].status.ok()) continue;
      const bool created = writes[i].alarm.id == 0;
      Notify({created ? RuleStoreChange::Kind::kAlarmCreated : RuleStoreChange::Kind::kAlarmUpdated,
              done[i].alarm.id, &done[i].alarm});
    }
    writes = std::move(done);
    return Status::Ok();
  }

  Result<std::vector<RuleWaitRecord>> ListRuleWaits(
      const std::optional<std::vector<Id>>& device_ids) override {
    return pool_.Transact<Result<std::vector<RuleWaitRecord>>>(
        "ListRuleWaits", [&](pqxx::work& w) -> Result<std::vector<RuleWaitRecord>> {
          return pg::ListRuleWaits(w, device_ids);
        });
  }

  Result<AlarmRecord> GetAlarm(Id id) override {
    return OneAlarm("GetAlarm", std::string(" WHERE id = $1"),
                    "alarm " + std::to_string(id) + " not found", id);
  }

  Result<AlarmRecord> FindOpenAlarm(Id rule_id, Id device_id) override {
    return OneAlarm("FindOpenAlarm",
                    " WHERE rule_id = $1 AND device_id = $2 AND state <> 'cleared' "
                    "ORDER BY id DESC LIMIT 1",
                    "no open alarm", rule_id, device_id);
  }

  Result<AlarmRecord> FindOpenGatewayAlarm(Id rule_id, const std::string& gateway_id) override {
    if (gateway_id.empty()) return NotFound("no open alarm");
    return OneAlarm("FindOpenGatewayAlarm",
                    " WHERE rule_id = $1 AND gateway_id = $2 AND state <> 'cleared' "
                    "ORDER BY id DESC LIMIT 1",
                    "no open alarm", rule_id, gateway_id);
  }

  Result<Paged<AlarmRecord>> ListAlarms(const AlarmFilter& f, Page page) override {
    std::vector<int64_t> apps;
    if (f.app_ids) apps.assign(f.app_ids->begin(), f.app_ids->end());
    const int ack_mode = f.open ? 1 : !f.awaiting_ack ? 0 : *f.awaiting_ack ? 2 : 3;
    const std::vector<std::string> none;
    const std::string states = pg::TextArray(f.open ? none : f.states);
    return pool_.Transact<Result<Paged<AlarmRecord>>>(
        "ListAlarms", [&](pqxx::work& w) -> Result<Paged<AlarmRecord>> {
          Paged<AlarmRecord> out;
          const Id org = f.org_id.value_or(0), dev = f.device_id.value_or(0);
          const std::string gw = f.gateway_id.value_or(""), app_list = pg::IntArray(apps);
          out.total = w.exec_params1(std::string("SELECT count(*) FROM alarms") + kAlarmWhere,
                                     f.org_id.has_value(), org, f.device_id.has_value(), dev,
                                     f.app_ids.has_value(), app_list, f.gateway_id.has_value(), gw,
                                     ack_mode, states)[0]
                          .as<int64_t>();
          for (const auto& row :
               w.exec_params(std::string("SELECT ") + kAlarmCols + " FROM alarms" + kAlarmWhere +
                                 " ORDER BY id DESC LIMIT $11 OFFSET $12",
                             f.org_id.has_value(), org, f.device_id.has_value(), dev,
                             f.app_ids.has_value(), app_list, f.gateway_id.has_value(), gw,
                             ack_mode, states, ClampLimit(page.limit), ClampOffset(page.offset)))
            out.items.push_back(AlarmFrom(row));
          return out;
        });
  }

  Result<SilenceRecord> CreateSilence(SilenceRecord s) override {
    BYSANS_ASSIGN_OR_RETURN(
        s.id, pool_.Transact<Result<Id>>("CreateSilence", [&](pqxx::work& w) -> Result<Id> {
          const Id id =
              w.exec_params1(
                   "INSERT INTO silences (org_id, device_id, rule_id, until_ms, created_by, "
                   "created_ms) VALUES ($1, CASE WHEN $2 THEN $3::bigint END, "
                   "CASE WHEN $4 THEN $5::bigint END, $6, $7, $8) RETURNING id",
                   s.org_id, s.device_id.has_value(), s.device_id.value_or(0),
                   s.rule_id.has_value(), s.rule_id.value_or(0), s.until_ms, s.created_by,
                   s.created_ms)[0]
                  .as<Id>();
          pg::NotifyChange(w, pool_, pg::change::kSilenceAdded, id);
          return id;
        }));
    Notify({RuleStoreChange::Kind::kSilenceAdded, s.id});
    return s;
  }

  Result<SilenceRecord> GetSilence(Id id) override {
    return pool_.Transact<Result<SilenceRecord>>(
        "GetSilence", [&](pqxx::work& w) -> Result<SilenceRecord> {
          pqxx::result r = w.exec_params(
              std::string("SELECT ") + kSilenceCols + " FROM silences WHERE id = $1", id);
          if (r.empty()) return NotFound("silence " + std::to_string(id) + " not found");
          return SilenceFrom(r[0]);
        });
  }

  Status DeleteSilence(Id id) override {
    BYSANS_RETURN_IF_ERROR(pool_.Transact<Status>("DeleteSilence", [&](pqxx::work& w) -> Status {
      if (w.exec_params("DELETE FROM silences WHERE id = $1", id).affected_rows() == 0)
        return NotFound("silence " + std::to_string(id) + " not found");
      pg::NotifyChange(w, pool_, pg::change::kSilenceDeleted, id);
      return Status::Ok();
    }));
    Notify({RuleStoreChange::Kind::kSilenceDeleted, id});
    return Status::Ok();
  }

  Result<std::vector<SilenceRecord>> ListSilences(std::optional<Id> org_id, TimeMs now) override {
    return pool_.Transact<Result<std::vector<SilenceRecord>>>(
        "ListSilences", [&](pqxx::work& w) -> Result<std::vector<SilenceRecord>> {
          std::vector<SilenceRecord> out;
          for (const auto& row : w.exec_params(std::string("SELECT ") + kSilenceCols +
                                                   " FROM silences WHERE until_ms > $1 AND "
                                                   "($2 = false OR org_id = $3) ORDER BY id",
                                               now, org_id.has_value(), org_id.value_or(0)))
            out.push_back(SilenceFrom(row));
          return out;
        });
  }

  Result<std::vector<OutboxEntry>> ListPendingOutbox(int64_t limit) override {
    return pool_.Transact<Result<std::vector<OutboxEntry>>>(
        "ListPendingOutbox", [&](pqxx::work& w) -> Result<std::vector<OutboxEntry>> {
          std::vector<OutboxEntry> out;
          for (const auto& row : w.exec_params(std::string("SELECT ") + kOutboxCols +
                                                   " FROM outbox WHERE state = 'pending' "
                                                   "ORDER BY id LIMIT $1",
                                               ClampLimit(limit)))
            out.push_back(OutboxFrom(row));
          return out;
        });
  }

  Result<std::vector<OutboxEntry>> ClaimDueOutbox(int64_t limit, TimeMs now,
                                                  TimeMs lease_ms) override {
    return pool_.Transact<Result<std::vector<OutboxEntry>>>(
        "ClaimDueOutbox", [&](pqxx::work& w) -> Result<std::vector<OutboxEntry>> {
          // A row another caller is claiming right now is locked: skipped. One it claimed and
          // committed meanwhile is re-checked after its lock (READ COMMITTED): its claimed_until
          // is then in the future, so it is left out too. The selection is a materialised CTE:
          // as a subquery joined in the UPDATE it may be scanned again per row, and each scan
          // takes more rows than LIMIT (seen: 3 rows claimed with limit 2).
          std::vector<OutboxEntry> out;
          for (const auto& row : w.exec_params(
                   "WITH alive AS MATERIALIZED (SELECT holder FROM node_leases WHERE "
                   "starts_with(name, $5) AND expires_at > clock_timestamp()), "
                   "c AS MATERIALIZED (SELECT id FROM outbox WHERE state = 'pending' AND "
                   "next_attempt_ms <= $2 AND (claimed_until <= $2 OR (claimed_by <> '' AND "
                   "claimed_by NOT IN (SELECT holder FROM alive))) ORDER BY id LIMIT $1 "
                   "FOR UPDATE SKIP LOCKED) "
                   "UPDATE outbox o SET claimed_until = $2 + $3, claimed_by = $4 FROM c "
                   "WHERE o.id = c.id "
                   "RETURNING o.id, o.org_id, o.rule_id, o.alarm_id, "
                   "o.event, o.target_key, o.spec, o.payload, o.state, o.attempts, "
                   "o.next_attempt_ms, o.last_error, o.created_ms",
                   ClampLimit(limit), now, std::max<TimeMs>(1, lease_ms), Holder(),
                   std::string(kNodeLeasePrefix)))
            out.push_back(OutboxFrom(row));
          std::sort(out.begin(), out.end(),
                    [](const OutboxEntry& a, const OutboxEntry& b) { return a.id < b.id; });
          return out;
        });
  }

  Status ExtendOutboxClaims(const std::vector<Id>& ids, TimeMs now, TimeMs lease_ms) override {
    if (ids.empty()) return Status::Ok();
    const std::string list = pg::IntArray(std::vector<int64_t>(ids.begin(), ids.end()));
    return pool_.Transact<Status>("ExtendOutboxClaims", [&](pqxx::work& w) -> Status {
      w.exec_params(
          "UPDATE outbox SET claimed_until = $2 + $3 WHERE id = ANY($1::bigint[]) AND "
          "state = 'pending' AND claimed_until > $2",
          list, now, std::max<TimeMs>(0, lease_ms));
      return Status::Ok();
    });
  }

  void SetOutboxWriteLease(TimeMs lease_ms) override {
    write_lease_ms_ = std::max<TimeMs>(0, lease_ms);
  }
  void SetOutboxHolder(const std::string& holder) override {
    std::lock_guard lk(mu_);
    holder_ = holder;
  }

  Status RecordAttempt(const OutboxEntry& e, DeliveryLogEntry log) override {
    return pool_.Transact<Status>("RecordAttempt", [&](pqxx::work& w) -> Status {
      w.exec_params(
          "UPDATE outbox SET state = $1, attempts = $2, next_attempt_ms = $3, "
          "last_error = $4, claimed_until = 0 WHERE id = $5",
          e.state, e.attempts, e.next_attempt_ms, e.last_error, e.id);
      w.exec_params(
          "INSERT INTO delivery_log (org_id, outbox_id, rule_id, alarm_id, target_key, "
          "action_type, attempt, ts, ok, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
          "$9, $10)",
          log.org_id, log.outbox_id, log.rule_id, log.alarm_id, log.target_key, log.action_type,
          log.attempt, log.ts, log.ok, log.error);
      return Status::Ok();
    });
  }

  Result<Paged<DeliveryLogEntry>> ListDeliveryLog(Id org_id, Page page) override {
    return pool_.Transact<Result<Paged<DeliveryLogEntry>>>(
        "ListDeliveryLog", [&](pqxx::work& w) -> Result<Paged<DeliveryLogEntry>> {
          Paged<DeliveryLogEntry> out;
          out.total =
              w.exec_params1("SELECT count(*) FROM delivery_log WHERE org_id = $1", org_id)[0]
                  .as<int64_t>();
          for (const auto& row : w.exec_params(
                   "SELECT id, org_id, outbox_id, rule_id, alarm_id, target_key, action_type, "
                   "attempt, ts, ok, error FROM delivery_log WHERE org_id = $1 "
                   "ORDER BY id DESC LIMIT $2 OFFSET $3",
                   org_id, ClampLimit(page.limit), ClampOffset(page.offset)))
            out.items.push_back(DeliveryFrom(row));
          return out;
        });
  }

  void AddListener(std::function<void(const RuleStoreChange&)> listener) override {
    std::lock_guard lk(mu_);
    listeners_.push_back(std::move(listener));
  }

  void NotifyListeners(const RuleStoreChange& change) override { Notify(change); }

 private:
  template <typename... Args>
  Result<AlarmRecord> OneAlarm(const char* what, const std::string& where,
                               const std::string& not_found, const Args&... args) {
    return pool_.Transact<Result<AlarmRecord>>(what, [&](pqxx::work& w) -> Result<AlarmRecord> {
      pqxx::result r =
          w.exec_params(std::string("SELECT ") + kAlarmCols + " FROM alarms" + where, args...);
      if (r.empty()) return NotFound(not_found);
      return AlarmFrom(r[0]);
    });
  }

  // In the caller's transaction: inserts `a` (its id filled in) and its outbox entries.
  void InsertAlarm(pqxx::work& w, AlarmRecord& a, std::vector<OutboxEntry>* outbox) {
    a.id = w.exec_params1(
                "INSERT INTO alarms (org_id, rule_id, device_id, state, raised_ms, doc, "
                "awaiting_ack, gateway_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "RETURNING id",
                a.org_id, a.rule_id, a.device_id, a.state, a.raised_ms, a.doc, a.awaiting_ack,
                a.gateway_id)[0]
               .as<Id>();
    if (outbox) InsertOutbox(w, a.id, *outbox);
  }

  // In the caller's transaction: saves `a` and adds its outbox entries; kNotFound (nothing
  // written) when the alarm is gone.
  Status SaveAlarm(pqxx::work& w, const AlarmRecord& a, std::vector<OutboxEntry>* outbox) {
    if (w.exec_params("UPDATE alarms SET state = $1, doc = $2, awaiting_ack = $3 WHERE id = $4",
                      a.state, a.doc, a.awaiting_ack, a.id)
            .affected_rows() == 0)
      return NotFound("alarm " + std::to_string(a.id) + " not found");
    if (outbox) InsertOutbox(w, a.id, *outbox);
    return Status::Ok();
  }

  // Claimed by their writer until created_ms + the write lease (RuleStore::SetOutboxWriteLease).
  void InsertOutbox(pqxx::work& w, Id alarm_id, std::vector<OutboxEntry>& outbox) {
    const TimeMs lease = write_lease_ms_;
    const std::string holder = Holder();
    for (OutboxEntry& e : outbox) {
      e.alarm_id = alarm_id;
      e.id = w.exec_params1(
                  "INSERT INTO outbox (org_id, rule_id, alarm_id, event, target_key, "
                  "spec, payload, state, attempts, next_attempt_ms, last_error, "
                  "created_ms, claimed_until, claimed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                  "$9, $10, $11, $12, $13, $14) RETURNING id",
                  e.org_id, e.rule_id, e.alarm_id, e.event, e.target_key, e.spec, e.payload,
                  e.state, e.attempts, e.next_attempt_ms, e.last_error, e.created_ms,
                  lease > 0 ? e.created_ms + lease : TimeMs{0}, lease > 0 ? holder : "")[0]
                 .as<Id>();
    }
  }

  // After the commit, on the caller's thread.
  void Notify(const RuleStoreChange& c) {
    std::vector<std::function<void(const RuleStoreChange&)>> ls;
    {
      std::lock_guard lk(mu_);
      ls = listeners_;
    }
    for (auto& l : ls) l(c);
  }

  pg::Pool& pool_;
  std::string Holder() {
    std::lock_guard lk(mu_);
    return holder_;
  }

  std::atomic<TimeMs> write_lease_ms_{0};
  std::mutex mu_;
  std::string holder_;  // guarded by mu_ (SetOutboxHolder)
  std::vector<std::function<void(const RuleStoreChange&)>> listeners_;
};

}  // namespace

std::unique_ptr<PostgresRuleStore> NewPostgresRuleStore(pg::Pool& pool) {
  return std::make_unique<PgRuleStore>(pool);
}

}  // namespace bysans

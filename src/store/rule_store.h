// RuleStore: rules, alarms, silences, the action outbox and the delivery log.
// The store keeps rule definitions and alarm documents as JSON text written
// by rules/ (rules/json.h), so store/ does not depend on the rules model.
// Thread-safe, like every store interface (see store.h).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "store/store.h"

namespace bysans {

struct RuleRecord {
  Id id = 0;
  Id org_id = 0;
  bool enabled = true;
  std::string definition;  // JSON of the rule (rules/json.h)
  TimeMs created_ms = 0;
  TimeMs updated_ms = 0;
};

// One activation of a rule on a device, or on a LoRaWAN gateway of the organisation
// (gateway_id set, device_id 0). `state` is "active", "acknowledged"
// or "cleared"; `awaiting_ack`: cleared, but its rule requires a person to
// acknowledge it and nobody has yet (rules/alarm.h); `doc` the JSON of the
// whole alarm (comments, history, values).
struct AlarmRecord {
  Id id = 0;
  Id org_id = 0;
  Id rule_id = 0;
  Id device_id = 0;  // 0 for a gateway alarm
  std::string state;
  TimeMs raised_ms = 0;
  std::string doc;
  bool awaiting_ack = false;
  std::string gateway_id{};  // a gateway alarm's gateway; empty for a device alarm
};

struct AlarmFilter {
  std::optional<Id> org_id;         // nullopt = every organisation
  std::vector<std::string> states;  // empty = any
  // nullopt = either; true = only awaiting acknowledgement; false = only not awaiting.
  std::optional<bool> awaiting_ack;
  // Open alarms: state not cleared, or awaiting acknowledgement (`states` and
  // `awaiting_ack` are then ignored).
  bool open = false;
  std::optional<Id> device_id;
  std::optional<std::string> gateway_id;  // only this gateway's alarms
  // Only alarms of devices of these applications (a member restricted to some applications);
  // an empty list matches nothing, and never a gateway alarm (gateways are organisation-wide).
  // nullopt = any.
  std::optional<std::vector<Id>> app_ids;
};

// Rule or device silenced until a time (maintenance windows).
struct SilenceRecord {
  Id id = 0;
  Id org_id = 0;
  std::optional<Id> device_id;
  std::optional<Id> rule_id;
  TimeMs until_ms = 0;
  std::string created_by;
  TimeMs created_ms = 0;
};

// A pending delivery. `target_key` names the queue (one endpoint: URL or SMTP
// server); `spec` is the action's JSON (type, url, headers, ...); `payload`
// the rendered body. state: "pending", "delivered", "failed".
struct OutboxEntry {
  Id id = 0;
  Id org_id = 0;
  Id rule_id = 0;
  Id alarm_id = 0;
  std::string event;  // "raise", "clear", "remind"
  std::string target_key;
  std::string spec;
  std::string payload;
  std::string state = "pending";
  int attempts = 0;
  TimeMs next_attempt_ms = 0;
  std::string last_error;
  TimeMs created_ms = 0;
};

// One delivery attempt.
struct DeliveryLogEntry {
  Id id = 0;
  Id org_id = 0;
  Id outbox_id = 0;
  Id rule_id = 0;
  Id alarm_id = 0;
  std::string target_key;
  std::string action_type;
  int attempt = 0;
  TimeMs ts = 0;
  bool ok = false;
  std::string error;
};

// A for-duration wait in progress (rules/engine.h): the rule's condition has held on the device
// since `since_ms`. Kept so that the next holder of the device's rule partition (a takeover) or
// the same node after a restart goes on waiting from `since_ms` (rules/service.h). Only
// expression and rate-of-change rules with a for_ms have waits (silence is recomputed).
struct RuleWaitRecord {
  Id rule_id = 0;
  Id device_id = 0;
  TimeMs since_ms = 0;
  bool operator==(const RuleWaitRecord&) const = default;
};

// A change of one wait: `since_ms` set = the wait started then (written, replacing the one
// stored); nullopt = the wait is over (the condition stopped holding, or the alarm was raised):
// removed.
struct RuleWaitChange {
  Id rule_id = 0;
  Id device_id = 0;
  std::optional<TimeMs> since_ms;
};

// What changed, for listeners (the rules runtime reloads on change).
// Alarm kinds carry the stored alarm (valid during the call only); the web
// UI's live stream (api/stream.cc) forwards them, the rules runtime ignores them.
struct RuleStoreChange {
  enum class Kind {
    kRuleUpserted,
    kRuleDeleted,
    kSilenceAdded,
    kAlarmCreated,
    kAlarmUpdated,
    kSilenceDeleted,
    // Any rule or silence may have changed (PostgreSQL: the change feed lost its connection
    // and may have missed other nodes' changes): reload them all. id 0.
    kReloadAll
  } kind = Kind::kRuleUpserted;
  Id id = 0;
  const AlarmRecord* alarm = nullptr;  // set for kAlarmCreated / kAlarmUpdated
};

class RuleStore {
 public:
  virtual ~RuleStore() = default;

  virtual Result<RuleRecord> CreateRule(RuleRecord r) = 0;
  virtual Result<RuleRecord> GetRule(Id id) = 0;
  virtual Result<Paged<RuleRecord>> ListRules(Id org_id, Page page) = 0;
  virtual Result<std::vector<RuleRecord>> ListAllRules() = 0;
  // Also removes the rule's for-duration waits (the engine starts a changed rule afresh).
  virtual Status UpdateRule(const RuleRecord& r) = 0;
  // Deletes a rule, its silences and its for-duration waits (one transaction); keeps its
  // alarms. Ids of rules, alarms, silences, outbox and delivery-log rows are never reused, so an
  // old alarm or silence never names a later object.
  virtual Status DeleteRule(Id id) = 0;

  // Creates an alarm and its outbox entries (`outbox` may be null) in one
  // transaction; the entries get their ids and alarm_id, so the caller can hand
  // them to the sender without reading them back.
  virtual Result<AlarmRecord> CreateAlarm(AlarmRecord a, std::vector<OutboxEntry>* outbox) = 0;
  // Saves an alarm and adds outbox entries (may be null; ids filled in) in one transaction.
  virtual Status UpdateAlarm(const AlarmRecord& a, std::vector<OutboxEntry>* outbox) = 0;
  // One alarm write of a WriteAlarms batch.
  struct AlarmWrite {
    AlarmRecord alarm;                // id 0 = create (the id is filled in), else update
    std::vector<OutboxEntry> outbox;  // ids and alarm_id filled in
    Status status;                    // kNotFound: the alarm to update no longer exists
  };
  // CreateAlarm / UpdateAlarm for a batch, in order, in one transaction (one commit for all the
  // rule events of a wake-up instead of a commit each). An update whose alarm is gone only gets
  // its own status; another error fails the batch: nothing is written and `writes` is left as
  // it was given (no ids filled in), so the same batch can be written again. Notifies after the
  // commit.
  // `waits`: the for-duration waits changed in the same wake-up, applied in order after the
  // alarms in the same transaction (the raise of an alarm and the end of its wait commit
  // together); a wait of a rule or a device that no longer exists is skipped, not an error.
  // Nothing to write (both empty): Ok at once.
  virtual Status WriteAlarms(std::vector<AlarmWrite>& writes,
                             const std::vector<RuleWaitChange>& waits) = 0;
  Status WriteAlarms(std::vector<AlarmWrite>& writes) { return WriteAlarms(writes, {}); }
  // The stored for-duration waits of these devices (nullopt = every device), ordered by rule and
  // device. A device's waits go with it when it is deleted (with its application or organisation
  // too), a rule's with DeleteRule and UpdateRule.
  virtual Result<std::vector<RuleWaitRecord>> ListRuleWaits(
      const std::optional<std::vector<Id>>& device_ids) = 0;

  virtual Result<AlarmRecord> GetAlarm(Id id) = 0;
  // The not-cleared alarm of (rule, device), NotFound if none.
  virtual Result<AlarmRecord> FindOpenAlarm(Id rule_id, Id device_id) = 0;
  // The not-cleared alarm of (rule, gateway), NotFound if none.
  virtual Result<AlarmRecord> FindOpenGatewayAlarm(Id rule_id, const std::string& gateway_id) = 0;
  // Newest first.
  virtual Result<Paged<AlarmRecord>> ListAlarms(const AlarmFilter& f, Page page) = 0;

  virtual Result<SilenceRecord> CreateSilence(SilenceRecord s) = 0;
  virtual Result<SilenceRecord> GetSilence(Id id) = 0;
  // Removes a silence (NotFound if there is none); listeners get kSilenceDeleted.
  virtual Status DeleteSilence(Id id) = 0;
  // Silences with until_ms > now (all organisations when org_id is nullopt).
  virtual Result<std::vector<SilenceRecord>> ListSilences(std::optional<Id> org_id, TimeMs now) = 0;

  // Pending entries, oldest first, claimed or not (for tests and tools; a sender claims its rows
  // with ClaimDueOutbox).
  virtual Result<std::vector<OutboxEntry>> ListPendingOutbox(int64_t limit) = 0;

  // The outbox's claims, so that each row is delivered by one sender (one node) at a time, also
  // with several nodes on one database (act/outbox.h):
  // - ClaimDueOutbox takes up to `limit` pending rows due at `now` (next_attempt_ms <= now) that
  //   nobody holds, oldest first, and holds them until now + lease_ms. Until that lease ends no
  //   ClaimDueOutbox returns them again, on any connection or node (this caller's included).
  // - RecordAttempt ends the claim: a retry is claimable by any node at its next_attempt_ms.
  // - A holder that dies leaves its rows to be claimed again after the lease: delivery at least
  //   once (each row carries an idempotency key, act/README.md).
  virtual Result<std::vector<OutboxEntry>> ClaimDueOutbox(int64_t limit, TimeMs now,
                                                          TimeMs lease_ms) = 0;
  // Sets the claims still held (claimed_until > now) of the pending rows among `ids` to end at
  // now + lease_ms: a sender whose queue holds rows longer than a lease keeps them; lease_ms 0
  // releases them (a sender that stops hands its queue to the other nodes at once). Rows whose
  // claim ended (an attempt was recorded, or the lease passed) are left as they are.
  virtual Status ExtendOutboxClaims(const std::vector<Id>& ids, TimeMs now, TimeMs lease_ms) = 0;
  // Outbox rows written from now on through this object (CreateAlarm, UpdateAlarm, WriteAlarms)
  // are written claimed by their writer until created_ms + lease_ms: the server hands them to
  // its own sender at once (act::Outbox::Submit), so no other node's ClaimDueOutbox may take
  // them meanwhile; if the writer dies they are claimable after that. 0 (the default): rows are
  // claimable as soon as they are committed.
  virtual void SetOutboxWriteLease(TimeMs lease_ms) = 0;
  // The holder of this node's lease "node/<id>" (server/node_coordinator.h), recorded with the
  // claims made and the rows written from now on. A claim whose holder holds no running node
  // lease any more (its process died or stopped renewing) counts as ended, so another node (or
  // this node's next process) sends the rows once that node lease has run out (6 s), not after
  // the claim's 60 s. Empty (the default): claims end only with their lease. Where one process
  // holds the database (SQLite) there is nobody else to hand rows to: nothing to do.
  virtual void SetOutboxHolder(const std::string& holder) { (void)holder; }

  // Records one attempt: logs it, sets the entry's state, attempts, next_attempt_ms and
  // last_error from `entry`, and ends its claim.
  virtual Status RecordAttempt(const OutboxEntry& entry, DeliveryLogEntry log) = 0;
  // Newest first.
  virtual Result<Paged<DeliveryLogEntry>> ListDeliveryLog(Id org_id, Page page) = 0;

  // Called after a committed change (on the caller's thread).
  virtual void AddListener(std::function<void(const RuleStoreChange&)> listener) = 0;
};

}  // namespace bysans

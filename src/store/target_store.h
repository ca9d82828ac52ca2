// TargetStore: data targets (issue 16), the share log they read, their cursors, dead letters
// and delivery log. Thread-safe, like every store interface (see store.h).
//
// The share log: when IngestBatch::share_app_id is set, the store appends the batch's message
// to that application's share log in the same transaction as the message itself (so a
// committed message is in the log, and a message that is not committed is not). Every record
// has a position, increasing in commit order within an application; a target's cursor is the
// position of the last record it delivered. Positions are never reused.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "store/store.h"

namespace bysans {

// A data target of an application: where its messages are forwarded.
struct DataTarget {
  Id id = 0;
  Id org_id = 0;  // denormalised from the application, for tenancy checks
  Id app_id = 0;
  std::string name;
  std::string type = "http";      // http | mqtt
  std::string url;                // http(s)://... | mqtt(s)://host[:port]
  std::string format = "bysans";  // bysans (envelope) | os2iot (decoded payload as is)
  int batch_size = 1;             // records per request; > 1: a JSON array
  int64_t timeout_ms = 10'000;
  std::vector<Id> device_ids;  // empty = every device of the application
  // Names of the headers sent with every request (Authorization, ...); their values are
  // sealed at rest and never part of this struct (TargetHeaders).
  std::vector<std::string> header_names;
  // MQTT publish: topic template ({application}, {device}, {devEui}, {deviceName}), QoS 0/1,
  // retained flag, user name; the password is sealed at rest and never part of this struct.
  std::string topic;
  // type "ngsi-ld": the FIWARE settings (ngsild::TargetFromJson's members but "url" and
  // "timeoutMs", which are the target's own): tenant, context, contextMode, auth without its
  // secret (the header value or OAuth2 client secret is the sealed password). "" otherwise.
  std::string ngsild_json;
  int qos = 1;
  bool retain = false;
  std::string username;
  bool has_password = false;
  bool paused = false;
  int max_attempts = 10;                // a record failing this often goes to the dead letters
  int64_t max_age_ms = 24 * 3'600'000;  // ... or after failing for this long
  int64_t cursor = 0;                   // position of the last record delivered
  TimeMs created_ms = 0;
  TimeMs updated_ms = 0;
};

// One committed message as the share log keeps it.
struct ShareRecord {
  int64_t position = 0;
  Id device_id = 0;
  TimeMs received_ms = 0;
  Id message_id = 0;         // the raw message's id
  std::string decoded_json;  // the decoder's output as it returned it; "" = none
  std::vector<Reading> readings;
};

struct DeadLetter {
  Id id = 0;
  Id target_id = 0;
  ShareRecord record;
  std::string error;
  int attempts = 0;
  TimeMs created_ms = 0;
  bool replay = false;  // queued for replay (delivered before the log)
};

struct TargetDelivery {
  Id id = 0;
  Id target_id = 0;
  TimeMs ts = 0;
  bool ok = false;
  int records = 0;
  int64_t first_position = 0;
  int64_t last_position = 0;
  std::string error;
  int64_t duration_ms = 0;
};

// What is left to deliver after a position.
struct ShareBacklog {
  int64_t records = 0;
  TimeMs oldest_received_ms = 0;  // 0 = nothing left
};

class TargetStore {
 public:
  virtual ~TargetStore() = default;

  // `headers`: name → value, and `password` (MQTT; nullopt or "" = none), sealed at rest.
  // Create assigns id and times; its cursor starts at the end of the application's share log
  // (a new target forwards what comes next).
  virtual Result<DataTarget> CreateTarget(DataTarget t,
                                          const std::map<std::string, std::string>& headers,
                                          const std::optional<std::string>& password) = 0;
  virtual Result<DataTarget> GetTarget(Id id) = 0;
  // app_id 0 = every target.
  virtual Result<std::vector<DataTarget>> ListTargets(Id app_id) = 0;
  // How many targets the organisation has, over all its applications (api/org_limits.h).
  virtual Result<int64_t> CountTargets(Id org_id) = 0;
  // Changes everything but id, org, app, cursor and created time. `headers` / `password`:
  // nullopt keeps the stored ones ("" removes the password).
  virtual Status UpdateTarget(const DataTarget& t,
                              const std::optional<std::map<std::string, std::string>>& headers,
                              const std::optional<std::string>& password) = 0;
  virtual Status SetTargetPaused(Id id, bool paused) = 0;
  virtual Status DeleteTarget(Id id) = 0;
  // The opened header values and password ("" = none); kInternal when they cannot be opened.
  virtual Result<std::map<std::string, std::string>> TargetHeaders(Id id) = 0;
  virtual Result<std::string> TargetPassword(Id id) = 0;
  // Increases with every change of a target (the delivery service reconciles its workers).
  virtual int64_t targets_generation() const = 0;

  // At most `limit` records of the application after `after`, oldest first.
  virtual Result<std::vector<ShareRecord>> ReadShareLog(Id app_id, int64_t after, size_t limit) = 0;
  // The newest position of the application's share log (0 = empty).
  virtual Result<int64_t> ShareLogEnd(Id app_id) = 0;
  virtual Result<ShareBacklog> ShareBacklogAfter(Id app_id, int64_t after) = 0;
  // The target delivered everything up to `position`.
  virtual Status SetCursor(Id target_id, int64_t position) = 0;
  // Deletes the application's records at or before `upto` (every target passed them).
  virtual Status PruneShareLog(Id app_id, int64_t upto) = 0;

  // Dead letters: records given up after their retries, with the last error.
  virtual Status AddDeadLetter(Id target_id, const ShareRecord& r, const std::string& error,
                               int attempts, TimeMs now) = 0;
  virtual Result<Paged<DeadLetter>> ListDeadLetters(Id target_id, Page page) = 0;
  // Marks every dead letter of the target for replay; returns how many.
  virtual Result<int64_t> ReplayDeadLetters(Id target_id) = 0;
  // Queues `records` for replay (back-fill from stored history), in one transaction, in order;
  // the worker sends them before the log, as replayed dead letters.
  virtual Status QueueReplay(Id target_id, const std::vector<ShareRecord>& records,
                             const std::string& note, TimeMs now) = 0;
  // Dead letters marked for replay, oldest first.
  virtual Result<std::vector<DeadLetter>> ReplayQueue(Id target_id, size_t limit) = 0;
  virtual Status DeleteDeadLetters(const std::vector<Id>& ids) = 0;
  // A replayed letter failed again: back to the dead letters with the new error.
  virtual Status RequeueDeadLetters(const std::vector<Id>& ids, const std::string& error) = 0;

  // The delivery log (the newest `keep` attempts per target are kept).
  virtual Status AppendDelivery(const TargetDelivery& d, int keep) = 0;
  virtual Result<Paged<TargetDelivery>> ListDeliveries(Id target_id, Page page) = 0;
};

}  // namespace bysans

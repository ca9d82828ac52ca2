// The store interface. Everything bysans persists goes through these classes;
// the SQLite implementation lives in store/sqlite and a PostgreSQL one will
// follow, so no caller may depend on SQL or on a particular engine.
//
// Contracts common to every method:
//  - Thread-safe: any method may be called from any thread concurrently.
//  - Errors are returned as Status (kNotFound when an id does not exist,
//    kAlreadyExists on a unique-key clash, kInternal for engine failures);
//    methods never throw.
//  - Ids are assigned by the store on create and returned in the object.
//  - Times are ms since the epoch, UTC.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/secret_box.h"
#include "core/status.h"
#include "model/model.h"
#include "model/retention.h"
#include "store/lease_store.h"
#include "store/live_relay.h"
#include "store/rule_feed.h"

namespace bysans {

class RuleStore;            // store/rule_store.h
class DecoderStore;         // store/decoder_store.h
class MqttStore;            // store/mqtt_store.h
class TargetStore;          // store/target_store.h
class OpenDataStore;        // store/open_data_store.h
class DashboardStore;       // store/dashboard_store.h
class ContactStore;         // store/contact_store.h
class GatewayStore;         // store/gateway_store.h
class CoapCredentialStore;  // store/coap_credential_store.h
class Lwm2mStore;           // store/lwm2m_store.h
// store/subject_erasure_store.h
class SubjectErasureStore;

struct Page {
  int64_t limit = 100;  // the store clamps to [1, 10000]
  int64_t offset = 0;
};

template <typename T>
struct Paged {
  std::vector<T> items;
  int64_t total = 0;  // number of items matching, ignoring limit/offset
};

struct DeviceFilter {
  std::optional<Id> org_id;
  std::optional<Id> app_id;
  std::optional<Id> device_model_id;
  std::string tag;     // empty = any
  std::string search;  // case-insensitive substring of name or DevEUI; empty = any
  // Only devices of these applications (a member restricted to some applications); an empty
  // list matches nothing. nullopt = any.
  std::optional<std::vector<Id>> app_ids;
};

// One entry of a device's location history (SensorThings HistoricalLocations, issue 17): where
// the device was from `time` on (when the change was committed; the device's creation time for
// the location it was created with).
struct DeviceLocation {
  int64_t id = 0;  // never reused
  Id device_id = 0;
  TimeMs time = 0;
  Location location;
};

// Organisations, applications, devices, users, keys, sessions, audit.
class MetaStore {
 public:
  virtual ~MetaStore() = default;

  virtual Result<Organization> CreateOrganization(Organization org) = 0;
  virtual Result<Organization> GetOrganization(Id id) = 0;
  virtual Result<Paged<Organization>> ListOrganizations(Page page) = 0;
  // Organisations the user is a member of (all for nobody special).
  virtual Result<Paged<Organization>> ListOrganizationsOfUser(Id user_id, Page page) = 0;
  virtual Status UpdateOrganization(const Organization& org) = 0;
  // Deletes the organisation and everything it owns (cascade).
  virtual Status DeleteOrganization(Id id) = 0;

  virtual Result<Application> CreateApplication(Application app) = 0;
  virtual Result<Application> GetApplication(Id id) = 0;
  virtual Result<Paged<Application>> ListApplications(Id org_id, Page page) = 0;
  virtual Status UpdateApplication(const Application& app) = 0;
  virtual Status DeleteApplication(Id id) = 0;  // cascades to its devices

  // `ingest_key_hash` (hex SHA-256) is set for HTTP devices; it must be unique.
  // A LoRaWAN DevEUI must be unique across the whole store.
  virtual Result<Device> CreateDevice(Device device, std::string ingest_key_hash) = 0;
  // Many devices without ingest keys (archive/ import: keys are set later) in one transaction:
  // all or none. The default creates them one by one.
  virtual Result<std::vector<Device>> CreateDevices(std::vector<Device> devices) {
    for (auto& d : devices) {
      BYSANS_ASSIGN_OR_RETURN(d, CreateDevice(d, ""));
    }
    return devices;
  }
  virtual Result<Device> GetDevice(Id id) = 0;
  virtual Result<Paged<Device>> ListDevices(const DeviceFilter& filter, Page page) = 0;
  virtual Status UpdateDevice(const Device& device) = 0;
  virtual Status SetDeviceIngestKey(Id device_id, std::string ingest_key_hash) = 0;
  virtual Status DeleteDevice(Id id) = 0;
  virtual Result<Device> FindDeviceByIngestKey(const std::string& ingest_key_hash) = 0;
  virtual Result<Device> FindDeviceByDevEui(const std::string& dev_eui) = 0;

  // A device's location history. CreateDevice(s) and UpdateDevice append an entry in their own
  // transaction whenever they store a location that differs from the device's previous one
  // (removing a location appends nothing); entries go with their device (and organisation).
  // Entries of the given devices, oldest first (by id, which follows commit order).
  virtual Result<std::vector<DeviceLocation>> ListDeviceLocations(
      const std::vector<Id>& device_ids) = 0;
  virtual Result<DeviceLocation> GetDeviceLocation(int64_t id) = 0;
  virtual Status DeleteDeviceLocation(int64_t id) = 0;
  // Replaces a device's whole history with `entries` (their time and location, oldest first;
  // ids are new): an archive's history on import.
  virtual Status ReplaceDeviceLocations(Id device_id,
                                        const std::vector<DeviceLocation>& entries) = 0;

  virtual Result<DeviceModel> CreateDeviceModel(DeviceModel model) = 0;
  virtual Result<DeviceModel> GetDeviceModel(Id id) = 0;
  virtual Result<Paged<DeviceModel>> ListDeviceModels(Id org_id, Page page) = 0;
  virtual Status UpdateDeviceModel(const DeviceModel& model) = 0;
  virtual Status DeleteDeviceModel(Id id) = 0;

  virtual Result<User> CreateUser(User user) = 0;  // email unique (case-insensitive)
  virtual Result<User> GetUser(Id id) = 0;
  virtual Result<User> FindUserByEmail(const std::string& email) = 0;
  virtual Result<Paged<User>> ListUsers(Page page) = 0;
  virtual Result<Paged<User>> ListUsersOfOrganization(Id org_id, Page page) = 0;
  virtual Status UpdateUser(const User& user) = 0;
  virtual Status DeleteUser(Id id) = 0;

  // Creates or changes the user's role in the organisation.
  virtual Status PutMembership(const Membership& m) = 0;
  virtual Result<Membership> GetMembership(Id user_id, Id org_id) = 0;
  virtual Result<std::vector<Membership>> ListMembershipsOfUser(Id user_id) = 0;
  virtual Result<std::vector<Membership>> ListMembershipsOfOrganization(Id org_id) = 0;
  virtual Status DeleteMembership(Id user_id, Id org_id) = 0;

  // One pending invitation per (organisation, email): inviting again replaces
  // the role, applications, inviter and times and keeps the id. Only applications of the
  // invitation's organisation are kept.
  virtual Result<Invitation> PutInvitation(Invitation inv) = 0;
  virtual Result<Invitation> GetInvitation(Id id) = 0;
  virtual Result<std::vector<Invitation>> ListInvitationsOfOrganization(Id org_id) = 0;
  // Every organisation's invitations of the email (case-insensitive).
  virtual Result<std::vector<Invitation>> ListInvitationsOfEmail(const std::string& email) = 0;
  virtual Status DeleteInvitation(Id id) = 0;
  // Atomically: the user becomes a member with the invitation's role and applications (an
  // existing membership takes them) and the invitation is deleted.
  virtual Status AcceptInvitation(Id invitation_id, Id user_id) = 0;

  virtual Result<ApiKey> CreateApiKey(ApiKey key) = 0;
  virtual Result<ApiKey> GetApiKey(Id id) = 0;
  virtual Result<ApiKey> FindApiKeyByHash(const std::string& secret_hash) = 0;
  virtual Result<Paged<ApiKey>> ListApiKeys(Id org_id, Page page) = 0;
  // Every key with a broker hash (ApiKey::mqtt_hash), expired ones included, in id order.
  virtual Result<std::vector<ApiKey>> ListMqttApiKeys() = 0;
  // Also deletes, recursively, the keys it created (ApiKey::created_by_key).
  virtual Status DeleteApiKey(Id id) = 0;
  // A new secret for the key (rotation): its prefix, SHA-256 and broker hash ("" for none) are
  // replaced, so the old secret is unknown at once; kNotFound for no such key.
  virtual Status SetApiKeySecret(Id id, const std::string& prefix, const std::string& secret_hash,
                                 const std::string& mqtt_hash) = 0;

  virtual Status CreateSession(const Session& s) = 0;
  virtual Result<Session> FindSession(const std::string& token_hash) = 0;
  virtual Status DeleteSession(const std::string& token_hash) = 0;
  virtual Status DeleteExpiredSessions(TimeMs now) = 0;
  // Every session of the user except the one with `keep_token_hash`.
  virtual Status DeleteSessionsOfUser(Id user_id, const std::string& keep_token_hash) = 0;

  virtual Status AppendAudit(AuditEntry entry) = 0;
  // Newest first. org_id nullopt = every organisation (global admins).
  virtual Result<Paged<AuditEntry>> ListAudit(std::optional<Id> org_id, Page page) = 0;
  // Deletes the audit entries older than `before` (the audit log's retention); returns how many.
  virtual Result<int64_t> DeleteAuditBefore(TimeMs before) = 0;

  // Increases when devices may have been changed by another process (several nodes on one
  // PostgreSQL database: a device updated, re-keyed or deleted on another node, or the change
  // feed reconnected after missing notifications): device caches (ingest::DeviceKeyCache) drop
  // what they hold. Always 0 on a store only this process writes (SQLite), whose changes the
  // API forgets in-process (DeviceKeyCache::ForgetDevice).
  virtual uint64_t devices_generation() const { return 0; }
};

// What one ingest call commits atomically: raw messages and the readings
// derived from them.
struct IngestBatch {
  std::vector<RawMessage> messages;
  std::vector<Reading> readings;
  // The sender goes on sending while it waits for this commit (an MQTT QoS 1 stream, acked
  // later): the store may hold the batch up to its group-commit interval so that more share
  // one commit. False: a caller waits for just this answer (HTTP), so it commits at once.
  bool paced = false;
  // Not 0: the batch's message (pipeline batches hold one) is appended, with the batch's
  // readings and `share_decoded` (the decoder's output), to this application's share log in
  // the same commit (store/target_store.h). A duplicate (dedup_key) is not.
  Id share_app_id = 0;
  std::string share_decoded;
  // Set (several nodes on PostgreSQL, store/rule_feed.h): the batch's device and readings are
  // appended to this rule partition's feed in the same commit, for the node that evaluates the
  // partition's rules. A duplicate is not. Stores without a feed (SQLite) ignore it.
  std::shared_ptr<const Device> feed_device;
  int feed_partition = -1;
  // Set by the store before it calls back: how many of `messages` it dropped because their
  // dedup_key was already committed (their readings are not stored again).
  mutable size_t duplicates = 0;
};

// InvalidArgument when a reading of the batch has no key or a time outside ReadingTimeInRange,
// or a text field (a reading's key, unit or text value; a message's content type, decode error,
// decoder notes or idempotency key) is not UTF-8 or holds U+0000. A store checks each batch
// before grouping it with others, so such a batch is refused alone.
Status CheckIngestBatch(const IngestBatch& batch);
// Replaces, in those text fields, each byte that is not UTF-8 (and U+0000) by U+FFFD.
void MakeIngestTextValid(IngestBatch& batch);

struct ReadingQuery {
  Id device_id = 0;
  std::string key;  // empty = every key
  TimeMs from = INT64_MIN;
  TimeMs to = INT64_MAX;  // inclusive
  int64_t limit = 1000;
  std::optional<Quality> quality;
  bool oldest_first = false;  // default newest first; the limit then keeps the oldest
};

// Where a read of several devices' latest readings goes on: device `device_id`'s keys after
// `after_key` ("" = all of them), then the devices after it.
struct LatestPosition {
  Id device_id = 0;
  std::string after_key;
};

struct LatestQuery {
  std::vector<Id> device_ids;  // the answer's order of devices (no duplicates)
  std::optional<LatestPosition>
      start;  // nullopt: the first device; one not listed: kInvalidArgument
  // The readings returned hold at most this many ReadingBytes (model/reading_bytes.h), except
  // that at least one is returned when any is left.
  size_t max_bytes = SIZE_MAX;
};

struct LatestSlice {
  std::vector<Reading> readings;       // device by device in the order asked, keys in order
  std::optional<LatestPosition> next;  // where the next slice begins; nullopt: nothing is left
};

// One series (device, key) as the store knows it. `id` is the store's own series id: assigned
// when the series first receives a reading and never changed or reused (SensorThings Datastream
// ids, sta/README.md).
// ListSeries gives a latest text only up to this size (a device may keep 1,000 keys of 64 KiB
// texts: listing them whole would hold 64 MB for one device).
inline constexpr size_t kListedLatestTextBytes = 256;

struct SeriesRef {
  int64_t id = 0;
  Id device_id = 0;
  std::string key;
  std::string unit;               // the last non-empty unit received
  std::optional<Reading> latest;  // newest committed reading, if any
  // ListSeries only: `latest` is a text longer than kListedLatestTextBytes, left empty here
  // (GetSeries or QueryReadings give it).
  bool latest_text_omitted = false;
};

struct AggregateQuery {
  Id device_id = 0;
  std::string key;  // required
  TimeMs from = 0;
  TimeMs to = 0;  // inclusive
  TimeMs bucket_ms = 3'600'000;
};

struct Bucket {
  TimeMs start = 0;
  int64_t count = 0;
  double min = 0, max = 0, sum = 0;
  double avg() const { return count ? sum / static_cast<double>(count) : 0; }
};

struct MessageQuery {
  Id device_id = 0;
  TimeMs from = INT64_MIN;
  TimeMs to = INT64_MAX;
  int64_t limit = 100;
};

// What a retention pass removed.
struct RetentionCounts {
  int64_t readings = 0;          // readings removed (their hourly summaries kept)
  int64_t aggregate_chunks = 0;  // summaries-only chunks past the aggregates retention removed
  int64_t raw_messages = 0;      // raw messages removed
  int64_t raw_rows = 0;          // raw_log rows deleted whole (all their messages gone)
  int64_t raw_rows_unread = 0;   // of which deleted without being read (all known expired)
  RetentionCounts& operator+=(const RetentionCounts& o) {
    readings += o.readings;
    aggregate_chunks += o.aggregate_chunks;
    raw_messages += o.raw_messages;
    raw_rows += o.raw_rows;
    raw_rows_unread += o.raw_rows_unread;
    return *this;
  }
};

// Time series of readings and the raw messages they came from.
class SeriesStore {
 public:
  virtual ~SeriesStore() = default;

  using AppendDone = std::function<void(Status)>;
  // Queues the batch for the next group commit and calls `done` (on the
  // store's writer thread) once it is durable, or with an error if it could
  // not be committed. If the queue is full (back-pressure) `done` is called
  // at once with kUnavailable. Raw message ids are assigned by the store.
  void AppendAsync(IngestBatch batch, AppendDone done) {
    AppendShared(std::make_shared<const IngestBatch>(std::move(batch)), std::move(done));
  }
  // AppendAsync of a batch the caller keeps sharing (the pipeline hands the same readings to
  // commit listeners without a copy). The store only reads it.
  virtual void AppendShared(std::shared_ptr<const IngestBatch> batch, AppendDone done) = 0;
  // Blocking form of AppendAsync: returns once the batch is durable.
  virtual Status Append(IngestBatch batch) = 0;

  // Raw readings, newest first, at most q.limit.
  virtual Result<std::vector<Reading>> QueryReadings(const ReadingQuery& q) = 0;
  // Numeric readings of one key in buckets aligned to multiples of bucket_ms
  // since the epoch, oldest first; empty buckets are omitted.
  virtual Result<std::vector<Bucket>> Aggregate(const AggregateQuery& q) = 0;
  // The latest readings of several devices, at most about q.max_bytes of them (LatestQuery).
  // Every caller that serves a request or loads many devices uses it: a device keeps a latest
  // reading for each of up to 1,000 keys, each text up to 64 KiB (pipeline/reading_limits.h).
  virtual Result<LatestSlice> LatestWithin(const LatestQuery& q) = 0;
  // All the latest readings of the given devices (LatestWithin without a budget): for tests,
  // benchmarks and callers whose devices' readings are known to be small.
  Result<std::vector<Reading>> Latest(const std::vector<Id>& device_ids);
  // Keys a device has ever sent.
  virtual Result<std::vector<std::string>> Keys(Id device_id) = 0;
  // The series of each given device, ordered by series id, each with its latest reading (a text
  // longer than kListedLatestTextBytes left empty: SeriesRef::latest_text_omitted).
  virtual Result<std::vector<SeriesRef>> ListSeries(const std::vector<Id>& device_ids) = 0;
  // One series by its id, its latest reading whole; kNotFound when there is none.
  virtual Result<SeriesRef> GetSeries(int64_t series_id) = 0;
  // The series (device, key) before its first reading (a SensorThings Datastream created by
  // POST), with `unit`; when it exists already, that series, unchanged, and `*created` false.
  // Serialised with the writer's commits: a reading of the same (device, key) committed at the
  // same moment ends in the same series (one id). The device is not checked: the caller
  // resolved it. kUnavailable when the ingest queue is full or the store is closing.
  virtual Result<SeriesRef> CreateSeries(Id device_id, const std::string& key,
                                         const std::string& unit, bool* created) = 0;
  // Sets the unit of a series, as a reading carrying that unit would (readings with another
  // non-empty unit change it again); kNotFound for an unknown series.
  virtual Status SetSeriesUnit(int64_t series_id, const std::string& unit) = 0;
  // Erasure primitives (SensorThings DELETE, and issue 18's retention and erasure): they
  // physically remove readings, not just hide them. The readings of a series in [from, to]
  // (inclusive) are removed wherever the store keeps them (the log of unsealed readings, sealed
  // chunks, memory); the freed bytes are overwritten and the WAL checkpointed, so the values can
  // be found neither through the store nor in its files. Work is done in bounded steps beside
  // ingest, which goes on; a reading of the series committed while the call runs is either
  // removed or kept whole. Raw messages are not touched (they are the device's:
  // EraseRawMessages). kNotFound for an unknown series.
  virtual Status DeleteReadings(int64_t series_id, TimeMs from, TimeMs to) = 0;
  // The series and all its readings (as DeleteReadings). Its id is never reused; a later
  // reading of its (device, key) starts a new series.
  virtual Status DeleteSeries(int64_t series_id) = 0;
  // Raw messages, newest first.
  virtual Result<std::vector<RawMessage>> QueryMessages(const MessageQuery& q) = 0;
  // Readings counted per quality flag for a device.
  virtual Result<std::map<Quality, int64_t>> CountQuality(Id device_id) = 0;
  // Erases the raw messages of `device_id` received in [from, to] from the database file (GDPR
  // erasure, a deleted device): their payloads, dedup keys and decode results are gone, not
  // only hidden; the ids of other messages do not change. Works in short transactions while
  // ingest goes on; safe to run again after a crash. Returns how many were erased.
  virtual Result<int64_t> EraseRawMessages(Id device_id, TimeMs from, TimeMs to) = 0;
  // Retention (issue 18): for the given devices (one application's), removes readings older
  // than `c.readings_before` while their hourly summaries stay answerable by Aggregate with
  // hour-multiple buckets, the summaries older than `c.aggregates_before`, and raw messages older
  // than `c.raw_before`. The newest reading of each series is never removed, whatever its age.
  // Bounded work per transaction while ingest goes on; each step is one transaction, so a crash
  // leaves a consistent store and the next pass goes on. Not an erasure: freed pages are reused,
  // not overwritten.
  virtual Result<RetentionCounts> ApplyRetention(const std::vector<Id>& device_ids,
                                                 const RetentionCutoffs& c) = 0;
};

// Both halves plus lifecycle.
class Store : public MetaStore, public SeriesStore {
 public:
  // Stops accepting appends, commits what is queued, and joins threads.
  virtual void Close() = 0;
  virtual RuleStore& rules() = 0;                       // store/rule_store.h
  virtual DecoderStore& decoders() = 0;                 // store/decoder_store.h
  virtual MqttStore& mqtt() = 0;                        // store/mqtt_store.h
  virtual TargetStore& targets() = 0;                   // store/target_store.h
  virtual OpenDataStore& open_data() = 0;               // store/open_data_store.h
  virtual DashboardStore& dashboards() = 0;             // store/dashboard_store.h
  virtual ContactStore& contacts() = 0;                 // store/contact_store.h
  virtual GatewayStore& gateways() = 0;                 // store/gateway_store.h
  virtual CoapCredentialStore& coap_credentials() = 0;  // store/coap_credential_store.h
  virtual Lwm2mStore& lwm2m() = 0;                      // store/lwm2m_store.h
  // store/subject_erasure_store.h
  virtual SubjectErasureStore& subject_erasures() = 0;
  // Which node does the work that must run once among nodes sharing the database
  // (store/lease_store.h).
  virtual LeaseStore& leases() = 0;
  // The rule partitions' feed of committed readings (store/rule_feed.h); null where one process
  // evaluates every rule in memory (SQLite).
  virtual RuleFeed* rule_feed() { return nullptr; }
  // Other nodes' committed messages for this node's live stream (store/live_relay.h); null where
  // one process stores everything (SQLite).
  virtual LiveRelay* live_relay() { return nullptr; }
  // Seals the secrets bysans must recover (integration passwords, rule action secrets) under
  // <data_dir>/secret.key (core/secret_box.h).
  virtual const SecretBox& secrets() = 0;
};

}  // namespace bysans

// SqliteStore: the SQLite Store. Internal header shared by the .cc files of
// this folder; callers use sqlite_store.h.
//
// Threads: metadata calls and queries borrow a connection from a pool; series
// appends run on one writer thread and seals on one sealer thread, each with
// its own connection. See README.md for the time-series layout.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/string_map.h"
#include "store/coap_credential_store.h"
#include "store/contact_store.h"
#include "store/dashboard_store.h"
#include "store/decoder_store.h"
#include "store/gateway_store.h"
#include "store/in_process_leases.h"
#include "store/lwm2m_store.h"
#include "store/mqtt_store.h"
#include "store/open_data_store.h"
#include "store/rule_store.h"
#include "store/sqlite/chunk_codec.h"
#include "store/sqlite/db.h"
#include "store/sqlite/dedup_window.h"
#include "store/sqlite/log_codec.h"
#include "store/sqlite/raw_device_runs.h"
#include "store/sqlite/retention_memo.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/zstd_blob.h"
#include "store/subject_erasure_store.h"
#include "store/target_store.h"

namespace bysans::sqlite {

// A pool of connections; a Lease returns its connection on destruction.
class Pool {
 public:
  Pool(std::string path, int64_t cache_kib, WriteGate* gate)
      : path_(std::move(path)), cache_kib_(cache_kib), gate_(gate) {}
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Db> db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (db_) pool_->Release(std::move(db_));
    }
    Db& operator*() { return *db_; }
    Db* operator->() { return db_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<Db> db_;
  };
  Result<Lease> Acquire();

 private:
  void Release(std::unique_ptr<Db> db);
  std::string path_;
  int64_t cache_kib_;
  WriteGate* gate_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Db>> free_;
};

// Latest texts longer than this are not held in the series cache (SeriesInfo::SetLatest): the
// cache's memory is then bounded by the number of series, whatever texts devices send (a device
// may keep 1,000 keys of 64 KiB texts). Readers read such a text from the store (NewestPoint).
// What ListSeries gives without a read (store.h): the cache answers it alone.
inline constexpr size_t kCachedLatestTextBytes = kListedLatestTextBytes;

struct SeriesInfo {
  int64_t id = 0;
  Id device_id = 0;
  std::string key;
  std::string unit;
  // Newest committed point (last write wins on equal ts); a text longer than
  // kCachedLatestTextBytes is not held: `latest_text_apart` is then its size.
  std::optional<Point> latest;
  uint32_t latest_text_apart = 0;
  void SetLatest(const Point& p);
  void SetLatest(std::optional<Point> p);
};

// Unsealed points of one series, in arrival order until normalised.
struct SeriesBuf {
  std::vector<Point> pts;
  // pts.back().ts, kept here: the writer appends to ~15,000 series a second, and reading the
  // last point to check the order would be a cache miss per point.
  TimeMs last_ts = 0;
  bool sorted = true;
  void Append(Point p) {
    if (!pts.empty() && p.ts <= last_ts) sorted = false;
    last_ts = p.ts;
    pts.push_back(std::move(p));
  }
  // Sorts by ts and keeps the last written point of each ts.
  void Normalize();
};

// A device's series by key (a map of ~20 keys, looked up once per reading).
using SeriesKeys = StringMap<int64_t>;

// The in-memory mirror of the unsealed log rows of one generation.
struct Segment {
  int64_t gen = 0;
  int64_t points = 0;
  std::unordered_map<int64_t, SeriesBuf> series;
};

// The writer's grouping of one commit's points by series (CommitGroup). Slots keep their
// vectors' capacity from commit to commit, and series ids (dense, from 1) index a plain vector
// stamped with the commit, so a commit allocates nothing per series.
class CommitPoints {
 public:
  void Clear() {
    used_ = 0;
    points_ = 0;
    if (++stamp_ == 0) {  // wrapped (after 4 billion commits): forget every old stamp
      std::fill(slot_of_.begin(), slot_of_.end(), SlotRef{});
      stamp_ = 1;
    }
  }
  void Add(int64_t series_id, Point p) {
    const auto at = static_cast<size_t>(series_id);
    if (at >= slot_of_.size()) slot_of_.resize(std::max(at + 1, slot_of_.size() * 2));
    SlotRef& ref = slot_of_[at];
    if (ref.stamp != stamp_) {
      if (used_ == slots_.size()) slots_.emplace_back();
      slots_[used_].series_id = series_id;
      slots_[used_].pts.clear();
      ref = SlotRef{stamp_, static_cast<uint32_t>(used_++)};
    }
    slots_[ref.slot].pts.push_back(std::move(p));
    ++points_;
  }
  // This commit's series, each with its points in commit order.
  std::span<SeriesPoints> groups() { return {slots_.data(), used_}; }
  size_t points() const { return points_; }

 private:
  struct SlotRef {
    uint32_t stamp = 0;  // the commit that filled `slot` (0: none)
    uint32_t slot = 0;
  };
  std::vector<SeriesPoints> slots_;  // the first used_ belong to this commit
  size_t used_ = 0;
  size_t points_ = 0;
  uint32_t stamp_ = 1;
  std::vector<SlotRef> slot_of_;  // by series id (ids are dense: the store counts them from 1)
};

// What a query saw of memory for one series: points per generation.
struct MemView {
  int64_t open_gen = 0;
  std::vector<Point> open;
  int64_t sealing_gen = -1;  // -1: no segment was being sealed
  std::vector<Point> sealing;
};

// A change of the series themselves that the writer applies in its commit, in queue order with
// the ingest batches (CreateSeries, SetSeriesUnit): the writer alone assigns series ids.
struct SeriesOp {
  // kCreate, kSetUnit: CreateSeries, SetSeriesUnit. The erasure steps (series_delete.cc):
  // kSeal hands the open segment to the sealer after this commit (so that every reading
  // committed so far ends in chunks and leaves the log); kDrop removes a series from the cache
  // and leaves a tombstone row (its id is never reused); kRefreshLatest recomputes a series'
  // latest value after its readings were deleted.
  enum class Kind { kCreate, kSetUnit, kSeal, kDrop, kRefreshLatest };
  Kind kind = Kind::kCreate;
  Id device_id = 0;
  std::string key;
  std::string unit;
  int64_t series_id = 0;  // kSetUnit: the series; kCreate: set by the writer
  bool created = false;   // kCreate: set by the writer
  Status status;          // set by the writer (kSetUnit of an unknown series: kNotFound)
  int64_t seal_gen = 0;   // kSeal: the generation handed over, 0 none (empty), -1 seal busy
};

struct PendingBatch {
  std::shared_ptr<const IngestBatch> batch;
  SeriesStore::AppendDone done;
  std::shared_ptr<SeriesOp> op;  // set: a series change (batch is empty)
};

// The RuleStore over the pool (rules.cc).
std::unique_ptr<RuleStore> NewSqliteRuleStore(Pool& pool);
// The DecoderStore over the pool (decoders.cc).
std::unique_ptr<DecoderStore> NewSqliteDecoderStore(Pool& pool);
// The OpenDataStore over the pool (open_data.cc).
std::unique_ptr<OpenDataStore> NewSqliteOpenDataStore(Pool& pool);
// The DashboardStore over the pool (dashboards.cc).
std::unique_ptr<DashboardStore> NewSqliteDashboardStore(Pool& pool);
// The Lwm2mStore over the pool (lwm2m.cc).
std::unique_ptr<Lwm2mStore> NewSqliteLwm2mStore(Pool& pool);
// The CoapCredentialStore over the pool (coap_credentials.cc).
std::unique_ptr<CoapCredentialStore> NewSqliteCoapCredentialStore(Pool& pool);
// The ContactStore over the pool (contacts.cc).
std::unique_ptr<ContactStore> NewSqliteContactStore(Pool& pool);
// The GatewayStore over the pool (gateways.cc); `flush_touches` writes the gateways seen in
// uplinks so far (BatchingMqttStore::FlushPending) before a read that needs them.
std::unique_ptr<GatewayStore> NewSqliteGatewayStore(Pool& pool,
                                                    std::function<Status()> flush_touches);
// The SubjectErasureStore over the pool (subject_erasure.cc); `scrub` empties the free pages and
// the WAL (SqliteStore::ScrubFreePages + ScrubWal).
std::unique_ptr<SubjectErasureStore> NewSqliteSubjectErasureStore(Pool& pool, const Clock& clock,
                                                                  std::function<Status()> scrub);
// The MqttStore over the pool (mqtt.cc); its secrets are sealed with `box`. Gateways seen
// (TouchGateway) and LoRaWAN routes (SetLorawanRoute) are kept in memory until FlushPending
// writes them in one transaction each: the checkpoint thread about once a second, ListGateways
// first, and Close.
class BatchingMqttStore : public MqttStore {
 public:
  virtual Status FlushPending() = 0;
};
std::unique_ptr<BatchingMqttStore> NewSqliteMqttStore(Pool& pool, const SecretBox& box);
// The TargetStore over the pool (targets.cc); header values are sealed with `box`.
std::unique_ptr<TargetStore> NewSqliteTargetStore(Pool& pool, const SecretBox& box);
// series_delete.cc: seal_state.sealed_upto as `db` sees it (chunks visible: seq <= it).
Result<int64_t> ReadSealedUpto(Db& db);
// series_delete.cc: one chunk row of a series holding `v` (ts-sorted, not empty) with its hour
// summaries (INSERT OR REPLACE).
Status InsertChunk(Db& db, int64_t series_id, int64_t seq, const std::vector<Point>& v);
// The secret.key next to the database file at `db_path` ("" for an in-memory database).
std::string SecretKeyPathOf(const std::string& db_path);

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const SqliteOptions& o);
  ~SqliteStore() override;
  Status Init();
  // What retention remembers (retention_memo.h); for tests.
  const RetentionMemo& retention_memo() const { return retention_memo_; }
  // Bytes of latest texts the series cache holds (latest.cc; kCachedLatestTextBytes); for tests.
  size_t CachedLatestTextBytes();

  // MetaStore (meta.cc)
  Result<Organization> CreateOrganization(Organization org) override;
  Result<Organization> GetOrganization(Id id) override;
  Result<Paged<Organization>> ListOrganizations(Page page) override;
  Result<Paged<Organization>> ListOrganizationsOfUser(Id user_id, Page page) override;
  Status UpdateOrganization(const Organization& org) override;
  Status DeleteOrganization(Id id) override;
  Result<Application> CreateApplication(Application app) override;
  Result<Application> GetApplication(Id id) override;
  Result<Paged<Application>> ListApplications(Id org_id, Page page) override;
  Status UpdateApplication(const Application& app) override;
  Status DeleteApplication(Id id) override;
  Result<Device> CreateDevice(Device device, std::string ingest_key_hash) override;
  Result<std::vector<Device>> CreateDevices(std::vector<Device> devices) override;
  Result<Device> GetDevice(Id id) override;
  Result<Paged<Device>> ListDevices(const DeviceFilter& filter, Page page) override;
  Status UpdateDevice(const Device& device) override;
  Status SetDeviceIngestKey(Id device_id, std::string ingest_key_hash) override;
  Status DeleteDevice(Id id) override;
  Result<Device> FindDeviceByIngestKey(const std::string& ingest_key_hash) override;
  Result<Device> FindDeviceByDevEui(const std::string& dev_eui) override;
  // device_locations.cc
  Result<std::vector<DeviceLocation>> ListDeviceLocations(
      const std::vector<Id>& device_ids) override;
  Result<DeviceLocation> GetDeviceLocation(int64_t id) override;
  Status DeleteDeviceLocation(int64_t id) override;
  Status ReplaceDeviceLocations(Id device_id, const std::vector<DeviceLocation>& entries) override;
  Result<DeviceModel> CreateDeviceModel(DeviceModel model) override;
  Result<DeviceModel> GetDeviceModel(Id id) override;
  Result<Paged<DeviceModel>> ListDeviceModels(Id org_id, Page page) override;
  Status UpdateDeviceModel(const DeviceModel& model) override;
  Status DeleteDeviceModel(Id id) override;
  Result<User> CreateUser(User user) override;
  Result<User> GetUser(Id id) override;
  Result<User> FindUserByEmail(const std::string& email) override;
  Result<Paged<User>> ListUsers(Page page) override;
  Result<Paged<User>> ListUsersOfOrganization(Id org_id, Page page) override;
  Status UpdateUser(const User& user) override;
  Status DeleteUser(Id id) override;
  Status PutMembership(const Membership& m) override;
  Result<Membership> GetMembership(Id user_id, Id org_id) override;
  Result<std::vector<Membership>> ListMembershipsOfUser(Id user_id) override;
  Result<std::vector<Membership>> ListMembershipsOfOrganization(Id org_id) override;
  Status DeleteMembership(Id user_id, Id org_id) override;
  Result<Invitation> PutInvitation(Invitation inv) override;
  Result<Invitation> GetInvitation(Id id) override;
  Result<std::vector<Invitation>> ListInvitationsOfOrganization(Id org_id) override;
  Result<std::vector<Invitation>> ListInvitationsOfEmail(const std::string& email) override;
  Status DeleteInvitation(Id id) override;
  Status AcceptInvitation(Id invitation_id, Id user_id) override;
  Result<ApiKey> CreateApiKey(ApiKey key) override;
  Result<ApiKey> GetApiKey(Id id) override;
  Result<ApiKey> FindApiKeyByHash(const std::string& secret_hash) override;
  Result<Paged<ApiKey>> ListApiKeys(Id org_id, Page page) override;
  Result<std::vector<ApiKey>> ListMqttApiKeys() override;
  Status DeleteApiKey(Id id) override;
  Status SetApiKeySecret(Id id, const std::string& prefix, const std::string& secret_hash,
                         const std::string& mqtt_hash) override;
  Status CreateSession(const Session& s) override;
  Result<Session> FindSession(const std::string& token_hash) override;
  Status DeleteSession(const std::string& token_hash) override;
  Status DeleteExpiredSessions(TimeMs now) override;
  Status DeleteSessionsOfUser(Id user_id, const std::string& keep_token_hash) override;
  Status AppendAudit(AuditEntry entry) override;
  Result<Paged<AuditEntry>> ListAudit(std::optional<Id> org_id, Page page) override;
  Result<int64_t> DeleteAuditBefore(TimeMs before) override;

  // SeriesStore (series.cc)
  void AppendShared(std::shared_ptr<const IngestBatch> batch, AppendDone done) override;
  Status Append(IngestBatch batch) override;
  Result<std::vector<Reading>> QueryReadings(const ReadingQuery& q) override;
  Result<std::vector<Bucket>> Aggregate(const AggregateQuery& q) override;
  Result<LatestSlice> LatestWithin(const LatestQuery& q) override;  // latest.cc
  Result<std::vector<std::string>> Keys(Id device_id) override;
  Result<std::vector<SeriesRef>> ListSeries(const std::vector<Id>& device_ids) override;
  Result<SeriesRef> GetSeries(int64_t series_id) override;
  Result<SeriesRef> CreateSeries(Id device_id, const std::string& key, const std::string& unit,
                                 bool* created) override;
  Status SetSeriesUnit(int64_t series_id, const std::string& unit) override;
  Status DeleteReadings(int64_t series_id, TimeMs from, TimeMs to) override;  // series_delete.cc
  Status DeleteSeries(int64_t series_id) override;                            // series_delete.cc
  Result<std::vector<RawMessage>> QueryMessages(const MessageQuery& q) override;
  Result<std::map<Quality, int64_t>> CountQuality(Id device_id) override;
  Result<int64_t> EraseRawMessages(Id device_id, TimeMs from, TimeMs to) override;
  Result<RetentionCounts> ApplyRetention(const std::vector<Id>& device_ids,
                                         const RetentionCutoffs& c) override;  // retention.cc

  void Close() override;
  RuleStore& rules() override { return *rules_; }
  DecoderStore& decoders() override { return *decoders_; }
  MqttStore& mqtt() override;  // mqtt.cc
  TargetStore& targets() override { return *targets_; }
  OpenDataStore& open_data() override { return *open_data_; }
  DashboardStore& dashboards() override { return *dashboards_; }
  ContactStore& contacts() override { return *contacts_; }
  GatewayStore& gateways() override { return *gateways_; }
  CoapCredentialStore& coap_credentials() override { return *coap_credentials_; }
  Lwm2mStore& lwm2m() override { return *lwm2m_; }
  SubjectErasureStore& subject_erasures() override { return *subject_erasures_; }
  // One process opens a SQLite database: its leases are decided in the process.
  LeaseStore& leases() override { return *leases_; }
  const SecretBox& secrets() override { return *secrets_; }

 private:
  // series.cc internals
  Status LoadSeriesState();
  // Queues a batch (or series op) for the writer; calls its `done` at once with kUnavailable
  // when the store is closing or the queue is full.
  void Enqueue(PendingBatch p);
  // Queues a series op and waits for the commit that applies it.
  Status RunSeriesOp(const std::shared_ptr<SeriesOp>& op);
  // Writer thread, seal_mu_ held, no seal pending: the open segment becomes the sealing one.
  void HandOverLocked();
  // series_delete.cc: every reading committed before the call sealed into chunks (its log
  // rows deleted with secure_delete), waiting for a running seal first.
  Status SealForErase();
  // series_delete.cc: removes the points in [from, to] of the series' visible chunks, a few
  // chunks per transaction.
  Status EraseChunks(int64_t series_id, TimeMs from, TimeMs to);
  // series_delete.cc: overwrites the database's free pages with zeros (what earlier deletes
  // freed without secure_delete), a bounded number per transaction.
  Status ScrubFreePages();
  // series_delete.cc: checkpoints the WAL and truncates it (old page images gone).
  Status ScrubWal();
  // retention.cc: one series' retention cut: points before `keep_from` (at most its newest
  // point's time) leave the chunks, their hour summaries go to chunk_hours; chunk_hours rows
  // ending before `hours_before` are deleted.
  struct SeriesCut {
    int64_t series_id = 0;
    TimeMs keep_from = INT64_MIN;
    TimeMs hours_before = INT64_MIN;
  };
  Status ExpireChunks(const std::vector<SeriesCut>& cuts, RetentionCounts* counts);
  // retention.cc, inside a write transaction: at most `budget` chunk rows of one series
  // expired; returns what it cost and whether the series is done.
  struct ExpireCost {
    int rows = 0;        // chunk or chunk_hours rows moved, split or deleted
    int64_t points = 0;  // points decoded to split chunks
    bool done = false;   // nothing left for this series
  };
  Result<ExpireCost> ExpireSeriesChunks(Db& db, const SeriesCut& cut, int64_t sealed_upto,
                                        int budget, RetentionCounts* counts);
  Status ExpireRawMessages(const std::vector<Id>& device_ids, TimeMs before,
                           RetentionCounts* counts);
  // series_delete.cc, writer thread in its transaction: the newest point of a series in the
  // chunks visible to `db` and in memory (nullopt: none).
  Result<std::optional<Point>> NewestPoint(Db& db, int64_t series_id);
  // latest.cc: a series' latest reading from the cache (cache_mu_ held; a text it does not hold
  // is empty), and as a SeriesRef.
  static Reading LatestOf(const SeriesInfo& s);
  static SeriesRef RefOf(const SeriesInfo& s);
  // Each reading (from LatestOf, cache_mu_ not held) becomes its series' newest reading read
  // from the store, or gets an empty key when the series has none left.
  Status ReadApartTexts(const std::vector<Reading*>& readings);
  // ReadApartTexts of series[i].latest for each i in `apart`; a latest deleted since is reset.
  Status ReadApartLatest(std::vector<SeriesRef>& series, const std::vector<size_t>& apart);
  void WriterLoop();
  Status CommitGroup(std::vector<PendingBatch>& group, size_t begin, size_t end);
  // Inside the writer's transaction: whether a message with this dedup key (of
  // hash h) was committed before or comes earlier in this commit, whose
  // messages are `pending` from id `first_id` on.
  Result<bool> IsDuplicate(Db& db, std::string_view key, uint64_t h, int64_t first_id,
                           const std::vector<const RawMessage*>& pending);
  // Inside CommitGroup: the batch's messages (msgs from batch_first on, ids from first_id on)
  // join this commit's share log row of the batch's application; InsertShareRows writes them.
  void AddToShareLog(const IngestBatch& batch, int64_t first_id, size_t batch_first,
                     const std::vector<const RawMessage*>& msgs);
  Status InsertShareRows(Db& db);
  // At open: the next message id, the index batch not yet written and the dedup window.
  Status LoadRawLogState(Db& db);
  // Writer thread: hands the open segment to the sealer when it is due (or, when
  // `final`, whatever it holds); waits only when a seal is still running and the
  // open segment reached 2 x seal_points (or `final`).
  void MaybeStartSeal(bool final);
  // Sealer thread: seals the segments the writer hands over.
  void SealerLoop();
  // Sealer thread, after a seal: keeps the segment's emptied point vectors (their
  // capacity) for the open segment's series, so the writer neither regrows them nor
  // faults fresh pages in for every segment.
  void RecycleSegment(std::shared_ptr<Segment> seg);
  // Writer thread, under seg_mu_: gives `pts` the spare vector of that series, if any.
  void TakeSpare(int64_t series_id, std::vector<Point>* pts);
  // Writes `seg` as chunks in slices, then the final transaction (late series,
  // sealed_upto, log deletion). Runs on the sealer thread.
  Status SealSegment(const Segment& seg, int64_t last_blob, int64_t last_log_rowid);
  Status SealSeries(Db& db, int64_t series_id, const std::vector<Point>& pts, int64_t gen);
  // Series of a device (all keys when key is empty).
  std::vector<SeriesInfo> SeriesOf(Id device_id, const std::string& key);
  // Memory points of the given series within [from, to].
  std::vector<MemView> SnapshotMemory(const std::vector<SeriesInfo>& series, TimeMs from,
                                      TimeMs to);
  // Sealed points of one series in [from, to] merged with the memory view,
  // sorted by ts, one point per ts (newest write wins).
  Status ReadSeries(Db& db, int64_t series_id, TimeMs from, TimeMs to, int64_t sealed_upto,
                    const MemView& mem, std::vector<Point>* out);
  // Chunks visible in a snapshot are those with seq <= sealed_upto (a seal
  // writes its chunks with seq = its generation, in slices, before sealed_upto).
  Status ReadChunks(Db& db, int64_t series_id, TimeMs from, TimeMs to, int64_t sealed_upto,
                    std::vector<Point>* out);

  SqliteOptions opts_;
  // SQLite's write lock in process (write_gate.h), shared by every connection
  // below; short transactions in order, the sealer's slices when none waits.
  WriteGate gate_;
  Pool pool_;
  std::unique_ptr<RuleStore> rules_;                       // rules.cc
  std::unique_ptr<DecoderStore> decoders_;                 // decoders.cc
  std::unique_ptr<OpenDataStore> open_data_;               // open_data.cc
  std::unique_ptr<DashboardStore> dashboards_;             // dashboards.cc
  std::unique_ptr<ContactStore> contacts_;                 // contacts.cc
  std::unique_ptr<CoapCredentialStore> coap_credentials_;  // coap_credentials.cc
  std::unique_ptr<Lwm2mStore> lwm2m_;                      // lwm2m.cc
  std::unique_ptr<GatewayStore> gateways_;                 // gateways.cc
  std::unique_ptr<SecretBox> secrets_;                     // core/secret_box.h, before mqtt_store_
  std::unique_ptr<BatchingMqttStore> mqtt_store_;          // mqtt.cc
  std::unique_ptr<TargetStore> targets_;                   // targets.cc
  // subject_erasure.cc
  std::unique_ptr<SubjectErasureStore> subject_erasures_;
  std::unique_ptr<InProcessLeases> leases_;
  std::unique_ptr<Db> writer_db_;
  CommitPoints commit_points_;  // the writer thread's, reused by every CommitGroup

  // Series cache with latest values (guarded by cache_mu_; written only by
  // the writer thread, which may read it without the lock).
  std::mutex cache_mu_;
  std::unordered_map<Id, std::vector<int64_t>> device_series_;
  std::unordered_map<int64_t, SeriesInfo> series_;
  std::unordered_map<Id, SeriesKeys> series_by_key_;
  int64_t next_series_id_ = 1;

  // Open and sealing segments (guarded by seg_mu_).
  std::mutex seg_mu_;
  std::shared_ptr<Segment> open_;
  std::shared_ptr<Segment> sealing_;

  // Sealer state: sealing_ is non-null from the hand-over until its seal
  // committed (or was given up at close; its log stays for the next open).
  std::unique_ptr<Db> seal_db_;
  std::mutex seal_mu_;
  std::condition_variable seal_cv_;
  bool seal_pending_ = false;  // sealing_ handed over, seal not yet committed
  bool seal_closing_ = false;  // the writer is closing: give up a failing seal
  bool seal_stop_ = false;
  int64_t sealed_gen_ = 0;  // the newest generation sealed (guarded by seal_mu_)
  // Seals of generations up to this one delete their log with secure_delete (an erasure
  // waits for them: SealForErase).
  std::atomic<int64_t> erase_seal_through_{0};
  int64_t seal_last_blob_ = 0;  // newest points_blob row of the segment being sealed
  int64_t seal_last_log_ = 0;   // newest points_log rowid of the segment being sealed
  std::unordered_map<int64_t, TimeMs> sealed_max_;  // max sealed ts per series (sealer)
  RetentionMemo retention_memo_;                    // retention.cc; seals lower it (Seal)
  std::mutex spare_mu_;  // guards spare_pts_ (RecycleSegment / TakeSpare)
  std::unordered_map<int64_t, std::vector<Point>> spare_pts_;
  std::thread sealer_;

  // Writer-thread state.
  int64_t next_message_id_ = 1;
  // Committed raw_log rows above raw_indexed_upto, by device (the next index batch).
  RawRunsBuilder raw_runs_;
  DedupWindow dedup_;
  // Messages erased from rows the index does not cover yet (raw_erase.cc): the writer subtracts
  // them from its batch when it writes the index. Filled while the eraser holds SQLite's write
  // lock, so never while the writer is inside a commit.
  // The eraser thread (raw_erase.cc): works off the `erasures` queue.
  static constexpr TimeMs kEraseAgainAfterMs = 15'000;
  Status DeleteAndErase(const char* delete_sql, const char* what, const char* devices_sql, Id id);
  void EraserLoop();
  void WakeEraser();
  Status EraseNextQueued(bool* found);
  std::mutex eraser_mu_;
  std::condition_variable eraser_cv_;
  bool eraser_stop_ = false;
  std::atomic<bool> eraser_stopping_{false};  // ends a long erasure between transactions
  bool eraser_wake_ = false;
  std::thread eraser_;
  struct ErasedInRow {
    Id device = 0;
    int64_t log_id = 0;
    int64_t count = 0;
  };
  std::mutex erased_mu_;
  std::vector<ErasedInRow> erased_unindexed_;
  // Which raw messages a raw_log rewrite removes (device, received_ms).
  using RawEraseMatch = std::function<bool(Id, TimeMs)>;
  struct RawEraseOptions {
    bool secure = false;             // secure_delete=ON: the old rows' bytes are zeroed (erasure)
    bool delete_empty_rows = false;  // a row left with tombstones only is deleted (retention)
    TimeMs rows_from_before = INT64_MAX;  // only rows whose t_min is at most this are read
    // Rows read per write transaction: each transaction also rewrites the index runs of every
    // device it touched, so retention, whose rows mostly go whole, takes more at a time.
    size_t rows_per_transaction = 16;
    // Retention: a row whose messages are all older than this and, by the index, all the
    // listed devices' (their counts sum to the row's `n`: no other device's message, no
    // tombstone) is deleted whole without being read. INT64_MIN: every row is read.
    TimeMs whole_rows_before = INT64_MIN;
  };
  struct RawEraseTally {
    int64_t messages = 0;      // messages removed
    int64_t rows_deleted = 0;  // rows deleted whole
    int64_t rows_unread = 0;   // of which deleted without being read (whole_rows_before)
  };
  // Rewrites the raw_log rows among `rows` (sorted by row, then device) that hold matching
  // messages (one write transaction), keeping the index counts true; adds what it removed to
  // *tally.
  Status EraseInRows(const RawEraseMatch& match, std::span<const DeviceInRow> rows,
                     const RawEraseOptions& o, RawEraseTally* tally);
  // EraseInRows over `rows` (any order, duplicates allowed) a few rows per transaction, until
  // done or `stop`.
  Status EraseRawRows(const RawEraseMatch& match, std::vector<DeviceInRow> rows,
                      const RawEraseOptions& o, const std::atomic<bool>& stop,
                      RawEraseTally* tally);
  ZstdCompressor raw_zstd_;                     // raw_log rows (writer thread only)
  std::vector<const RawMessage*> commit_msgs_;  // reused by every CommitGroup
  // This commit's share log rows (store/target_store.h), one per application.
  struct ShareRow {
    Id app_id = 0;
    int64_t records = 0;
    TimeMs first_received_ms = 0;
    std::string data;  // share_codec.h
  };
  std::vector<ShareRow> commit_share_;
  int64_t last_log_rowid_ = 0;
  int64_t last_blob_id_ = 0;  // newest points_blob row (log_codec.h)

  // Queue (guarded by q_mu_).
  std::mutex q_mu_;
  std::condition_variable q_cv_;
  std::deque<PendingBatch> queue_;
  size_t unpaced_queued_ = 0;  // batches in queue_ with !paced
  bool pacing_ = false;        // the writer waits for the commit interval
  bool closing_ = false;
  bool closed_ = false;
  std::thread writer_;
  std::mutex close_mu_;

  // Background WAL checkpoints, off the ingest path (guarded by q_mu_).
  void CheckpointLoop();
  std::condition_variable ckpt_cv_;
  bool ckpt_stop_ = false;
  std::thread checkpointer_;
};

}  // namespace bysans::sqlite

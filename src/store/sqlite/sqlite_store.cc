#include "store/sqlite/sqlite_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "core/thread_name.h"
#include "store/sqlite/migrations.h"
#include "store/sqlite/store_impl.h"

namespace bysans {
namespace sqlite {
namespace {
// The writer appends at the right edge of its tables: a small cache is enough (256 MiB faulted
// in fresh pages it never read again). The sealer inserts chunks across every series' part of
// the chunks B-tree and keeps the size it had.
constexpr int64_t kWriterCacheKib = 32 * 1024;
constexpr int64_t kSealerCacheKib = 64 * 1024;
constexpr int64_t kReaderCacheKib = 32 * 1024;
}  // namespace

Result<Pool::Lease> Pool::Acquire() {
  {
    std::lock_guard lk(mu_);
    if (!free_.empty()) {
      auto db = std::move(free_.back());
      free_.pop_back();
      return Lease(this, std::move(db));
    }
  }
  BYSANS_ASSIGN_OR_RETURN(auto db, Db::Open(path_, cache_kib_, gate_));
  return Lease(this, std::move(db));
}

void Pool::Release(std::unique_ptr<Db> db) {
  std::lock_guard lk(mu_);
  free_.push_back(std::move(db));
}

SqliteStore::SqliteStore(const SqliteOptions& o)
    : opts_(o), pool_(o.path, kReaderCacheKib, &gate_), dedup_(o.dedup_window) {}

SqliteStore::~SqliteStore() { Close(); }

Status SqliteStore::Init() {
  // Checkpoints run on their own thread (CheckpointLoop), not in commits: a
  // gated connection has no automatic checkpoint (db.h).
  BYSANS_ASSIGN_OR_RETURN(writer_db_, Db::Open(opts_.path, kWriterCacheKib, &gate_));
  // No journal_size_limit: SQLite would truncate a grown WAL inside the first commit that
  // restarts it (ftruncate of a few hundred MB took 385 ms there under bench/mqtt). The
  // checkpoint thread shrinks it instead, once the store has been idle (CheckpointLoop).
  BYSANS_RETURN_IF_ERROR(Migrate(*writer_db_, opts_.clock->NowMs()).status());
  // One server sends from one SQLite file: claims of outbox rows left by an earlier process (a
  // kill -9) are its own, ended now so the restart sends them at once (rule_store.h).
  BYSANS_RETURN_IF_ERROR(
      writer_db_->Exec("UPDATE outbox SET claimed_until=0 WHERE claimed_until>0"));
  BYSANS_RETURN_IF_ERROR(LoadSeriesState());
  rules_ = NewSqliteRuleStore(pool_);
  decoders_ = NewSqliteDecoderStore(pool_);
  open_data_ = NewSqliteOpenDataStore(pool_);
  dashboards_ = NewSqliteDashboardStore(pool_);
  contacts_ = NewSqliteContactStore(pool_);
  coap_credentials_ = NewSqliteCoapCredentialStore(pool_);
  lwm2m_ = NewSqliteLwm2mStore(pool_);
  leases_ = std::make_unique<InProcessLeases>(*opts_.clock);
  subject_erasures_ = NewSqliteSubjectErasureStore(pool_, *opts_.clock, [this] {
    BYSANS_RETURN_IF_ERROR(ScrubFreePages());
    return ScrubWal();
  });
  BYSANS_ASSIGN_OR_RETURN(secrets_, SecretBox::Open(SecretKeyPathOf(opts_.path)));
  mqtt_store_ = NewSqliteMqttStore(pool_, *secrets_);
  gateways_ = NewSqliteGatewayStore(pool_, [this] { return mqtt_store_->FlushPending(); });
  targets_ = NewSqliteTargetStore(pool_, *secrets_);
  // The sealer's own write connection. synchronous=NORMAL is safe here: in WAL
  // mode frames are durable in order, a lost seal transaction leaves its log
  // rows (recovered at open), and the writer's next FULL commit syncs them.
  BYSANS_ASSIGN_OR_RETURN(seal_db_, Db::Open(opts_.path, kSealerCacheKib, &gate_));
  BYSANS_RETURN_IF_ERROR(seal_db_->Exec("PRAGMA synchronous=NORMAL"));
  sealer_ = std::thread([this] { SealerLoop(); });
  writer_ = std::thread([this] { WriterLoop(); });
  checkpointer_ = std::thread([this] { CheckpointLoop(); });
  eraser_ = std::thread([this] { EraserLoop(); });
  return Status::Ok();
}

std::string SecretKeyPathOf(const std::string& db_path) {
  if (db_path.empty() || db_path == ":memory:" || db_path.rfind("file:", 0) == 0) return {};
  auto slash = db_path.rfind('/');
  return (slash == std::string::npos ? std::string() : db_path.substr(0, slash + 1)) + "secret.key";
}

namespace {
// Runs a passive checkpoint; returns the frames in the WAL since its last restart (-1 on error).
int64_t PassiveCheckpoint(Db& db) {
  auto st = db.Prepare("PRAGMA wal_checkpoint(PASSIVE)");
  if (!st.ok() || !(*st)->Step()) return -1;
  const int64_t frames = (*st)->Int(1);
  (void)(*st)->Run();  // reset
  return frames;
}
}  // namespace

void SqliteStore::CheckpointLoop() {
  NameThisThread("store-ckpt");
  constexpr auto kPeriod = std::chrono::milliseconds(200);
  constexpr int kPeriodsPerPendingFlush = 5;  // gateways and routes are written once a second
  int periods = 0;
  const auto idle_before_shrink = std::chrono::milliseconds(opts_.wal_shrink_idle_ms);
  const auto wal_keep_bytes =
      static_cast<std::uintmax_t>(std::max<int64_t>(0, opts_.wal_keep_bytes));
  auto db = Db::Open(opts_.path, 2048);
  const int64_t catch_up_frames = std::max<int64_t>(0, opts_.wal_catch_up_bytes) / 4096;
  const std::string wal_path = opts_.path + "-wal";
  uint64_t seen_commits = gate_.releases();
  auto last_commit = std::chrono::steady_clock::now();
  std::unique_lock lk(q_mu_);
  while (!ckpt_stop_) {
    // A periodic task, not synchronisation: wakes early only to stop.
    ckpt_cv_.wait_for(lk, kPeriod, [&] { return ckpt_stop_; });
    if (ckpt_stop_ || !db.ok()) break;
    lk.unlock();
    if (++periods % kPeriodsPerPendingFlush == 0) {
      if (Status st = mqtt_store_->FlushPending(); !st.ok())
        spdlog::warn("store: could not record LoRaWAN gateways and routes: {}", st.message());
    }
    // PASSIVE never blocks the writer or readers; the WAL restarts from its
    // beginning once a checkpoint has caught up.
    const int64_t wal_frames = PassiveCheckpoint(**db);
    if (catch_up_frames > 0 && wal_frames > catch_up_frames) {
      // Writers wait for the few frames written since the pass above (wal_catch_up_bytes).
      gate_.Lock(WriteTurn::kInOrder);
      (void)PassiveCheckpoint(**db);
      gate_.Unlock();
    }
    // A WAL that grew under load keeps its size (it is reused from the start) until the
    // store has been idle a while; then it is truncated, a stall nobody waits for.
    const auto now = std::chrono::steady_clock::now();
    if (const uint64_t commits = gate_.releases(); commits != seen_commits) {
      seen_commits = commits;
      last_commit = now;
    } else if (now - last_commit >= idle_before_shrink) {
      std::error_code ec;
      if (std::filesystem::file_size(wal_path, ec) > wal_keep_bytes && !ec)
        (void)(*db)->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
      last_commit = now;  // look again after the next idle period
    }
    lk.lock();
  }
}

void SqliteStore::Close() {
  std::lock_guard close_lk(close_mu_);
  if (closed_) return;
  {
    std::lock_guard lk(q_mu_);
    closing_ = true;
  }
  q_cv_.notify_all();
  {
    std::lock_guard lk(eraser_mu_);  // an erasure in progress ends its transaction first
    eraser_stop_ = true;
    eraser_stopping_ = true;
  }
  eraser_cv_.notify_all();
  if (eraser_.joinable()) eraser_.join();
  if (writer_.joinable()) writer_.join();  // it finishes the running seal and seals the rest
  {
    std::lock_guard lk(seal_mu_);
    seal_stop_ = true;
  }
  seal_cv_.notify_all();
  if (sealer_.joinable()) sealer_.join();
  {
    std::lock_guard lk(q_mu_);
    ckpt_stop_ = true;
  }
  ckpt_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  if (mqtt_store_) {
    if (Status st = mqtt_store_->FlushPending(); !st.ok())
      spdlog::warn("store: could not record LoRaWAN gateways and routes: {}", st.message());
  }
  if (writer_db_) (void)writer_db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  closed_ = true;
}

}  // namespace sqlite

Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  if (options.clock == nullptr) return InvalidArgument("SqliteOptions.clock is required");
  if (options.path.empty()) return InvalidArgument("SqliteOptions.path is required");
  if (options.seal_points < 1) return InvalidArgument("SqliteOptions.seal_points must be >= 1");
  auto store = std::make_unique<sqlite::SqliteStore>(options);
  BYSANS_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace bysans

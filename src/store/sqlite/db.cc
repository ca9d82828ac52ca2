#include "store/sqlite/db.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace bysans::sqlite {

namespace {

// What a unique clash means to the caller, without SQL: table.column of the
// constraint → a neutral sentence. It must not tell in which organisation
// the other object is (a DevEUI is unique across all of them).
std::string ConflictMessage(std::string_view detail) {
  static constexpr std::pair<std::string_view, std::string_view> kKnown[] = {
      {"devices.dev_eui", "a device with this DevEUI already exists"},
      {"users.email", "a user with this email already exists"},
      {"mqtt_credentials.username", "a device with this MQTT username already exists"},
  };
  for (const auto& [column, message] : kKnown)
    if (detail.find(column) != std::string_view::npos) return std::string(message);
  return "an object with the same unique value already exists";
}

}  // namespace

Status FromSqlite(sqlite3* db, int rc, std::string_view what) {
  // The detail names tables, columns and SQL: it goes to the log only.
  std::string detail = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      spdlog::debug("sqlite: {}", detail);
      return AlreadyExists(ConflictMessage(detail));
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      spdlog::debug("sqlite: {}", detail);
      return NotFound("a referenced object does not exist");
    default:
      break;
  }
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    spdlog::warn("sqlite: {}", detail);
    return Unavailable("the database is busy; try again");
  }
  spdlog::error("sqlite: {}", detail);
  return Internal("database error");
}

bool Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status_ = FromSqlite(db_, rc, "step");
  return false;
}

Status Stmt::Run() {
  status_ = Status::Ok();
  while (Step()) {
  }
  sqlite3_reset(s_);  // ready to be bound and run again
  return status_;
}

namespace {

constexpr auto kBusyGiveUp = std::chrono::seconds(30);
constexpr auto kBusySlice = std::chrono::milliseconds(2);

// SQLite's WAL hook runs after a commit, with the write lock released.
int OnCommitted(void* gate, sqlite3* /*db*/, const char* /*schema*/, int /*wal_pages*/) {
  static_cast<WriteGate*>(gate)->NotifyCommitted();
  return SQLITE_OK;
}

}  // namespace

int Db::OnBusy(void* self, int tries) {
  auto* db = static_cast<Db*>(self);
  const auto now = std::chrono::steady_clock::now();
  if (tries == 0) db->busy_since_ = now;
  if (now - db->busy_since_ > kBusyGiveUp) return 0;
  db->gate_->WaitForRelease(kBusySlice);
  return 1;
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, int64_t cache_kib, WriteGate* gate) {
  static std::once_flag configured;
  std::call_once(configured, [] {
    // No global memory statistics: they take a process-wide mutex around every SQLite
    // malloc and free (bysans reads none of them). Refused (harmlessly) if SQLite was
    // already initialised by someone else.
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Internal("cannot open database '" + path +
                        "': " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    sqlite3_close(raw);
    return s;
  }
  std::unique_ptr<Db> db(new Db(raw, gate));  // private constructor
  if (gate) {
    sqlite3_busy_handler(raw, &Db::OnBusy, db.get());
    sqlite3_wal_hook(raw, &OnCommitted, gate);  // replaces the automatic checkpoint
  } else {
    sqlite3_busy_timeout(raw, static_cast<int>(kBusyGiveUp / std::chrono::milliseconds(1)));
  }
  sqlite3_extended_result_codes(raw, 1);
  BYSANS_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  BYSANS_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=FULL"));
  BYSANS_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  BYSANS_RETURN_IF_ERROR(db->Exec("PRAGMA temp_store=MEMORY"));
  // Deleted rows' bytes are zeroed in the pages that are written anyway (no extra I/O); pages
  // freed whole are zeroed by the erasure primitives (series_delete.cc).
  BYSANS_RETURN_IF_ERROR(db->Exec("PRAGMA secure_delete=FAST"));
  BYSANS_RETURN_IF_ERROR(db->Exec("PRAGMA cache_size=-" + std::to_string(cache_kib)));
  return db;
}

Db::~Db() {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  sqlite3_close_v2(db_);
}

Result<std::unique_ptr<Stmt>> Db::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) return FromSqlite(db_, rc, "prepare '" + sql + "'");
    it = cache_.emplace(sql, s).first;
  }
  return std::make_unique<Stmt>(it->second, db_);
}

Status Db::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Status s = FromSqlite(db_, rc, "exec '" + sql.substr(0, 60) + "'");
    sqlite3_free(err);
    return s;
  }
  return Status::Ok();
}

}  // namespace bysans::sqlite

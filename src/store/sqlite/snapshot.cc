#include "store/sqlite/snapshot.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

namespace bysans::sqlite {
namespace {

// A connection closed on every path.
struct Conn {
  sqlite3* db = nullptr;
  ~Conn() { sqlite3_close_v2(db); }
  std::string Error() const { return db != nullptr ? sqlite3_errmsg(db) : "out of memory"; }
};

Status Open(const std::string& path, int flags, Conn* c) {
  if (sqlite3_open_v2(path.c_str(), &c->db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    return Internal("cannot open " + path + ": " + c->Error());
  }
  sqlite3_busy_timeout(c->db, 30'000);
  return Status::Ok();
}

Status SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Internal("cannot open " + path + " to sync it");
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::Ok() : Internal("cannot sync " + path);
}

}  // namespace

Status SnapshotDatabase(const std::string& src, const std::string& dest) {
  Conn from, to;
  // Read-write without create: a read-only connection cannot open a WAL database whose -shm is
  // gone (a stopped server's); nothing is written through it.
  BYSANS_RETURN_IF_ERROR(Open(src, SQLITE_OPEN_READWRITE, &from));
  BYSANS_RETURN_IF_ERROR(Open(dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &to));
  sqlite3_backup* b = sqlite3_backup_init(to.db, "main", from.db, "main");
  if (b == nullptr) return Internal("cannot start the snapshot of " + src + ": " + to.Error());
  const int step = sqlite3_backup_step(b, -1);
  const int finish = sqlite3_backup_finish(b);
  if (step != SQLITE_DONE || finish != SQLITE_OK) {
    return Internal("snapshot of " + src + " failed: " + to.Error());
  }
  if (sqlite3_exec(to.db, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Internal("cannot finish the snapshot " + dest + ": " + to.Error());
  }
  return SyncFile(dest);
}

Status CheckDatabase(const std::string& path) {
  Conn c;
  BYSANS_RETURN_IF_ERROR(Open(path, SQLITE_OPEN_READONLY, &c));
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(c.db, "PRAGMA quick_check", -1, &st, nullptr) != SQLITE_OK) {
    return Internal(path + " is not a bysans database: " + c.Error());
  }
  std::string first;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(st, 0);
    first = text != nullptr ? reinterpret_cast<const char*>(text) : "";
  }
  std::string error = rc == SQLITE_ROW || rc == SQLITE_DONE ? "" : c.Error();
  sqlite3_finalize(st);
  if (!error.empty()) return Internal(path + " is not a readable database: " + error);
  if (first != "ok") return Internal(path + " is damaged: " + first);
  return Status::Ok();
}

}  // namespace bysans::sqlite

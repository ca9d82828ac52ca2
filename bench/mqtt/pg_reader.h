// bench_mqtt_load's reader of bysans' PostgreSQL tables (BENCH_STORE=postgres): which messages
// are committed, as the SQLite DbPoller in load.cc does for bysans.db, and what was stored.
//
// raw_messages ids come from one sequence, but with several nodes (several writer connections)
// they are not committed in id order: a transaction holding ids 100-200 may commit after one
// holding 201-300. So the reader keeps the ids it has seen above a watermark, and moves the
// watermark to the newest id of an earlier poll only once every transaction that was running at
// that poll has ended (its snapshot's xmax <= a later snapshot's xmin): no id at or below it can
// appear later. (The one gap: a transaction that drew an id but had no transaction id yet at that
// poll, microseconds inside its first INSERT. Such a message is only late for the poller, which
// then waits out its drain; the final count, after bysans stopped, is exact.)
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

namespace bench {

class PgReader {
 public:
  PgReader() = default;
  ~PgReader();
  PgReader(const PgReader&) = delete;
  PgReader& operator=(const PgReader&) = delete;

  // Connects (a postgresql:// URL) and takes the newest committed message as the baseline.
  bool Open(const std::string& url);
  // Reads the messages committed since the last call; calls f(device_id, payload) for each one
  // seen for the first time when `payloads` (else only counts). Returns the messages seen since
  // Open, or -1 on an error (printed).
  int64_t Poll(bool payloads, const std::function<void(int64_t, std::string_view)>& f);
  // The process id of the server backend that answers the polls (its CPU is the reader's).
  int backend_pid() const { return conn_ ? PQbackendPID(conn_) : 0; }

 private:
  PGconn* conn_ = nullptr;
  int64_t watermark_ = 0;                            // every message with id <= this has been seen
  std::unordered_set<int64_t> above_;                // ids above the watermark seen
  std::deque<std::pair<int64_t, int64_t>> pending_;  // (newest id seen, snapshot xmax) per poll
  int64_t seen_ = 0;
};

// --mode count --pg URL: prints "mqtt=N all=M lorawan=L lorawan_errors=E points=P" (as the SQLite
// count, plus P = rows of `readings`), the decode errors to stderr. Returns the exit code.
int CountStoredPostgres(const std::string& url);

}  // namespace bench

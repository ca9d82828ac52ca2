// SQLite implementation of the store interface (store/store.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "store/store.h"

namespace bysans {

struct SqliteOptions {
  std::string path;                 // database file; created if missing, parent dir must exist
  const Clock* clock = nullptr;     // required
  size_t max_queue_batches = 4096;  // back-pressure: AppendAsync answers kUnavailable beyond this
  // Readings held in the open segment (memory + append log) before they are
  // sealed into per-series chunks. A seal writes one chunk row per active
  // series, so larger segments mean fewer, bigger chunks and less write
  // amplification; the cost is memory (~80 bytes per reading) and the time to
  // reload the log at open after a crash. See README.md.
  int64_t seal_points = 1'048'576;
  int group_commit_max_batches = 512;
  // Under load, group commits of paced batches (IngestBatch::paced: MQTT streams) start at
  // most this often: the writer waits until this long after the previous commit started
  // before it takes the queue, unless the queue holds an unpaced batch (a caller waits: HTTP)
  // or group_commit_max_batches. An idle writer commits at once. A commit's fixed cost
  // (fdatasync: ~100 µs of CPU on a VM) is then shared by more messages, for up to this much
  // latency while busy. 0 = commit as soon as the previous commit ended.
  int64_t group_commit_interval_us = 5000;
  // Raw messages the writer collects before it writes them to the by-device
  // index in one commit (raw_device_runs.h), or raw_log rows (one per group
  // commit), whichever limit comes first. Until then a device query reads
  // those rows.
  int64_t message_index_batch = 32768;
  int64_t message_index_rows = 2048;
  // Dedup keys of at least the newest this many raw messages are remembered
  // (dedup_window.h): a copy of an older message is stored again. Redelivered
  // copies come within the sender's in-flight window, far below this.
  size_t dedup_window = 262'144;
  // Series per sealer transaction: a seal runs on its own thread in slices this
  // big, so appends wait at most one slice for SQLite's write lock.
  int seal_slice_series = 1000;
  int64_t seal_slice_points = 65'536;  // ... and at most about this many points
  // A WAL file that grew beyond wal_keep_bytes under load is truncated once no
  // commit happened for wal_shrink_idle_ms (SQLite would do it inside a commit).
  int64_t wal_keep_bytes = int64_t{64} << 20;
  int64_t wal_shrink_idle_ms = 10'000;
  // Under steady load a passive checkpoint always runs behind new frames, so SQLite never
  // restarts the WAL from its beginning: the file grows without end and every commit
  // extends it (its fsync then also writes the inode). Once the WAL holds more than this
  // since its last restart, the checkpoint thread catches up with writers held (the write
  // gate) right after a passive pass, when few frames remain; the next commit then starts
  // the WAL over. 0 = never. A safety valve, not routine: the held writers wait for the
  // catch-up's database fsync (at 16 MiB, every ~1.5 s under bench/mqtt, p99 rose from
  // 11-13 to 35-47 ms), so the WAL may grow to this size first.
  int64_t wal_catch_up_bytes = int64_t{256} << 20;
  // Test hook: called on the sealer thread after each committed slice of a seal
  // (slice index from 0), before the seal's final transaction. Empty in production.
  std::function<void(int slice)> after_seal_slice;
};

// Opens (creating and migrating if needed) the database at options.path.
Result<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace bysans

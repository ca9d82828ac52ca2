// The by-device index of raw_log: table raw_device_runs holds, per device and
// index batch, one row listing the raw_log rows that hold the device's
// messages (and how many each holds), with the device's time range and count.
// The writer collects a batch in memory (RawRunsBuilder) and writes it in one
// commit together with seal_state.raw_indexed_upto, the newest raw_log row it
// covers; rows above that are found by reading them (raw_messages_read.h).
// One row per device per batch instead of one index entry per message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "store/sqlite/db.h"

namespace bysans::sqlite {

// raw_log row `log_id` holds `count` messages of the run's device.
struct RunEntry {
  int64_t log_id = 0;
  int64_t count = 0;
};

// `count` messages of `device` in raw_log row `log_id` (count < 0: not known, the row is above
// the index), as the erasure and retention passes collect them from the index.
struct DeviceInRow {
  int64_t log_id = 0;
  Id device = 0;
  int64_t count = 0;
};

// A device's messages in one batch.
struct DeviceRun {
  TimeMs t_min = 0;
  TimeMs t_max = 0;
  int64_t n = 0;
  std::vector<RunEntry> logs;  // ascending log_id
};

// Removes `count` messages of row `log_id` from a run's entries and its n; false if the run
// holds no such row.
bool SubtractFromRun(int64_t log_id, int64_t count, std::vector<RunEntry>* logs, int64_t* n);

// raw_device_runs.logs: per entry varint log_id delta (from the previous
// entry; the first from first_log) and varint count.
void EncodeRunLogs(const std::vector<RunEntry>& logs, std::string* out);
Status DecodeRunLogs(std::string_view data, int64_t first_log, std::vector<RunEntry>* out);

class RawRunsBuilder {
 public:
  // One message of `device` in raw_log row `log_id` (rows in ascending order).
  void Add(Id device, int64_t log_id, TimeMs received_ms);
  // Appends `newer` (whose rows all follow this builder's).
  void Merge(const RawRunsBuilder& newer);
  // `count` messages of `device` in row `log_id` were erased (raw_erase.cc): they are no longer
  // counted (a device left with none writes no run).
  void Subtract(Id device, int64_t log_id, int64_t count);
  // Inserts one raw_device_runs row per device and moves raw_indexed_upto to
  // newest_log(). Inside the caller's write transaction.
  Status Write(Db& db) const;
  void Clear();

  bool empty() const { return messages_ == 0; }
  int64_t messages() const { return messages_; }
  int64_t logs() const { return logs_; }  // distinct raw_log rows
  int64_t newest_log() const { return newest_log_; }

 private:
  std::unordered_map<Id, DeviceRun> runs_;
  int64_t messages_ = 0;
  int64_t logs_ = 0;
  int64_t newest_log_ = 0;
};

}  // namespace bysans::sqlite

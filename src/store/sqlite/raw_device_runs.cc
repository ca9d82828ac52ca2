#include "store/sqlite/raw_device_runs.h"

#include <algorithm>

#include "store/sqlite/chunk_codec.h"

namespace bysans::sqlite {

void EncodeRunLogs(const std::vector<RunEntry>& logs, std::string* out) {
  int64_t prev = logs.empty() ? 0 : logs.front().log_id;
  for (const RunEntry& e : logs) {
    PutVarint(static_cast<uint64_t>(e.log_id - prev), out);
    PutVarint(static_cast<uint64_t>(e.count), out);
    prev = e.log_id;
  }
}

Status DecodeRunLogs(std::string_view in, int64_t first_log, std::vector<RunEntry>* out) {
  int64_t prev = first_log;
  while (!in.empty()) {
    uint64_t delta = 0, count = 0;
    if (!GetVarint(&in, &delta) || !GetVarint(&in, &count))
      return Internal("corrupt raw_device_runs row");
    prev += static_cast<int64_t>(delta);
    out->push_back(RunEntry{prev, static_cast<int64_t>(count)});
  }
  return Status::Ok();
}

bool SubtractFromRun(int64_t log_id, int64_t count, std::vector<RunEntry>* logs, int64_t* n) {
  auto it = std::lower_bound(logs->begin(), logs->end(), log_id,
                             [](const RunEntry& e, int64_t id) { return e.log_id < id; });
  if (it == logs->end() || it->log_id != log_id) return false;
  const int64_t taken = std::min(count, it->count);
  it->count -= taken;
  *n -= taken;
  if (it->count == 0) logs->erase(it);
  return true;
}

void RawRunsBuilder::Subtract(Id device, int64_t log_id, int64_t count) {
  auto it = runs_.find(device);
  if (it == runs_.end()) return;
  const int64_t before = it->second.n;
  if (!SubtractFromRun(log_id, count, &it->second.logs, &it->second.n)) return;
  messages_ -= before - it->second.n;
  if (it->second.logs.empty()) runs_.erase(it);
}

void RawRunsBuilder::Add(Id device, int64_t log_id, TimeMs received_ms) {
  DeviceRun& r = runs_[device];
  if (r.logs.empty() || r.logs.back().log_id != log_id) {
    r.logs.push_back(RunEntry{log_id, 0});
  }
  ++r.logs.back().count;
  r.t_min = r.n == 0 ? received_ms : std::min(r.t_min, received_ms);
  r.t_max = r.n == 0 ? received_ms : std::max(r.t_max, received_ms);
  ++r.n;
  ++messages_;
  if (log_id != newest_log_) ++logs_;
  newest_log_ = std::max(newest_log_, log_id);
}

void RawRunsBuilder::Merge(const RawRunsBuilder& newer) {
  for (const auto& [device, add] : newer.runs_) {
    DeviceRun& r = runs_[device];
    r.t_min = r.n == 0 ? add.t_min : std::min(r.t_min, add.t_min);
    r.t_max = r.n == 0 ? add.t_max : std::max(r.t_max, add.t_max);
    r.n += add.n;
    r.logs.insert(r.logs.end(), add.logs.begin(), add.logs.end());
  }
  messages_ += newer.messages_;
  logs_ += newer.logs_;
  newest_log_ = std::max(newest_log_, newer.newest_log_);
}

Status RawRunsBuilder::Write(Db& db) const {
  if (empty()) return Status::Ok();
  BYSANS_ASSIGN_OR_RETURN(auto ins,
                          db.Prepare("INSERT INTO raw_device_runs(dev, first_log, t_min, t_max, "
                                     "n, logs) VALUES(?, ?, ?, ?, ?, ?)"));
  std::string blob;
  for (const auto& [device, r] : runs_) {
    if (r.logs.empty()) continue;
    blob.clear();
    EncodeRunLogs(r.logs, &blob);
    ins->Bind(1, device).Bind(2, r.logs.front().log_id).Bind(3, r.t_min).Bind(4, r.t_max);
    ins->Bind(5, r.n).BindBlobUncopied(6, blob.data(), blob.size());
    BYSANS_RETURN_IF_ERROR(ins->Run());
  }
  BYSANS_ASSIGN_OR_RETURN(
      auto up, db.Prepare("UPDATE seal_state SET raw_indexed_upto = max(raw_indexed_upto, ?)"));
  return up->Bind(1, newest_log_).Run();
}

void RawRunsBuilder::Clear() {
  runs_.clear();
  messages_ = 0;
  logs_ = 0;
  newest_log_ = 0;
}

}  // namespace bysans::sqlite

// What retention has already done (retention.cc), so that the hourly housekeeping passes between
// two day boundaries (model/retention.h RetentionCutoffsAt) cost a lookup per series and one
// query per application instead of an index seek per series and per device, each re-reading
// pages SQLite dropped from the connection's cache when another connection wrote.
//
// Per series: "no sealed chunk holds a point before `chunks_before`, and no chunk_hours row
// holds an hour before `hours_before`". Set by a pass that finished the series, inside its write
// transaction (so no seal can commit in between), and forgotten if that transaction does not
// commit; lowered by each seal after it commits with the oldest point it wrote (late data).
//
// Per device: "no raw message before `before` is in raw_log rows up to `upto_row`". Rows after
// it are new commits: the pass looks for one holding a message before the cutoff (`t_min`)
// before trusting the memo.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "model/model.h"

namespace bysans::sqlite {

class RetentionMemo {
 public:
  // Whether a pass with these cuts (INT64_MIN: that part has no cut) would find nothing in
  // the series.
  bool SeriesDone(int64_t series_id, TimeMs keep_from, TimeMs hours_before) const {
    std::lock_guard lk(mu_);
    auto it = series_.find(series_id);
    if (it == series_.end()) return keep_from == INT64_MIN && hours_before == INT64_MIN;
    return keep_from <= it->second.chunks_before && hours_before <= it->second.hours_before;
  }
  void SetSeriesDone(int64_t series_id, TimeMs keep_from, TimeMs hours_before) {
    std::lock_guard lk(mu_);
    series_[series_id] = SeriesMark{keep_from, hours_before};
  }
  void ForgetSeries(int64_t series_id) {
    std::lock_guard lk(mu_);
    series_.erase(series_id);
  }
  // A seal committed, per series, a chunk starting at the given time (one lock for the seal).
  void Sealed(const std::vector<std::pair<int64_t, TimeMs>>& oldest_of_series) {
    std::lock_guard lk(mu_);
    for (const auto& [series_id, t_min] : oldest_of_series) {
      auto it = series_.find(series_id);
      if (it != series_.end() && t_min < it->second.chunks_before) it->second.chunks_before = t_min;
    }
  }

  // The newest row up to which the device's raw messages before `before` are known to be gone
  // (-1: not known).
  int64_t RawDoneUpto(Id device, TimeMs before) const {
    std::lock_guard lk(mu_);
    auto it = raw_.find(device);
    return it != raw_.end() && before <= it->second.before ? it->second.upto_row : -1;
  }
  void SetRawDone(Id device, TimeMs before, int64_t upto_row) {
    std::lock_guard lk(mu_);
    raw_[device] = RawMark{before, upto_row};
  }
  // A deleted device's messages were erased: nothing more to remember of it.
  void ForgetDevice(Id device) {
    std::lock_guard lk(mu_);
    raw_.erase(device);
  }
  // Entries held (tests: deleted devices' and series' entries go).
  size_t size() const {
    std::lock_guard lk(mu_);
    return series_.size() + raw_.size();
  }

 private:
  struct SeriesMark {
    TimeMs chunks_before, hours_before;
  };
  struct RawMark {
    TimeMs before;
    int64_t upto_row;
  };
  mutable std::mutex mu_;
  std::unordered_map<int64_t, SeriesMark> series_;
  std::unordered_map<Id, RawMark> raw_;
};

}  // namespace bysans::sqlite

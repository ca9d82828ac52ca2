// Benchmarks' bound on batches in flight (AppendAsync), like concurrent ingest connections:
// Acquire() before each, Release(status) in its callback, Drain() for the first error.
#pragma once

#include <condition_variable>
#include <mutex>

#include "core/status.h"

namespace bysans {

class Inflight {
 public:
  explicit Inflight(int max) : max_(max) {}
  void Acquire() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return n_ < max_; });
    ++n_;
  }
  void Release(const Status& s) {
    std::lock_guard lk(mu_);
    if (!s.ok() && error_.ok()) error_ = s;
    --n_;
    cv_.notify_all();
  }
  Status Drain() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return n_ == 0; });
    return error_;
  }

 private:
  int max_;
  int n_ = 0;
  Status error_;
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace bysans

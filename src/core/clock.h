// Clock: the only source of time. Production uses SystemClock; tests inject
// ManualClock so time-based behaviour runs in simulated time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace bysans {

// Milliseconds since the Unix epoch, UTC. The one time type inside bysans.
using TimeMs = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in ms since the epoch. Thread-safe.
  virtual TimeMs NowMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimeMs NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeMs start) : now_(start) {}
  TimeMs NowMs() const override { return now_.load(); }
  void Set(TimeMs t) { now_.store(t); }
  void Advance(TimeMs d) { now_.fetch_add(d); }

 private:
  std::atomic<TimeMs> now_;
};

}  // namespace bysans

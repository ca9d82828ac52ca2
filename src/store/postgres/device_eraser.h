// What a deleted device leaves on PostgreSQL: its series (readings, hourly rollups) and raw
// messages have no foreign key to `devices` (the ingest path never waits on one), so a trigger on
// `devices` queues their erasure in the deleting transaction (also when the device goes with its
// application or organisation), now and once more 15 s later (a message may still be accepted for
// a device an ingest cache has not yet seen deleted), as the SQLite store's `erasures` queue does.
// A DeviceEraser works the queue off: one due entry at a time, held with FOR UPDATE SKIP LOCKED
// for the duration of its work, so on several nodes each entry is done by one of them, and an
// entry whose node died is taken up again by another. Migration 12 (DeviceErasuresSchema).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/status.h"
#include "store/store.h"

namespace bysans::pg {

class Pool;

class DeviceEraser {
 public:
  // `series`: the store whose DeleteSeries and EraseRawMessages do the erasing.
  DeviceEraser(Pool& pool, SeriesStore& series);
  ~DeviceEraser();
  DeviceEraser(const DeviceEraser&) = delete;
  DeviceEraser& operator=(const DeviceEraser&) = delete;

  // Looks for due entries every second on a thread of its own ("store-eraser").
  void Start();
  // Stops the thread; an entry being worked on stays queued (done again after a restart).
  void Stop();

  // Erases one due entry's device; *found = false when none was due (or all are being worked on
  // by other erasers).
  Status EraseNextDue(bool* found);

 private:
  void Loop();

  Pool& pool_;
  SeriesStore& series_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace bysans::pg

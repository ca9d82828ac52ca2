// Each organisation's share of the pipeline's in-flight window (PipelineOptions::max_in_flight):
// the uplinks it has between Submit and commit. The window bounds memory and makes transports push
// back; without a share, one organisation that sends faster than the store commits (a CoAP client
// sends as many requests as it likes without waiting: each is an uplink held in the window until
// its commit) held the whole window, and every other organisation's HTTP, CoAP and LwM2M uplinks
// were answered "unavailable" while it lasted. With a share below the window, the others always
// find room; the organisation at its share is told to retry, as when the window is full.
// Thread-safe (one mutex; a map lookup per uplink, erased at zero so idle organisations cost
// nothing).
#pragma once

#include <cstddef>
#include <mutex>
#include <unordered_map>

#include "model/model.h"

namespace bysans::pipeline {

class OrgWindow {
 public:
  explicit OrgWindow(size_t max_per_org) : max_per_org_(max_per_org) {}

  // Takes one of the organisation's places: false (nothing taken) when it holds max_per_org.
  bool TryTake(Id org);
  // Gives back a place TryTake took.
  void Give(Id org);

  size_t max_per_org() const { return max_per_org_; }

 private:
  const size_t max_per_org_;
  std::mutex mu_;
  std::unordered_map<Id, size_t> held_;
};

}  // namespace bysans::pipeline

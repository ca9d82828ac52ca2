// Building SeriesStore::LatestWithin's answer the same way in every backend: the backend offers
// each device's latest readings in the order asked (keys in order, from the query's start), and
// the builder keeps them until the next would pass the query's byte budget.
#pragma once

#include <cstddef>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "store/store.h"

namespace bysans {

class LatestSliceBuilder {
 public:
  explicit LatestSliceBuilder(const LatestQuery& q);

  // kInvalidArgument when the query's start names a device it does not list.
  const Status& status() const { return status_; }
  // The devices to offer, in order: q.device_ids from the start's device on.
  size_t first() const { return first_; }
  // Whether a reading of `key` of device `position` (an index into q.device_ids) is offered at
  // all: the start's device begins after its key.
  bool Wanted(size_t position, std::string_view key) const;
  // Takes the device's next reading (or refuses it: false, and the slice ends before it) by
  // its ReadingBytes `cost`, which a backend may know before it has the reading's text.
  bool Offer(Reading r, size_t cost);
  // The readings taken so far (a backend fills in texts it read after offering them).
  std::vector<Reading>& readings() { return slice_.readings; }
  // The slice; `next` is set when a reading was refused.
  LatestSlice Finish() { return std::move(slice_); }

 private:
  const LatestQuery& q_;
  Status status_;
  size_t first_ = 0;
  size_t bytes_ = 0;
  bool full_ = false;
  LatestSlice slice_;
};

// Each device's index in q.device_ids (the order of a slice).
std::unordered_map<Id, size_t> DevicePositions(const std::vector<Id>& device_ids);

}  // namespace bysans

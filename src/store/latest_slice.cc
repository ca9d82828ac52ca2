#include "store/latest_slice.h"

#include <algorithm>

namespace bysans {

LatestSliceBuilder::LatestSliceBuilder(const LatestQuery& q) : q_(q) {
  if (!q.start) return;
  auto it = std::find(q.device_ids.begin(), q.device_ids.end(), q.start->device_id);
  if (it == q.device_ids.end()) {
    status_ = InvalidArgument("the latest values' start names a device that was not asked for");
    first_ = q.device_ids.size();
    return;
  }
  first_ = static_cast<size_t>(it - q.device_ids.begin());
}

bool LatestSliceBuilder::Wanted(size_t position, std::string_view key) const {
  return !(q_.start && position == first_ && key <= q_.start->after_key);
}

bool LatestSliceBuilder::Offer(Reading r, size_t cost) {
  if (full_) return false;
  std::vector<Reading>& out = slice_.readings;
  if (!out.empty() && cost > q_.max_bytes - std::min(bytes_, q_.max_bytes)) {
    // The device goes on after its last key taken (or from its first).
    const bool started = out.back().device_id == r.device_id;
    slice_.next = LatestPosition{r.device_id, started ? out.back().key : ""};
    full_ = true;
    return false;
  }
  bytes_ += cost;
  out.push_back(std::move(r));
  return true;
}

std::unordered_map<Id, size_t> DevicePositions(const std::vector<Id>& device_ids) {
  std::unordered_map<Id, size_t> out;
  out.reserve(device_ids.size());
  for (size_t i = 0; i < device_ids.size(); ++i) out.emplace(device_ids[i], i);
  return out;
}

Result<std::vector<Reading>> SeriesStore::Latest(const std::vector<Id>& device_ids) {
  LatestQuery q;
  q.device_ids = device_ids;
  BYSANS_ASSIGN_OR_RETURN(LatestSlice slice, LatestWithin(q));
  return std::move(slice.readings);
}

}  // namespace bysans

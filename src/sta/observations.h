// Observations read from the store a page at a time: one series' readings in time order, or
// several series merged by time (or one after the other, in id order), with the time range
// pushed into the store query. Memory is bounded by the page size times the number of series
// merged; the caller stops the scan as soon as it has what it needs.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/status.h"
#include "sta/entity.h"
#include "store/store.h"

namespace bysans::sta {

enum class ObservationOrder {
  kById,      // series by id, each oldest first ("<seriesId>-<timeMs>" order)
  kTimeAsc,   // phenomenonTime ascending across the series (ties by series id)
  kTimeDesc,  // phenomenonTime descending across the series
};

// The most readings one request reads from the store (all its scans together: paths, $expand,
// $filter navigation, $count): a bound on the work one query can cause.
inline constexpr int64_t kMaxReadingsPerRequest = 20'000'000;

// The most readings one store call returns (a dataArray page of a year of 10-minute data).
inline constexpr int64_t kMaxScanPage = 100'000;

struct ObservationScan {
  std::vector<const SeriesRef*> series;
  TimeMs from = INT64_MIN;  // inclusive
  TimeMs to = INT64_MAX;    // inclusive
  ObservationOrder order = ObservationOrder::kById;
  int64_t page = 1000;  // readings per store call, 1..kMaxScanPage
  // Readings the request may still read from the store (shared by every scan of one request;
  // null = no limit). The scan fails with kInvalidArgument once a store call would exceed it.
  int64_t* budget = nullptr;
};

// Calls fn with each Observation in order until it returns false or the range is exhausted.
Status ScanObservations(SeriesStore& store, const ObservationScan& scan,
                        const std::function<bool(Entity&&)>& fn);

}  // namespace bysans::sta

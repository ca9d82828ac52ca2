// Quality flags for readings before they are stored (pipeline::QualityChecker).
//
// Ranges come from the device's FIWARE DeviceModel document, in the extension member
// "x-bysans-ranges", keyed by controlled property (matched against the reading key, or its last
// dotted segment):
//   "x-bysans-ranges": {"co2": {"min": 0, "max": 10000, "unit": "ppm",
//                               "maxRatePerS": 50, "stuckCount": 12}}
// Flags, first match wins:
//   late         ts more than late_past_ms before, or late_future_ms after, the check time
//                (the message's receive time);
//   out_of_range numeric value outside [min, max];
//   spike        |Δvalue| / Δt(s) against the previous reading of the key > maxRatePerS;
//   stuck        the same value stuckCount (default QualityOptions::stuck_count) times in a
//                row, for properties that have a range entry (they are expected to vary).
// A reading without a unit gets the range's unit. Thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/string_map.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

namespace bysans::quality {

struct QualityOptions {
  TimeMs late_past_ms = 24 * 3600 * 1000;
  TimeMs late_future_ms = 5 * 60 * 1000;
  int stuck_count = 10;
  // How long a DeviceModel's ranges are cached; a change on another node (several nodes on
  // PostgreSQL: MetaStore::devices_generation) drops them at once.
  TimeMs model_cache_ms = 30'000;
};

struct Range {
  std::optional<double> min, max, max_rate_per_s;
  std::string unit;
  int stuck_count = 0;  // 0 = QualityOptions::stuck_count
};

// Parses "x-bysans-ranges" of a DeviceModel document (missing/invalid members are ignored).
StringMap<Range> ParseRanges(const std::string& doc_json);

class QualityChecker final : public pipeline::QualityChecker {
 public:
  QualityChecker(MetaStore& meta, const Clock& clock, QualityOptions options = {})
      : meta_(meta), clock_(clock), options_(options) {}
  void Check(const Device& device, std::vector<Reading>& readings) override;

 private:
  struct Model {
    std::shared_ptr<const StringMap<Range>> ranges;
    TimeMs loaded_ms = 0;
  };
  struct Last {
    double value = 0;
    TimeMs ts = 0;
    int repeats = 0;
  };
  std::shared_ptr<const StringMap<Range>> RangesOf(const Device& d, TimeMs now);

  MetaStore& meta_;
  const Clock& clock_;
  QualityOptions options_;
  std::mutex mu_;
  std::unordered_map<Id, Model> models_;
  uint64_t models_generation_ = 0;  // MetaStore::devices_generation() models_ belong to
  std::unordered_map<Id, StringMap<Last>> last_;
};

}  // namespace bysans::quality

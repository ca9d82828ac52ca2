// CheckIngestBatch (store.h): what every store refuses in a batch before grouping it.
#include <string>

#include "store/store.h"

namespace bysans {

Status CheckIngestBatch(const IngestBatch& batch) {
  for (const Reading& r : batch.readings) {
    if (r.key.empty()) return InvalidArgument("reading without key");
    if (!ReadingTimeInRange(r.ts))
      return InvalidArgument("reading '" + r.key + "' has the time " + std::to_string(r.ts) +
                             " ms, outside the range a store keeps (±" +
                             std::to_string(kReadingTimeLimitMs) + " ms)");
  }
  return Status::Ok();
}

}  // namespace bysans

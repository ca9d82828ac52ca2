// CheckIngestBatch and MakeIngestTextValid (store.h): what every store refuses in a batch before
// grouping it with others, and the repair of its text.
#include <string>

#include "core/encoding.h"
#include "store/store.h"

namespace bysans {
namespace {

// Text PostgreSQL keeps (UTF-8 without U+0000), and JSON writers accept.
bool Storable(std::string_view s) { return IsValidUtf8(s, /*nul_allowed=*/false); }

void MakeStorable(std::string& s) {
  if (!Storable(s)) s = ToValidUtf8(s, /*nul_allowed=*/false);
}

// Calls f on each text field of the batch's messages and readings, with what it is.
template <typename Batch, typename F>
void ForEachText(Batch& batch, F f) {
  for (auto& m : batch.messages) {
    f(m.content_type, "a message's content type");
    f(m.decode_error, "a message's decode error");
    for (auto& e : m.decode_errors) f(e, "a message's decoder error");
    for (auto& w : m.decode_warnings) f(w, "a message's decoder warning");
    f(m.dedup_key, "a message's idempotency key");
  }
  for (auto& r : batch.readings) {
    f(r.key, "a reading's key");
    f(r.unit, "a reading's unit");
    if (auto* text = std::get_if<std::string>(&r.value)) f(*text, "a reading's text value");
  }
}

}  // namespace

Status CheckIngestBatch(const IngestBatch& batch) {
  for (const Reading& r : batch.readings) {
    if (r.key.empty()) return InvalidArgument("reading without key");
    if (!ReadingTimeInRange(r.ts))
      return InvalidArgument("reading '" + r.key + "' has the time " + std::to_string(r.ts) +
                             " ms, outside the range a store keeps (±" +
                             std::to_string(kReadingTimeLimitMs) + " ms)");
  }
  std::string bad;
  ForEachText(batch, [&](const std::string& s, const char* what) {
    if (bad.empty() && !Storable(s)) bad = what;
  });
  if (!bad.empty()) return InvalidArgument(bad + " is not UTF-8 text (or holds U+0000)");
  return Status::Ok();
}

void MakeIngestTextValid(IngestBatch& batch) {
  ForEachText(batch, [](std::string& s, const char*) { MakeStorable(s); });
}

}  // namespace bysans

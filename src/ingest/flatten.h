// JSON → readings: every number, boolean and string of a JSON document, at any
// depth, becomes one Reading keyed by its dotted path. This is the ingest hot
// path for OS2iot-style HTTP and device MQTT payloads.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans::ingest {

// Limits applied to one message. Exceeding one is kInvalidArgument naming it.
inline constexpr int kMaxFlattenDepth = 32;  // nesting of objects/arrays
inline constexpr size_t kMaxReadingsPerMessage = 1000;
inline constexpr size_t kMaxKeyLength = 200;  // bytes of a dotted key

struct FlattenOptions {
  // When true, a top-level member named "timestamp", "time" or "ts" (checked
  // in that order) whose value is an RFC 3339 string or an integer of ms since
  // the epoch is not turned into a reading: its value becomes the time of all
  // readings of the message instead of the default time. A member with those
  // names that does not parse as a time stays an ordinary reading.
  bool take_top_level_time = false;
};

// Reusable flattener. Keeps its parser buffers between calls, so hot callers
// should hold one per thread. Not thread-safe.
class JsonFlattener {
 public:
  JsonFlattener();
  ~JsonFlattener();
  JsonFlattener(const JsonFlattener&) = delete;
  JsonFlattener& operator=(const JsonFlattener&) = delete;

  // Appends the readings of `json_text` to `out` (on error `out` is left as it
  // was). Keys: object members join with '.', array elements use their index
  // ("values.0"); null is skipped; a top-level scalar becomes key "value".
  // Numbers become doubles, strings and booleans keep their type. Malformed
  // JSON is kInvalidArgument with the byte position in the message.
  Status Flatten(std::string_view json_text, Id device_id, TimeMs ts, std::vector<Reading>& out,
                 const FlattenOptions& options = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot form of JsonFlattener::Flatten (allocates a parser per call).
Status FlattenJson(std::string_view json_text, Id device_id, TimeMs ts, std::vector<Reading>& out);

}  // namespace bysans::ingest

// Turns a decoder's JSON output into readings.
//  - numbers, booleans and strings at any depth become readings with dotted keys
//    ({"a":{"b":1},"c":[2,3]} -> a.b, c.0, c.1); null is skipped;
//  - an object {"value": scalar, "unit"|"unitCode": "..."} (optionally with displayName/name)
//    becomes one reading with that unit;
//  - an NGSI-LD entity or array of entities ({"id","type", prop: {"type":"Property","value",
//    "observedAt","unitCode"}}) becomes readings named by property, with their own timestamps and
//    units; id, type, @context, GeoProperty and Relationship members are skipped.
// Thread-compatible: one converter per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"

namespace bysans::decode {

struct ToReadingsOptions {
  size_t max_readings = 1000;   // more are dropped with a warning
  size_t max_key_length = 128;  // longer keys are dropped with a warning
  size_t max_depth = 32;        // deeper nesting is dropped with a warning
};

struct ConvertedReadings {
  std::vector<Reading> readings;
  std::vector<std::string> warnings;
};

class ReadingsConverter {
 public:
  explicit ReadingsConverter(ToReadingsOptions options = {});
  ~ReadingsConverter();
  ReadingsConverter(const ReadingsConverter&) = delete;
  ReadingsConverter& operator=(const ReadingsConverter&) = delete;

  // Fails only when `json` is not valid JSON. Readings get `device_id` and, unless the output
  // carries its own timestamp (NGSI-LD observedAt), `default_ts`.
  Result<ConvertedReadings> Convert(std::string_view json, Id device_id, TimeMs default_ts);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Convenience for one-off use (allocates a parser per call).
Result<ConvertedReadings> ToReadings(std::string_view json, Id device_id, TimeMs default_ts,
                                     const ToReadingsOptions& options = {});

}  // namespace bysans::decode

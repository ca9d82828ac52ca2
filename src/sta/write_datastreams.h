// The write side's Datastreams (OGC 18-088 10.2-10.4 for Datastreams): a SensorThings Datastream
// body -> the series (device, key, unit) bysans keeps. Store-free: the caller resolves the Thing,
// checks access and the Sensor, and creates the series (api/sta_datastreams.cc).
//
// A Datastream is one series (device, key): its Thing is linked by `@iot.id` (or given by the
// path / the Thing it is deep-inserted in), its ObservedProperty is the key (linked by `@iot.id`
// or deep-inserted with `name` = the key), its `unitOfMeasurement` the series' unit (`symbol`,
// else `name`). `observationType` is checked against what bysans stores (numbers, booleans,
// strings); `name` and `description` are accepted and not kept (derived from the device and key).
// The Sensor is the Thing's device model: only a link (`@iot.id`) is accepted, which the caller
// compares with it. Everything else (Observations, phenomenonTime, properties, ...) is a 400
// naming the member.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace bysans::sta {

// A key longer than this is refused (as ingest refuses one: ingest/flatten.h kMaxKeyLength).
inline constexpr size_t kMaxDatastreamKeyLength = 200;
inline constexpr size_t kMaxUnitLength = 100;

struct DatastreamWrite {
  std::optional<int64_t> thing_id;   // the Thing link, when the body has one
  std::string key;                   // the ObservedProperty
  std::string unit;                  // unitOfMeasurement
  std::optional<int64_t> sensor_id;  // the Sensor link, when the body has one
};

// A POST Datastreams body (or one element of a Thing's Datastreams: `in_thing`, where a Thing
// member is refused). Error messages start with `where` ("" or "Datastreams[0]").
Result<DatastreamWrite> ParseDatastream(const nlohmann::json& body, const std::string& where,
                                        bool in_thing);

// A Thing's deep-inserted "Datastreams" array: each element parsed, keys distinct.
Result<std::vector<DatastreamWrite>> ParseThingDatastreams(const nlohmann::json& list);

// A PATCH Datastreams(N) body: the new unit. bysans keeps nothing else of a Datastream, so any
// other member is a 400 naming it (never silently dropped).
Result<std::string> ParseDatastreamPatch(const nlohmann::json& body);

}  // namespace bysans::sta

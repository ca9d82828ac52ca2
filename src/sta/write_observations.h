// The write side's Observations (OGC 18-088 10.2 "create an entity" for Observations and 14.4
// "CreateObservations" of the Data Array extension): JSON bodies -> the readings to ingest.
// Store-free: the caller looks the Datastreams up, checks access and submits the readings to the
// ingest pipeline (api/sta_write.cc).
//
// bysans keeps one value per (series, time) with a quality flag it assigns itself, so an
// Observation is its phenomenonTime (an instant; absent = the time of the request) and its
// result (a number, boolean or string of the Datastream's value type). `resultTime` is accepted
// and not kept (served as null); resultQuality, validTime, parameters and FeatureOfInterest are
// refused with a 400 naming them (nothing would keep them).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "store/store.h"

namespace bysans::sta {

// At most this many Observations in one request (CreateObservations rows together).
inline constexpr size_t kMaxObservationsPerRequest = 100'000;

struct NewObservation {
  TimeMs ts = 0;
  Value value;
};

// One row of a CreateObservations body: an Observation, or why it cannot be one.
struct ObservationRow {
  std::optional<NewObservation> obs;
  std::string error;  // set when obs is nullopt
};

// One element of a CreateObservations body: a Datastream's rows, in body order.
struct ObservationGroup {
  int64_t datastream_id = 0;
  std::vector<ObservationRow> rows;
};

// A CreateObservations body: an array of {"Datastream": {"@iot.id": N}, "components": [...],
// "dataArray": [[...], ...], "dataArray@iot.count"?}. components: "result" (required),
// "phenomenonTime", "resultTime". A malformed structure (not an array, a missing Datastream,
// an unknown component, more than kMaxObservationsPerRequest rows) is kInvalidArgument naming
// the element and field; a row that cannot be an Observation (wrong length, bad time, a result
// that is not a scalar) is an ObservationRow with its error. `now` is the default phenomenonTime.
Result<std::vector<ObservationGroup>> ParseCreateObservations(const nlohmann::json& body,
                                                              TimeMs now);

// A POST /Observations (or Datastreams(N)/Observations) body: the Observation and the
// Datastream it links ("Datastream": {"@iot.id": N}), nullopt when the body names none.
struct ObservationPost {
  NewObservation obs;
  std::optional<int64_t> datastream_id;
};
Result<ObservationPost> ParseObservationPost(const nlohmann::json& body, TimeMs now);

// Empty when `v` has the Datastream's value type (that of its latest reading; any scalar for a
// series without one); otherwise why not, e.g. "result must be a number (the Datastream's
// observationType is OM_Measurement)".
std::string ResultTypeError(const SeriesRef& series, const Value& v);

}  // namespace bysans::sta

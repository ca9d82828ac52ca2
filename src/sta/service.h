// The read side of the SensorThings API over one Catalog: resolves a resource path
// (OGC 18-088 9.2), applies the query options (9.3) and renders the answer. Store reads of
// Observations are pushed down: the series from the path or a "Datastream/@iot.id eq N" term,
// the time range from the filter's phenomenonTime bounds; the rest of a filter is evaluated on
// what the store returns, a page at a time.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "sta/catalog.h"

namespace bysans::sta {

inline constexpr int64_t kDefaultTop = 100;
inline constexpr int64_t kMaxTop = 10'000;
// With $resultFormat=dataArray (rows of a few values, no links): a year of 10-minute data.
inline constexpr int64_t kMaxTopDataArray = 100'000;
// Entities one answer may render, expansions included (dataArray rows are not entities):
// Things?$top=10000&$expand=Datastreams over six series each is 70,000.
inline constexpr int64_t kMaxEntitiesPerAnswer = 100'000;
inline constexpr int64_t kMaxSkip = 1'000'000'000'000'000;  // more than any store holds
// Observations ordered by anything but time or id are sorted in memory: at most this many.
inline constexpr int64_t kMaxSortedObservations = 100'000;

struct ServeRequest {
  std::string path;       // after the version root, still percent-encoded: "Things(1)/Datastreams"
  std::string raw_query;  // still percent-encoded, without '?'
  std::string base;       // the service root URL: "https://host/sta/v1.1"
  int64_t now_ms = 0;     // for now() in filters
};

struct ServeReply {
  int status = 200;  // 204 for a property that is null or absent (body empty)
  std::string content_type = "application/json";
  std::string body;
};

// kNotFound for paths and ids the caller cannot see (never distinguishing "exists elsewhere");
// kInvalidArgument for malformed query options, with the query library's message.
Result<ServeReply> Serve(Catalog& catalog, const ServeRequest& req);

// The service root document: the eight entity sets and serverSettings.conformance.
nlohmann::json ServiceRoot(const std::string& base);

}  // namespace bysans::sta

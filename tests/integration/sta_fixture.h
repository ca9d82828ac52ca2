// Helpers for the SensorThings tests (tests/integration/sta_test.cc, tests/security/sta_test.cc):
// URLs with encoded query options, devices with a location and readings at given times.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "integration/harness.h"

namespace bysans::testing {

inline constexpr int64_t kStaT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
inline constexpr int64_t kStaStep = 600'000;          // 10 minutes

inline std::string StaEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~' || c == '(' || c == ')' ||
        c == '/' || c == '$') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

// "/sta/v1.1/<path>?<name>=<encoded value>&..."
inline std::string StaUrl(const std::string& path,
                          const std::vector<std::pair<std::string, std::string>>& query = {}) {
  std::string url = "/sta/v1.1";
  if (!path.empty()) url += "/" + StaEncode(path);
  for (size_t i = 0; i < query.size(); ++i)
    url += (i ? "&" : "?") + query[i].first + "=" + StaEncode(query[i].second);
  return url;
}

// GET of a SensorThings URL; the JSON body (discarded on a non-JSON answer) and the status.
inline std::pair<long, json> StaGet(
    HttpClient& c, const std::string& path,
    const std::vector<std::pair<std::string, std::string>>& q = {}) {
  HttpResult r = c.Get(StaUrl(path, q));
  return {r.status, r.Json()};
}

// The Datastream id of (device, key), found through the Thing's Datastreams.
inline int64_t DatastreamId(HttpClient& c, int64_t device_id, const std::string& key) {
  auto [status, body] = StaGet(c, "Things(" + std::to_string(device_id) + ")/Datastreams");
  EXPECT_EQ(status, 200) << body.dump();
  for (const json& ds : body["value"])
    if (ds["properties"]["key"] == key) return ds["@iot.id"].get<int64_t>();
  ADD_FAILURE() << "no datastream " << key << " on device " << device_id << ": " << body.dump();
  return 0;
}

inline std::string ObservationId(int64_t datastream, int64_t ts) {
  return std::to_string(datastream) + "-" + std::to_string(ts);
}

}  // namespace bysans::testing

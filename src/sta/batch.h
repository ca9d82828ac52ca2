// Batch requests (OGC 18-088 11.2, JSON batch format of OData 4.01): a `$batch` body -> the
// requests to run one after the other. Store-free; api/sta_batch.cc runs them through the
// router as the caller.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace bysans::sta {

inline constexpr size_t kMaxBatchRequests = 100;

struct BatchRequest {
  std::string id;
  std::string method;   // GET, POST, PATCH, DELETE
  std::string url;      // relative to the service root: "Things(1)", "$thing/Locations"
  nlohmann::json body;  // null when none
  std::vector<std::string> depends_on;
};

// {"requests": [{"id", "method", "url", "body"?, "headers"?, "dependsOn"?}]}: at most
// kMaxBatchRequests; ids unique; dependsOn names earlier ids; urls relative to the service root
// (no scheme, no leading '/', no "..", no nested $batch); atomicityGroup is refused (bysans
// cannot make several requests one transaction). kInvalidArgument naming the request and field.
Result<std::vector<BatchRequest>> ParseBatch(const nlohmann::json& body);

// The url with a leading "$<id>" replaced by the path of the entity request <id> created
// ("$1/Locations" -> "Things(7)/Locations"); kInvalidArgument when it names no created entity.
Result<std::string> ResolveBatchUrl(const std::string& url,
                                    const std::map<std::string, std::string>& created);

}  // namespace bysans::sta

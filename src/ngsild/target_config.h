// An NGSI-LD data target's settings as JSON (what the data-target API stores; secrets opened
// by the caller before this is called):
//   {"url": "https://broker.example", "tenant": "kommune", "contextMode": "link" | "body",
//    "context": "https://...context.jsonld", "timeoutMs": 10000,
//    "unmappedAsMeasurements": true,
//    "auth": {"type": "none"}
//          | {"type": "header", "name": "Authorization", "value": "..."}
//          | {"type": "oauth2", "tokenUrl": "...", "clientId": "...", "clientSecret": "...",
//             "scope": "...", "credentialsInBody": false}}
// Every member but "url" is optional. Pure functions: thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "ngsild/client.h"
#include "ngsild/entities.h"

namespace bysans::ngsild {

struct TargetSettings {
  NgsiLdTarget target;
  BuildOptions build;
};

// InvalidArgument naming the member that is wrong (a type, an unknown mode or auth type, a
// timeout outside 100..60,000 ms, or what ValidateTarget refuses): the API's 400.
Result<TargetSettings> TargetFromJson(const nlohmann::json& spec);

}  // namespace bysans::ngsild

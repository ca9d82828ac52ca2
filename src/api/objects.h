// JSON forms of the model objects as the REST API shows them (camelCase,
// RFC 3339 times). Secrets (password hashes, key hashes) never appear.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "model/model.h"

namespace bysans::api {

nlohmann::json ToJson(const Organization& o);
nlohmann::json ToJson(const Application& a);
// {"rawMessagesDays", "readingsDays", "aggregatesDays"}: days or null.
nlohmann::json ToJson(const RetentionDays& r);
nlohmann::json ToJson(const Device& d);
nlohmann::json ToJson(const DeviceModel& m);
nlohmann::json ToJson(const User& u);
nlohmann::json ToJson(const ApiKey& k);
nlohmann::json ToJson(const AuditEntry& e);
nlohmann::json ToJson(const Invitation& i);
// {"orgId": .., "role": .., "applications": null | [appId, ...]}
nlohmann::json ToJson(const Membership& m);

template <typename T>
nlohmann::json ToJsonArray(const std::vector<T>& items) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& i : items) a.push_back(ToJson(i));
  return a;
}

}  // namespace bysans::api

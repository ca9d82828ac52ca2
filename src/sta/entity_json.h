// The JSON of SensorThings entities (OGC 18-088 section 8.2): properties, @iot.id,
// @iot.selfLink and <Navigation>@iot.navigationLink.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sta/catalog.h"

namespace bysans::sta {

// The entity's own properties (no annotations, no links): what $filter, $orderby and
// /property read. Times are RFC 3339 strings.
nlohmann::json Properties(const Catalog& catalog, const Entity& e);

// "<base>/Things(5)"; `base` is the service root URL ("https://host/sta/v1.1").
std::string SelfLink(const std::string& base, const Entity& e);

// The whole entity: @iot.id, @iot.selfLink, properties and navigation links. With a non-empty
// `select`, only the named properties ("id" or "@iot.id" for the id) and navigation links.
nlohmann::json EntityJson(const Catalog& catalog, const Entity& e, const std::string& base,
                          const std::vector<std::string>& select);

// The JSON id: a number, or a string for ObservedProperties and Observations.
nlohmann::json IdJson(const Entity& e);

}  // namespace bysans::sta

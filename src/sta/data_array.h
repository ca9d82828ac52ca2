// $resultFormat=dataArray (OGC 18-088, 14.3; A.6 read side): Observations grouped per Datastream
// as rows of the requested components. Written as JSON text directly: a year of 10-minute data
// is 52,560 rows, and building them as JSON objects first cost more than reading them.
#pragma once

#include <string>
#include <vector>

#include "sta/entity.h"

namespace bysans::sta {

// The components of `select` ("@iot.id" is written "id"); the default set when it is empty.
std::vector<std::string> DataArrayComponents(const std::vector<std::string>& select);

// The JSON text of the collection's "value": one object per Datastream, in order of first
// appearance, each {"Datastream@iot.navigationLink", "components", "dataArray@iot.count",
// "dataArray"}. `base` is the service root URL.
std::string DataArrayValue(const std::vector<Entity>& observations,
                           const std::vector<std::string>& components, const std::string& base);

}  // namespace bysans::sta

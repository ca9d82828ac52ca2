// The demo: "Demo Kommune" with applications, device models and devices for
// the four use cases (fall sensors for elderly citizens, indoor climate in a
// school, waste-bin fill levels, air quality in a street). Seeding uses the
// store directly and is idempotent: it does nothing when the organisation exists.
#pragma once

#include <string>
#include <vector>

#include "core/random.h"
#include "core/status.h"
#include "store/store.h"

namespace bysans::sim {

enum class DemoKind { kFallSensor, kRoomClimate, kWasteBin, kAirQuality };

struct DemoDevice {
  Id id = 0;
  std::string name;
  DemoKind kind = DemoKind::kRoomClimate;
  std::string api_key;  // the device's HTTP ingest key (secret)
};

// Creates the demo organisation and its objects if missing; returns the demo
// devices with fresh ingest keys (keys are rotated on each call, since only
// their hashes are stored). `admin_user_id` becomes admin of the organisation.
Result<std::vector<DemoDevice>> SeedDemo(Store& store, Random& random, const Clock& clock,
                                         Id admin_user_id);

}  // namespace bysans::sim

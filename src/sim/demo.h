// The demo: "Demo Kommune" with applications, device models and devices for
// the four use cases (fall sensors for elderly citizens, indoor climate in a
// school, waste-bin fill levels, air quality in a street). Seeding uses the
// store directly and is idempotent: it does nothing when the organisation exists.
#pragma once

#include <string>
#include <vector>

#include "core/random.h"
#include "core/status.h"
#include "sim/frames.h"
#include "store/store.h"

namespace bysans::sim {

enum class DemoKind { kFallSensor, kRoomClimate, kWasteBin, kAirQuality };

struct DemoDevice {
  Id id = 0;
  std::string name;
  DemoKind kind = DemoKind::kRoomClimate;
  std::string api_key;                 // the device's HTTP ingest key (secret; HTTP devices only)
  DemoCodec codec = DemoCodec::kJson;  // kJson: HTTP; else a LoRaWAN device of that vendor
  std::string dev_eui;                 // LoRaWAN: 16 lower-case hex characters
  std::string chirpstack_app_id;       // LoRaWAN: the ChirpStack application id (MQTT topic)
  std::string app_name;
};

// Creates the demo organisation and its objects if missing; returns the demo
// devices with fresh ingest keys (keys are rotated on each call, since only
// their hashes are stored). `admin_user_id` becomes admin of the organisation.
// In each application the first devices are LoRaWAN devices of a real vendor (Milesight WS101
// alarm buttons, Elsys ERS CO2, Decentlab DL-MBX and DL-PM), each with a DevEUI and the matching
// shipped decoder (decoders/*.js) attached as its own decoder; the others post JSON over HTTP.
Result<std::vector<DemoDevice>> SeedDemo(Store& store, Random& random, const Clock& clock,
                                         Id admin_user_id);

}  // namespace bysans::sim

// What the CoAP server needs of the downlink store (store/mqtt_store.h), injected by server/:
// the answer to a device's stored uplink carries its oldest queued downlink (README.md).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans::coap {

struct QueuedDownlink {
  Id id = 0;
  std::string data;          // the bytes, as given or as encodeDownlink made them
  int64_t still_queued = 0;  // after this one
};

struct DownlinkSource {
  // The oldest queued downlink of the device, marked sent; nullopt when none. Called on the
  // CoAP thread for each stored uplink, so it must be cheap when nothing is queued.
  std::function<Result<std::optional<QueuedDownlink>>(Id device_id)> take;
  // A downlink whose confirmable answer the device never acknowledged (or reset): queued again
  // with this reason, for the device's next uplink.
  std::function<void(Id downlink_id, const std::string& reason)> requeue;
  // Optional: the devices that have queued downlinks, or nullopt when they are too many to list.
  // The CoAP thread asks once per batch of answers and calls `take` only for those devices.
  std::function<Result<std::optional<std::vector<Id>>>()> devices_with_queued;
};

}  // namespace bysans::coap

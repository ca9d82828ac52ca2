#include "server/coap_downlinks.h"

#include <spdlog/spdlog.h>

#include "store/mqtt_store.h"

namespace bysans {

coap::DownlinkSource CoapDownlinkSource(Store& store) {
  coap::DownlinkSource source;
  source.take = [&store](Id device_id) -> Result<std::optional<coap::QueuedDownlink>> {
    BYSANS_ASSIGN_OR_RETURN(TakenDownlink t,
                            store.mqtt().TakeQueuedDownlink(device_id, kCoapDownlinkTopic));
    if (!t.downlink) return std::optional<coap::QueuedDownlink>();
    return std::optional<coap::QueuedDownlink>(
        coap::QueuedDownlink{t.downlink->id, std::move(t.downlink->data), t.still_queued});
  };
  source.devices_with_queued = [&store]() -> Result<std::optional<std::vector<Id>>> {
    constexpr size_t kLimit = 10'000;  // beyond that, `take` for every answer
    BYSANS_ASSIGN_OR_RETURN(std::vector<Id> ids,
                            store.mqtt().DevicesWithQueuedDownlinks(kCoapDownlinkTopic, kLimit));
    if (ids.size() >= kLimit) return std::optional<std::vector<Id>>();
    return std::optional<std::vector<Id>>(std::move(ids));
  };
  source.requeue = [&store](Id downlink_id, const std::string& reason) {
    Status st = store.mqtt().SetDownlinkStatus(downlink_id, "queued", reason + "; queued again");
    if (!st.ok())
      spdlog::error("coap: downlink {} could not be queued again: {}", downlink_id, st.message());
  };
  return source;
}

}  // namespace bysans

// The CoAP server's view of the downlink store: the answer to an HTTP device's stored CoAP
// uplink carries its oldest queued downlink (coap/README.md, api/downlink.h).
#pragma once

#include "coap/downlinks.h"
#include "store/store.h"

namespace bysans {

// Takes and requeues downlinks with topic kCoapDownlinkTopic through store.mqtt(). `store`
// outlives the source.
coap::DownlinkSource CoapDownlinkSource(Store& store);

}  // namespace bysans

// ChirpStack v4 gateway events (state/conn, event/stats) received over MQTT → the organisation's
// gateway health (store/gateway_store.h). On an organisation's ChirpStack integration the
// event belongs to that organisation; on bysans' own broker (a local ChirpStack publishing as
// the integrator user) only to the one organisation whose uplinks came through that gateway on
// that same broker, and is ignored otherwise (unknown, or known to several): a gateway event
// never creates data in an organisation that did not bring the gateway. What an organisation's
// own integration reports (gateway ids in its uplinks) is its claim only and plays no part here,
// or it could name another organisation's gateway and have that gateway's events ignored.
#pragma once

#include <string_view>

#include "core/clock.h"
#include "core/token_bucket.h"
#include "store/mqtt_store.h"
#include "store/store.h"

namespace bysans::mqtt {

// The subscriptions for gateway events (any region prefix).
inline constexpr const char* kGatewayConnFilter = "+/gateway/+/state/conn";
inline constexpr const char* kGatewayStatsFilter = "+/gateway/+/event/stats";

// Whether `topic` has the shape "{prefix}/gateway/…" (then HandleGatewayEvent takes it).
bool IsGatewayTopic(std::string_view topic);

// Gateway events written per organisation: a token bucket of `per_second` with a burst of
// `burst`. Each event is a store transaction on the MQTT ingest path (shared by every
// organisation), so one organisation's broker flooding gateway events must not slow the others:
// beyond its bucket an event is dropped (and counted). ChirpStack sends a gateway's stats every
// 30 s by default, so 200 gateways need about 7 a second. Not thread-safe (the ingest lock).
class GatewayEventLimiter : public KeyedTokenBucket<Id> {
 public:
  explicit GatewayEventLimiter(double per_second = 20, double burst = 200)
      : KeyedTokenBucket(per_second, burst) {}
};

// Records one gateway event; `via` is the integration that received it, nullptr for bysans' own
// broker. Returns the result counted in bysans_mqtt_messages_total{result}: "gateway_event",
// "gateway_ignored", "gateway_rate_limited", "bad_topic", "bad_shape" or "store_error" (the last
// three logged, at most once per kind, by the caller).
const char* HandleGatewayEvent(Store& store, const Clock& clock, GatewayEventLimiter& limiter,
                               std::string_view topic, std::string_view payload,
                               const MqttIntegration* via, std::string* error);

}  // namespace bysans::mqtt

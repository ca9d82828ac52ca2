#include "mqtt/gateway_ingest.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

#include "lorawan/gateway_events.h"
#include "store/gateway_store.h"

namespace bysans::mqtt {

bool IsGatewayTopic(std::string_view topic) {
  const size_t slash = topic.find('/');
  return slash != std::string_view::npos && slash > 0 &&
         topic.substr(slash + 1).rfind("gateway/", 0) == 0;
}

const char* HandleGatewayEvent(Store& store, const Clock& clock, GatewayEventLimiter& limiter,
                               std::string_view topic_text, std::string_view payload,
                               const MqttIntegration* via, std::string* error) {
  auto topic = lorawan::ParseGatewayTopic(topic_text);
  if (!topic.ok()) {
    *error = topic.status().message();
    return "bad_topic";
  }
  Id org_id = 0;
  if (via != nullptr) {
    org_id = via->org_id;
  } else {
    // Only organisations that saw the gateway in uplinks through this broker (never through
    // their own integrations).
    auto orgs = store.gateways().OrganizationsOfGateway(topic->gateway_id);
    if (!orgs.ok()) {
      *error = orgs.status().message();
      return "store_error";
    }
    if (orgs->size() != 1) {
      spdlog::debug("mqtt: gateway event of {} ignored: the gateway is known to {} organisations",
                    topic->gateway_id, orgs->size());
      return "gateway_ignored";
    }
    org_id = orgs->front();
  }
  const TimeMs now = clock.NowMs();
  if (!limiter.Allow(org_id, now)) return "gateway_rate_limited";
  Status st;
  if (topic->type == lorawan::GatewayEventType::kConn) {
    auto conn = lorawan::ParseConnState(*topic, payload);
    if (!conn.ok()) {
      *error = conn.status().message();
      return "bad_shape";
    }
    st = store.gateways().RecordGatewayState(org_id, topic->gateway_id, conn->online, now);
  } else {
    auto stats = lorawan::ParseGatewayStats(*topic, payload);
    if (!stats.ok()) {
      *error = stats.status().message();
      return "bad_shape";
    }
    std::optional<GatewayPosition> where;
    if (stats->location)
      where = GatewayPosition{stats->location->latitude, stats->location->longitude,
                              stats->location->altitude};
    // A stats time far ahead of the clock (a gateway with a wrong clock) counts as now.
    TimeMs ts = stats->time_ms.value_or(now);
    if (ts > now + 3'600'000) ts = now;
    st = store.gateways().RecordGatewayStats(
        org_id, topic->gateway_id, ts,
        GatewayCounters{stats->rx_received, stats->rx_received_ok, stats->tx_received,
                        stats->tx_emitted},
        where);
  }
  if (!st.ok()) {
    *error = st.message();
    return "store_error";
  }
  return "gateway_event";
}

}  // namespace bysans::mqtt

#include "sim/demo_gateways.h"

#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/time_format.h"

namespace bysans::sim {
namespace {

constexpr std::array<DemoGateway, 2> kGateways = {{
    {"7276ff002e0d3e00", 56.1572, 10.2107, 52},  // the city centre, on the town hall
    {"7276ff002e0d3e01", 56.1718, 10.1890, 61},  // the university
}};

constexpr TimeMs kHourMs = 3'600'000;
constexpr TimeMs kDayMs = 24 * kHourMs;
constexpr int kHistoryDays = 30;
constexpr int kHourlyDays = 7;

// The second gateway's outage: three days ago from 02:10 for 2 h 20 min (a power cut).
constexpr TimeMs kOutageAgoMs = 3 * kDayMs;
constexpr TimeMs kOutageMs = 2 * kHourMs + 20 * 60'000;

// Packets a gateway hears in one hour of the day: the demo devices' ~30 uplinks an hour each,
// more of other networks' devices by day than by night.
int64_t PacketsInHour(size_t gateway, TimeMs hour_start) {
  const double hour = static_cast<double>((hour_start / kHourMs) % 24);
  const double day_curve = 1.0 + 0.35 * std::sin((hour - 9.0) / 24.0 * 2 * M_PI);
  return static_cast<int64_t>((gateway == 0 ? 420 : 260) * day_curve);
}

GatewayCounters Counters(int64_t rx) {
  GatewayCounters c;
  c.rx_received = rx + rx / 40;  // a few with a bad CRC
  c.rx_received_ok = rx;
  c.tx_received = rx / 50;  // downlinks and join accepts
  c.tx_emitted = rx / 50;
  return c;
}

}  // namespace

std::span<const DemoGateway> DemoGateways() { return kGateways; }

const DemoGateway& GatewayOfDevice(Id device_id) {
  return kGateways[static_cast<size_t>(device_id) % kGateways.size()];
}

Status SeedDemoGatewayHistory(GatewayStore& store, Id org_id, TimeMs now) {
  const TimeMs start = (now - kHistoryDays * kDayMs) / kHourMs * kHourMs;
  const TimeMs outage_start = (now - kOutageAgoMs) / kDayMs * kDayMs + 2 * kHourMs + 10 * 60'000;
  const TimeMs outage_end = outage_start + kOutageMs;
  const TimeMs hourly_from = now - kHourlyDays * kDayMs;
  for (size_t i = 0; i < kGateways.size(); ++i) {
    const DemoGateway& g = kGateways[i];
    const GatewayPosition where{g.latitude, g.longitude, g.altitude};
    BYSANS_RETURN_IF_ERROR(store.RecordGatewayState(org_id, g.id, true, start));
    const bool has_outage = i == 1;
    if (has_outage) {
      BYSANS_RETURN_IF_ERROR(store.RecordGatewayState(org_id, g.id, false, outage_start));
      BYSANS_RETURN_IF_ERROR(store.RecordGatewayState(org_id, g.id, true, outage_end));
    }
    // Whole days before the last week (one stats record a day), hours within it.
    for (TimeMs t = start; t + kHourMs <= now;) {
      const bool hourly = t + kDayMs > hourly_from;
      const TimeMs step = hourly ? kHourMs : kDayMs;
      int64_t rx = 0;
      for (TimeMs h = t; h < t + step && h + kHourMs <= now; h += kHourMs) {
        if (has_outage && h + kHourMs > outage_start && h < outage_end) continue;
        rx += PacketsInHour(i, h);
      }
      if (rx > 0) {
        BYSANS_RETURN_IF_ERROR(store.RecordGatewayStats(org_id, g.id, t, Counters(rx), where));
      }
      t += step;
    }
  }
  return Status::Ok();
}

std::string GatewayConnTopic(const DemoGateway& g) {
  return std::string("eu868/gateway/") + g.id + "/state/conn";
}

std::string GatewayStatsTopic(const DemoGateway& g) {
  return std::string("eu868/gateway/") + g.id + "/event/stats";
}

std::string GatewayConnJson(const DemoGateway& g, bool online) {
  return nlohmann::json{{"gatewayId", g.id}, {"state", online ? "ONLINE" : "OFFLINE"}}.dump();
}

std::string GatewayStatsJson(const DemoGateway& g, TimeMs now, int64_t rx, int64_t tx) {
  const GatewayCounters c = Counters(rx);
  return nlohmann::json{
      {"gatewayId", g.id},
      {"time", FormatRfc3339(now)},
      {"location",
       {{"latitude", g.latitude}, {"longitude", g.longitude}, {"altitude", g.altitude}}},
      {"rxPacketsReceived", c.rx_received},
      {"rxPacketsReceivedOk", c.rx_received_ok},
      {"txPacketsReceived", tx},
      {"txPacketsEmitted", tx}}
      .dump();
}

}  // namespace bysans::sim

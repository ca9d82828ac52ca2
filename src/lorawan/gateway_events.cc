#include "lorawan/gateway_events.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/json_depth.h"
#include "core/time_format.h"
#include "lorawan/topic_text.h"

namespace bysans::lorawan {
namespace {

using json = nlohmann::json;

Status Bad(const std::string& field, const std::string& why) {
  return InvalidArgument("ChirpStack gateway event: field '" + field + "' " + why);
}

const json* Member(const json& o, const char* name) {
  auto it = o.find(name);
  return it == o.end() || it->is_null() ? nullptr : &*it;
}

Result<json> ParseObject(std::string_view payload) {
  if (payload.size() > kMaxGatewayEventBytes)
    return InvalidArgument("ChirpStack gateway event: payload of " +
                           std::to_string(payload.size()) + " bytes exceeds " +
                           std::to_string(kMaxGatewayEventBytes));
  BYSANS_RETURN_IF_ERROR(CheckJsonDepth(payload));
  json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return InvalidArgument("ChirpStack gateway event: payload is not valid JSON");
  if (!doc.is_object())
    return InvalidArgument("ChirpStack gateway event: payload is not a JSON object");
  return doc;
}

// The payload's gatewayId, which must name the topic's gateway when present.
Result<std::string> GatewayIdOf(const GatewayTopic& topic, const json& doc) {
  const json* v = Member(doc, "gatewayId");
  if (!v) return topic.gateway_id;
  if (!v->is_string()) return Bad("gatewayId", "must be a string");
  std::string id = LowerAscii(v->get_ref<const std::string&>());
  if (id != topic.gateway_id) return Bad("gatewayId", "differs from the topic's gateway");
  return id;
}

// A uint32 counter; protojson writes it as a number (a string is accepted as for 64-bit values).
Result<int64_t> Counter(const json& doc, const char* name) {
  const json* v = Member(doc, name);
  if (!v) return int64_t{0};
  if (v->is_number_unsigned() || v->is_number_integer()) {
    const int64_t n = v->get<int64_t>();
    if (n < 0 || n > int64_t{0xffffffff}) return Bad(name, "must be 0..4294967295");
    return n;
  }
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    if (!s.empty() && s.size() <= 10 &&
        std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
      const int64_t n = std::stoll(s);
      if (n <= int64_t{0xffffffff}) return n;
    }
  }
  return Bad(name, "must be 0..4294967295");
}

Result<double> Coordinate(const json& loc, const char* name, double limit) {
  const json* v = Member(loc, name);
  if (!v) return 0.0;
  if (!v->is_number()) return Bad(std::string("location.") + name, "must be a number");
  const double d = v->get<double>();
  if (!std::isfinite(d) || std::fabs(d) > limit)
    return Bad(std::string("location.") + name, "is out of range");
  return d;
}

}  // namespace

Result<GatewayTopic> ParseGatewayTopic(std::string_view topic) {
  const std::vector<std::string_view> parts = TopicLevels(topic, 5);
  if (parts.size() != 5 || parts[0].empty() || parts[1] != "gateway")
    return InvalidArgument("not a ChirpStack gateway topic: " + std::string(topic.substr(0, 200)));
  GatewayTopic t;
  if (parts[3] == "state" && parts[4] == "conn")
    t.type = GatewayEventType::kConn;
  else if (parts[3] == "event" && parts[4] == "stats")
    t.type = GatewayEventType::kStats;
  else
    return InvalidArgument("not a ChirpStack gateway state/conn or event/stats topic: " +
                           std::string(topic.substr(0, 200)));
  if (!IsHexEui(parts[2]))
    return InvalidArgument("ChirpStack gateway topic: gateway id '" +
                           std::string(parts[2].substr(0, 64)) +
                           "' is not 16 hexadecimal characters");
  t.region_prefix = std::string(parts[0]);
  t.gateway_id = LowerAscii(parts[2]);
  return t;
}

Result<GatewayConnState> ParseConnState(const GatewayTopic& topic, std::string_view payload) {
  BYSANS_ASSIGN_OR_RETURN(json doc, ParseObject(payload));
  GatewayConnState c;
  BYSANS_ASSIGN_OR_RETURN(c.gateway_id, GatewayIdOf(topic, doc));
  const json* state = Member(doc, "state");
  if (!state) {
    c.online = false;  // protojson leaves out the enum's default, OFFLINE
  } else if (state->is_string()) {
    const std::string& s = state->get_ref<const std::string&>();
    if (s == "ONLINE")
      c.online = true;
    else if (s == "OFFLINE")
      c.online = false;
    else
      return Bad("state", "must be ONLINE or OFFLINE");
  } else if (state->is_number_integer() || state->is_number_unsigned()) {
    const int64_t n = state->get<int64_t>();  // protojson with enums as numbers
    if (n != 0 && n != 1) return Bad("state", "must be ONLINE or OFFLINE");
    c.online = n == 1;
  } else {
    return Bad("state", "must be ONLINE or OFFLINE");
  }
  return c;
}

Result<GatewayStats> ParseGatewayStats(const GatewayTopic& topic, std::string_view payload) {
  BYSANS_ASSIGN_OR_RETURN(json doc, ParseObject(payload));
  GatewayStats s;
  BYSANS_ASSIGN_OR_RETURN(s.gateway_id, GatewayIdOf(topic, doc));
  if (const json* t = Member(doc, "time")) {
    if (!t->is_string()) return Bad("time", "must be a string");
    auto ms = ParseTime(t->get_ref<const std::string&>());
    if (!ms) return Bad("time", "is not an RFC 3339 time");
    s.time_ms = *ms;
  }
  if (const json* loc = Member(doc, "location")) {
    if (!loc->is_object()) return Bad("location", "must be an object");
    GatewayLocation l;
    BYSANS_ASSIGN_OR_RETURN(l.latitude, Coordinate(*loc, "latitude", 90));
    BYSANS_ASSIGN_OR_RETURN(l.longitude, Coordinate(*loc, "longitude", 180));
    BYSANS_ASSIGN_OR_RETURN(l.altitude, Coordinate(*loc, "altitude", 1e5));
    // An all-zero location is protojson's "not set".
    if (l.latitude != 0 || l.longitude != 0) s.location = l;
  }
  BYSANS_ASSIGN_OR_RETURN(s.rx_received, Counter(doc, "rxPacketsReceived"));
  BYSANS_ASSIGN_OR_RETURN(s.rx_received_ok, Counter(doc, "rxPacketsReceivedOk"));
  BYSANS_ASSIGN_OR_RETURN(s.tx_received, Counter(doc, "txPacketsReceived"));
  BYSANS_ASSIGN_OR_RETURN(s.tx_emitted, Counter(doc, "txPacketsEmitted"));
  return s;
}

}  // namespace bysans::lorawan

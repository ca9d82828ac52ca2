#include "lorawan/chirpstack.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>

#include "core/json_depth.h"
#include "core/time_format.h"

namespace bysans::lorawan {
namespace {

using json = nlohmann::json;

Status Bad(const std::string& field, const std::string& why) {
  return InvalidArgument("ChirpStack event: field '" + field + "' " + why);
}

bool IsHexEui(std::string_view s) {
  return s.size() == 16 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Result<std::optional<int64_t>> OptInt(const json& o, const char* name) {
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  // protojson writes 64-bit integers as strings.
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (!s.empty() &&
        std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; }) &&
        s.size() < 19)
      return std::optional<int64_t>(std::stoll(s));
  }
  return Bad(name, "must be an integer");
}

Result<std::optional<double>> OptNumber(const json& o, const char* name) {
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) return std::optional<double>();
  if (!it->is_number()) return Bad(name, "must be a number");
  return std::optional<double>(it->get<double>());
}

Result<std::string> OptString(const json& o, const char* name) {
  auto it = o.find(name);
  if (it == o.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Bad(name, "must be a string");
  return it->get<std::string>();
}

}  // namespace

const char* EventTypeName(EventType t) {
  switch (t) {
    case EventType::kUp:
      return "up";
    case EventType::kStatus:
      return "status";
    case EventType::kJoin:
      return "join";
    case EventType::kAck:
      return "ack";
    case EventType::kTxAck:
      return "txack";
    case EventType::kOther:
      break;
  }
  return "other";
}

Result<EventTopic> ParseEventTopic(std::string_view topic) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = topic.find('/', start);
    parts.push_back(topic.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() != 6 || parts[0] != "application" || parts[2] != "device" ||
      parts[4] != "event" || parts[1].empty())
    return InvalidArgument("not a ChirpStack event topic: " + std::string(topic));
  if (!IsHexEui(parts[3]))
    return InvalidArgument("ChirpStack topic: DevEUI '" + std::string(parts[3]) +
                           "' is not 16 hexadecimal characters");
  EventTopic t;
  t.application_id = std::string(parts[1]);
  t.dev_eui = Lower(std::string(parts[3]));
  t.type_name = std::string(parts[5]);
  if (parts[5] == "up")
    t.type = EventType::kUp;
  else if (parts[5] == "status")
    t.type = EventType::kStatus;
  else if (parts[5] == "join")
    t.type = EventType::kJoin;
  else if (parts[5] == "ack")
    t.type = EventType::kAck;
  else if (parts[5] == "txack")
    t.type = EventType::kTxAck;
  return t;
}

Result<ChirpstackEvent> ParseEvent(const EventTopic& topic, std::string_view payload) {
  // The payload is stored and later handed to decoders: nothing deeper than the API allows.
  BYSANS_RETURN_IF_ERROR(CheckJsonDepth(payload));
  json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("ChirpStack event: payload is not valid JSON");
  if (!doc.is_object()) return InvalidArgument("ChirpStack event: payload is not a JSON object");
  ChirpstackEvent e;
  e.type = topic.type;
  e.dev_eui = topic.dev_eui;
  e.application_id = topic.application_id;
  if (auto di = doc.find("deviceInfo"); di != doc.end() && !di->is_null()) {
    if (!di->is_object()) return Bad("deviceInfo", "must be an object");
    BYSANS_ASSIGN_OR_RETURN(std::string eui, OptString(*di, "devEui"));
    if (!eui.empty()) {
      if (!IsHexEui(eui)) return Bad("deviceInfo.devEui", "must be 16 hexadecimal characters");
      e.dev_eui = Lower(eui);
    }
    BYSANS_ASSIGN_OR_RETURN(std::string app, OptString(*di, "applicationId"));
    if (!app.empty()) e.application_id = app;
  }
  BYSANS_ASSIGN_OR_RETURN(e.deduplication_id, OptString(doc, "deduplicationId"));
  BYSANS_ASSIGN_OR_RETURN(std::string time, OptString(doc, "time"));
  if (!time.empty()) {
    auto t = ParseTime(time);
    if (!t) return Bad("time", "is not an RFC 3339 time");
    e.time_ms = *t;
  }
  if (e.type == EventType::kUp) {
    BYSANS_ASSIGN_OR_RETURN(e.fcnt, OptInt(doc, "fCnt"));
    BYSANS_ASSIGN_OR_RETURN(auto fport, OptInt(doc, "fPort"));
    if (fport && (*fport < 0 || *fport > 255)) return Bad("fPort", "must be 0..255");
    e.fport = fport ? static_cast<int>(*fport) : 0;
    BYSANS_ASSIGN_OR_RETURN(e.dr, OptInt(doc, "dr"));
    BYSANS_ASSIGN_OR_RETURN(std::string data, OptString(doc, "data"));
    auto frame = DecodeBase64(data);
    if (!frame.ok()) return Bad("data", "is not base64");
    e.frame = std::move(*frame);
    if (auto rx = doc.find("rxInfo"); rx != doc.end() && !rx->is_null()) {
      if (!rx->is_array()) return Bad("rxInfo", "must be an array");
      for (const json& g : *rx) {
        if (!g.is_object()) return Bad("rxInfo", "must hold objects");
        GatewayRx gw;
        BYSANS_ASSIGN_OR_RETURN(gw.gateway_id, OptString(g, "gatewayId"));
        BYSANS_ASSIGN_OR_RETURN(gw.rssi, OptNumber(g, "rssi"));
        BYSANS_ASSIGN_OR_RETURN(gw.snr, OptNumber(g, "snr"));
        e.gateways.push_back(std::move(gw));
      }
    }
  } else if (e.type == EventType::kStatus) {
    BYSANS_ASSIGN_OR_RETURN(e.margin, OptInt(doc, "margin"));
    auto unavailable = doc.find("batteryLevelUnavailable");
    bool no_battery =
        unavailable != doc.end() && unavailable->is_boolean() && unavailable->get<bool>();
    BYSANS_ASSIGN_OR_RETURN(auto battery, OptNumber(doc, "batteryLevel"));
    if (!no_battery) e.battery_level = battery;
  }
  return e;
}

const GatewayRx* BestGateway(const ChirpstackEvent& e) {
  const GatewayRx* best = nullptr;
  for (const GatewayRx& g : e.gateways) {
    if (!best) {
      best = &g;
      continue;
    }
    double r = g.rssi.value_or(-1e9), br = best->rssi.value_or(-1e9);
    if (r > br || (r == br && g.snr.value_or(-1e9) > best->snr.value_or(-1e9))) best = &g;
  }
  return best;
}

}  // namespace bysans::lorawan

#include "lorawan/chirpstack.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>

#include "core/json_depth.h"
#include "core/padded_copy.h"
#include "core/time_format.h"
#include "lorawan/topic_text.h"

namespace bysans::lorawan {
namespace {

using json = nlohmann::json;

Status Bad(const std::string& field, const std::string& why) {
  return InvalidArgument("ChirpStack event: field '" + field + "' " + why);
}

// The event's fields are read through one of two views of the parsed document, so both parsers
// apply the same rules: simdjson's DOM (the fast path) and nlohmann (when simdjson refuses a
// document, for nlohmann's verdict: a precise error or a document simdjson cannot represent).
// A view is absent (`present() == false`) for a missing member; with duplicate members the last
// one counts, as with nlohmann.
class NView {
 public:
  NView() = default;
  explicit NView(const json* v) : v_(v) {}
  bool present() const { return v_ != nullptr; }
  bool is_null() const { return v_->is_null(); }
  bool is_object() const { return v_->is_object(); }
  bool is_array() const { return v_->is_array(); }
  bool is_string() const { return v_->is_string(); }
  bool is_integer() const { return v_->is_number_integer(); }
  bool is_number() const { return v_->is_number(); }
  bool is_true() const { return v_->is_boolean() && v_->get<bool>(); }
  std::string_view str() const { return v_->get_ref<const std::string&>(); }
  int64_t integer() const { return v_->get<int64_t>(); }
  double number() const { return v_->get<double>(); }
  NView Get(std::string_view name) const {
    auto it = v_->find(name);
    return it == v_->end() ? NView() : NView(&*it);
  }
  template <typename F>
  Status ForEach(F&& f) const {
    for (const json& e : *v_) BYSANS_RETURN_IF_ERROR(f(NView(&e)));
    return Status::Ok();
  }

 private:
  const json* v_ = nullptr;
};

class SView {
 public:
  SView() = default;
  explicit SView(simdjson::dom::element v) : v_(v), present_(true) {}
  bool present() const { return present_; }
  bool is_null() const { return v_.is_null(); }
  bool is_object() const { return v_.is_object(); }
  bool is_array() const { return v_.is_array(); }
  bool is_string() const { return v_.is_string(); }
  bool is_integer() const {
    auto t = v_.type();
    return t == simdjson::dom::element_type::INT64 || t == simdjson::dom::element_type::UINT64;
  }
  bool is_number() const { return v_.is_number(); }
  bool is_true() const { return v_.is_bool() && v_.get_bool().value_unsafe(); }
  std::string_view str() const { return v_.get_string().value_unsafe(); }
  int64_t integer() const {
    // As nlohmann's get<int64_t>: an unsigned beyond int64 wraps.
    if (v_.type() == simdjson::dom::element_type::UINT64)
      return static_cast<int64_t>(v_.get_uint64().value_unsafe());
    return v_.get_int64().value_unsafe();
  }
  double number() const { return v_.get_double().value_unsafe(); }
  SView Get(std::string_view name) const {
    SView found;
    for (auto field : simdjson::dom::object(v_.get_object().value_unsafe())) {
      if (field.key == name) found = SView(field.value);
    }
    return found;
  }
  template <typename F>
  Status ForEach(F&& f) const {
    for (simdjson::dom::element e : simdjson::dom::array(v_.get_array().value_unsafe()))
      BYSANS_RETURN_IF_ERROR(f(SView(e)));
    return Status::Ok();
  }

 private:
  simdjson::dom::element v_;
  bool present_ = false;
};

template <typename V>
Result<std::optional<int64_t>> OptInt(const V& o, const char* name) {
  V v = o.Get(name);
  if (!v.present() || v.is_null()) return std::optional<int64_t>();
  if (v.is_integer()) return std::optional<int64_t>(v.integer());
  // protojson writes 64-bit integers as strings.
  if (v.is_string()) {
    std::string_view s = v.str();
    if (!s.empty() &&
        std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; }) &&
        s.size() < 19)
      return std::optional<int64_t>(std::stoll(std::string(s)));
  }
  return Bad(name, "must be an integer");
}

template <typename V>
Result<std::optional<double>> OptNumber(const V& o, const char* name) {
  V v = o.Get(name);
  if (!v.present() || v.is_null()) return std::optional<double>();
  if (!v.is_number()) return Bad(name, "must be a number");
  return std::optional<double>(v.number());
}

template <typename V>
Result<std::string> OptString(const V& o, const char* name) {
  V v = o.Get(name);
  if (!v.present() || v.is_null()) return std::string();
  if (!v.is_string()) return Bad(name, "must be a string");
  return std::string(v.str());
}

template <typename V>
Result<ChirpstackEvent> EventOf(const EventTopic& topic, const V& doc) {
  if (!doc.is_object()) return InvalidArgument("ChirpStack event: payload is not a JSON object");
  ChirpstackEvent e;
  e.type = topic.type;
  e.dev_eui = topic.dev_eui;
  e.application_id = topic.application_id;
  if (V di = doc.Get("deviceInfo"); di.present() && !di.is_null()) {
    if (!di.is_object()) return Bad("deviceInfo", "must be an object");
    BYSANS_ASSIGN_OR_RETURN(std::string eui, OptString(di, "devEui"));
    if (!eui.empty()) {
      if (!IsHexEui(eui)) return Bad("deviceInfo.devEui", "must be 16 hexadecimal characters");
      e.dev_eui = LowerAscii(eui);
    }
    BYSANS_ASSIGN_OR_RETURN(std::string app, OptString(di, "applicationId"));
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
    if (V rx = doc.Get("rxInfo"); rx.present() && !rx.is_null()) {
      if (!rx.is_array()) return Bad("rxInfo", "must be an array");
      BYSANS_RETURN_IF_ERROR(rx.ForEach([&](const V& g) -> Status {
        if (!g.is_object()) return Bad("rxInfo", "must hold objects");
        GatewayRx gw;
        BYSANS_ASSIGN_OR_RETURN(gw.gateway_id, OptString(g, "gatewayId"));
        BYSANS_ASSIGN_OR_RETURN(gw.rssi, OptNumber(g, "rssi"));
        BYSANS_ASSIGN_OR_RETURN(gw.snr, OptNumber(g, "snr"));
        e.gateways.push_back(std::move(gw));
        return Status::Ok();
      }));
    }
  } else if (e.type == EventType::kStatus) {
    BYSANS_ASSIGN_OR_RETURN(e.margin, OptInt(doc, "margin"));
    V unavailable = doc.Get("batteryLevelUnavailable");
    bool no_battery = unavailable.present() && unavailable.is_true();
    BYSANS_ASSIGN_OR_RETURN(auto battery, OptNumber(doc, "batteryLevel"));
    if (!no_battery) e.battery_level = battery;
  }
  return e;
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
  const std::vector<std::string_view> parts = TopicLevels(topic, 6);
  if (parts.size() != 6 || parts[0] != "application" || parts[2] != "device" ||
      parts[4] != "event" || parts[1].empty())
    return InvalidArgument("not a ChirpStack event topic: " + std::string(topic));
  if (!IsHexEui(parts[3]))
    return InvalidArgument("ChirpStack topic: DevEUI '" + std::string(parts[3]) +
                           "' is not 16 hexadecimal characters");
  EventTopic t;
  t.application_id = std::string(parts[1]);
  t.dev_eui = LowerAscii(parts[3]);
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

struct EventParser::Impl {
  // simdjson refuses a document nested deeper than max_depth levels (the top-level value is
  // level 1), as CheckJsonDepth does (tested). If that allocation failed, the parser keeps
  // simdjson's far looser default, so every event is scanned first.
  Impl() : depth_limited(parser.allocate(4096, kMaxJsonDepth) == simdjson::SUCCESS) {}
  simdjson::dom::parser parser;
  const bool depth_limited;
  std::string buffer;  // the event copied with simdjson's padding, reused
};

EventParser::EventParser() : impl_(std::make_unique<Impl>()) {}
EventParser::~EventParser() = default;

Result<ChirpstackEvent> EventParser::Parse(const EventTopic& topic, std::string_view payload) {
  // The payload is stored and later handed to decoders: nothing deeper than the API allows.
  // simdjson enforces that limit itself (Impl); a document it refuses is scanned for depth
  // before nlohmann gives its verdict.
  if (!impl_->depth_limited) BYSANS_RETURN_IF_ERROR(CheckJsonDepth(payload));
  simdjson::dom::element root;
  const char* padded = PaddedCopy(payload, simdjson::SIMDJSON_PADDING, impl_->buffer);
  if (impl_->parser.parse(padded, payload.size(), false).get(root) == simdjson::SUCCESS)
    return EventOf(topic, SView(root));
  BYSANS_RETURN_IF_ERROR(CheckJsonDepth(payload));
  json doc = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgument("ChirpStack event: payload is not valid JSON");
  return EventOf(topic, NView(&doc));
}

Result<ChirpstackEvent> ParseEvent(const EventTopic& topic, std::string_view payload) {
  return EventParser().Parse(topic, payload);
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

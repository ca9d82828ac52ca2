#include "mqtt/packet.h"

#include <fmt/format.h>

#include <utility>

namespace bysans::mqtt {
namespace {

enum class PropType { kByte, kTwo, kFour, kVarint, kString, kBinary, kPair, kUnknown };

PropType TypeOfProperty(uint8_t id) {
  switch (id) {
    case 0x01:
    case 0x17:
    case 0x19:
    case 0x24:
    case 0x25:
    case 0x28:
    case 0x29:
    case 0x2A:
      return PropType::kByte;
    case 0x13:
    case 0x21:
    case 0x22:
    case 0x23:
      return PropType::kTwo;
    case 0x02:
    case 0x11:
    case 0x18:
    case 0x27:
      return PropType::kFour;
    case 0x0B:
      return PropType::kVarint;
    case 0x03:
    case 0x08:
    case 0x12:
    case 0x15:
    case 0x1A:
    case 0x1C:
    case 0x1F:
      return PropType::kString;
    case 0x09:
    case 0x16:
      return PropType::kBinary;
    case 0x26:
      return PropType::kPair;
    default:
      return PropType::kUnknown;
  }
}

// ---- writing ----

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U16(uint16_t v) {
    U8(static_cast<uint8_t>(v >> 8));
    U8(static_cast<uint8_t>(v & 0xFF));
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    U16(static_cast<uint16_t>(v & 0xFFFF));
  }
  Status Varint(size_t v) {
    if (v > kMaxRemainingLength) return InvalidArgument("value too large for a variable integer");
    do {
      uint8_t b = v % 128;
      v /= 128;
      if (v > 0) b |= 0x80;
      U8(b);
    } while (v > 0);
    return Status::Ok();
  }
  Status Str(std::string_view s) {
    if (s.size() > 65535) return InvalidArgument("string longer than 65535 bytes");
    U16(static_cast<uint16_t>(s.size()));
    Raw(s);
    return Status::Ok();
  }
  void Raw(std::string_view s) { out_.append(s); }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

Status WriteProperties(Writer& w, const Properties& props) {
  Writer body;
  for (const Property& p : props) {
    switch (TypeOfProperty(p.id)) {
      case PropType::kByte:
        body.U8(p.id);
        body.U8(static_cast<uint8_t>(p.number));
        break;
      case PropType::kTwo:
        body.U8(p.id);
        body.U16(static_cast<uint16_t>(p.number));
        break;
      case PropType::kFour:
        body.U8(p.id);
        body.U32(p.number);
        break;
      case PropType::kVarint:
        body.U8(p.id);
        BYSANS_RETURN_IF_ERROR(body.Varint(p.number));
        break;
      case PropType::kString:
      case PropType::kBinary:
        body.U8(p.id);
        BYSANS_RETURN_IF_ERROR(body.Str(p.text));
        break;
      case PropType::kPair:
        body.U8(p.id);
        BYSANS_RETURN_IF_ERROR(body.Str(p.text));
        BYSANS_RETURN_IF_ERROR(body.Str(p.text2));
        break;
      case PropType::kUnknown:
        return InvalidArgument(fmt::format("unknown MQTT 5 property id 0x{:02x}", p.id));
    }
  }
  BYSANS_RETURN_IF_ERROR(w.Varint(body.out().size()));
  w.Raw(body.out());
  return Status::Ok();
}

Result<std::string> Frame(uint8_t first_byte, Writer& body) {
  Writer w;
  w.U8(first_byte);
  BYSANS_RETURN_IF_ERROR(w.Varint(body.out().size()));
  w.Raw(body.out());
  return std::move(w.out());
}

struct Encoder {
  int protocol;
  bool v5() const { return protocol == kProtocol5; }

  Result<std::string> operator()(const Connect& p) const {
    if (p.protocol != kProtocol311 && p.protocol != kProtocol5) {
      return InvalidArgument("CONNECT protocol level must be 4 or 5");
    }
    if (p.protocol == kProtocol311 && p.password && !p.username) {
      return InvalidArgument("MQTT 3.1.1 does not allow a password without a username");
    }
    Writer b;
    BYSANS_RETURN_IF_ERROR(b.Str("MQTT"));
    b.U8(static_cast<uint8_t>(p.protocol));
    uint8_t flags = 0;
    if (p.username) flags |= 0x80;
    if (p.password) flags |= 0x40;
    if (p.clean_start) flags |= 0x02;
    b.U8(flags);
    b.U16(p.keepalive_s);
    if (p.protocol == kProtocol5) BYSANS_RETURN_IF_ERROR(WriteProperties(b, p.props));
    BYSANS_RETURN_IF_ERROR(b.Str(p.client_id));
    if (p.username) BYSANS_RETURN_IF_ERROR(b.Str(*p.username));
    if (p.password) BYSANS_RETURN_IF_ERROR(b.Str(*p.password));
    return Frame(0x10, b);
  }
  Result<std::string> operator()(const Connack& p) const {
    Writer b;
    b.U8(p.session_present ? 1 : 0);
    b.U8(p.reason_code);
    if (v5()) BYSANS_RETURN_IF_ERROR(WriteProperties(b, p.props));
    return Frame(0x20, b);
  }
  Result<std::string> operator()(const Publish& p) const {
    if (p.qos > 2) return InvalidArgument("PUBLISH QoS must be 0, 1 or 2");
    if (p.qos > 0 && p.packet_id == 0) return InvalidArgument("PUBLISH QoS > 0 needs a packet id");
    Writer b;
    BYSANS_RETURN_IF_ERROR(b.Str(p.topic));
    if (p.qos > 0) b.U16(p.packet_id);
    if (v5()) BYSANS_RETURN_IF_ERROR(WriteProperties(b, p.props));
    b.Raw(p.payload);
    uint8_t first = 0x30 | static_cast<uint8_t>(p.qos << 1);
    if (p.dup && p.qos > 0) first |= 0x08;
    if (p.retain) first |= 0x01;
    return Frame(first, b);
  }
  Result<std::string> operator()(const Ack& p) const {
    uint8_t first = 0;
    switch (p.type) {
      case PacketType::kPuback:
        first = 0x40;
        break;
      case PacketType::kPubrec:
        first = 0x50;
        break;
      case PacketType::kPubrel:
        first = 0x62;
        break;
      case PacketType::kPubcomp:
        first = 0x70;
        break;
      default:
        return InvalidArgument("Ack type must be PUBACK, PUBREC, PUBREL or PUBCOMP");
    }
    Writer b;
    b.U16(p.packet_id);
    if (v5() && (p.reason_code != 0 || !p.props.empty())) {
      b.U8(p.reason_code);
      if (!p.props.empty()) BYSANS_RETURN_IF_ERROR(WriteProperties(b, p.props));
    }
    return Frame(first, b);
  }
  Result<std::string> operator()(const Subscribe& p) const {
    if (p.subscriptions.empty()) return InvalidArgument("SUBSCRIBE needs at least one filter");
    Writer b;
    b.U16(p.packet_id);
    if (v5()) BYSANS_RETURN_IF_ERROR(WriteProperties(b, p.props));
    for (const Subscription& s : p.subscriptions) {
      if (s.qos > 2) return InvalidArgument("subscription QoS must be 0, 1 or 2");
      BYSANS_RETURN_IF_ERROR(b.Str(s.filter));
      uint8_t opts = s.qos;
      if (v5()) {
        if (s.no_local) opts |= 0x04;
        if (s.retain_as_published) opts |= 0x08;
        opts |= static_cast<uint8_t>((s.retain_handling & 3) << 4);
      }
      b.U8(opts);
    }
    return Frame(0x82, b);
  }
  Result<std::string> operator()(const Suback& p) const {
    Writer b;
    b.U16(p.packet_id);
    if (v5()) BYSANS_RETURN_IF_ERROR(WriteProperties(b, p.props));
    for (uint8_t rc : p.reason_codes) b.U8(rc);
    return Frame(0x90, b);
  }
  Result<std::string> operator()(const Unsubscribe& p) const {
    if (p.filters.empty()) return InvalidArgument("UNSUBSCRIBE needs at least one filter");
    Writer b;
    b.U16(p.packet_id);
    if (v5()) BYSANS_RETURN_IF_ERROR(WriteProperties(b, p.props));
    for (const std::string& f : p.filters) BYSANS_RETURN_IF_ERROR(b.Str(f));
    return Frame(0xA2, b);
  }
  Result<std::string> operator()(const Unsuback& p) const {
    Writer b;
    b.U16(p.packet_id);
    if (v5()) {
      BYSANS_RETURN_IF_ERROR(WriteProperties(b, p.props));
      for (uint8_t rc : p.reason_codes) b.U8(rc);
    }
    return Frame(0xB0, b);
  }
  Result<std::string> operator()(const Pingreq&) const { return std::string("\xC0\x00", 2); }
  Result<std::string> operator()(const Pingresp&) const { return std::string("\xD0\x00", 2); }
  Result<std::string> operator()(const Disconnect& p) const {
    Writer b;
    if (v5() && (p.reason_code != 0 || !p.props.empty())) {
      b.U8(p.reason_code);
      if (!p.props.empty()) BYSANS_RETURN_IF_ERROR(WriteProperties(b, p.props));
    }
    return Frame(0xE0, b);
  }
};

// ---- reading ----

class Reader {
 public:
  Reader(std::string_view data, const char* packet) : data_(data), packet_(packet) {}

  bool done() const { return pos_ >= data_.size(); }
  size_t left() const { return data_.size() - pos_; }

  Status U8(uint8_t& v, const char* field) {
    if (left() < 1) return Truncated(field);
    v = static_cast<uint8_t>(data_[pos_++]);
    return Status::Ok();
  }
  Status U16(uint16_t& v, const char* field) {
    if (left() < 2) return Truncated(field);
    v = static_cast<uint16_t>((static_cast<uint8_t>(data_[pos_]) << 8) |
                              static_cast<uint8_t>(data_[pos_ + 1]));
    pos_ += 2;
    return Status::Ok();
  }
  Status U32(uint32_t& v, const char* field) {
    uint16_t hi = 0, lo = 0;
    BYSANS_RETURN_IF_ERROR(U16(hi, field));
    BYSANS_RETURN_IF_ERROR(U16(lo, field));
    v = (static_cast<uint32_t>(hi) << 16) | lo;
    return Status::Ok();
  }
  Status Varint(uint32_t& v, const char* field) {
    v = 0;
    uint32_t mult = 1;
    for (int i = 0; i < 4; ++i) {
      uint8_t b = 0;
      BYSANS_RETURN_IF_ERROR(U8(b, field));
      v += (b & 0x7F) * mult;
      if ((b & 0x80) == 0) return Status::Ok();
      mult *= 128;
    }
    return Bad(fmt::format("malformed variable integer in {}", field));
  }
  Status Binary(std::string& s, const char* field) {
    uint16_t len = 0;
    BYSANS_RETURN_IF_ERROR(U16(len, field));
    if (left() < len) return Truncated(field);
    s.assign(data_.substr(pos_, len));
    pos_ += len;
    return Status::Ok();
  }
  Status Utf8(std::string& s, const char* field) {
    BYSANS_RETURN_IF_ERROR(Binary(s, field));
    if (!IsValidUtf8(s)) return Bad(fmt::format("{} is not valid UTF-8", field));
    return Status::Ok();
  }
  std::string_view Rest() {
    std::string_view r = data_.substr(pos_);
    pos_ = data_.size();
    return r;
  }
  Status Properties(mqtt::Properties& props) {
    uint32_t len = 0;
    BYSANS_RETURN_IF_ERROR(Varint(len, "property length"));
    if (left() < len) return Truncated("properties");
    Reader r(data_.substr(pos_, len), packet_);
    pos_ += len;
    while (!r.done()) {
      Property p;
      BYSANS_RETURN_IF_ERROR(r.U8(p.id, "property id"));
      switch (TypeOfProperty(p.id)) {
        case PropType::kByte: {
          uint8_t v = 0;
          BYSANS_RETURN_IF_ERROR(r.U8(v, "byte property"));
          p.number = v;
          break;
        }
        case PropType::kTwo: {
          uint16_t v = 0;
          BYSANS_RETURN_IF_ERROR(r.U16(v, "two-byte property"));
          p.number = v;
          break;
        }
        case PropType::kFour:
          BYSANS_RETURN_IF_ERROR(r.U32(p.number, "four-byte property"));
          break;
        case PropType::kVarint:
          BYSANS_RETURN_IF_ERROR(r.Varint(p.number, "varint property"));
          break;
        case PropType::kString:
          BYSANS_RETURN_IF_ERROR(r.Utf8(p.text, "string property"));
          break;
        case PropType::kBinary:
          BYSANS_RETURN_IF_ERROR(r.Binary(p.text, "binary property"));
          break;
        case PropType::kPair:
          BYSANS_RETURN_IF_ERROR(r.Utf8(p.text, "user property name"));
          BYSANS_RETURN_IF_ERROR(r.Utf8(p.text2, "user property value"));
          break;
        case PropType::kUnknown:
          // Unknown id: its length is unknown, so skip the rest of the property block (its
          // total length is known) and keep what was parsed.
          return Status::Ok();
      }
      props.push_back(std::move(p));
    }
    return Status::Ok();
  }
  Status Truncated(const char* field) const {
    return Bad(fmt::format("truncated {} field", field));
  }
  Status Bad(const std::string& what) const {
    return InvalidArgument(fmt::format("malformed {}: {}", packet_, what));
  }

 private:
  std::string_view data_;
  const char* packet_;
  size_t pos_ = 0;
};

Status CheckFlags(uint8_t first_byte, uint8_t expected, const char* name) {
  if ((first_byte & 0x0F) != expected) {
    return InvalidArgument(fmt::format("malformed {}: reserved fixed-header flags are 0x{:x}", name,
                                       first_byte & 0x0F));
  }
  return Status::Ok();
}

Result<Packet> DecodeConnect(Reader& r, const char* name) {
  Connect p;
  std::string proto;
  BYSANS_RETURN_IF_ERROR(r.Utf8(proto, "protocol name"));
  if (proto != "MQTT") return r.Bad("protocol name is not MQTT");
  uint8_t level = 0, flags = 0;
  BYSANS_RETURN_IF_ERROR(r.U8(level, "protocol level"));
  if (level != kProtocol311 && level != kProtocol5) {
    return r.Bad(fmt::format("unsupported protocol level {}", level));
  }
  p.protocol = level;
  BYSANS_RETURN_IF_ERROR(r.U8(flags, "connect flags"));
  if (flags & 0x01) return r.Bad("reserved connect flag set");
  if (flags & 0x04) return InvalidArgument(fmt::format("{} with a will is not supported", name));
  p.clean_start = flags & 0x02;
  BYSANS_RETURN_IF_ERROR(r.U16(p.keepalive_s, "keep alive"));
  if (level == kProtocol5) BYSANS_RETURN_IF_ERROR(r.Properties(p.props));
  BYSANS_RETURN_IF_ERROR(r.Utf8(p.client_id, "client id"));
  if (flags & 0x80) {
    p.username.emplace();
    BYSANS_RETURN_IF_ERROR(r.Utf8(*p.username, "username"));
  }
  if (flags & 0x40) {
    p.password.emplace();
    BYSANS_RETURN_IF_ERROR(r.Binary(*p.password, "password"));
  }
  return Packet(std::move(p));
}

}  // namespace

std::optional<uint32_t> FindNumber(const Properties& props, PropId id) {
  for (const Property& p : props) {
    if (p.id == static_cast<uint8_t>(id)) return p.number;
  }
  return std::nullopt;
}

std::optional<std::string> FindText(const Properties& props, PropId id) {
  for (const Property& p : props) {
    if (p.id == static_cast<uint8_t>(id)) return p.text;
  }
  return std::nullopt;
}

const char* PacketTypeName(PacketType type) {
  switch (type) {
    case PacketType::kConnect:
      return "CONNECT";
    case PacketType::kConnack:
      return "CONNACK";
    case PacketType::kPublish:
      return "PUBLISH";
    case PacketType::kPuback:
      return "PUBACK";
    case PacketType::kPubrec:
      return "PUBREC";
    case PacketType::kPubrel:
      return "PUBREL";
    case PacketType::kPubcomp:
      return "PUBCOMP";
    case PacketType::kSubscribe:
      return "SUBSCRIBE";
    case PacketType::kSuback:
      return "SUBACK";
    case PacketType::kUnsubscribe:
      return "UNSUBSCRIBE";
    case PacketType::kUnsuback:
      return "UNSUBACK";
    case PacketType::kPingreq:
      return "PINGREQ";
    case PacketType::kPingresp:
      return "PINGRESP";
    case PacketType::kDisconnect:
      return "DISCONNECT";
    case PacketType::kAuth:
      return "AUTH";
  }
  return "UNKNOWN";
}

PacketType TypeOf(const Packet& packet) {
  struct V {
    PacketType operator()(const Connect&) { return PacketType::kConnect; }
    PacketType operator()(const Connack&) { return PacketType::kConnack; }
    PacketType operator()(const Publish&) { return PacketType::kPublish; }
    PacketType operator()(const Ack& a) { return a.type; }
    PacketType operator()(const Subscribe&) { return PacketType::kSubscribe; }
    PacketType operator()(const Suback&) { return PacketType::kSuback; }
    PacketType operator()(const Unsubscribe&) { return PacketType::kUnsubscribe; }
    PacketType operator()(const Unsuback&) { return PacketType::kUnsuback; }
    PacketType operator()(const Pingreq&) { return PacketType::kPingreq; }
    PacketType operator()(const Pingresp&) { return PacketType::kPingresp; }
    PacketType operator()(const Disconnect&) { return PacketType::kDisconnect; }
  };
  return std::visit(V{}, packet);
}

Result<std::string> Encode(const Packet& packet, int protocol) {
  if (protocol != kProtocol311 && protocol != kProtocol5) {
    return InvalidArgument("protocol must be 4 (3.1.1) or 5");
  }
  return std::visit(Encoder{protocol}, packet);
}

Result<Packet> DecodePacket(uint8_t first_byte, std::string_view body, int protocol) {
  const bool v5 = protocol == kProtocol5;
  auto type = static_cast<PacketType>(first_byte >> 4);
  if ((first_byte >> 4) == 0) return InvalidArgument("malformed packet: reserved packet type 0");
  const char* name = PacketTypeName(type);
  Reader r(body, name);
  switch (type) {
    case PacketType::kConnect: {
      BYSANS_RETURN_IF_ERROR(CheckFlags(first_byte, 0, name));
      auto res = DecodeConnect(r, name);
      if (res.ok() && !r.done()) return r.Bad("trailing bytes");
      return res;
    }
    case PacketType::kConnack: {
      BYSANS_RETURN_IF_ERROR(CheckFlags(first_byte, 0, name));
      Connack p;
      uint8_t flags = 0;
      BYSANS_RETURN_IF_ERROR(r.U8(flags, "acknowledge flags"));
      if (flags & 0xFE) return r.Bad("reserved acknowledge flags set");
      p.session_present = flags & 1;
      BYSANS_RETURN_IF_ERROR(r.U8(p.reason_code, "reason code"));
      if (v5 && !r.done()) BYSANS_RETURN_IF_ERROR(r.Properties(p.props));
      if (!r.done()) return r.Bad("trailing bytes");
      return Packet(std::move(p));
    }
    case PacketType::kPublish: {
      Publish p;
      p.qos = (first_byte >> 1) & 3;
      p.dup = first_byte & 0x08;
      p.retain = first_byte & 0x01;
      if (p.qos == 3) return r.Bad("QoS 3 is not allowed");
      if (p.qos == 0 && p.dup) return r.Bad("DUP set on a QoS 0 message");
      BYSANS_RETURN_IF_ERROR(r.Utf8(p.topic, "topic"));
      if (p.topic.find_first_of("+#") != std::string::npos) {
        return r.Bad("topic name contains a wildcard");
      }
      if (p.qos > 0) {
        BYSANS_RETURN_IF_ERROR(r.U16(p.packet_id, "packet id"));
        if (p.packet_id == 0) return r.Bad("packet id 0");
      }
      if (v5) BYSANS_RETURN_IF_ERROR(r.Properties(p.props));
      if (p.topic.empty() && !(v5 && FindNumber(p.props, PropId::kTopicAlias))) {
        return r.Bad("empty topic name");
      }
      p.payload.assign(r.Rest());
      return Packet(std::move(p));
    }
    case PacketType::kPuback:
    case PacketType::kPubrec:
    case PacketType::kPubrel:
    case PacketType::kPubcomp: {
      BYSANS_RETURN_IF_ERROR(CheckFlags(first_byte, type == PacketType::kPubrel ? 2 : 0, name));
      Ack p;
      p.type = type;
      BYSANS_RETURN_IF_ERROR(r.U16(p.packet_id, "packet id"));
      if (v5 && !r.done()) {
        BYSANS_RETURN_IF_ERROR(r.U8(p.reason_code, "reason code"));
        if (!r.done()) BYSANS_RETURN_IF_ERROR(r.Properties(p.props));
      }
      if (!r.done()) return r.Bad("trailing bytes");
      return Packet(std::move(p));
    }
    case PacketType::kSubscribe: {
      BYSANS_RETURN_IF_ERROR(CheckFlags(first_byte, 2, name));
      Subscribe p;
      BYSANS_RETURN_IF_ERROR(r.U16(p.packet_id, "packet id"));
      if (v5) BYSANS_RETURN_IF_ERROR(r.Properties(p.props));
      while (!r.done()) {
        Subscription s;
        BYSANS_RETURN_IF_ERROR(r.Utf8(s.filter, "topic filter"));
        uint8_t opts = 0;
        BYSANS_RETURN_IF_ERROR(r.U8(opts, "subscription options"));
        s.qos = opts & 3;
        if (s.qos == 3) return r.Bad("QoS 3 is not allowed");
        if (v5) {
          s.no_local = opts & 0x04;
          s.retain_as_published = opts & 0x08;
          s.retain_handling = (opts >> 4) & 3;
          if (s.retain_handling == 3 || (opts & 0xC0)) return r.Bad("reserved option bits");
        } else if (opts & 0xFC) {
          return r.Bad("reserved option bits");
        }
        p.subscriptions.push_back(std::move(s));
      }
      if (p.subscriptions.empty()) return r.Bad("no topic filters");
      return Packet(std::move(p));
    }
    case PacketType::kSuback: {
      BYSANS_RETURN_IF_ERROR(CheckFlags(first_byte, 0, name));
      Suback p;
      BYSANS_RETURN_IF_ERROR(r.U16(p.packet_id, "packet id"));
      if (v5) BYSANS_RETURN_IF_ERROR(r.Properties(p.props));
      std::string_view rest = r.Rest();
      p.reason_codes.assign(rest.begin(), rest.end());
      if (p.reason_codes.empty()) return r.Bad("no reason codes");
      return Packet(std::move(p));
    }
    case PacketType::kUnsubscribe: {
      BYSANS_RETURN_IF_ERROR(CheckFlags(first_byte, 2, name));
      Unsubscribe p;
      BYSANS_RETURN_IF_ERROR(r.U16(p.packet_id, "packet id"));
      if (v5) BYSANS_RETURN_IF_ERROR(r.Properties(p.props));
      while (!r.done()) {
        std::string f;
        BYSANS_RETURN_IF_ERROR(r.Utf8(f, "topic filter"));
        p.filters.push_back(std::move(f));
      }
      if (p.filters.empty()) return r.Bad("no topic filters");
      return Packet(std::move(p));
    }
    case PacketType::kUnsuback: {
      BYSANS_RETURN_IF_ERROR(CheckFlags(first_byte, 0, name));
      Unsuback p;
      BYSANS_RETURN_IF_ERROR(r.U16(p.packet_id, "packet id"));
      if (v5) {
        BYSANS_RETURN_IF_ERROR(r.Properties(p.props));
        std::string_view rest = r.Rest();
        p.reason_codes.assign(rest.begin(), rest.end());
      }
      if (!r.done()) return r.Bad("trailing bytes");
      return Packet(std::move(p));
    }
    case PacketType::kPingreq:
    case PacketType::kPingresp: {
      BYSANS_RETURN_IF_ERROR(CheckFlags(first_byte, 0, name));
      if (!body.empty()) return r.Bad("non-empty body");
      if (type == PacketType::kPingreq) return Packet(Pingreq{});
      return Packet(Pingresp{});
    }
    case PacketType::kDisconnect: {
      BYSANS_RETURN_IF_ERROR(CheckFlags(first_byte, 0, name));
      Disconnect p;
      if (v5 && !r.done()) {
        BYSANS_RETURN_IF_ERROR(r.U8(p.reason_code, "reason code"));
        if (!r.done()) BYSANS_RETURN_IF_ERROR(r.Properties(p.props));
      }
      if (!r.done()) return r.Bad("trailing bytes");
      return Packet(std::move(p));
    }
    case PacketType::kAuth:
      return InvalidArgument("AUTH packets (enhanced authentication) are not supported");
  }
  return InvalidArgument("malformed packet: unknown packet type");
}

StreamDecoder::StreamDecoder(int protocol, size_t max_packet_size)
    : protocol_(protocol), max_packet_size_(max_packet_size) {}

void StreamDecoder::Feed(std::string_view bytes) {
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ > 65536)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

Result<std::optional<Packet>> StreamDecoder::Next() {
  if (error_) return *error_;
  auto fail = [this](Status st) -> Status {
    error_ = st;
    return st;
  };
  const size_t avail = buf_.size() - pos_;
  if (avail < 2) return std::optional<Packet>();
  const auto* p = reinterpret_cast<const uint8_t*>(buf_.data() + pos_);
  if ((p[0] >> 4) == 0) return fail(InvalidArgument("malformed packet: reserved packet type 0"));
  size_t remaining = 0;
  size_t mult = 1;
  size_t i = 1;
  for (;; ++i) {
    if (i > 4) return fail(InvalidArgument("malformed remaining length (more than 4 bytes)"));
    if (i >= avail) return std::optional<Packet>();
    remaining += (p[i] & 0x7F) * mult;
    mult *= 128;
    if ((p[i] & 0x80) == 0) break;
  }
  const size_t header = i + 1;
  const size_t total = header + remaining;
  if (total > max_packet_size_) {
    return fail(Status(Code::kTooLarge, fmt::format("packet of {} bytes exceeds the maximum of {}",
                                                    total, max_packet_size_)));
  }
  if (avail < total) return std::optional<Packet>();
  std::string_view body(buf_.data() + pos_ + header, remaining);
  auto packet = DecodePacket(p[0], body, protocol_);
  pos_ += total;
  if (!packet.ok()) return fail(packet.status());
  return std::optional<Packet>(std::move(packet).value());
}

Status ValidateTopicName(std::string_view topic) {
  if (topic.empty()) return InvalidArgument("topic name is empty");
  if (topic.size() > 65535) return InvalidArgument("topic name longer than 65535 bytes");
  if (!IsValidUtf8(topic)) return InvalidArgument("topic name is not valid UTF-8");
  if (topic.find_first_of("+#") != std::string_view::npos) {
    return InvalidArgument("topic name must not contain '+' or '#'");
  }
  return Status::Ok();
}

namespace {

Status ValidatePlainFilter(std::string_view filter) {
  if (filter.empty()) return InvalidArgument("topic filter is empty");
  size_t start = 0;
  while (true) {
    size_t slash = filter.find('/', start);
    std::string_view level = filter.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (level.find_first_of("+#") != std::string_view::npos && level.size() != 1) {
      return InvalidArgument("'+' and '#' must occupy a whole topic level");
    }
    if (level == "#" && slash != std::string_view::npos) {
      return InvalidArgument("'#' must be the last level of a topic filter");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return Status::Ok();
}

}  // namespace

std::optional<SharedFilter> ParseSharedFilter(std::string_view filter) {
  constexpr std::string_view kPrefix = "$share/";
  if (filter.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = filter.substr(kPrefix.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return SharedFilter{std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

Status ValidateTopicFilter(std::string_view filter) {
  if (filter.size() > 65535) return InvalidArgument("topic filter longer than 65535 bytes");
  if (!IsValidUtf8(filter)) return InvalidArgument("topic filter is not valid UTF-8");
  if (filter.substr(0, 7) == "$share/") {
    auto shared = ParseSharedFilter(filter);
    if (!shared) return InvalidArgument("shared subscription must be $share/{group}/{filter}");
    if (shared->group.empty() || shared->group.find_first_of("+#") != std::string::npos) {
      return InvalidArgument("shared subscription group must be non-empty without wildcards");
    }
    return ValidatePlainFilter(shared->filter);
  }
  return ValidatePlainFilter(filter);
}

bool TopicMatches(std::string_view filter, std::string_view topic) {
  if (auto shared = ParseSharedFilter(filter)) {
    // Recurse on a view into `filter` (the parsed copy would dangle).
    filter = filter.substr(7 + shared->group.size() + 1);
  }
  if (filter.empty() || topic.empty()) return false;
  if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#')) return false;
  size_t fi = 0, ti = 0;
  while (true) {
    size_t fslash = filter.find('/', fi);
    std::string_view flevel =
        filter.substr(fi, fslash == std::string_view::npos ? std::string_view::npos : fslash - fi);
    if (flevel == "#") return true;  // matches the parent level and everything below
    if (ti > topic.size()) {
      return false;  // topic exhausted but the filter has more (non-#) levels
    }
    size_t tslash = topic.find('/', ti);
    std::string_view tlevel =
        topic.substr(ti, tslash == std::string_view::npos ? std::string_view::npos : tslash - ti);
    if (flevel != "+" && flevel != tlevel) return false;
    const bool fend = fslash == std::string_view::npos;
    const bool tend = tslash == std::string_view::npos;
    if (fend && tend) return true;
    if (fend) return false;
    fi = fslash + 1;
    ti = tend ? topic.size() + 1 : tslash + 1;
  }
}

}  // namespace bysans::mqtt

// MQTT 3.1.1 and 5.0 control packets: plain value types, an encoder, and a streaming decoder
// for untrusted bytes. Client side: we encode what a client sends and decode what a broker
// sends, but both directions of every packet are supported so tests can round-trip them.
// Thread-compatible value types; StreamDecoder is not thread-safe (one per connection).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/encoding.h"
#include "core/status.h"

namespace bysans::mqtt {

inline constexpr int kProtocol311 = 4;
inline constexpr int kProtocol5 = 5;
// The largest remaining length MQTT can express (4 varint bytes).
inline constexpr size_t kMaxRemainingLength = 268435455;

enum class PacketType : uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kUnsubscribe = 10,
  kUnsuback = 11,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
  kAuth = 15,
};

// MQTT 5 property identifiers we use by name; all others are kept generically.
enum class PropId : uint8_t {
  kPayloadFormat = 0x01,
  kMessageExpiry = 0x02,
  kContentType = 0x03,
  kResponseTopic = 0x08,
  kCorrelationData = 0x09,
  kSubscriptionId = 0x0B,
  kSessionExpiry = 0x11,
  kAssignedClientId = 0x12,
  kServerKeepAlive = 0x13,
  kReasonString = 0x1F,
  kReceiveMaximum = 0x21,
  kTopicAliasMaximum = 0x22,
  kTopicAlias = 0x23,
  kMaximumQos = 0x24,
  kUserProperty = 0x26,
  kMaximumPacketSize = 0x27,
};

// One MQTT 5 property. Integer-typed properties use `number`; string/binary ones use `text`;
// user properties (name, value) use `text` and `text2`.
struct Property {
  uint8_t id = 0;
  uint32_t number = 0;
  std::string text;
  std::string text2;
  bool operator==(const Property&) const = default;
};
using Properties = std::vector<Property>;

// Looks up an integer property; nullopt when absent.
std::optional<uint32_t> FindNumber(const Properties& props, PropId id);
// Looks up a string property; nullopt when absent.
std::optional<std::string> FindText(const Properties& props, PropId id);

struct Connect {
  int protocol = kProtocol311;
  std::string client_id;
  std::optional<std::string> username;
  std::optional<std::string> password;
  uint16_t keepalive_s = 60;
  bool clean_start = false;  // "clean session" in 3.1.1
  Properties props;          // v5 only (session expiry, receive maximum, ...)
  bool operator==(const Connect&) const = default;
};

struct Connack {
  bool session_present = false;
  // 3.1.1 return code (0 accepted, 4 bad user/password, 5 not authorised) or v5 reason code.
  uint8_t reason_code = 0;
  Properties props;
  bool operator==(const Connack&) const = default;
};

struct Publish {
  std::string topic;
  std::string payload;
  uint8_t qos = 0;
  bool retain = false;
  bool dup = false;
  uint16_t packet_id = 0;  // only for qos > 0
  Properties props;
  bool operator==(const Publish&) const = default;
};

// PUBACK, PUBREC, PUBREL, PUBCOMP.
struct Ack {
  PacketType type = PacketType::kPuback;
  uint16_t packet_id = 0;
  uint8_t reason_code = 0;  // v5; always 0 in 3.1.1
  Properties props;
  bool operator==(const Ack&) const = default;
};

struct Subscription {
  std::string filter;
  uint8_t qos = 1;
  bool no_local = false;             // v5
  bool retain_as_published = false;  // v5
  uint8_t retain_handling = 0;       // v5
  bool operator==(const Subscription&) const = default;
};

struct Subscribe {
  uint16_t packet_id = 0;
  std::vector<Subscription> subscriptions;
  Properties props;
  bool operator==(const Subscribe&) const = default;
};

struct Suback {
  uint16_t packet_id = 0;
  std::vector<uint8_t> reason_codes;  // granted QoS, or >= 0x80 on failure
  Properties props;
  bool operator==(const Suback&) const = default;
};

struct Unsubscribe {
  uint16_t packet_id = 0;
  std::vector<std::string> filters;
  Properties props;
  bool operator==(const Unsubscribe&) const = default;
};

struct Unsuback {
  uint16_t packet_id = 0;
  std::vector<uint8_t> reason_codes;  // v5 only
  Properties props;
  bool operator==(const Unsuback&) const = default;
};

struct Pingreq {
  bool operator==(const Pingreq&) const = default;
};
struct Pingresp {
  bool operator==(const Pingresp&) const = default;
};

struct Disconnect {
  uint8_t reason_code = 0;  // v5
  Properties props;
  bool operator==(const Disconnect&) const = default;
};

using Packet = std::variant<Connect, Connack, Publish, Ack, Subscribe, Suback, Unsubscribe,
                            Unsuback, Pingreq, Pingresp, Disconnect>;

// Human-readable packet type name ("PUBLISH").
const char* PacketTypeName(PacketType type);
PacketType TypeOf(const Packet& packet);

// Encodes one packet for the given protocol level (4 = 3.1.1, 5 = 5.0). Fields that the
// protocol cannot carry (properties in 3.1.1) are left out. Returns kInvalidArgument for
// values the wire format cannot hold (strings over 65535 bytes, QoS > 2, ...).
Result<std::string> Encode(const Packet& packet, int protocol);

// Decodes one packet given its fixed-header first byte and its body (the remaining-length
// bytes). Returns kInvalidArgument with a message naming the problem for malformed input.
Result<Packet> DecodePacket(uint8_t first_byte, std::string_view body, int protocol);

// Incremental decoder for a byte stream from the network. Feed() arbitrary chunks; Next()
// yields complete packets in order. Errors are sticky: after one, Next() keeps returning it.
class StreamDecoder {
 public:
  StreamDecoder(int protocol, size_t max_packet_size);

  void Feed(std::string_view bytes);
  // A packet, nullopt when more bytes are needed, or an error (malformed or oversize packet).
  Result<std::optional<Packet>> Next();
  // Bytes buffered but not yet consumed.
  size_t buffered() const { return buf_.size() - pos_; }
  void set_protocol(int protocol) { protocol_ = protocol; }

 private:
  int protocol_;
  size_t max_packet_size_;
  std::string buf_;
  size_t pos_ = 0;
  std::optional<Status> error_;
};

// True when `s` is well-formed UTF-8 without NUL or surrogates (MQTT 1.5.3).
inline bool IsValidUtf8(std::string_view s) { return bysans::IsValidUtf8(s, false); }
// A topic name for PUBLISH: non-empty, valid UTF-8, no wildcards.
Status ValidateTopicName(std::string_view topic);
// A topic filter: non-empty, valid UTF-8, '+' and '#' only as whole levels, '#' last.
// `$share/{group}/{filter}` is accepted when group is non-empty without wildcards.
Status ValidateTopicFilter(std::string_view filter);

struct SharedFilter {
  std::string group;
  std::string filter;
};
// Splits `$share/{group}/{filter}`; nullopt for a filter that is not a shared subscription.
std::optional<SharedFilter> ParseSharedFilter(std::string_view filter);

// True when topic name `topic` matches topic filter `filter` (MQTT 4.7). A `$share/group/`
// prefix on the filter is ignored. Wildcards at the first level do not match topics that
// start with '$'.
bool TopicMatches(std::string_view filter, std::string_view topic);

}  // namespace bysans::mqtt

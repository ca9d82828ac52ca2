#include "mqtt/packet.h"

#include <gtest/gtest.h>

#include <string>

namespace bysans::mqtt {
namespace {

Packet RoundTrip(const Packet& in, int protocol) {
  auto bytes = Encode(in, protocol);
  EXPECT_TRUE(bytes.ok()) << bytes.status().message();
  StreamDecoder dec(protocol, 1 << 20);
  // Feed one byte at a time: the decoder must cope with arbitrary chunking.
  std::optional<Packet> out;
  for (size_t i = 0; i < bytes->size(); ++i) {
    dec.Feed(std::string_view(bytes->data() + i, 1));
    auto next = dec.Next();
    EXPECT_TRUE(next.ok()) << next.status().message();
    if (next.ok() && next->has_value()) {
      EXPECT_EQ(i, bytes->size() - 1) << "packet complete before its last byte";
      out = std::move(**next);
    }
  }
  EXPECT_TRUE(out.has_value());
  EXPECT_EQ(dec.buffered(), 0u);
  return out.value_or(Packet(Pingreq{}));
}

Property Num(PropId id, uint32_t v) { return Property{static_cast<uint8_t>(id), v, {}, {}}; }

class BothProtocols : public ::testing::TestWithParam<int> {};

TEST_P(BothProtocols, ConnectRoundTrip) {
  Connect c;
  c.protocol = GetParam();
  c.client_id = "bysans-ingest";
  c.username = "svc";
  c.password = std::string("p\0ss", 4);
  c.keepalive_s = 45;
  c.clean_start = false;
  if (GetParam() == kProtocol5) {
    c.props = {Num(PropId::kSessionExpiry, 0xFFFFFFFF), Num(PropId::kReceiveMaximum, 100)};
  }
  EXPECT_EQ(RoundTrip(c, GetParam()), Packet(c));
}

TEST_P(BothProtocols, PublishRoundTrip) {
  Publish p;
  p.topic = "devices/æøå/up";
  p.payload = std::string("{\"t\":21.5}\0\xff", 12);
  p.qos = 1;
  p.dup = true;
  p.retain = true;
  p.packet_id = 65535;
  if (GetParam() == kProtocol5) {
    p.props = {Num(PropId::kPayloadFormat, 1),
               Property{static_cast<uint8_t>(PropId::kUserProperty), 0, "k", "v"},
               Property{static_cast<uint8_t>(PropId::kContentType), 0, "application/json", {}},
               Num(PropId::kSubscriptionId, 300000)};
  }
  EXPECT_EQ(RoundTrip(p, GetParam()), Packet(p));
  Publish q0;
  q0.topic = "a";
  EXPECT_EQ(RoundTrip(q0, GetParam()), Packet(q0));
}

TEST_P(BothProtocols, OtherPacketsRoundTrip) {
  const bool v5 = GetParam() == kProtocol5;
  Connack ca{true, 0, {}};
  if (v5) ca.props = {Num(PropId::kServerKeepAlive, 20), Num(PropId::kMaximumQos, 1)};
  EXPECT_EQ(RoundTrip(ca, GetParam()), Packet(ca));
  for (auto type :
       {PacketType::kPuback, PacketType::kPubrec, PacketType::kPubrel, PacketType::kPubcomp}) {
    Ack a{type, 77, static_cast<uint8_t>(v5 ? 0x10 : 0), {}};
    EXPECT_EQ(RoundTrip(a, GetParam()), Packet(a));
  }
  Subscribe s;
  s.packet_id = 9;
  s.subscriptions = {{"application/+/device/+/event/up", 1, false, false, 0},
                     {"$share/bysans/devices/+/up", 0, v5, v5, static_cast<uint8_t>(v5 ? 2 : 0)}};
  EXPECT_EQ(RoundTrip(s, GetParam()), Packet(s));
  Suback sa{9, {1, 0, 0x80}, {}};
  EXPECT_EQ(RoundTrip(sa, GetParam()), Packet(sa));
  Unsubscribe u{10, {"a/#", "b/+"}, {}};
  EXPECT_EQ(RoundTrip(u, GetParam()), Packet(u));
  Unsuback ua{10, v5 ? std::vector<uint8_t>{0, 0x11} : std::vector<uint8_t>{}, {}};
  EXPECT_EQ(RoundTrip(ua, GetParam()), Packet(ua));
  EXPECT_EQ(RoundTrip(Pingreq{}, GetParam()), Packet(Pingreq{}));
  EXPECT_EQ(RoundTrip(Pingresp{}, GetParam()), Packet(Pingresp{}));
  Disconnect d{static_cast<uint8_t>(v5 ? 0x8E : 0), {}};
  EXPECT_EQ(RoundTrip(d, GetParam()), Packet(d));
}

INSTANTIATE_TEST_SUITE_P(Mqtt, BothProtocols, ::testing::Values(kProtocol311, kProtocol5));

TEST(PacketEncode, KnownBytes) {
  Publish p;
  p.topic = "a/b";
  p.payload = "hi";
  p.qos = 1;
  p.packet_id = 10;
  auto bytes = Encode(p, kProtocol311);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, std::string("\x32\x09\x00\x03"
                                "a/b"
                                "\x00\x0a"
                                "hi",
                                11));
  auto ack = Encode(Ack{PacketType::kPuback, 10, 0, {}}, kProtocol5);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(*ack, std::string("\x40\x02\x00\x0a", 4));
}

TEST(PacketEncode, RejectsWhatTheWireCannotHold) {
  Publish p;
  p.topic = std::string(70000, 'a');
  EXPECT_FALSE(Encode(p, kProtocol311).ok());
  Publish q;
  q.topic = "a";
  q.qos = 1;  // no packet id
  EXPECT_FALSE(Encode(q, kProtocol311).ok());
  Connect c;
  c.password = "x";  // 3.1.1 needs a username with a password
  EXPECT_FALSE(Encode(c, kProtocol311).ok());
}

TEST(PacketDecode, LargeRemainingLengthAndSeveralPacketsPerChunk) {
  Publish p;
  p.topic = "big";
  p.payload = std::string(200000, 'x');
  auto a = Encode(p, kProtocol311);
  auto b = Encode(Pingresp{}, kProtocol311);
  ASSERT_TRUE(a.ok() && b.ok());
  StreamDecoder dec(kProtocol311, 1 << 20);
  dec.Feed(*a + *b + *b);
  int count = 0;
  while (true) {
    auto next = dec.Next();
    ASSERT_TRUE(next.ok());
    if (!*next) break;
    ++count;
  }
  EXPECT_EQ(count, 3);
}

// Each malformed input yields a clear error, and the error is sticky.
struct BadCase {
  const char* name;
  std::string bytes;
  const char* expect;  // substring of the message
};

TEST(PacketDecode, MalformedInputsGiveClearErrors) {
  const std::vector<BadCase> cases = {
      {"remaining length of 5 bytes", std::string("\x30\xff\xff\xff\xff\x01", 6),
       "malformed remaining length"},
      {"oversize", std::string("\x30\xff\xff\x7f", 4), "exceeds the maximum"},
      {"reserved type 0", std::string("\x00\x00", 2), "reserved packet type 0"},
      {"bad utf-8 topic", std::string("\x30\x05\x00\x03\xc3\x28\x41", 7), "not valid UTF-8"},
      {"topic with NUL", std::string("\x30\x04\x00\x02\x61\x00", 6), "not valid UTF-8"},
      {"truncated topic", std::string("\x30\x03\x00\x05\x61", 5), "truncated topic"},
      {"truncated packet id", std::string("\x32\x04\x00\x01\x61\x00", 6), "truncated packet id"},
      {"qos 3", std::string("\x36\x03\x00\x01\x61", 5), "QoS 3"},
      {"wildcard in topic", std::string("\x30\x03\x00\x01\x23", 5), "wildcard"},
      {"packet id 0", std::string("\x32\x05\x00\x01\x61\x00\x00", 7), "packet id 0"},
      {"puback flags", std::string("\x41\x02\x00\x01", 4), "reserved fixed-header flags"},
      {"puback trailing", std::string("\x40\x03\x00\x01\x00", 5), "trailing bytes"},
      {"pingresp body", std::string("\xd0\x01\x00", 3), "non-empty body"},
      {"connack truncated", std::string("\x20\x01\x00", 3), "truncated reason code"},
      {"suback empty", std::string("\x90\x02\x00\x01", 4), "no reason codes"},
      {"subscribe no filters", std::string("\x82\x02\x00\x01", 4), "no topic filters"},
      {"auth", std::string("\xf0\x00", 2), "AUTH"},
  };
  for (const auto& c : cases) {
    StreamDecoder dec(kProtocol311, 1000);
    dec.Feed(c.bytes);
    auto next = dec.Next();
    ASSERT_FALSE(next.ok()) << c.name;
    EXPECT_NE(next.status().message().find(c.expect), std::string::npos)
        << c.name << ": " << next.status().message();
    auto again = dec.Next();
    EXPECT_FALSE(again.ok()) << c.name << ": errors must be sticky";
  }
}

TEST(PacketDecode, V5PropertyErrorsAndUnknownProperties) {
  // PUBACK v5 with a property block claiming 5 bytes but only 1 present.
  StreamDecoder dec(kProtocol5, 1000);
  dec.Feed(std::string("\x40\x05\x00\x01\x00\x05\x01", 7));
  auto next = dec.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.status().message().find("truncated properties"), std::string::npos);

  // An unknown property id skips the rest of its (length-delimited) block safely.
  StreamDecoder dec2(kProtocol5, 1000);
  dec2.Feed(std::string("\x40\x09\x00\x01\x00\x05\x21\x00\x10\x7e\x00", 11));
  auto ok = dec2.Next();
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  ASSERT_TRUE(ok->has_value());
  const auto& ack = std::get<Ack>(**ok);
  EXPECT_EQ(FindNumber(ack.props, PropId::kReceiveMaximum), 16u);
  EXPECT_EQ(ack.props.size(), 1u);
}

TEST(TopicFilter, Matching) {
  EXPECT_TRUE(TopicMatches("sport/tennis/+", "sport/tennis/player1"));
  EXPECT_FALSE(TopicMatches("sport/tennis/+", "sport/tennis/player1/ranking"));
  EXPECT_TRUE(TopicMatches("sport/#", "sport"));
  EXPECT_TRUE(TopicMatches("sport/#", "sport/tennis/player1"));
  EXPECT_TRUE(TopicMatches("#", "a/b/c"));
  EXPECT_FALSE(TopicMatches("sport/+", "sport"));
  EXPECT_TRUE(TopicMatches("sport/+", "sport/"));
  EXPECT_TRUE(TopicMatches("+/+", "/finance"));
  EXPECT_TRUE(TopicMatches("/+", "/finance"));
  EXPECT_FALSE(TopicMatches("+", "/finance"));
  EXPECT_FALSE(TopicMatches("#", "$SYS/broker/load"));
  EXPECT_FALSE(TopicMatches("+/monitor/Clients", "$SYS/monitor/Clients"));
  EXPECT_TRUE(TopicMatches("$SYS/#", "$SYS/broker/load"));
  EXPECT_TRUE(TopicMatches("application/+/device/+/event/up",
                           "application/7/device/0102030405060708/event/up"));
  EXPECT_FALSE(TopicMatches("application/+/device/+/event/up",
                            "application/7/device/0102030405060708/event/join"));
  EXPECT_TRUE(TopicMatches("$share/bysans/devices/+/up", "devices/d1/up"));
  EXPECT_FALSE(TopicMatches("$share/bysans/devices/+/up", "devices/d1/down"));
  EXPECT_TRUE(TopicMatches("a/b", "a/b"));
  EXPECT_FALSE(TopicMatches("a/b", "a/b/c"));
  EXPECT_FALSE(TopicMatches("a/b/c", "a/b"));
}

TEST(TopicFilter, Validation) {
  EXPECT_TRUE(ValidateTopicFilter("a/+/b/#").ok());
  EXPECT_TRUE(ValidateTopicFilter("$share/g/a/#").ok());
  EXPECT_TRUE(ValidateTopicFilter("#").ok());
  EXPECT_FALSE(ValidateTopicFilter("").ok());
  EXPECT_FALSE(ValidateTopicFilter("a/#/b").ok());
  EXPECT_FALSE(ValidateTopicFilter("a/b#").ok());
  EXPECT_FALSE(ValidateTopicFilter("a+/b").ok());
  EXPECT_FALSE(ValidateTopicFilter("$share//a").ok());
  EXPECT_FALSE(ValidateTopicFilter("$share/g").ok());
  EXPECT_FALSE(ValidateTopicFilter("$share/g+/a").ok());
  EXPECT_TRUE(ValidateTopicName("devices/x/up").ok());
  EXPECT_FALSE(ValidateTopicName("devices/+/up").ok());
  EXPECT_FALSE(ValidateTopicName("").ok());
  auto shared = ParseSharedFilter("$share/grp/a/b");
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->group, "grp");
  EXPECT_EQ(shared->filter, "a/b");
  EXPECT_FALSE(ParseSharedFilter("a/b").has_value());
}

TEST(Utf8, Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("æøå €  𝄞"));
  EXPECT_FALSE(IsValidUtf8(std::string("\xc0\xaf", 2)));          // overlong
  EXPECT_FALSE(IsValidUtf8(std::string("\xed\xa0\x80", 3)));      // surrogate
  EXPECT_FALSE(IsValidUtf8(std::string("\xf4\x90\x80\x80", 4)));  // > U+10FFFF
  EXPECT_FALSE(IsValidUtf8(std::string("\xe2\x82", 2)));          // truncated
  EXPECT_FALSE(IsValidUtf8(std::string("a\0b", 3)));
}

}  // namespace
}  // namespace bysans::mqtt

// The outbound-address policy (core/outbound_policy.h): CIDR parsing, IPv4/IPv6, mapped
// addresses and the never-list that no setting opens.
#include "core/outbound_policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace bysans {
namespace {

IpAddress Ip(const char* text) {
  auto a = IpAddress::Parse(text);
  EXPECT_TRUE(a.has_value()) << text;
  return a.value_or(IpAddress{});
}

bool Allowed(const OutboundPolicy& p, const char* text) { return p.Check(Ip(text)).ok(); }

TEST(CidrTest, ParsesBlocksAndBareAddresses) {
  auto c = Cidr::Parse("10.0.0.0/8");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->Contains(Ip("10.255.1.2")));
  EXPECT_FALSE(c->Contains(Ip("11.0.0.1")));
  auto odd = Cidr::Parse(" 172.16.0.0/12 ");
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE(odd->Contains(Ip("172.31.255.255")));
  EXPECT_FALSE(odd->Contains(Ip("172.32.0.0")));
  auto one = Cidr::Parse("::1");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->prefix, 128);
  EXPECT_TRUE(one->Contains(Ip("::1")));
  EXPECT_FALSE(one->Contains(Ip("127.0.0.1")));  // families never mix
  auto v6 = Cidr::Parse("fd00::/8");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains(Ip("fd12:3456::1")));
  EXPECT_EQ(Cidr::Parse("0.0.0.0/0")->prefix, 0);
  EXPECT_TRUE(Cidr::Parse("0.0.0.0/0")->Contains(Ip("8.8.8.8")));
}

TEST(CidrTest, RefusesWhatIsNoBlock) {
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/8x",
                          "localhost", "10.0.0.0/-1", "[::1]"}) {
    EXPECT_FALSE(Cidr::Parse(bad).ok()) << bad;
  }
  EXPECT_FALSE(OutboundPolicy::Parse("127.0.0.0/8,nope").ok());
  auto empty = OutboundPolicy::Parse(" , ");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->allow().empty());
}

TEST(OutboundPolicyTest, OnlyPublicAddressesByDefault) {
  OutboundPolicy p;
  for (const char* ok :
       {"8.8.8.8", "1.1.1.1", "193.163.102.1", "2001:4860:4860::8888", "2a00:1450:4001::1"}) {
    EXPECT_TRUE(Allowed(p, ok)) << ok;
  }
  for (const char* refused : {"127.0.0.1", "127.1.2.3", "10.1.2.3", "172.16.0.1", "192.168.1.1",
                              "100.64.0.1", "192.0.2.1", "198.18.0.1", "::1", "fc00::1", "fd12::1",
                              "2001:db8::1", "fec0::1", "64:ff9b:1::1"}) {
    EXPECT_FALSE(Allowed(p, refused)) << refused;
  }
}

TEST(OutboundPolicyTest, AllowListAdmitsOtherAddresses) {
  auto p = OutboundPolicy::Parse("127.0.0.0/8, ::1/128,10.20.0.0/16");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(Allowed(*p, "127.0.0.1"));
  EXPECT_TRUE(Allowed(*p, "::1"));
  EXPECT_TRUE(Allowed(*p, "10.20.3.4"));
  EXPECT_FALSE(Allowed(*p, "10.21.0.1"));
  EXPECT_FALSE(Allowed(*p, "192.168.0.1"));
  EXPECT_TRUE(Allowed(*p, "8.8.8.8"));  // public stays allowed
}

TEST(OutboundPolicyTest, NeverListHoldsWhateverIsAllowed) {
  auto p = OutboundPolicy::Parse("0.0.0.0/0,::/0");
  ASSERT_TRUE(p.ok());
  for (const char* never :
       {"169.254.169.254", "169.254.0.1", "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250",
        "255.255.255.255", "240.0.0.1", "fe80::1", "febf::1", "ff02::1", "::", "fd00:ec2::254"}) {
    EXPECT_FALSE(Allowed(*p, never)) << never;
    EXPECT_TRUE(OutboundPolicy::IsNeverReached(Ip(never))) << never;
  }
  EXPECT_TRUE(Allowed(*p, "10.0.0.1"));
  EXPECT_TRUE(Allowed(*p, "fd00:ec2::253"));
}

TEST(OutboundPolicyTest, MappedAndNat64AddressesAreJudgedAsTheirIpv4) {
  OutboundPolicy p;
  for (const char* wrapped : {"::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1",
                              "64:ff9b::a9fe:a9fe", "::127.0.0.1", "64:ff9b::127.0.0.1"}) {
    EXPECT_FALSE(Allowed(p, wrapped)) << wrapped;
  }
  EXPECT_TRUE(Allowed(p, "::ffff:8.8.8.8"));
  EXPECT_EQ(Ip("::ffff:127.0.0.1").Unwrapped(), Ip("127.0.0.1"));
  // An IPv4 allow entry admits the mapped form; the metadata address stays refused.
  auto loop = OutboundPolicy::Parse("127.0.0.0/8,169.254.0.0/16");
  ASSERT_TRUE(loop.ok());
  EXPECT_TRUE(Allowed(*loop, "::ffff:127.0.0.1"));
  EXPECT_FALSE(Allowed(*loop, "::ffff:169.254.169.254"));
  EXPECT_FALSE(Allowed(*loop, "169.254.169.254"));
}

TEST(OutboundPolicyTest, ChecksSocketAddresses) {
  OutboundPolicy p;
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
  EXPECT_EQ(p.Check(reinterpret_cast<sockaddr*>(&v4), sizeof v4).code(), Code::kPermissionDenied);
  inet_pton(AF_INET, "8.8.4.4", &v4.sin_addr);
  EXPECT_TRUE(p.Check(reinterpret_cast<sockaddr*>(&v4), sizeof v4).ok());
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:169.254.169.254", &v6.sin6_addr);
  Status s = p.Check(reinterpret_cast<sockaddr*>(&v6), sizeof v6);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("never"), std::string::npos) << s.message();
  EXPECT_FALSE(p.Check(reinterpret_cast<sockaddr*>(&v4), 3).ok());  // truncated
  EXPECT_EQ(CouldNotConnectMessage("http://10.0.0.1:22"),
            "could not connect to http://10.0.0.1:22");
}

}  // namespace
}  // namespace bysans

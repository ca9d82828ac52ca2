// The password rule, the login throttle and trusted proxies (pure logic).
#include <gtest/gtest.h>

#include "auth/login_throttle.h"
#include "auth/password_policy.h"
#include "auth/trusted_proxies.h"

namespace bysans::auth {
namespace {

TEST(PasswordPolicyTest, LengthAndCommonPasswords) {
  EXPECT_EQ(CheckPasswordPolicy("Short-pw-1").code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckPasswordPolicy(std::string(kMaxPasswordLength + 1, 'x')).code(),
            Code::kInvalidArgument);
  for (const char* common : {"123456789012", "passwordpassword", "PasswordPassword", "password1234",
                             "QWERTYUIOP123", "1qaz2wsx3edc", "iloveyou2024"})
    EXPECT_EQ(CheckPasswordPolicy(common).code(), Code::kInvalidArgument) << common;
  EXPECT_TRUE(CheckPasswordPolicy("Sporvogn-Lilla-Kaffe-9").ok());
  EXPECT_TRUE(CheckPasswordPolicy("integration-secret-1").ok());
  // A line of the list, not a part of one.
  EXPECT_FALSE(IsCommonPassword("123456789012x"));
  EXPECT_FALSE(IsCommonPassword(""));
}

TEST(PasswordPolicyTest, TheShippedListHasOnlyLowerCaseLongEntries) {
  std::string_view list = CommonPasswordList();
  ASSERT_GT(list.size(), 1000u);
  ASSERT_EQ(list.front(), '\n');
  ASSERT_EQ(list.back(), '\n');
  size_t lines = 0;
  for (size_t i = 1; i < list.size();) {
    size_t end = list.find('\n', i);
    std::string_view entry = list.substr(i, end - i);
    EXPECT_GE(entry.size(), kMinPasswordLength) << entry;
    for (char c : entry) EXPECT_FALSE(c >= 'A' && c <= 'Z') << entry;
    ++lines;
    i = end + 1;
  }
  EXPECT_GT(lines, 2000u);
}

TEST(LoginThrottleTest, GrowingWaitCappedAndResetBySuccess) {
  LoginThrottle t({.free_failures = 2, .max_delay_ms = 10'000, .attempts_per_minute = 1000});
  TimeMs now = 0;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(t.Admit("a", "x", now), 0);
    t.Failed("a", now);
  }
  EXPECT_EQ(t.Admit("a", "x", now), 2'000);
  EXPECT_EQ(t.Admit("b", "x", now), 0);  // other accounts are not affected
  now += 2'000;
  EXPECT_EQ(t.Admit("a", "x", now), 0);
  t.Failed("a", now);
  EXPECT_EQ(t.Admit("a", "x", now), 4'000);
  // Refused attempts do not lengthen the wait.
  EXPECT_EQ(t.Admit("a", "x", now + 1'000), 3'000);
  for (int i = 0; i < 5; ++i) {
    now += 20'000;
    EXPECT_EQ(t.Admit("a", "x", now), 0);
    t.Failed("a", now);
  }
  EXPECT_EQ(t.Admit("a", "x", now), 10'000);  // capped
  now += 10'000;
  EXPECT_EQ(t.Admit("a", "x", now), 0);
  t.Succeeded("a");
  EXPECT_EQ(t.Admit("a", "x", now), 0);
}

TEST(LoginThrottleTest, PerAddressWindow) {
  LoginThrottle t({.free_failures = 5, .max_delay_ms = 1000, .attempts_per_minute = 2});
  EXPECT_EQ(t.Admit("a", "ip", 0), 0);
  EXPECT_EQ(t.Admit("b", "ip", 10), 0);
  EXPECT_EQ(t.Admit("c", "ip", 20), 59'980);  // until the first attempt leaves the window
  EXPECT_EQ(t.Admit("c", "other", 20), 0);
  EXPECT_EQ(t.Admit("c", "ip", 60'001), 0);
}

TEST(TrustedProxiesTest, ParseAndContain) {
  auto t = TrustedProxies::Parse("10.0.0.0/8, 192.0.2.7 fd00::/8");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(t->Contains("10.200.1.2"));
  EXPECT_TRUE(t->Contains("::ffff:10.0.0.1"));
  EXPECT_TRUE(t->Contains("192.0.2.7"));
  EXPECT_FALSE(t->Contains("192.0.2.8"));
  EXPECT_TRUE(t->Contains("fd12::1"));
  EXPECT_FALSE(t->Contains("fe80::1"));
  EXPECT_FALSE(t->Contains("not-an-address"));
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/x", "example.org", "::1/129", "[::1]"})
    EXPECT_FALSE(TrustedProxies::Parse(bad).ok()) << bad;
  EXPECT_TRUE(TrustedProxies::Parse("").ok());
}

TEST(TrustedProxiesTest, RightMostUntrustedForwardedAddress) {
  auto t = TrustedProxies::Parse("10.0.0.0/8").value();
  // From an untrusted peer the header is ignored.
  EXPECT_EQ(t.ClientAddress("198.51.100.1", "203.0.113.7"), "198.51.100.1");
  // From a trusted proxy: the right-most address that is not a proxy.
  EXPECT_EQ(t.ClientAddress("10.0.0.1", "1.2.3.4, 203.0.113.7, 10.0.0.2"), "203.0.113.7");
  EXPECT_EQ(t.ClientAddress("10.0.0.1", "203.0.113.7:4711"), "203.0.113.7");
  EXPECT_EQ(t.ClientAddress("10.0.0.1", "[2001:db8::1]:443"), "2001:db8::1");
  EXPECT_EQ(t.ClientAddress("10.0.0.1", ""), "10.0.0.1");
  EXPECT_EQ(t.ClientAddress("10.0.0.1", "garbage"), "10.0.0.1");
  EXPECT_EQ(TrustedProxies().ClientAddress("10.0.0.1", "203.0.113.7"), "10.0.0.1");
}

}  // namespace
}  // namespace bysans::auth

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
    t.Failed("a", "x", now);
  }
  EXPECT_EQ(t.Admit("a", "x", now), 2'000);
  EXPECT_EQ(t.Admit("b", "x", now), 0);  // other accounts are not affected
  now += 2'000;
  EXPECT_EQ(t.Admit("a", "x", now), 0);
  t.Failed("a", "x", now);
  EXPECT_EQ(t.Admit("a", "x", now), 4'000);
  // Refused attempts do not lengthen the wait.
  EXPECT_EQ(t.Admit("a", "x", now + 1'000), 3'000);
  for (int i = 0; i < 5; ++i) {
    now += 20'000;
    EXPECT_EQ(t.Admit("a", "x", now), 0);
    t.Failed("a", "x", now);
  }
  EXPECT_EQ(t.Admit("a", "x", now), 10'000);  // capped
  now += 10'000;
  EXPECT_EQ(t.Admit("a", "x", now), 0);
  t.Succeeded("a", "x", now);
  EXPECT_EQ(t.Admit("a", "x", now), 0);
}

// The owner is never kept out by someone else's wrong passwords: one guesser's failures slow only
// that guesser's address; failures spread over many addresses slow new addresses, not those the
// owner logged in from.
TEST(LoginThrottleTest, AGuesserElsewhereDoesNotKeepTheOwnerOut) {
  LoginThrottle t({.free_failures = 2, .max_delay_ms = 60'000, .attempts_per_minute = 1000});
  TimeMs now = 0;
  EXPECT_EQ(t.Admit("a", "home", now), 0);
  t.Succeeded("a", "home", now);
  // One guesser, one address: 40 failures, each as soon as it may.
  for (int i = 0; i < 40; ++i) {
    while (TimeMs wait = t.Admit("a", "guesser", now)) now += wait;
    t.Failed("a", "guesser", now);
  }
  EXPECT_GT(t.Admit("a", "guesser", now), 0);
  EXPECT_EQ(t.Admit("a", "home", now), 0);  // the owner, at home
  // The failures of every address together passed 4 × 2: a new address waits, home does not.
  EXPECT_GT(t.Admit("a", "hotel", now), 0);
  EXPECT_EQ(t.Admit("a", "home", now), 0);
  // Spread guessing: 8 addresses, one failure each, on a fresh account.
  for (int i = 0; i < 8; ++i) {
    const std::string addr = "bot" + std::to_string(i);
    EXPECT_EQ(t.Admit("b", addr, now), 0) << addr;
    t.Failed("b", addr, now);
  }
  EXPECT_EQ(t.Admit("b", "bot9", now), 2'000);  // the 9th address waits
  // A success does not reset the count of every address together.
  now += 2'000;
  EXPECT_EQ(t.Admit("b", "office", now), 0);
  t.Succeeded("b", "office", now);
  t.Failed("b", "bot9", now);
  EXPECT_GT(t.Admit("b", "bot10", now), 0);
  EXPECT_EQ(t.Admit("b", "office", now), 0);
  // A known address is forgotten after 30 days.
  now += LoginThrottle::kKnownAddressMs;
  t.Failed("a", "guesser2", now);
  for (int i = 0; i < 8; ++i) t.Failed("a", "g" + std::to_string(i), now);
  EXPECT_GT(t.Admit("a", "home", now), 0);
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

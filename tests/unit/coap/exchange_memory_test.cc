// coap/exchange_memory.h: answers remembered for EXCHANGE_LIFETIME; refusals, one device sending
// fast, and the lifetime cannot push out another device's entries; an answered exchange keeps
// the lifetime of its first request.
#include "coap/exchange_memory.h"

#include <gtest/gtest.h>

#include <string>

namespace bysans::coap {
namespace {

Answer Code(int code) {
  Answer a;
  a.code = code;
  return a;
}

std::string Key(int endpoint, int mid) {
  return "u:10.0.0." + std::to_string(endpoint) + ":5683#" + std::to_string(mid);
}

TEST(ExchangeMemory, AnswersWithinTheLifetimeFromTheFirstRequest) {
  ExchangeMemory m({.accepted = 100, .per_device = 10, .refused = 10, .lifetime_ms = 1000});
  m.Remember(Key(1, 1), 7, Answer{}, 0);  // in flight
  ASSERT_NE(m.Find(Key(1, 1), 0), nullptr);
  EXPECT_EQ(m.Find(Key(1, 1), 0)->code, 0);
  m.Remember(Key(1, 1), 7, Code(68), 400);  // answered after the commit
  EXPECT_EQ(m.Find(Key(1, 1), 1000)->code, 68);
  EXPECT_EQ(m.Find(Key(1, 1), 1001), nullptr);  // 1000 ms after the first request, not the answer
  // The same endpoint and message id after the lifetime is a new exchange.
  m.Remember(Key(1, 1), 7, Answer{}, 1500);
  EXPECT_EQ(m.Find(Key(1, 1), 1500)->code, 0);
  EXPECT_EQ(m.size(), 1u);
}

TEST(ExchangeMemory, ExpiredEntriesAreFreed) {
  ExchangeMemory m({.accepted = 100, .per_device = 100, .refused = 100, .lifetime_ms = 1000});
  for (int i = 0; i < 50; ++i) m.Remember(Key(1, i), 7, Code(68), i);
  for (int i = 0; i < 20; ++i) m.Remember(Key(2, i), 0, Code(132), i);
  EXPECT_EQ(m.size(), 70u);
  m.Remember(Key(3, 1), 8, Code(68), 2000);  // the others' lifetime is over
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m.DeviceEntries(7), 0u);
}

TEST(ExchangeMemory, RefusalsCannotPushOutADevicesEntries) {
  ExchangeMemory m({.accepted = 100, .per_device = 100, .refused = 10, .lifetime_ms = 247000});
  m.Remember(Key(1, 1), 7, Code(68), 0);
  for (int i = 0; i < 10000; ++i) m.Remember(Key(66, i), 0, Code(129), 1);  // strangers, 4.01
  ASSERT_NE(m.Find(Key(1, 1), 2), nullptr);
  EXPECT_EQ(m.Find(Key(1, 1), 2)->code, 68);
  EXPECT_EQ(m.size(), 11u);  // the device's and the 10 newest refusals
  EXPECT_NE(m.Find(Key(66, 9999), 2), nullptr);
  EXPECT_EQ(m.Find(Key(66, 0), 2), nullptr);
}

TEST(ExchangeMemory, OneDeviceSendingFastLosesOnlyItsOwnEntries) {
  ExchangeMemory m({.accepted = 1000, .per_device = 300, .refused = 10, .lifetime_ms = 247000});
  for (int d = 1; d <= 3; ++d) m.Remember(Key(d, 1), d, Code(68), 0);
  // Device 9 within its cap keeps its oldest; beyond it loses them, not the others'.
  for (int i = 0; i < 5000; ++i) m.Remember(Key(9, i % 60000), 9, Code(68), 1);
  EXPECT_EQ(m.DeviceEntries(9), 300u);
  for (int d = 1; d <= 3; ++d) EXPECT_NE(m.Find(Key(d, 1), 2), nullptr) << d;
  EXPECT_NE(m.Find(Key(9, 4999), 2), nullptr);
  EXPECT_EQ(m.Find(Key(9, 0), 2), nullptr);
}

TEST(ExchangeMemory, AtTheOverallLimitTheSenderAboveItsFairShareGivesWay) {
  // 4 devices share 100 entries: a fair share of 25 each.
  ExchangeMemory m({.accepted = 100, .per_device = 90, .refused = 10, .lifetime_ms = 247000});
  for (int i = 0; i < 10; ++i)
    for (int d = 1; d <= 3; ++d) m.Remember(Key(d, i), d, Code(68), 0);
  for (int i = 0; i < 500; ++i) m.Remember(Key(9, i), 9, Code(68), 1);
  EXPECT_EQ(m.size(), 100u);
  EXPECT_EQ(m.DeviceEntries(9), 70u);
  for (int d = 1; d <= 3; ++d) EXPECT_EQ(m.DeviceEntries(d), 10u) << d;
  // A broad load (every sender within its share) pushes out the oldest of all.
  ExchangeMemory broad({.accepted = 10, .per_device = 10, .refused = 10, .lifetime_ms = 247000});
  for (int d = 1; d <= 20; ++d) broad.Remember(Key(d, 1), d, Code(68), d);
  EXPECT_EQ(broad.size(), 10u);
  EXPECT_EQ(broad.Find(Key(1, 1), 30), nullptr);
  EXPECT_NE(broad.Find(Key(20, 1), 30), nullptr);
}

}  // namespace
}  // namespace bysans::coap

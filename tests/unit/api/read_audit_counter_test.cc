#include "api/read_audit_counter.h"

#include <gtest/gtest.h>

namespace bysans::api {
namespace {

TEST(ReadAuditCounterTest, OneEntryPerKeyAndMinuteCarryingTheFoldedReads) {
  ReadAuditCounter c(60'000);
  EXPECT_EQ(c.Admit("user:1|readings|device:5", 1'000), 0);
  for (TimeMs t = 6'000; t < 61'000; t += 5'000)  // a dashboard every 5 s
    EXPECT_EQ(c.Admit("user:1|readings|device:5", t), std::nullopt) << t;
  // Another caller or object is its own key.
  EXPECT_EQ(c.Admit("user:2|readings|device:5", 2'000), 0);
  EXPECT_EQ(c.Admit("user:1|readings|device:6", 2'000), 0);
  // After the minute: written, with the 11 reads folded since the previous entry.
  EXPECT_EQ(c.Admit("user:1|readings|device:5", 61'000), 11);
  EXPECT_EQ(c.Admit("user:1|readings|device:5", 62'000), std::nullopt);
  EXPECT_EQ(c.Admit("user:1|readings|device:5", 200'000), 1);
}

}  // namespace
}  // namespace bysans::api

// GatewayEventLimiter (mqtt/gateway_ingest.h): one organisation flooding gateway events is cut to
// its rate, the others keep theirs.
#include <gtest/gtest.h>

#include "mqtt/gateway_ingest.h"

namespace bysans::mqtt {
namespace {

int Allowed(GatewayEventLimiter& l, Id org, TimeMs at, int tries) {
  int n = 0;
  for (int i = 0; i < tries; ++i) n += l.Allow(org, at) ? 1 : 0;
  return n;
}

TEST(GatewayEventLimiterTest, AFloodIsCutToTheBurstThenTheRate) {
  GatewayEventLimiter l(20, 200);
  EXPECT_EQ(Allowed(l, 1, 1'000'000, 1000), 200);  // the burst, then nothing
  EXPECT_EQ(Allowed(l, 1, 1'000'500, 1000), 10);   // half a second at 20 a second
  EXPECT_EQ(Allowed(l, 1, 1'010'500, 1000), 200);  // refilled, never beyond the burst
}

TEST(GatewayEventLimiterTest, OrganisationsHaveTheirOwnBuckets) {
  GatewayEventLimiter l(20, 200);
  EXPECT_EQ(Allowed(l, 1, 5'000, 1000), 200);
  EXPECT_EQ(Allowed(l, 2, 5'000, 5), 5);  // org 2 is not held back by org 1's flood
  EXPECT_FALSE(l.Allow(1, 5'000));
}

TEST(GatewayEventLimiterTest, AClockGoingBackGivesNothingExtra) {
  GatewayEventLimiter l(20, 10);
  EXPECT_EQ(Allowed(l, 1, 10'000, 100), 10);
  EXPECT_EQ(Allowed(l, 1, 5'000, 100), 0);
  EXPECT_EQ(Allowed(l, 1, 10'100, 100), 2);  // 100 ms after the newest time seen
}

}  // namespace
}  // namespace bysans::mqtt

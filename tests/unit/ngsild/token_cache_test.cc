#include "ngsild/token_cache.h"

#include <gtest/gtest.h>

namespace bysans::ngsild {
namespace {

TEST(TokenCacheTest, ReusesATokenUntilShortlyBeforeItExpires) {
  ManualClock clock(1'000'000);
  TokenCache cache(clock);
  int fetches = 0;
  auto fetch = [&]() -> Result<IssuedToken> {
    return IssuedToken{"t" + std::to_string(++fetches), 100};
  };
  EXPECT_EQ(*cache.Get("k", fetch), "t1");
  clock.Advance(89'000);
  EXPECT_EQ(*cache.Get("k", fetch), "t1");
  clock.Advance(1'000);  // 90 s of 100: within the last tenth
  EXPECT_EQ(*cache.Get("k", fetch), "t2");
  EXPECT_EQ(*cache.Get("other", fetch), "t3");  // one token per target
  EXPECT_EQ(*cache.Get("k", fetch), "t2");
}

TEST(TokenCacheTest, InvalidateRenewsOnlyTheRefusedToken) {
  ManualClock clock(0);
  TokenCache cache(clock);
  int fetches = 0;
  auto fetch = [&]() -> Result<IssuedToken> {
    return IssuedToken{"t" + std::to_string(++fetches), 3600};
  };
  EXPECT_EQ(*cache.Get("k", fetch), "t1");
  cache.Invalidate("k", "t0");  // an older token: t1 stays
  EXPECT_EQ(*cache.Get("k", fetch), "t1");
  cache.Invalidate("k", "t1");
  EXPECT_EQ(*cache.Get("k", fetch), "t2");
}

TEST(TokenCacheTest, AFailedFetchIsNotCached) {
  ManualClock clock(0);
  TokenCache cache(clock);
  bool fail = true;
  auto fetch = [&]() -> Result<IssuedToken> {
    if (fail) return Unavailable("down");
    return IssuedToken{"ok", 0};
  };
  EXPECT_FALSE(cache.Get("k", fetch).ok());
  fail = false;
  EXPECT_EQ(*cache.Get("k", fetch), "ok");
  clock.Advance(53'000);  // no expires_in: one minute, renewed 6 s before
  fail = true;
  EXPECT_TRUE(cache.Get("k", fetch).ok());
  clock.Advance(1'000);
  EXPECT_FALSE(cache.Get("k", fetch).ok());
}

TEST(TokenCacheTest, ExpiredEntriesAreDroppedAsNewKeysCome) {
  ManualClock clock(0);
  TokenCache cache(clock);
  auto fetch = [&]() -> Result<IssuedToken> { return IssuedToken{"t", 60}; };
  ASSERT_TRUE(cache.Get("live",
                        [&]() -> Result<IssuedToken> {
                          return IssuedToken{"long", 3600};
                        })
                  .ok());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(cache.Get("old" + std::to_string(i), fetch).ok());
  clock.Advance(120'000);  // every "old" token expired, "live" did not
  for (size_t i = 0; i < TokenCache::kKeptKeys; ++i)
    ASSERT_TRUE(cache.Get("new" + std::to_string(i), fetch).ok());
  EXPECT_LE(cache.size(), TokenCache::kKeptKeys + 1);
  int fetched = 0;
  EXPECT_EQ(*cache.Get("live",
                       [&]() -> Result<IssuedToken> {
                         ++fetched;
                         return IssuedToken{"other", 3600};
                       }),
            "long");
  EXPECT_EQ(fetched, 0);
}

}  // namespace
}  // namespace bysans::ngsild

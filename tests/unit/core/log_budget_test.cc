// core/log_budget.h: a burst of lines, then a steady rate; held-back lines are counted and the
// count handed to the next line written; keys do not share a budget.
#include "core/log_budget.h"

#include <gtest/gtest.h>

namespace bysans {
namespace {

TEST(LogBudget, BurstThenRateAndTheHeldBackLinesAreCounted) {
  LogBudget<int> budget(1, 3);  // 3 at once, then one a second
  int64_t unlogged = -1;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(budget.Allow(7, 1000, &unlogged));
    EXPECT_EQ(unlogged, 0);
  }
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(budget.Allow(7, 1000, &unlogged));
  EXPECT_FALSE(budget.Allow(7, 1500, &unlogged));  // half a token
  ASSERT_TRUE(budget.Allow(7, 2000, &unlogged));
  EXPECT_EQ(unlogged, 11);
  EXPECT_FALSE(budget.Allow(7, 2000, &unlogged));
  ASSERT_TRUE(budget.Allow(7, 3000, &unlogged));
  EXPECT_EQ(unlogged, 1);  // the count starts again after each written line
}

TEST(LogBudget, KeysHaveTheirOwnBudgets) {
  LogBudget<int> budget(0.1, 1);
  int64_t unlogged = 0;
  ASSERT_TRUE(budget.Allow(1, 0, &unlogged));
  EXPECT_FALSE(budget.Allow(1, 0, &unlogged));
  EXPECT_TRUE(budget.Allow(2, 0, &unlogged));  // another device is not silenced by the first
  EXPECT_EQ(unlogged, 0);
  ASSERT_TRUE(budget.Allow(1, 10000, &unlogged));
  EXPECT_EQ(unlogged, 1);
}

}  // namespace
}  // namespace bysans

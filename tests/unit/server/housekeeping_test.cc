// Housekeeping (server/housekeeping.h): audit entries older than the audit retention are deleted
// from a real SQLite store; newer ones and every entry under retention 0 stay.
#include "server/housekeeping.h"

#include <gtest/gtest.h>

#include "unit/store/temp_store.h"

namespace bysans {
namespace {

constexpr TimeMs kDay = 86'400'000;

class HousekeepingTest : public testing::StoreTest {
 protected:
  void Audit(TimeMs ts, const std::string& what) {
    AuditEntry a;
    a.action = "read";
    a.object_type = "device";
    a.object_id = what;
    a.ts = ts;
    ASSERT_TRUE(store_->AppendAudit(a).ok());
  }
  std::vector<std::string> Left() {
    auto page = store_->ListAudit(std::nullopt, Page{});
    EXPECT_TRUE(page.ok());
    std::vector<std::string> out;
    for (const AuditEntry& a : page->items) out.push_back(a.object_id);
    return out;
  }
};

TEST_F(HousekeepingTest, AuditEntriesOlderThanTheRetentionAreDeleted) {
  const TimeMs t0 = clock_.NowMs();
  Audit(t0 - 30 * kDay, "old");
  Audit(t0 - 6 * kDay, "older than five days");
  Audit(t0 - 4 * kDay, "recent");
  Audit(t0, "now");
  {
    Housekeeping keep_all(*store_, clock_, {0, 3'600'000});
    ASSERT_TRUE(keep_all.RunOnce().ok());
  }
  EXPECT_EQ(Left().size(), 4u);
  Housekeeping h(*store_, clock_, {5, 3'600'000});
  ASSERT_TRUE(h.RunOnce().ok());
  EXPECT_EQ(Left(), (std::vector<std::string>{"now", "recent"}));  // newest first
  clock_.Advance(5 * kDay);
  ASSERT_TRUE(h.RunOnce().ok());
  EXPECT_EQ(Left(), (std::vector<std::string>{"now"}));
}

TEST_F(HousekeepingTest, ManyOldEntriesGoInSeveralTransactions) {
  const TimeMs t0 = clock_.NowMs();
  for (int i = 0; i < 25'000; ++i) {
    AuditEntry a;
    a.action = "read";
    a.object_type = "device";
    a.object_id = std::to_string(i);
    a.ts = t0 - 400 * kDay + i;
    ASSERT_TRUE(store_->AppendAudit(a).ok());
  }
  Audit(t0, "kept");
  auto n = store_->DeleteAuditBefore(t0 - kDay);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 25'000);
  EXPECT_EQ(Left(), (std::vector<std::string>{"kept"}));
  EXPECT_EQ(*store_->DeleteAuditBefore(t0 - kDay), 0);
}

}  // namespace
}  // namespace bysans

// Housekeeping (server/housekeeping.h): audit entries older than the audit retention are deleted
// from a real SQLite store; newer ones and every entry under retention 0 stay.
#include "server/housekeeping.h"

#include <gtest/gtest.h>

#include "core/metrics.h"
#include "store/store.h"
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

// Retention per application: the application with a readings and raw retention loses its old
// readings and messages (its newest reading kept); the one without keeps everything.
TEST_F(HousekeepingTest, EachApplicationsRetentionIsEnforced) {
  auto org = store_->CreateOrganization({0, "Kommune", 0});
  ASSERT_TRUE(org.ok());
  Application short_lived{0, org->id, "short", "", 0};
  short_lived.retention.readings_days = 3;
  short_lived.retention.raw_messages_days = 2;
  auto a = store_->CreateApplication(short_lived);
  auto b = store_->CreateApplication({0, org->id, "forever", "", 0});
  ASSERT_TRUE(a.ok() && b.ok());
  Id dev[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    Device d;
    d.app_id = i == 0 ? a->id : b->id;
    d.name = "d" + std::to_string(i);
    auto r = store_->CreateDevice(d, "");
    ASSERT_TRUE(r.ok());
    dev[i] = r->id;
  }
  const TimeMs now = clock_.NowMs();
  for (int day = 10; day >= 0; --day) {
    IngestBatch batch;
    for (Id d : dev) {
      batch.readings.push_back(Reading{d, "t", now - day * kDay, Value(1.0 * day), "", {}});
      batch.messages.push_back(
          testing::JsonMessage(d, now - day * kDay, "{\"t\":" + std::to_string(day) + "}"));
    }
    ASSERT_TRUE(store_->Append(std::move(batch)).ok());
  }
  store_->Close();  // sealed
  store_.reset();
  Open();
  Metrics metrics;
  Housekeeping h(*store_, clock_, {0, 3'600'000}, &metrics);
  ASSERT_TRUE(h.RunOnce().ok());
  auto count = [&](Id d) {
    ReadingQuery q;
    q.device_id = d;
    auto r = store_->QueryReadings(q);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->size() : 0;
  };
  auto messages = [&](Id d) {
    MessageQuery q;
    q.device_id = d;
    auto r = store_->QueryMessages(q);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->size() : 0;
  };
  // Retention is a maximum in whole days (model/retention.h RetentionCutoffsAt): data goes on
  // the UTC day it turns 3 days old, so the reading of 3 days ago goes and days 2, 1, 0 stay;
  // the messages of days 1 and 0.
  EXPECT_EQ(count(dev[0]), 3u);
  EXPECT_EQ(messages(dev[0]), 2u);
  EXPECT_EQ(count(dev[1]), 11u);
  EXPECT_EQ(messages(dev[1]), 11u);
  EXPECT_NE(metrics.Serialize().find("bysans_retention_removed_total{kind=\"readings\"} 8"),
            std::string::npos)
      << metrics.Serialize();
}

class HousekeepingRawTest : public HousekeepingTest {
 protected:
  void SetUp() override {
    message_index_batch_ = 8;  // index batches written as the messages arrive
    HousekeepingTest::SetUp();
  }
  Id NewDevice(Id app, const std::string& name) {
    Device d;
    d.app_id = app;
    d.name = name;
    auto r = store_->CreateDevice(d, "");
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->id : 0;
  }
  size_t Messages(Id d) {
    MessageQuery q;
    q.device_id = d;
    auto r = store_->QueryMessages(q);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->size() : 0;
  }
};

// Applications with the same raw-message retention get one raw pass: a row holding only their
// devices' expired messages goes without being read (store/sqlite/README.md "Retention"), which
// per-application passes cannot do (each sees the other's messages in the row); a device of an
// application keeping messages longer keeps them in the rows it shares.
TEST_F(HousekeepingRawTest, ApplicationsSharingARawRetentionShareOnePass) {
  auto org = store_->CreateOrganization({0, "Kommune", 0});
  ASSERT_TRUE(org.ok());
  Id dev[3] = {0, 0, 0};
  const int raw_days[3] = {2, 2, 30};
  for (int i = 0; i < 3; ++i) {
    Application app{0, org->id, "app" + std::to_string(i), "", 0};
    app.retention.raw_messages_days = raw_days[i];
    auto a = store_->CreateApplication(app);
    ASSERT_TRUE(a.ok());
    dev[i] = NewDevice(a->id, "d" + std::to_string(i));
  }
  const TimeMs now = clock_.NowMs();
  for (int day = 10; day >= 0; --day) {
    // A commit of the two short-lived applications' devices, then one with all three.
    for (int with_long : {0, 1}) {
      IngestBatch batch;
      for (int i = 0; i < 2 + with_long; ++i) {
        batch.messages.push_back(
            testing::JsonMessage(dev[i], now - day * kDay + with_long, "{\"t\":1}"));
      }
      ASSERT_TRUE(store_->Append(std::move(batch)).ok());
    }
  }
  Metrics metrics;
  Housekeeping h(*store_, clock_, {0, 3'600'000}, &metrics);
  ASSERT_TRUE(h.RunOnce().ok());
  // Days 1 and 0 (two messages each) stay for the 2-day applications; every message of the
  // 30-day one stays.
  EXPECT_EQ(Messages(dev[0]), 4u);
  EXPECT_EQ(Messages(dev[1]), 4u);
  EXPECT_EQ(Messages(dev[2]), 11u);
  // The nine expired rows of devices 0 and 1 only (days 10..2) went unread; the rows shared
  // with device 2 were read and rewritten.
  const std::string m = metrics.Serialize();
  EXPECT_NE(m.find("bysans_retention_removed_total{kind=\"raw_rows_unread\"} 9"), std::string::npos)
      << m;
  EXPECT_NE(m.find("bysans_retention_removed_total{kind=\"raw_messages\"} 36"), std::string::npos)
      << m;
}

}  // namespace
}  // namespace bysans

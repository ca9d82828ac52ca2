// The share log (store/target_store.h): written by the group commit with the message, read by
// position, cursors, pruning, dead letters and sealed headers.
#include <gtest/gtest.h>

#include "store/sqlite/db.h"
#include "store/target_store.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::StoreTest;

class ShareLogTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    auto org = store_->CreateOrganization(Organization{0, "Kommune", 1});
    ASSERT_TRUE(org.ok());
    auto app = store_->CreateApplication(Application{0, org->id, "Indeklima", "", 1});
    ASSERT_TRUE(app.ok());
    org_ = org->id;
    app_ = app->id;
  }

  // One message of device `dev` with reading n = seq, shared when `share`.
  void Commit(Id dev, int seq, bool share = true, std::string dedup = {}) {
    IngestBatch b;
    RawMessage m;
    m.device_id = dev;
    m.received_ms = 1000 + seq;
    m.payload = "{}";
    m.dedup_key = std::move(dedup);
    b.messages.push_back(m);
    b.readings.push_back(Reading{dev, "n", 1000 + seq, static_cast<double>(seq), "", Quality::kOk});
    if (share) b.share_app_id = app_;
    b.share_decoded = R"({"n":)" + std::to_string(seq) + "}";
    ASSERT_TRUE(store_->Append(std::move(b)).ok());
  }

  DataTarget NewTarget() {
    DataTarget t;
    t.org_id = org_;
    t.app_id = app_;
    t.name = "t";
    t.url = "https://example.com/";
    auto r = store_->targets().CreateTarget(t, {{"Authorization", "Bearer x"}}, std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return *r;
  }

  Id org_ = 0, app_ = 0;
};

TEST_F(ShareLogTest, RecordsAreReadInCommitOrderAfterAPosition) {
  TargetStore& ts = store_->targets();
  DataTarget t = NewTarget();
  for (int i = 0; i < 5; ++i) Commit(1 + i % 2, i);
  Commit(3, 99, false);  // an application without targets: not in the log
  auto all = ts.ReadShareLog(app_, t.cursor, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const ShareRecord& r = (*all)[i];
    EXPECT_EQ(r.device_id, static_cast<Id>(1 + i % 2));
    EXPECT_EQ(r.decoded_json, R"({"n":)" + std::to_string(i) + "}");
    ASSERT_EQ(r.readings.size(), 1u);
    EXPECT_EQ(std::get<double>(r.readings[0].value), static_cast<double>(i));
    EXPECT_GT(r.message_id, 0);
    if (i > 0) {
      EXPECT_GT(r.position, (*all)[i - 1].position);
    }
  }
  auto rest = ts.ReadShareLog(app_, (*all)[2].position, 100);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ(rest->front().position, (*all)[3].position);
  auto backlog = ts.ShareBacklogAfter(app_, (*all)[1].position);
  ASSERT_TRUE(backlog.ok());
  EXPECT_EQ(backlog->records, 3);
  EXPECT_EQ(backlog->oldest_received_ms, 1002);
  // Pruned up to a position: what follows stays readable.
  ASSERT_TRUE(ts.PruneShareLog(app_, (*all)[2].position).ok());
  rest = ts.ReadShareLog(app_, 0, 100);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ(rest->front().position, (*all)[3].position);
}

TEST_F(ShareLogTest, DuplicatesAreNotSharedTwice) {
  DataTarget t = NewTarget();
  Commit(1, 0, true, "same-key");
  Commit(1, 0, true, "same-key");
  auto all = store_->targets().ReadShareLog(app_, t.cursor, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST_F(ShareLogTest, CursorAndLogSurviveAReopen) {
  DataTarget t = NewTarget();
  for (int i = 0; i < 3; ++i) Commit(1, i);
  auto all = store_->targets().ReadShareLog(app_, t.cursor, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_TRUE(store_->targets().SetCursor(t.id, (*all)[0].position).ok());
  Reopen();
  auto again = store_->targets().GetTarget(t.id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->cursor, (*all)[0].position);
  auto rest = store_->targets().ReadShareLog(app_, again->cursor, 100);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->size(), 2u);
  // A new target starts at the end of the log.
  EXPECT_EQ(NewTarget().cursor, (*all)[2].position);
}

TEST_F(ShareLogTest, HeadersAreSealedAndDeadLettersReplay) {
  TargetStore& ts = store_->targets();
  DataTarget t = NewTarget();
  EXPECT_EQ(t.header_names, std::vector<std::string>{"Authorization"});
  auto headers = ts.TargetHeaders(t.id);
  ASSERT_TRUE(headers.ok());
  EXPECT_EQ(headers->at("Authorization"), "Bearer x");
  Commit(1, 0);
  auto all = ts.ReadShareLog(app_, t.cursor, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_TRUE(ts.AddDeadLetter(t.id, all->front(), "HTTP 500", 3, 5000).ok());
  auto letters = ts.ListDeadLetters(t.id, Page{});
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->total, 1);
  EXPECT_EQ(letters->items[0].record.decoded_json, R"({"n":0})");
  EXPECT_EQ(letters->items[0].record.position, all->front().position);
  EXPECT_EQ(*ts.ReplayDeadLetters(t.id), 1);
  auto queue = ts.ReplayQueue(t.id, 10);
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(queue->size(), 1u);
  ASSERT_TRUE(ts.DeleteDeadLetters({queue->front().id}).ok());
  EXPECT_EQ(ts.ListDeadLetters(t.id, Page{})->total, 0);
}

// A store that recorded migration 16 while it was only reserved on main (no data-target tables)
// gets them from migration 18 (and the later ones after it: such a store had none of them).
TEST_F(ShareLogTest, StoreThatRecordedTheReservedMigrationGetsTheTables) {
  store_->Close();
  store_.reset();
  {
    auto db = sqlite::Db::Open(dir_.path() + "/bysans.db", 1024);
    ASSERT_TRUE(db.ok());
    Status s = (*db)->Exec(R"sql(
DROP TABLE target_deliveries; DROP TABLE target_dead_letters; DROP TABLE data_targets;
DROP TABLE share_log; DELETE FROM schema_version WHERE version >= 18;
)sql");
    ASSERT_TRUE(s.ok()) << s.message();
  }
  Open();
  DataTarget t = NewTarget();
  Commit(1, 0);
  auto all = store_->targets().ReadShareLog(app_, t.cursor, 10);
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->size(), 1u);
}

}  // namespace
}  // namespace bysans

// What only the PostgreSQL TargetStore and share log can get wrong: several nodes' series writers
// appending to one application's log at once, positions after pruning, secrets at rest, the
// exact delivery-log trim and concurrent cursor moves.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "unit/store_postgres/target_backend_fixture.h"

namespace bysans::testing {
namespace {

class TargetsPostgresTest : public TargetBackendTest {};
INSTANTIATE_TEST_SUITE_P(Postgres, TargetsPostgresTest, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

// Two nodes (two PostgresSeriesStores, each with its own writer and connection) commit to one
// application's log at once while a reader follows it as a delivery worker does. Positions are
// dense (1, 2, 3, ...) on PostgreSQL, so every read must continue exactly at cursor + 1: a record
// n + 1 visible before n (a sequence or max()+1 taken before the commit) shows as a gap, and a
// worker would have skipped n for good.
TEST_P(TargetsPostgresTest, TwoWritersCommitInPositionOrderAndAReaderNeverSeesAGap) {
  PostgresStoreOptions o;
  o.url = url_;
  o.clock = &clock_;
  auto second = PostgresSeriesStore::Open(o);
  ASSERT_TRUE(second.ok()) << second.status().message();
  auto other_app = meta().CreateApplication(Application{0, org_, "Affald", "", 1});
  ASSERT_TRUE(other_app.ok());

  constexpr int kPerThread = 150;
  // Threads 0, 1 on this node's writer, 2, 3 on the second node's; device = thread + 1.
  SeriesStore* writers[] = {&series(), &series(), second->get(), second->get()};
  std::atomic<bool> failed{false};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 4; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kPerThread && !failed; ++i) {
        IngestBatch b;
        RawMessage m;
        m.device_id = th + 1;
        m.received_ms = i;
        m.payload = "{}";
        b.messages.push_back(m);
        b.readings.push_back(
            Reading{m.device_id, "n", i, static_cast<double>(i), "", Quality::kOk});
        // Every fifth batch goes to the other application: interleaved head rows.
        b.share_app_id = i % 5 == 4 ? other_app->id : app_;
        b.share_decoded = "{}";
        if (!writers[th]->Append(std::move(b)).ok()) failed = true;
      }
      ++done;
    });
  }
  const int kMine = 4 * (kPerThread - kPerThread / 5);
  int64_t cursor = 0;
  std::vector<ShareRecord> seen;
  std::string gap;
  while (gap.empty() && static_cast<int>(seen.size()) < kMine) {
    const bool finished = done == 4;
    auto batch = ts().ReadShareLog(app_, cursor, 7);
    ASSERT_TRUE(batch.ok()) << batch.status().message();
    for (ShareRecord& r : *batch) {
      if (r.position != cursor + 1) {
        gap = "after " + std::to_string(cursor) + " came " + std::to_string(r.position);
        break;
      }
      cursor = r.position;
      seen.push_back(std::move(r));
    }
    if (finished && batch->empty()) break;
  }
  for (auto& t : threads) t.join();
  (*second)->Close();
  ASSERT_FALSE(failed);
  EXPECT_EQ(gap, "");
  ASSERT_EQ(static_cast<int>(seen.size()), kMine);
  EXPECT_TRUE(ts().ReadShareLog(app_, cursor, 10)->empty());
  EXPECT_EQ(*ts().ShareLogEnd(app_), kMine);
  // Each thread's commits (one after the other) got increasing positions; message ids are unique.
  std::map<Id, TimeMs> last_of_device;
  std::set<Id> message_ids;
  for (const ShareRecord& r : seen) {
    auto [it, fresh] = last_of_device.emplace(r.device_id, r.received_ms);
    if (!fresh) {
      EXPECT_GT(r.received_ms, it->second) << "device " << r.device_id;
      it->second = r.received_ms;
    }
    EXPECT_TRUE(message_ids.insert(r.message_id).second);
  }
  auto theirs = Log(0, other_app->id);
  ASSERT_EQ(static_cast<int>(theirs.size()), 4 * (kPerThread / 5));
  for (size_t i = 0; i < theirs.size(); ++i) EXPECT_EQ(theirs[i].position, int64_t(i) + 1);
}

TEST_P(TargetsPostgresTest, PositionsAreNotReusedAfterTheLogIsPruned) {
  for (int i = 0; i < 3; ++i) Commit(1, i);
  ASSERT_EQ(*ts().ShareLogEnd(app_), 3);
  ASSERT_TRUE(ts().PruneShareLog(app_, 3).ok());
  EXPECT_TRUE(Log().empty());
  EXPECT_EQ(*ts().ShareLogEnd(app_), 3) << "the end stays where it was";
  EXPECT_EQ(NewTarget().cursor, 3);
  Reopen();
  Commit(1, 3);
  auto log = Log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].position, 4);
}

TEST_P(TargetsPostgresTest, HeaderValuesAndPasswordAreSealedAtRest) {
  DataTarget t = NewTarget({{"Authorization", "Bearer hemmelig-token"}}, "mqtt-kodeord");
  auto* pg = SharedPostgres::Get();
  const std::string headers =
      *pg->Query(Database(), "SELECT headers_sealed::text FROM data_targets WHERE id = " +
                                 std::to_string(t.id));
  const std::string password = *pg->Query(
      Database(), "SELECT password_sealed FROM data_targets WHERE id = " + std::to_string(t.id));
  EXPECT_NE(headers.find("Authorization"), std::string::npos) << "names stay readable";
  EXPECT_EQ(headers.find("hemmelig-token"), std::string::npos);
  EXPECT_FALSE(password.empty());
  EXPECT_EQ(password.find("mqtt-kodeord"), std::string::npos);
  // Another key cannot open them: kInternal, not a wrong value.
  auto other_box = SecretBox::Open("");
  ASSERT_TRUE(other_box.ok());
  auto other = OpenPostgresTargetStore(url_, **other_box);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)->TargetHeaders(t.id).status().code(), Code::kInternal);
  EXPECT_EQ((*other)->TargetPassword(t.id).status().code(), Code::kInternal);
}

TEST_P(TargetsPostgresTest, TheDeliveryLogKeepsExactlyTheNewest) {
  DataTarget t = NewTarget();
  for (int i = 0; i < 30; ++i) {
    TargetDelivery d;
    d.target_id = t.id;
    d.ts = i;
    d.ok = true;
    ASSERT_TRUE(ts().AppendDelivery(d, 8).ok());
  }
  auto page = ts().ListDeliveries(t.id, Page{100, 0});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 8);
  ASSERT_EQ(page->items.size(), 8u);
  EXPECT_EQ(page->items.front().ts, 29);
  EXPECT_EQ(page->items.back().ts, 22);
}

TEST_P(TargetsPostgresTest, ConcurrentCursorMovesKeepTheHighest) {
  DataTarget t = NewTarget();
  auto second = OpenPostgresTargetStore(url_, *box_);  // another node's store
  ASSERT_TRUE(second.ok());
  TargetStore* stores[] = {&ts(), second->get()};
  std::vector<std::thread> threads;
  for (int th = 0; th < 2; ++th)
    threads.emplace_back([&, th] {
      // One moves it up 1..200, the other "down" 200..1: only the highest may stay.
      for (int64_t i = 1; i <= 200; ++i)
        EXPECT_TRUE(stores[th]->SetCursor(t.id, th == 0 ? i : 201 - i).ok());
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(ts().GetTarget(t.id)->cursor, 200);
}

TEST_P(TargetsPostgresTest, ATargetOfAnUnknownApplicationIsNotFound) {
  DataTarget t;
  t.org_id = org_;
  t.app_id = app_ + 1000;
  t.name = "t";
  t.url = "https://example.com/";
  EXPECT_EQ(ts().CreateTarget(t, {}, std::nullopt).status().code(), Code::kNotFound);
  EXPECT_EQ(ts().AddDeadLetter(12345, ShareRecord{}, "x", 1, 1).code(), Code::kNotFound);
}

}  // namespace
}  // namespace bysans::testing

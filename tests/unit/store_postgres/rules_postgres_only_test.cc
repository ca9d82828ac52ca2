// PostgreSQL only: what two connections (two nodes) can get wrong in the DecoderStore and the
// RuleStore, and the error codes of their constraints.
#include <algorithm>
#include <barrier>
#include <set>
#include <thread>
#include <vector>

#include "unit/store_postgres/rules_backend_fixture.h"

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

namespace bysans::testing {
namespace {

using Kind = RuleStoreChange::Kind;

class PostgresRulesTest : public RulesBackendTest {};

// Two updates of one decoder at once, each with new code: without the row lock both would read
// version 1 and both insert version 2 (a unique clash for one of them).
TEST_P(PostgresRulesTest, ConcurrentDecoderUpdatesEachGetTheirOwnVersion) {
  const Id org = NewOrg();
  StoredDecoder d;
  d.org_id = org;
  d.name = "d";
  d.code = "v1";
  auto made = decoders().CreateDecoder(d, 0, kT0);
  ASSERT_TRUE(made.ok()) << made.status().message();
  constexpr int kThreads = 4, kRounds = 10;
  // Separate stores on separate pools: separate connections, as two nodes would have.
  std::vector<std::unique_ptr<pg::Pool>> pools;
  std::vector<std::unique_ptr<DecoderStore>> stores;
  for (int i = 0; i < kThreads; ++i) {
    pools.push_back(std::make_unique<pg::Pool>(url_, 1));
    stores.push_back(NewPostgresDecoderStore(*pools.back()));
  }
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  std::vector<Status> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int r = 0; r < kRounds; ++r) {
        StoredDecoder u = *made;
        u.code = "t" + std::to_string(t) + "r" + std::to_string(r);
        auto s = stores[static_cast<size_t>(t)]->UpdateDecoder(u, t, kT0 + r);
        if (!s.ok()) failures[static_cast<size_t>(t)] = s.status();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const Status& s : failures) EXPECT_TRUE(s.ok()) << s.message();
  auto versions = decoders().ListVersions(made->id);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->size(), static_cast<size_t>(1 + kThreads * kRounds));
  auto now = decoders().GetDecoder(made->id);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->version, 1 + kThreads * kRounds);
  EXPECT_EQ(now->code, versions->at(0).code);
}

TEST_P(PostgresRulesTest, AttachingWhatDoesNotExistIsNotFound) {
  const Id org = NewOrg();
  const Id app = NewApp(org), dev = NewDevice(org, app);
  StoredDecoder d;
  d.org_id = org;
  d.name = "d";
  auto made = decoders().CreateDecoder(d, 0, kT0);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(decoders().SetApplicationDecoder(app, made->id + 1).code(), Code::kNotFound);
  EXPECT_EQ(decoders().SetDeviceDecoder(dev + 1, made->id).code(), Code::kNotFound);
  EXPECT_EQ(decoders().CreateDecoder(d, 0, kT0).ok(), true);
  d.org_id = org + 1;
  EXPECT_EQ(decoders().CreateDecoder(d, 0, kT0).status().code(), Code::kNotFound);
  // A deleted application or device takes its attachment with it (foreign keys).
  ASSERT_TRUE(decoders().SetApplicationDecoder(app, made->id).ok());
  ASSERT_TRUE(decoders().SetDeviceDecoder(dev, made->id).ok());
  Query("DELETE FROM devices WHERE id = " + std::to_string(dev));
  EXPECT_TRUE(decoders().ListAttachments()->by_device.empty());
  EXPECT_EQ(decoders().ListAttachments()->by_app.size(), 1u);
  Query("DELETE FROM organizations WHERE id = " + std::to_string(org));
  EXPECT_TRUE(decoders().ListAttachments()->by_app.empty());
  EXPECT_EQ(decoders().GetDecoder(made->id).status().code(), Code::kNotFound);
}

// Outbox rows of `n` alarms' actions, all pending and due at kT0.
std::vector<Id> PendingRows(RuleStore& rules, Id org, int n) {
  std::vector<Id> ids;
  for (int i = 0; i < n; ++i) {
    std::vector<OutboxEntry> box(1);
    box[0].org_id = org;
    box[0].event = "raise";
    box[0].target_key = "https://hooks.example:443";
    box[0].spec = "{}";
    box[0].next_attempt_ms = kT0;
    auto a = rules.CreateAlarm({0, org, 1, 1, "active", kT0, "{}"}, &box);
    EXPECT_TRUE(a.ok()) << a.status().message();
    if (a.ok()) ids.push_back(box[0].id);
  }
  return ids;
}

// Two senders (separate connections, as two nodes) claiming from one outbox at once never get
// the same row, and between them get every due row.
TEST_P(PostgresRulesTest, TwoSendersNeverClaimTheSameOutboxRow) {
  const Id org = NewOrg();
  const std::vector<Id> rows = PendingRows(rules(), org, 300);
  ASSERT_EQ(rows.size(), 300u);
  constexpr int kSenders = 2;
  std::vector<std::unique_ptr<pg::Pool>> pools;
  std::vector<std::unique_ptr<PostgresRuleStore>> stores;
  for (int i = 0; i < kSenders; ++i) {
    pools.push_back(std::make_unique<pg::Pool>(url_, 1));
    stores.push_back(NewPostgresRuleStore(*pools.back()));
  }
  std::vector<std::vector<Id>> got(kSenders);
  std::vector<Status> failures(kSenders);
  std::barrier start(kSenders);
  // Each sender's first claim is made while the other's first claim holds its rows, whatever the
  // scheduling (on a busy machine one thread could otherwise claim everything alone).
  std::barrier after_first(kSenders);
  std::vector<std::thread> threads;
  for (int t = 0; t < kSenders; ++t) {
    threads.emplace_back([&, t] {
      const size_t i = static_cast<size_t>(t);
      start.arrive_and_wait();
      bool first = true;
      for (;;) {
        auto claimed = stores[i]->ClaimDueOutbox(7, kT0, 60'000);
        if (!claimed.ok()) {
          failures[i] = claimed.status();
          if (first) after_first.arrive_and_drop();
          return;
        }
        for (const OutboxEntry& e : *claimed) got[i].push_back(e.id);
        if (first) {
          first = false;
          after_first.arrive_and_wait();
        }
        if (claimed->empty()) return;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const Status& s : failures) EXPECT_TRUE(s.ok()) << s.message();
  std::multiset<Id> all(got[0].begin(), got[0].end());
  all.insert(got[1].begin(), got[1].end());
  EXPECT_EQ(all.size(), rows.size());
  EXPECT_EQ(std::set<Id>(all.begin(), all.end()), std::set<Id>(rows.begin(), rows.end()));
  // Both took part (each claimed while the other held some rows).
  EXPECT_FALSE(got[0].empty());
  EXPECT_FALSE(got[1].empty());
}

// A batch that fails on something other than a vanished alarm writes nothing and is handed back
// as it was given (here: an alarm of an organisation that does not exist, a foreign key).
TEST_P(PostgresRulesTest, AFailedAlarmBatchWritesNothingAndCanBeWrittenAgain) {
  const Id org = NewOrg();
  std::vector<Kind> told;
  rules().AddListener([&](const RuleStoreChange& c) { told.push_back(c.kind); });
  std::vector<RuleStore::AlarmWrite> writes(2);
  writes[0].alarm = {0, org, 1, 2, "active", kT0, "{}"};
  writes[0].outbox.resize(1);
  writes[0].outbox[0].org_id = org;
  writes[1].alarm = {0, org + 1, 1, 3, "active", kT0, "{}"};
  Status s = rules().WriteAlarms(writes);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(writes[0].alarm.id, 0);
  EXPECT_EQ(writes[0].outbox[0].id, 0);
  EXPECT_EQ(writes[0].outbox[0].alarm_id, 0);
  EXPECT_TRUE(writes[0].status.ok());
  EXPECT_EQ(Query("SELECT count(*) FROM alarms"), "0");
  EXPECT_EQ(Query("SELECT count(*) FROM outbox"), "0");
  EXPECT_TRUE(told.empty());
  writes[1].alarm.org_id = org;
  ASSERT_TRUE(rules().WriteAlarms(writes).ok());
  EXPECT_GT(writes[0].alarm.id, 0);
  EXPECT_EQ(Query("SELECT count(*) FROM outbox"), "1");
  EXPECT_EQ(told.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, PostgresRulesTest, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace bysans::testing

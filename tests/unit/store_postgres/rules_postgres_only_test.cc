// PostgreSQL only: what two connections (two nodes) can get wrong in the DecoderStore and the
// RuleStore, and the error codes of their constraints.
#include <barrier>
#include <thread>
#include <vector>

#include "unit/store_postgres/rules_backend_fixture.h"

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

namespace bysans::testing {
namespace {

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

INSTANTIATE_TEST_SUITE_P(Backends, PostgresRulesTest, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace bysans::testing

// MetaStore tests that only PostgreSQL can fail: several connections racing on one unique value or
// one row (what SQLite's single writer serialises), the stored codes and error messages.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "unit/store_postgres/meta_backend_fixture.h"

namespace bysans {
namespace {

class MetaPostgresTest : public testing::MetaBackendTest {};
INSTANTIATE_TEST_SUITE_P(Postgres, MetaPostgresTest, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

// Runs f(i) on n threads started at one moment.
template <typename F>
void AtOnce(int n, F f) {
  std::barrier start(n);
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      f(i);
    });
  for (auto& t : threads) t.join();
}

TEST_P(MetaPostgresTest, OneOfTwoUsersWithTheSameEmailInAnyCaseAtOnce) {
  for (int round = 0; round < 5; ++round) {
    const std::string email = "race" + std::to_string(round) + "@x.dk";
    Code codes[2];
    AtOnce(2, [&](int i) {
      User u;
      u.email = i == 0 ? email : "RACE" + std::to_string(round) + "@X.DK";
      codes[i] = store_->CreateUser(u).status().code();
    });
    EXPECT_EQ(std::multiset<Code>({codes[0], codes[1]}),
              std::multiset<Code>({Code::kOk, Code::kAlreadyExists}));
  }
  EXPECT_EQ(store_->ListUsers({})->total, 5);
}

TEST_P(MetaPostgresTest, AnInvitationAcceptedTwiceAtOnceMakesOneMembership) {
  auto org = Org("o");
  for (int round = 0; round < 5; ++round) {
    auto u = MakeUser("u" + std::to_string(round) + "@x.dk");
    auto inv = store_->PutInvitation({0, org.id, u.email, Role::kEditor, 0, 10, 1000});
    ASSERT_TRUE(inv.ok()) << inv.status().message();
    Code codes[2];
    AtOnce(2, [&](int i) { codes[i] = store_->AcceptInvitation(inv->id, u.id).code(); });
    EXPECT_EQ(std::multiset<Code>({codes[0], codes[1]}),
              std::multiset<Code>({Code::kOk, Code::kNotFound}));
    EXPECT_EQ(store_->GetMembership(u.id, org.id)->role, Role::kEditor);
  }
  EXPECT_TRUE(store_->ListInvitationsOfOrganization(org.id)->empty());
}

TEST_P(MetaPostgresTest, InvitingOneAddressAtOnceKeepsOneInvitation) {
  auto org = Org("o");
  auto a1 = App(org.id, "a1"), a2 = App(org.id, "a2");
  Id ids[4];
  AtOnce(4, [&](int i) {
    Invitation inv{0, org.id, i % 2 ? "Pia@x.dk" : "pia@X.dk", Role::kViewer, 0, 10, 1000};
    inv.app_scoped = true;
    inv.app_ids = {i % 2 ? a1.id : a2.id};
    auto r = store_->PutInvitation(inv);
    EXPECT_TRUE(r.ok()) << r.status().message();
    ids[i] = r.ok() ? r->id : 0;
  });
  for (Id id : ids) EXPECT_EQ(id, ids[0]);
  auto all = store_->ListInvitationsOfOrganization(org.id);
  ASSERT_EQ(all->size(), 1u);
  ASSERT_EQ(all->at(0).app_ids.size(), 1u);  // one invitation's applications, not a mix
}

// Concurrent location changes of one device: each is one entry, in a strict time order (the
// device's row lock orders the writers' reads of the newest entry).
TEST_P(MetaPostgresTest, ConcurrentLocationChangesOfOneDeviceAreEachOneEntry) {
  auto app = App(Org("o").id, "a");
  Device d = Dev(app.id, "d");
  constexpr int kThreads = 6, kEach = 10;
  std::atomic<int> failed{0};
  AtOnce(kThreads, [&](int i) {
    Device mine = d;
    for (int k = 0; k < kEach; ++k) {
      mine.location = Location{static_cast<double>(i), static_cast<double>(k + 1)};
      if (!store_->UpdateDevice(mine).ok()) ++failed;
    }
  });
  EXPECT_EQ(failed.load(), 0);
  auto h = store_->ListDeviceLocations({d.id});
  ASSERT_TRUE(h.ok());
  // Another thread's update in between may repeat nothing: each update changed the location
  // unless the one before it (in commit order) set the same one, which no two threads do.
  EXPECT_EQ(h->size(), static_cast<size_t>(kThreads * kEach));
  for (size_t i = 1; i < h->size(); ++i) EXPECT_LT((*h)[i - 1].time, (*h)[i].time) << i;
}

TEST_P(MetaPostgresTest, RolesAreStoredAsTheirCodes) {
  auto org = Org("o");
  const std::vector<std::pair<Role, int>> codes = {
      {Role::kViewer, 1}, {Role::kEditor, 2}, {Role::kAdmin, 3}, {Role::kOperator, 4}};
  for (const auto& [role, code] : codes) {
    auto u = MakeUser(std::string(RoleName(role)) + "@x.dk");
    ASSERT_TRUE(store_->PutMembership({u.id, org.id, role}).ok());
    EXPECT_EQ(
        *testing::SharedPostgres::Get()->Query(
            Database(), "SELECT role FROM memberships WHERE user_id = " + std::to_string(u.id)),
        std::to_string(code));
  }
  // An unknown code (a newer server's role) reads as the least role.
  auto u = store_->FindUserByEmail("editor@x.dk");
  ASSERT_TRUE(testing::SharedPostgres::Get()
                  ->Query(Database(), "UPDATE memberships SET role = 9 WHERE user_id = " +
                                          std::to_string(u->id))
                  .ok());
  EXPECT_EQ(store_->GetMembership(u->id, org.id)->role, Role::kViewer);
}

// Errors from constraints: the code a caller acts on and a sentence that names neither SQL nor
// the other object's organisation.
TEST_P(MetaPostgresTest, ConstraintErrorsAreNeutral) {
  auto a = App(Org("o").id, "a");
  auto b = App(Org("p").id, "b");
  Dev(a.id, "d", "0011223344556677");
  Device dup;
  dup.app_id = b.id;
  dup.transport = Transport::kLorawan;
  dup.dev_eui = "0011223344556677";
  auto r = store_->CreateDevice(dup, "");
  EXPECT_EQ(r.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(r.status().message(), "a device with this DevEUI already exists");
  ApiKey k;
  k.org_id = 424242;
  k.secret_hash = "x";
  auto key = store_->CreateApiKey(k);
  EXPECT_EQ(key.status().code(), Code::kNotFound);
  EXPECT_EQ(key.status().message().find("api_keys"), std::string::npos);
  EXPECT_EQ(store_->CreateSession({"t", 424242, 1, 2}).code(), Code::kNotFound);
}

// A long chain of keys, each created by the one before: deleting the first deletes them all.
TEST_P(MetaPostgresTest, DeletingAKeyDeletesALongChainOfKeysItCreated) {
  auto org = Org("o");
  std::optional<Id> creator;
  std::vector<Id> chain;
  for (int i = 0; i < 50; ++i) {
    ApiKey k;
    k.org_id = org.id;
    k.secret_hash = "h" + std::to_string(i);
    k.created_by_key = creator;
    auto r = store_->CreateApiKey(k);
    ASSERT_TRUE(r.ok()) << r.status().message();
    chain.push_back(r->id);
    creator = r->id;
  }
  ASSERT_TRUE(store_->DeleteApiKey(chain.front()).ok());
  EXPECT_EQ(store_->ListApiKeys(org.id, {})->total, 0);
}

// The audit log's retention deletes in transactions of 10,000: 25,000 old entries (written by
// SQL, quicker than 25,000 calls) go in three, the newer one stays.
TEST_P(MetaPostgresTest, ManyOldAuditEntriesGoInSeveralTransactions) {
  ASSERT_TRUE(testing::SharedPostgres::Get()
                  ->Query(Database(),
                          "INSERT INTO audit (action, object_type, object_id, remote_addr, "
                          "detail, ts) SELECT 'read', 'device', i::text, '', '', i "
                          "FROM generate_series(1, 25000) i")
                  .ok());
  AuditEntry a;
  a.action = "kept";
  a.ts = 100'000;
  ASSERT_TRUE(store_->AppendAudit(a).ok());
  auto n = store_->DeleteAuditBefore(50'000);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 25'000);
  auto left = store_->ListAudit(std::nullopt, {});
  ASSERT_EQ(left->total, 1);
  EXPECT_EQ(left->items[0].action, "kept");
}

}  // namespace
}  // namespace bysans

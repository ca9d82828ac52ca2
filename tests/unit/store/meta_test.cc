// SQLite-only MetaStore tests (stored role codes, migrations across reopen). The behaviour both
// backends share is in tests/unit/store_postgres/meta_backends_test.cc.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <utility>
#include <vector>

#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::StoreTest;

class MetaTest : public StoreTest {
 protected:
  Organization Org(const std::string& name) {
    return store_->CreateOrganization({0, name, 0}).value();
  }
  User MakeUser(const std::string& email) {
    User u;
    u.email = email;
    return store_->CreateUser(u).value();
  }
};

// Issue 21: the operator role is stored as code 4; the codes of viewer (1), editor (2) and admin
// (3) written before it existed keep their meaning, whatever the enum's ranks.
TEST_F(MetaTest, RolesKeepTheirStoredCodes) {
  auto org = Org("o");
  const std::vector<std::pair<Role, int>> codes = {
      {Role::kViewer, 1}, {Role::kEditor, 2}, {Role::kAdmin, 3}, {Role::kOperator, 4}};
  std::vector<Id> users;
  for (const auto& [role, code] : codes) {
    auto u = MakeUser(std::string(RoleName(role)) + "@x.dk");
    users.push_back(u.id);
    ASSERT_TRUE(store_->PutMembership({u.id, org.id, role}).ok());
    EXPECT_EQ(store_->GetMembership(u.id, org.id)->role, role);
  }
  store_->Close();
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() + "/bysans.db").c_str(), &db), SQLITE_OK);
  for (size_t i = 0; i < codes.size(); ++i) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(
        sqlite3_prepare_v2(db, "SELECT role FROM memberships WHERE user_id=?", -1, &st, nullptr),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, users[i]);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), codes[i].second) << RoleName(codes[i].first);
    sqlite3_finalize(st);
  }
  // An unknown code (a newer server's role) reads as the least role.
  ASSERT_EQ(
      sqlite3_exec(
          db, ("UPDATE memberships SET role=9 WHERE user_id=" + std::to_string(users[2])).c_str(),
          nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  Open();
  EXPECT_EQ(store_->GetMembership(users[1], org.id)->role, Role::kEditor);
  EXPECT_EQ(store_->GetMembership(users[3], org.id)->role, Role::kOperator);
  EXPECT_EQ(store_->GetMembership(users[2], org.id)->role, Role::kViewer);
  EXPECT_EQ(ParseRole("operator"), Role::kOperator);
  EXPECT_STREQ(RoleName(Role::kOperator), "operator");
  EXPECT_LT(Role::kViewer, Role::kOperator);
  EXPECT_LT(Role::kOperator, Role::kEditor);
}

TEST_F(MetaTest, MigrationsRunOnceAndDataSurvivesReopen) {
  const TimeMs first_open = clock_.NowMs();
  auto org = Org("persist");
  clock_.Advance(60'000);
  Reopen();
  clock_.Advance(60'000);
  Reopen();
  EXPECT_EQ(store_->GetOrganization(org.id)->name, "persist");
  store_->Close();
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() + "/bysans.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT count(*), min(applied_ms), max(applied_ms) "
                               "FROM schema_version",
                               -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_GE(sqlite3_column_int(st, 0), 2);
  // Every migration was applied at the first open only.
  EXPECT_EQ(sqlite3_column_int64(st, 1), first_open);
  EXPECT_EQ(sqlite3_column_int64(st, 2), first_open);
  sqlite3_finalize(st);
  sqlite3_close(db);
  Open();
}

}  // namespace
}  // namespace bysans

// DashboardStore on SQLite only: migrations 27 (the table) and 33 (`published`) run again over a
// store that has them. The behaviour both backends share:
// tests/unit/store_postgres/sharing_backends_test.cc.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/dashboard_store.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::StoreTest;

class DashboardStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    org_ = store_->CreateOrganization({0, "o", 0}).value();
  }
  Dashboard Make(const std::string& name, Role min) {
    Dashboard d;
    d.org_id = org_.id;
    d.name = name;
    d.min_role = min;
    d.layout = R"({"widgets":[]})";
    d.created_ms = d.updated_ms = 1000;
    auto r = store_->dashboards().CreateDashboard(d);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : Dashboard{};
  }
  std::vector<std::string> Names(Role role) {
    auto r = store_->dashboards().ListDashboards(org_.id, role);
    EXPECT_TRUE(r.ok()) << r.status().message();
    std::vector<std::string> out;
    for (const Dashboard& d : r.ok() ? *r : std::vector<Dashboard>{}) out.push_back(d.name);
    return out;
  }
  // Closes the store, forgets that migration `version` ran, and opens it again (which runs it).
  void ReopenWithout(int version) {
    store_->Close();
    store_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() + "/bysans.db").c_str(), &db), SQLITE_OK);
    const std::string sql =
        "DELETE FROM schema_version WHERE version = " + std::to_string(version) + ";";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    Open();
  }
  Organization org_;
};

TEST_F(DashboardStoreTest, MigrationRunsAgainOverItsOwnTable) {
  Dashboard d = Make("kept", Role::kEditor);
  ReopenWithout(27);
  auto got = store_->dashboards().GetDashboard(d.id);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->name, "kept");
}

TEST_F(DashboardStoreTest, PublishedMigrationRunsAgainOverItsColumn) {
  Dashboard d = Make("kept", Role::kViewer);
  d.published = true;
  ASSERT_TRUE(store_->dashboards().UpdateDashboard(d).ok());
  ReopenWithout(33);
  auto got = store_->dashboards().GetDashboard(d.id);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_TRUE(got->published);
}

}  // namespace
}  // namespace bysans

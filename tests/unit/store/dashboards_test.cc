// DashboardStore on SQLite (migration 27): create, read, list by the least role (role codes are
// not in the roles' order), update, delete, cascade with the organisation, and the migration run
// again over a store that has it; `published` (migration 33) kept by create, update, get and list,
// and its migration run again over a store that has the column.
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

TEST_F(DashboardStoreTest, ListsWhatEachRoleMaySee) {
  Make("d-admin", Role::kAdmin);
  Make("c-editor", Role::kEditor);
  Make("b-operator", Role::kOperator);
  Make("a-viewer", Role::kViewer);
  EXPECT_EQ(Names(Role::kViewer), (std::vector<std::string>{"a-viewer"}));
  EXPECT_EQ(Names(Role::kOperator), (std::vector<std::string>{"a-viewer", "b-operator"}));
  EXPECT_EQ(Names(Role::kEditor), (std::vector<std::string>{"a-viewer", "b-operator", "c-editor"}));
  EXPECT_EQ(Names(Role::kAdmin),
            (std::vector<std::string>{"a-viewer", "b-operator", "c-editor", "d-admin"}));
}

TEST_F(DashboardStoreTest, UpdatesDeletesAndCascades) {
  Dashboard d = Make("x", Role::kOperator);
  auto got = store_->dashboards().GetDashboard(d.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->min_role, Role::kOperator);
  EXPECT_EQ(got->layout, R"({"widgets":[]})");
  d.name = "y";
  d.min_role = Role::kAdmin;
  d.layout = R"({"widgets":[{"type":"alarms","title":""}]})";
  d.updated_ms = 2000;
  ASSERT_TRUE(store_->dashboards().UpdateDashboard(d).ok());
  got = store_->dashboards().GetDashboard(d.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "y");
  EXPECT_EQ(got->min_role, Role::kAdmin);
  EXPECT_EQ(got->layout, d.layout);
  EXPECT_EQ(got->created_ms, 1000);
  EXPECT_EQ(got->updated_ms, 2000);
  ASSERT_TRUE(store_->dashboards().DeleteDashboard(d.id).ok());
  EXPECT_EQ(store_->dashboards().GetDashboard(d.id).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->dashboards().DeleteDashboard(d.id).code(), Code::kNotFound);
  EXPECT_EQ(store_->dashboards().UpdateDashboard(d).code(), Code::kNotFound);
  Dashboard e = Make("z", Role::kViewer);
  ASSERT_TRUE(store_->DeleteOrganization(org_.id).ok());
  EXPECT_EQ(store_->dashboards().GetDashboard(e.id).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->dashboards().CreateDashboard(e).status().code(), Code::kNotFound);
}

TEST_F(DashboardStoreTest, MigrationRunsAgainOverItsOwnTable) {
  Dashboard d = Make("kept", Role::kEditor);
  ReopenWithout(27);
  auto got = store_->dashboards().GetDashboard(d.id);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->name, "kept");
}

TEST_F(DashboardStoreTest, KeepsPublished) {
  Dashboard d = Make("open", Role::kViewer);
  EXPECT_FALSE(d.published);
  EXPECT_FALSE(store_->dashboards().GetDashboard(d.id)->published);
  d.published = true;
  ASSERT_TRUE(store_->dashboards().UpdateDashboard(d).ok());
  EXPECT_TRUE(store_->dashboards().GetDashboard(d.id)->published);
  EXPECT_TRUE(store_->dashboards().ListDashboards(org_.id, Role::kViewer)->at(0).published);
  Dashboard e = d;
  e.name = "created public";
  auto created = store_->dashboards().CreateDashboard(e);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_TRUE(store_->dashboards().GetDashboard(created->id)->published);
  d.published = false;
  ASSERT_TRUE(store_->dashboards().UpdateDashboard(d).ok());
  EXPECT_FALSE(store_->dashboards().GetDashboard(d.id)->published);
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

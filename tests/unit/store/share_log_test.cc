// The share log on SQLite only: its migration history. The TargetStore behaviour shared by the
// backends (the share log written by the group commit with the message, read by position,
// cursors, pruning, dead letters, sealed headers) is in
// tests/unit/store_postgres/targets_backends_test.cc.
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

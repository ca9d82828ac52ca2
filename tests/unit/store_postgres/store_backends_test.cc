// The whole Store on both backends (store_backend_fixture.h): opened, used through its interfaces,
// closed and opened again; a deleted device's readings and raw messages are erased by the store
// itself (SQLite's eraser thread; PostgreSQL's DeviceEraser), other devices' stay.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "store/dashboard_store.h"
#include "store/rule_store.h"
#include "unit/store_postgres/store_backend_fixture.h"

namespace bysans::testing {
namespace {

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

constexpr TimeMs kT0 = 1'704'067'200'000;

class WholeStoreTest : public StoreBackendTest {
 protected:
  Id MakeDevice(Id app, const std::string& name) {
    Device d;
    d.app_id = app;
    d.name = name;
    auto r = store_->CreateDevice(d, "");
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->id : 0;
  }
  void Put(Id device, TimeMs at) {
    IngestBatch b;
    RawMessage m;
    m.device_id = device;
    m.received_ms = at;
    m.payload = R"({"t": 21.5})";
    b.messages.push_back(m);
    b.readings.push_back(Reading{device, "t", at, 21.5, "Cel", Quality::kOk});
    ASSERT_TRUE(store_->Append(std::move(b)).ok());
  }
  size_t Messages(Id device) {
    MessageQuery q;
    q.device_id = device;
    return store_->QueryMessages(q).value().size();
  }
};

TEST_P(WholeStoreTest, EveryPartServesAndSurvivesAReopen) {
  Id org = store_->CreateOrganization({0, "Kommune", 0}).value().id;
  Id app = store_->CreateApplication({0, org, "Skoler", "", 0}).value().id;
  Id dev = MakeDevice(app, "Lokale 1");
  Put(dev, kT0);
  Dashboard d;
  d.org_id = org;
  d.name = "Indeklima";
  d.layout = R"({"widgets":[]})";
  ASSERT_TRUE(store_->dashboards().CreateDashboard(d).ok());
  RuleRecord rule;
  rule.org_id = org;
  rule.definition = R"({"name":"CO2","when":"co2 > 1000"})";
  ASSERT_TRUE(store_->rules().CreateRule(rule).ok());
  Reopen();
  EXPECT_EQ(store_->GetDevice(dev)->name, "Lokale 1");
  auto latest = store_->Latest({dev});
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->size(), 1u);
  EXPECT_EQ(std::get<double>(latest->front().value), 21.5);
  EXPECT_EQ(Messages(dev), 1u);
  EXPECT_EQ(store_->dashboards().ListDashboards(org, Role::kViewer)->size(), 1u);
  EXPECT_EQ(store_->rules().ListRules(org, {})->items.size(), 1u);
}

TEST_P(WholeStoreTest, ADeletedDevicesDataIsErasedByTheStore) {
  Id org = store_->CreateOrganization({0, "Kommune", 0}).value().id;
  Id app = store_->CreateApplication({0, org, "Ældrepleje", "", 0}).value().id;
  Id gone = MakeDevice(app, "fald-1");
  Id kept = MakeDevice(app, "fald-2");
  Put(gone, kT0);
  Put(kept, kT0);
  ASSERT_TRUE(store_->DeleteDevice(gone).ok());
  bool erased = false;
  for (int i = 0; i < 200 && !erased; ++i) {
    erased = store_->ListSeries({gone}).value().empty() && Messages(gone) == 0;
    if (!erased) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(erased) << "the deleted device's readings or raw messages are still stored";
  EXPECT_EQ(store_->ListSeries({kept}).value().size(), 1u);
  EXPECT_EQ(Messages(kept), 1u);
}

BYSANS_STORE_ON_BOTH_BACKENDS(WholeStoreTest);

}  // namespace
}  // namespace bysans::testing

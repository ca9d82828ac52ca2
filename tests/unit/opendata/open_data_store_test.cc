// OpenDataStore on SQLite (migration 17): datasets round-trip, follow their organisation and
// devices when those are deleted, and applications keep their personal-data flag.
#include "store/open_data_store.h"

#include <gtest/gtest.h>

#include "unit/store/temp_store.h"

namespace bysans::testing {
namespace {

class OpenDataStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    org_ = store_->CreateOrganization({0, "o", 0, 100}).value().id;
    app_ = store_->CreateApplication({0, org_, "a", "", 0}).value().id;
    for (int i = 0; i < 2; ++i) {
      Device d;
      d.org_id = org_;
      d.app_id = app_;
      d.name = "d";
      dev_[i] = store_->CreateDevice(d, "h" + std::to_string(i)).value().id;
    }
  }
  OpenDataset Sample() {
    OpenDataset d;
    d.org_id = org_;
    d.device_ids = {dev_[1], dev_[0]};
    d.keys = {"no2"};
    d.title = "t";
    d.themes = {"ENVI"};
    d.keywords = {"luft"};
    d.license = "https://x";
    d.accrual_periodicity = "R/PT1H";
    d.contact_name = "c";
    d.contact_email = "c@x";
    d.created_ms = 1;
    d.updated_ms = 2;
    return d;
  }
  Id org_ = 0, app_ = 0;
  Id dev_[2] = {0, 0};
};

TEST_F(OpenDataStoreTest, RoundTripListUpdateDelete) {
  OpenDataStore& s = store_->open_data();
  OpenDataset d = s.CreateDataset(Sample()).value();
  ASSERT_GT(d.id, 0);
  OpenDataset got = s.GetDataset(d.id).value();
  EXPECT_EQ(got.device_ids, (std::vector<Id>{dev_[0], dev_[1]}));
  EXPECT_EQ(got.keys, std::vector<std::string>{"no2"});
  EXPECT_EQ(got.themes, std::vector<std::string>{"ENVI"});
  EXPECT_EQ(got.accrual_periodicity, "R/PT1H");
  EXPECT_FALSE(got.published);
  EXPECT_FALSE(got.issued_ms);
  EXPECT_TRUE(s.ListDatasets(org_, true).value().empty());
  EXPECT_EQ(s.ListDatasets(org_, false).value().size(), 1u);

  got.published = true;
  got.issued_ms = 5;
  got.device_ids.clear();
  got.app_id = app_;
  ASSERT_TRUE(s.UpdateDataset(got).ok());
  OpenDataset after = s.GetDataset(d.id).value();
  EXPECT_TRUE(after.published);
  EXPECT_EQ(after.issued_ms, 5);
  EXPECT_EQ(after.app_id, app_);
  EXPECT_TRUE(after.device_ids.empty());
  EXPECT_EQ(s.ListDatasets(org_, true).value().size(), 1u);

  ASSERT_TRUE(s.DeleteDataset(d.id).ok());
  EXPECT_EQ(s.GetDataset(d.id).status().code(), Code::kNotFound);
  EXPECT_EQ(s.DeleteDataset(d.id).code(), Code::kNotFound);
  after.id = 999;
  EXPECT_EQ(s.UpdateDataset(after).code(), Code::kNotFound);
}

TEST_F(OpenDataStoreTest, DeletedDevicesLeaveTheSelectionAndDatasetsDieWithTheirOrganisation) {
  OpenDataStore& s = store_->open_data();
  Id id = s.CreateDataset(Sample()).value().id;
  ASSERT_TRUE(store_->DeleteDevice(dev_[0]).ok());
  EXPECT_EQ(s.GetDataset(id).value().device_ids, std::vector<Id>{dev_[1]});
  ASSERT_TRUE(store_->DeleteOrganization(org_).ok());
  EXPECT_EQ(s.GetDataset(id).status().code(), Code::kNotFound);
}

TEST_F(OpenDataStoreTest, ApplicationsKeepThePersonalDataFlag) {
  Application a = store_->GetApplication(app_).value();
  EXPECT_EQ(a.data_class, DataClass::kNone);
  a.data_class = DataClass::kPersonal;
  ASSERT_TRUE(store_->UpdateApplication(a).ok());
  EXPECT_TRUE(store_->GetApplication(app_).value().data_class == DataClass::kPersonal);
  Application b{0, org_, "b", "", 0, DataClass::kSensitive, {30, std::nullopt, 400}};
  b.purpose = "fall alarms";
  b.legal_basis = "art. 9(2)(h)";
  Id b_id = store_->CreateApplication(b).value().id;
  Application got = store_->GetApplication(b_id).value();
  EXPECT_EQ(got.data_class, DataClass::kSensitive);
  EXPECT_EQ(got.retention, (RetentionDays{30, std::nullopt, 400}));
  EXPECT_EQ(got.purpose, "fall alarms");
  EXPECT_EQ(got.legal_basis, "art. 9(2)(h)");
  EXPECT_EQ(store_->ListApplications(org_, {}).value().items.size(), 2u);
}

}  // namespace
}  // namespace bysans::testing

// Dashboards, contacts and SMS gateways, open datasets: the same behaviour on SQLite and on
// PostgreSQL (org_stores_backend_fixture.h). Dashboards are listed by the least role that may see
// them, updated, deleted and go with their organisation; contact lists keep their order, refuse an
// unknown owner and go with it; an organisation has one SMS gateway; datasets round-trip with their
// device selection, which loses deleted devices, and go with their organisation.
#include <gtest/gtest.h>

#include "unit/store_postgres/org_stores_backend_fixture.h"

namespace bysans::testing {
namespace {

class SharingBackendTest : public OrgStoresBackendTest {
 protected:
  void SetUp() override {
    OrgStoresBackendTest::SetUp();
    if (HasFatalFailure()) return;
    org_ = Org("o").id;
    app_ = App(org_, "a").id;
    dev_[0] = Dev(app_, "d0").id;
    dev_[1] = Dev(app_, "d1").id;
  }
  Dashboard MakeDashboard(const std::string& name, Role min) {
    Dashboard d;
    d.org_id = org_;
    d.name = name;
    d.min_role = min;
    d.layout = R"({"widgets":[]})";
    d.created_ms = d.updated_ms = 1000;
    auto r = dashboards().CreateDashboard(d);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : Dashboard{};
  }
  std::vector<std::string> DashboardNames(Role role) {
    auto r = dashboards().ListDashboards(org_, role);
    EXPECT_TRUE(r.ok()) << r.status().message();
    std::vector<std::string> out;
    for (const Dashboard& d : r.ok() ? *r : std::vector<Dashboard>{}) out.push_back(d.name);
    return out;
  }
  OpenDataset SampleDataset() {
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

TEST_P(SharingBackendTest, DashboardsAreListedByTheLeastRoleThatMaySeeThem) {
  MakeDashboard("d-admin", Role::kAdmin);
  MakeDashboard("c-editor", Role::kEditor);
  MakeDashboard("b-operator", Role::kOperator);
  MakeDashboard("a-viewer", Role::kViewer);
  EXPECT_EQ(DashboardNames(Role::kViewer), (std::vector<std::string>{"a-viewer"}));
  EXPECT_EQ(DashboardNames(Role::kOperator), (std::vector<std::string>{"a-viewer", "b-operator"}));
  EXPECT_EQ(DashboardNames(Role::kEditor),
            (std::vector<std::string>{"a-viewer", "b-operator", "c-editor"}));
  EXPECT_EQ(DashboardNames(Role::kAdmin),
            (std::vector<std::string>{"a-viewer", "b-operator", "c-editor", "d-admin"}));
}

TEST_P(SharingBackendTest, DashboardsAreUpdatedDeletedAndGoWithTheirOrganisation) {
  Dashboard d = MakeDashboard("x", Role::kOperator);
  auto got = dashboards().GetDashboard(d.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->min_role, Role::kOperator);
  EXPECT_EQ(got->layout, R"({"widgets":[]})");
  EXPECT_FALSE(got->app_id);
  d.name = "y";
  d.min_role = Role::kAdmin;
  d.layout = R"({"widgets":[{"type":"alarms","title":""}]})";
  d.updated_ms = 2000;
  d.app_id = app_;
  ASSERT_TRUE(dashboards().UpdateDashboard(d).ok());
  got = dashboards().GetDashboard(d.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "y");
  EXPECT_EQ(got->min_role, Role::kAdmin);
  EXPECT_EQ(got->layout, d.layout);
  EXPECT_EQ(got->app_id, app_);
  EXPECT_EQ(got->created_ms, 1000);
  EXPECT_EQ(got->updated_ms, 2000);
  ASSERT_TRUE(dashboards().DeleteDashboard(d.id).ok());
  EXPECT_EQ(dashboards().GetDashboard(d.id).status().code(), Code::kNotFound);
  EXPECT_EQ(dashboards().DeleteDashboard(d.id).code(), Code::kNotFound);
  EXPECT_EQ(dashboards().UpdateDashboard(d).code(), Code::kNotFound);
  // Shared with an application: it goes with the application.
  Dashboard shared = MakeDashboard("shared", Role::kViewer);
  shared.app_id = app_;
  ASSERT_TRUE(dashboards().UpdateDashboard(shared).ok());
  ASSERT_TRUE(store_->DeleteApplication(app_).ok());
  EXPECT_EQ(dashboards().GetDashboard(shared.id).status().code(), Code::kNotFound);
  Dashboard e = MakeDashboard("z", Role::kViewer);
  ASSERT_TRUE(store_->DeleteOrganization(org_).ok());
  EXPECT_EQ(dashboards().GetDashboard(e.id).status().code(), Code::kNotFound);
  EXPECT_EQ(dashboards().CreateDashboard(e).status().code(), Code::kNotFound);
}

TEST_P(SharingBackendTest, DashboardsKeepPublished) {
  Dashboard d = MakeDashboard("open", Role::kViewer);
  EXPECT_FALSE(d.published);
  EXPECT_FALSE(dashboards().GetDashboard(d.id)->published);
  d.published = true;
  ASSERT_TRUE(dashboards().UpdateDashboard(d).ok());
  EXPECT_TRUE(dashboards().GetDashboard(d.id)->published);
  EXPECT_TRUE(dashboards().ListDashboards(org_, Role::kViewer)->at(0).published);
  Dashboard e = d;
  e.name = "created public";
  auto created = dashboards().CreateDashboard(e);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_TRUE(dashboards().GetDashboard(created->id)->published);
  d.published = false;
  ASSERT_TRUE(dashboards().UpdateDashboard(d).ok());
  EXPECT_FALSE(dashboards().GetDashboard(d.id)->published);
}

TEST_P(SharingBackendTest, ContactListsKeepTheirOrderAndGoWithTheirOwner) {
  const std::vector<Contact> staff = {{"Vagt", "vagt@x.dk", "+4520000001", "vagt"},
                                      {"Teknik", "", "+4520000002", "service"}};
  const std::vector<Contact> kin = {{"Datter", "", "+4520000017", "pårørende"}};
  ASSERT_TRUE(contacts().ReplaceContacts(ContactOwner::kApplication, app_, staff).ok());
  ASSERT_TRUE(contacts().ReplaceContacts(ContactOwner::kDevice, dev_[0], kin).ok());
  auto got = contacts().ListContacts(ContactOwner::kApplication, app_);
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].name, "Vagt");
  EXPECT_EQ((*got)[0].email, "vagt@x.dk");
  EXPECT_EQ((*got)[1].phone, "+4520000002");
  EXPECT_EQ((*got)[1].role, "service");
  EXPECT_EQ(contacts().ListContacts(ContactOwner::kDevice, dev_[0])->at(0).role, "pårørende");
  EXPECT_TRUE(contacts().ListContacts(ContactOwner::kDevice, dev_[1])->empty());
  // Replaced whole, in the new order.
  ASSERT_TRUE(contacts()
                  .ReplaceContacts(ContactOwner::kApplication, app_, {staff[1], staff[0], kin[0]})
                  .ok());
  got = contacts().ListContacts(ContactOwner::kApplication, app_);
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].name, "Teknik");
  EXPECT_EQ((*got)[2].name, "Datter");
  ASSERT_TRUE(contacts().ReplaceContacts(ContactOwner::kApplication, app_, {}).ok());
  EXPECT_TRUE(contacts().ListContacts(ContactOwner::kApplication, app_)->empty());
  // Unknown owners are refused; a deleted device's contacts go with it.
  EXPECT_EQ(contacts().ReplaceContacts(ContactOwner::kDevice, dev_[0] + dev_[1] + 100, kin).code(),
            Code::kNotFound);
  EXPECT_EQ(contacts().ReplaceContacts(ContactOwner::kApplication, app_ + 100, kin).code(),
            Code::kNotFound);
  ASSERT_TRUE(store_->DeleteDevice(dev_[0]).ok());
  EXPECT_TRUE(contacts().ListContacts(ContactOwner::kDevice, dev_[0])->empty());
}

TEST_P(SharingBackendTest, AnOrganisationHasOneSmsGateway) {
  EXPECT_EQ(contacts().GetSmsGateway(org_).status().code(), Code::kNotFound);
  SmsGateway g;
  g.org_id = org_;
  g.url = "https://sms.example/send?to={{to}}";
  g.method = "GET";
  g.headers = {{"Authorization", "Bearer {{secret}}"}};
  g.body_format = "json";
  g.body = "";
  g.secret_sealed = "sealed-1";
  g.updated_ms = 5;
  ASSERT_TRUE(contacts().PutSmsGateway(g).ok());
  auto got = contacts().GetSmsGateway(org_);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->url, g.url);
  EXPECT_EQ(got->method, "GET");
  EXPECT_EQ(got->headers, g.headers);
  EXPECT_EQ(got->body_format, "json");
  EXPECT_EQ(got->secret_sealed, "sealed-1");
  EXPECT_EQ(got->updated_ms, 5);
  g.method = "POST";
  g.body = "to={{to}}&text={{message}}";
  g.secret_sealed = "sealed-2";
  ASSERT_TRUE(contacts().PutSmsGateway(g).ok());
  EXPECT_EQ(contacts().GetSmsGateway(org_)->body, g.body);
  EXPECT_EQ(contacts().GetSmsGateway(org_)->secret_sealed, "sealed-2");
  SmsGateway stray = g;
  stray.org_id = org_ + 100;
  EXPECT_EQ(contacts().PutSmsGateway(stray).code(), Code::kNotFound);
  ASSERT_TRUE(contacts().DeleteSmsGateway(org_).ok());
  EXPECT_EQ(contacts().DeleteSmsGateway(org_).code(), Code::kNotFound);
  ASSERT_TRUE(contacts().PutSmsGateway(g).ok());
  ASSERT_TRUE(store_->DeleteOrganization(org_).ok());
  EXPECT_EQ(contacts().GetSmsGateway(org_).status().code(), Code::kNotFound);
}

TEST_P(SharingBackendTest, DatasetsRoundTripListUpdateDelete) {
  OpenDataStore& s = open_data();
  auto created = s.CreateDataset(SampleDataset());
  ASSERT_TRUE(created.ok()) << created.status().message();
  OpenDataset d = *created;
  ASSERT_GT(d.id, 0);
  OpenDataset got = s.GetDataset(d.id).value();
  EXPECT_EQ(got.device_ids, (std::vector<Id>{dev_[0], dev_[1]}));
  EXPECT_EQ(got.keys, std::vector<std::string>{"no2"});
  EXPECT_EQ(got.themes, std::vector<std::string>{"ENVI"});
  EXPECT_EQ(got.keywords, std::vector<std::string>{"luft"});
  EXPECT_EQ(got.accrual_periodicity, "R/PT1H");
  EXPECT_EQ(got.contact_email, "c@x");
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
  after.id = d.id + 999;
  EXPECT_EQ(s.UpdateDataset(after).code(), Code::kNotFound);
}

TEST_P(SharingBackendTest, DeletedDevicesLeaveTheSelectionAndDatasetsGoWithTheirOrganisation) {
  OpenDataStore& s = open_data();
  Id id = s.CreateDataset(SampleDataset()).value().id;
  ASSERT_TRUE(store_->DeleteDevice(dev_[0]).ok());
  EXPECT_EQ(s.GetDataset(id).value().device_ids, std::vector<Id>{dev_[1]});
  OpenDataset unknown = SampleDataset();
  unknown.device_ids = {dev_[1] + 100};
  EXPECT_EQ(s.CreateDataset(unknown).status().code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteOrganization(org_).ok());
  EXPECT_EQ(s.GetDataset(id).status().code(), Code::kNotFound);
}

TEST_P(SharingBackendTest, ApplicationsKeepTheirDataClassWhichOpenDataChecks) {
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

BYSANS_META_ON_BOTH_BACKENDS(SharingBackendTest);
BYSANS_SHARED_POSTGRES_ENVIRONMENT();

}  // namespace
}  // namespace bysans::testing

// The MetaStore behaviour on both backends (meta_backend_fixture.h): organisations, applications,
// device models, devices, users, memberships, invitations, API keys, sessions, audit. Moved from
// tests/unit/store/meta_test.cc, which keeps the SQLite-only tests.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "unit/store_postgres/meta_backend_fixture.h"

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

namespace bysans {
namespace {

class MetaTest : public testing::MetaBackendTest {};
BYSANS_META_ON_BOTH_BACKENDS(MetaTest);

TEST_P(MetaTest, OrganizationCrudAndPaging) {
  for (int i = 0; i < 5; ++i) Org("org" + std::to_string(i));
  auto page = store_->ListOrganizations({2, 1});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 5);
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0].name, "org1");
  EXPECT_EQ(page->items[0].created_ms, clock_.NowMs());
  Organization o = page->items[0];
  o.name = "renamed";
  ASSERT_TRUE(store_->UpdateOrganization(o).ok());
  EXPECT_EQ(store_->GetOrganization(o.id)->name, "renamed");
  EXPECT_EQ(store_->GetOrganization(999).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->UpdateOrganization({999, "x", 0}).code(), Code::kNotFound);
  EXPECT_EQ(store_->DeleteOrganization(999).code(), Code::kNotFound);
  // Limit is clamped to at least 1.
  EXPECT_EQ(store_->ListOrganizations({0, 0})->items.size(), 1u);
}

TEST_P(MetaTest, ApplicationsAndDeviceModels) {
  auto org = Org("o");
  auto app = App(org.id, "a");
  EXPECT_EQ(store_->GetApplication(app.id)->name, "a");
  app.description = "new";
  ASSERT_TRUE(store_->UpdateApplication(app).ok());
  EXPECT_EQ(store_->GetApplication(app.id)->description, "new");
  EXPECT_EQ(store_->ListApplications(org.id, {})->total, 1);
  EXPECT_EQ(store_->CreateApplication({0, 12345, "x", "", 0}).status().code(), Code::kNotFound);

  auto m = store_->CreateDeviceModel({0, org.id, "m", R"({"type":"DeviceModel"})", 0});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(store_->GetDeviceModel(m->id)->doc_json, R"({"type":"DeviceModel"})");
  DeviceModel mm = *m;
  mm.name = "m2";
  ASSERT_TRUE(store_->UpdateDeviceModel(mm).ok());
  EXPECT_EQ(store_->ListDeviceModels(org.id, {})->items.at(0).name, "m2");
  ASSERT_TRUE(store_->DeleteDeviceModel(m->id).ok());
  EXPECT_EQ(store_->GetDeviceModel(m->id).status().code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteApplication(app.id).ok());
  EXPECT_EQ(store_->DeleteApplication(app.id).code(), Code::kNotFound);
}

TEST_P(MetaTest, DeviceRoundTripAndUniqueness) {
  auto org = Org("o");
  auto app = App(org.id, "a");
  Device d;
  d.app_id = app.id;
  d.name = "Sensor 1";
  d.transport = Transport::kLorawan;
  d.dev_eui = "0011223344556677";
  d.location = Location{55.6, 12.5};
  d.tags = {"indoor", "school"};
  d.metadata = {{"room", "A1"}};
  d.expected_interval_s = 600;
  d.in_maintenance = true;
  auto created = store_->CreateDevice(d, "keyhash1");
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->org_id, org.id);
  auto got = store_->GetDevice(created->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "Sensor 1");
  EXPECT_EQ(got->transport, Transport::kLorawan);
  ASSERT_TRUE(got->location.has_value());
  EXPECT_DOUBLE_EQ(got->location->lat, 55.6);
  EXPECT_EQ(got->tags, (std::vector<std::string>{"indoor", "school"}));
  EXPECT_EQ(got->metadata.at("room"), "A1");
  EXPECT_EQ(got->expected_interval_s, 600);
  EXPECT_TRUE(got->in_maintenance);
  EXPECT_FALSE(got->device_model_id.has_value());

  EXPECT_EQ(store_->FindDeviceByDevEui("0011223344556677")->id, created->id);
  EXPECT_EQ(store_->FindDeviceByIngestKey("keyhash1")->id, created->id);
  EXPECT_EQ(store_->FindDeviceByIngestKey("nope").status().code(), Code::kNotFound);

  Device dup = d;
  EXPECT_EQ(store_->CreateDevice(dup, "other").status().code(), Code::kAlreadyExists);
  dup.dev_eui = "aaaaaaaaaaaaaaaa";
  EXPECT_EQ(store_->CreateDevice(dup, "keyhash1").status().code(), Code::kAlreadyExists);
  // Several devices without DevEUI or key are fine.
  Dev(app.id, "h1");
  Dev(app.id, "h2");

  ASSERT_TRUE(store_->SetDeviceIngestKey(created->id, "keyhash2").ok());
  EXPECT_EQ(store_->FindDeviceByIngestKey("keyhash1").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->FindDeviceByIngestKey("keyhash2")->id, created->id);
  EXPECT_EQ(store_->SetDeviceIngestKey(999, "k").code(), Code::kNotFound);

  auto model = store_->CreateDeviceModel({0, org.id, "m", "{}", 0});
  Device upd = *got;
  upd.name = "Renamed";
  upd.tags = {"outdoor"};
  upd.location.reset();
  upd.device_model_id = model->id;
  ASSERT_TRUE(store_->UpdateDevice(upd).ok());
  got = store_->GetDevice(created->id);
  EXPECT_EQ(got->name, "Renamed");
  EXPECT_EQ(got->tags, (std::vector<std::string>{"outdoor"}));
  EXPECT_FALSE(got->location.has_value());
  EXPECT_EQ(got->device_model_id, model->id);
  // Deleting the model unlinks it from the device.
  ASSERT_TRUE(store_->DeleteDeviceModel(model->id).ok());
  EXPECT_FALSE(store_->GetDevice(created->id)->device_model_id.has_value());
  upd.device_model_id = 4242;
  EXPECT_EQ(store_->UpdateDevice(upd).code(), Code::kNotFound);

  ASSERT_TRUE(store_->DeleteDevice(created->id).ok());
  EXPECT_EQ(store_->GetDevice(created->id).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->DeleteDevice(created->id).code(), Code::kNotFound);
}

TEST_P(MetaTest, DeviceFilters) {
  auto o1 = Org("o1"), o2 = Org("o2");
  auto a1 = App(o1.id, "a1"), a2 = App(o1.id, "a2"), b1 = App(o2.id, "b1");
  auto model = store_->CreateDeviceModel({0, o1.id, "m", "{}", 0});
  for (int i = 0; i < 7; ++i) {
    Device d;
    d.app_id = i < 4 ? a1.id : a2.id;
    d.name = "Klima " + std::to_string(i);
    if (i % 2 == 0) d.tags = {"even"};
    if (i == 3) d.device_model_id = model->id;
    ASSERT_TRUE(store_->CreateDevice(d, "").ok());
  }
  Dev(b1.id, "Other", "ABCDEF0011223344");
  auto count = [&](DeviceFilter f) { return store_->ListDevices(f, {100, 0})->total; };
  EXPECT_EQ(count({}), 8);
  EXPECT_EQ(count({o1.id, {}, {}, "", ""}), 7);
  EXPECT_EQ(count({o1.id, a2.id, {}, "", ""}), 3);
  EXPECT_EQ(count({{}, {}, model->id, "", ""}), 1);
  EXPECT_EQ(count({o1.id, {}, {}, "even", ""}), 4);
  EXPECT_EQ(count({{}, {}, {}, "", "KLIMA"}), 7);
  EXPECT_EQ(count({{}, {}, {}, "", "ef0011"}), 1);
  EXPECT_EQ(count({o2.id, {}, {}, "", "klima"}), 0);
  // Access per application: only the listed applications' devices; an empty list, none.
  EXPECT_EQ(count({o1.id, {}, {}, "", "", std::vector<Id>{a2.id}}), 3);
  EXPECT_EQ(count({o1.id, {}, {}, "", "", std::vector<Id>{a1.id, a2.id}}), 7);
  EXPECT_EQ(count({o1.id, {}, {}, "", "", std::vector<Id>{}}), 0);
  EXPECT_EQ(count({o1.id, {}, {}, "", "", std::vector<Id>{b1.id}}), 0);
  auto page = store_->ListDevices({o1.id, {}, {}, "", ""}, {3, 6});
  EXPECT_EQ(page->total, 7);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].name, "Klima 6");
}

TEST_P(MetaTest, UsersEmailCaseInsensitive) {
  auto u = MakeUser("Anne@Kommune.DK");
  EXPECT_EQ(u.email, "anne@kommune.dk");
  EXPECT_EQ(store_->FindUserByEmail("ANNE@kommune.dk")->id, u.id);
  User dup;
  dup.email = "anne@KOMMUNE.dk";
  EXPECT_EQ(store_->CreateUser(dup).status().code(), Code::kAlreadyExists);
  u.name = "Anne";
  u.global_admin = true;
  ASSERT_TRUE(store_->UpdateUser(u).ok());
  EXPECT_EQ(store_->GetUser(u.id)->name, "Anne");
  EXPECT_TRUE(store_->GetUser(u.id)->global_admin);
  MakeUser("b@x.dk");
  EXPECT_EQ(store_->ListUsers({})->total, 2);
  ASSERT_TRUE(store_->DeleteUser(u.id).ok());
  EXPECT_EQ(store_->FindUserByEmail("anne@kommune.dk").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->UpdateUser(u).code(), Code::kNotFound);
}

TEST_P(MetaTest, MembershipsAndOrganizationsOfUser) {
  auto o1 = Org("o1"), o2 = Org("o2"), o3 = Org("o3");
  auto u = MakeUser("u@x.dk");
  auto admin = MakeUser("admin@x.dk", true);
  ASSERT_TRUE(store_->PutMembership({u.id, o1.id, Role::kViewer}).ok());
  ASSERT_TRUE(store_->PutMembership({u.id, o3.id, Role::kEditor}).ok());
  ASSERT_TRUE(store_->PutMembership({u.id, o1.id, Role::kAdmin}).ok());  // changes role
  EXPECT_EQ(store_->GetMembership(u.id, o1.id)->role, Role::kAdmin);
  EXPECT_EQ(store_->GetMembership(u.id, o2.id).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->ListMembershipsOfUser(u.id)->size(), 2u);
  EXPECT_EQ(store_->ListMembershipsOfOrganization(o3.id)->size(), 1u);
  auto orgs = store_->ListOrganizationsOfUser(u.id, {});
  ASSERT_TRUE(orgs.ok());
  EXPECT_EQ(orgs->total, 2);
  EXPECT_EQ(orgs->items[1].id, o3.id);
  EXPECT_EQ(store_->ListOrganizationsOfUser(admin.id, {})->total, 3);
  EXPECT_EQ(store_->ListOrganizationsOfUser(9999, {}).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->ListUsersOfOrganization(o1.id, {})->total, 1);
  EXPECT_EQ(store_->PutMembership({u.id, 9999, Role::kViewer}).code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteMembership(u.id, o1.id).ok());
  EXPECT_EQ(store_->DeleteMembership(u.id, o1.id).code(), Code::kNotFound);
}

// Access per application: the scope is stored with the membership, only with applications of its
// organisation, cleared by a PUT without it, and shrinks (never widens) when an application goes.
TEST_P(MetaTest, AMembershipsApplicationScope) {
  auto o1 = Org("o1"), o2 = Org("o2");
  auto a1 = App(o1.id, "a1"), a2 = App(o1.id, "a2"), other = App(o2.id, "x");
  auto u = MakeUser("u@x.dk");
  Membership m{u.id, o1.id, Role::kOperator};
  m.app_scoped = true;
  m.app_ids = {a1.id, a2.id, other.id};
  ASSERT_TRUE(store_->PutMembership(m).ok());
  auto got = store_->GetMembership(u.id, o1.id);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->app_scoped);
  EXPECT_EQ(got->app_ids, (std::vector<Id>{a1.id, a2.id}));  // not o2's application
  ASSERT_TRUE(store_->DeleteApplication(a2.id).ok());
  got = store_->GetMembership(u.id, o1.id);
  EXPECT_EQ(got->app_ids, std::vector<Id>{a1.id});
  ASSERT_TRUE(store_->DeleteApplication(a1.id).ok());
  auto listed = store_->ListMembershipsOfUser(u.id);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE((*listed)[0].app_scoped);  // still restricted, to nothing
  EXPECT_TRUE((*listed)[0].app_ids.empty());
  ASSERT_TRUE(store_->PutMembership({u.id, o1.id, Role::kOperator}).ok());
  got = store_->GetMembership(u.id, o1.id);
  EXPECT_FALSE(got->app_scoped);
  EXPECT_TRUE(got->app_ids.empty());
}

TEST_P(MetaTest, InvitationsOnePerEmailAcceptedAtomically) {
  auto org = Org("o");
  auto other = Org("p");
  auto u = MakeUser("pia@x.dk");
  Invitation inv{0, org.id, "Pia@X.dk", Role::kViewer, 0, 10, 1000};
  auto first = store_->PutInvitation(inv);
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->email, "pia@x.dk");
  inv.role = Role::kEditor;
  auto again = store_->PutInvitation(inv);  // the same (organisation, email): replaced
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, first->id);
  EXPECT_EQ(store_->GetInvitation(first->id)->role, Role::kEditor);
  ASSERT_TRUE(store_->PutInvitation({0, other.id, "pia@x.dk", Role::kAdmin, 0, 10, 1000}).ok());
  EXPECT_EQ(store_->ListInvitationsOfEmail("PIA@x.dk")->size(), 2u);
  EXPECT_EQ(store_->ListInvitationsOfOrganization(org.id)->size(), 1u);
  ASSERT_TRUE(store_->AcceptInvitation(first->id, u.id).ok());
  EXPECT_EQ(store_->GetMembership(u.id, org.id)->role, Role::kEditor);
  EXPECT_EQ(store_->GetInvitation(first->id).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->AcceptInvitation(first->id, u.id).code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteOrganization(other.id).ok());  // takes its invitations along
  EXPECT_EQ(store_->ListInvitationsOfEmail("pia@x.dk")->size(), 0u);
}

// An invitation to some applications: kept with the invitation (only its organisation's),
// replaced when the address is invited again, shrunk when an application goes, and given to the
// membership on acceptance, replacing an existing membership's scope (or lifting it).
TEST_P(MetaTest, AnInvitationsApplicationScopeBecomesTheMembershipsOnAcceptance) {
  auto o1 = Org("o1"), o2 = Org("o2");
  auto a1 = App(o1.id, "a1"), a2 = App(o1.id, "a2"), a3 = App(o1.id, "a3"), other = App(o2.id, "x");
  auto u = MakeUser("pia@x.dk");
  Invitation inv{0, o1.id, "pia@x.dk", Role::kEditor, 0, 10, 1000};
  inv.app_scoped = true;
  inv.app_ids = {a1.id, a2.id, other.id};
  auto put = store_->PutInvitation(inv);
  ASSERT_TRUE(put.ok()) << put.status().message();
  auto got = store_->GetInvitation(put->id);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->app_scoped);
  EXPECT_EQ(got->app_ids, (std::vector<Id>{a1.id, a2.id}));  // not o2's application
  ASSERT_TRUE(store_->DeleteApplication(a2.id).ok());
  EXPECT_EQ(store_->GetInvitation(put->id)->app_ids, std::vector<Id>{a1.id});
  inv.app_ids = {a3.id};  // invited again: the new list replaces the old
  ASSERT_TRUE(store_->PutInvitation(inv).ok());
  EXPECT_EQ(store_->ListInvitationsOfOrganization(o1.id)->at(0).app_ids, std::vector<Id>{a3.id});
  // An existing membership of the whole organisation becomes restricted on acceptance.
  ASSERT_TRUE(store_->PutMembership({u.id, o1.id, Role::kViewer}).ok());
  ASSERT_TRUE(store_->AcceptInvitation(put->id, u.id).ok());
  auto m = store_->GetMembership(u.id, o1.id);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->role, Role::kEditor);
  EXPECT_TRUE(m->app_scoped);
  EXPECT_EQ(m->app_ids, std::vector<Id>{a3.id});
  // An invitation of the whole organisation lifts the restriction.
  auto whole = store_->PutInvitation({0, o1.id, "pia@x.dk", Role::kViewer, 0, 10, 1000});
  ASSERT_TRUE(whole.ok());
  EXPECT_FALSE(whole->app_scoped);
  ASSERT_TRUE(store_->AcceptInvitation(whole->id, u.id).ok());
  m = store_->GetMembership(u.id, o1.id);
  EXPECT_FALSE(m->app_scoped);
  EXPECT_TRUE(m->app_ids.empty());
}

TEST_P(MetaTest, RevokingAKeyRevokesTheKeysItCreatedAndSessionsEndButOne) {
  auto org = Org("o");
  auto u = MakeUser("u@x.dk");
  auto key = [&](const std::string& hash, std::optional<Id> creator) {
    ApiKey k;
    k.org_id = org.id;
    k.name = hash;
    k.prefix = "bys_";
    k.secret_hash = hash;
    k.created_by_key = creator;
    auto r = store_->CreateApiKey(k);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->id : Id{0};
  };
  Id root = key("a", std::nullopt), child = key("b", root), grandchild = key("c", child);
  Id unrelated = key("d", std::nullopt);
  EXPECT_EQ(store_->GetApiKey(grandchild)->created_by_key, child);
  ASSERT_TRUE(store_->DeleteApiKey(root).ok());
  for (Id gone : {root, child, grandchild})
    EXPECT_EQ(store_->GetApiKey(gone).status().code(), Code::kNotFound);
  EXPECT_TRUE(store_->GetApiKey(unrelated).ok());

  for (const char* t : {"s1", "s2", "s3"})
    ASSERT_TRUE(store_->CreateSession({t, u.id, 1, 1000}).ok());
  ASSERT_TRUE(store_->DeleteSessionsOfUser(u.id, "s2").ok());
  EXPECT_TRUE(store_->FindSession("s2").ok());
  EXPECT_EQ(store_->FindSession("s1").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->FindSession("s3").status().code(), Code::kNotFound);
}

TEST_P(MetaTest, ApiKeysSessionsAudit) {
  auto org = Org("o");
  auto u = MakeUser("u@x.dk");
  ApiKey k;
  k.org_id = org.id;
  k.name = "ci";
  k.role = Role::kEditor;
  k.prefix = "bys_ab";
  k.secret_hash = "ffee";
  k.expires_ms = 123;
  k.created_by = u.id;
  auto created = store_->CreateApiKey(k);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(store_->FindApiKeyByHash("ffee")->role, Role::kEditor);
  EXPECT_EQ(store_->GetApiKey(created->id)->expires_ms, 123);
  EXPECT_EQ(store_->CreateApiKey(k).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->ListApiKeys(org.id, {})->total, 1);
  // Rotation: the old hash is unknown at once, the new one finds the same key.
  ASSERT_TRUE(store_->SetApiKeySecret(created->id, "bys_cd", "aabb", "").ok());
  EXPECT_EQ(store_->FindApiKeyByHash("ffee").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->FindApiKeyByHash("aabb")->id, created->id);
  EXPECT_EQ(store_->GetApiKey(created->id)->prefix, "bys_cd");
  EXPECT_EQ(store_->SetApiKeySecret(999999, "p", "h", "").code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteApiKey(created->id).ok());
  EXPECT_EQ(store_->GetApiKey(created->id).status().code(), Code::kNotFound);

  ASSERT_TRUE(store_->CreateSession({"t1", u.id, 10, 100}).ok());
  ASSERT_TRUE(store_->CreateSession({"t2", u.id, 10, 1000}).ok());
  EXPECT_EQ(store_->FindSession("t1")->expires_ms, 100);
  ASSERT_TRUE(store_->DeleteExpiredSessions(500).ok());
  EXPECT_EQ(store_->FindSession("t1").status().code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteSession("t2").ok());
  EXPECT_EQ(store_->DeleteSession("t2").code(), Code::kNotFound);

  for (int i = 0; i < 3; ++i) {
    AuditEntry a;
    a.org_id = i < 2 ? std::optional<Id>(org.id) : std::nullopt;
    a.user_id = u.id;
    a.action = "create" + std::to_string(i);
    a.object_type = "device";
    a.object_id = "1";
    ASSERT_TRUE(store_->AppendAudit(a).ok());
  }
  auto all = store_->ListAudit(std::nullopt, {});
  EXPECT_EQ(all->total, 3);
  EXPECT_EQ(all->items[0].action, "create2");  // newest first
  EXPECT_FALSE(all->items[0].org_id.has_value());
  auto of_org = store_->ListAudit(org.id, {1, 0});
  EXPECT_EQ(of_org->total, 2);
  EXPECT_EQ(of_org->items.at(0).action, "create1");
}

TEST_P(MetaTest, DeleteOrganizationCascades) {
  auto org = Org("o"), other = Org("keep");
  auto app = App(org.id, "a");
  auto dev = Dev(app.id, "d", "0102030405060708", "kh");
  auto model = store_->CreateDeviceModel({0, org.id, "m", "{}", 0});
  auto u = MakeUser("u@x.dk");
  ASSERT_TRUE(store_->PutMembership({u.id, org.id, Role::kAdmin}).ok());
  ApiKey k;
  k.org_id = org.id;
  k.secret_hash = "h";
  auto key = store_->CreateApiKey(k);
  auto keep_app = App(other.id, "keep");
  ASSERT_TRUE(store_->DeleteOrganization(org.id).ok());
  EXPECT_EQ(store_->GetApplication(app.id).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetDevice(dev.id).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->FindDeviceByDevEui("0102030405060708").status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetDeviceModel(model->id).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetApiKey(key->id).status().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetMembership(u.id, org.id).status().code(), Code::kNotFound);
  EXPECT_TRUE(store_->GetUser(u.id).ok());
  EXPECT_TRUE(store_->GetApplication(keep_app.id).ok());
  // Ids are never reused, so stale series data can never attach to a new device.
  auto app2 = App(other.id, "a2");
  EXPECT_GT(Dev(app2.id, "new").id, dev.id);
}

TEST_P(MetaTest, DeleteApplicationCascadesToDevices) {
  auto org = Org("o");
  auto app = App(org.id, "a");
  auto dev = Dev(app.id, "d");
  ASSERT_TRUE(store_->DeleteApplication(app.id).ok());
  EXPECT_EQ(store_->GetDevice(dev.id).status().code(), Code::kNotFound);
  EXPECT_TRUE(store_->GetOrganization(org.id).ok());
}

// CreateDevices (archive/ import): many devices in one transaction, all or none.
TEST_P(MetaTest, CreateDevicesWritesAllOrNone) {
  Application app = App(Org("o").id, "a");
  std::vector<Device> batch(3);
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].app_id = app.id;
    batch[i].name = "d" + std::to_string(i);
    batch[i].tags = {"t"};
  }
  batch[2].transport = Transport::kLorawan;
  batch[2].dev_eui = "00000000000000AA";
  auto made = store_->CreateDevices(batch);
  ASSERT_TRUE(made.ok()) << made.status().message();
  ASSERT_EQ(made->size(), 3u);
  EXPECT_EQ((*made)[1].org_id, app.org_id);
  EXPECT_EQ(store_->GetDevice((*made)[2].id)->dev_eui, "00000000000000aa");
  // A DevEUI clash in the last one: none of the batch is written.
  std::vector<Device> clash(2);
  clash[0].app_id = clash[1].app_id = app.id;
  clash[0].name = "new";
  clash[1].name = "clash";
  clash[1].transport = Transport::kLorawan;
  clash[1].dev_eui = "00000000000000aa";
  EXPECT_FALSE(store_->CreateDevices(clash).ok());
  DeviceFilter f;
  f.app_id = app.id;
  EXPECT_EQ(store_->ListDevices(f, {})->total, 3);
}

// The broker's users: every key with a broker hash, expired ones too, in id order.
TEST_P(MetaTest, MqttKeysAreListedInIdOrderExpiredOnesIncluded) {
  auto org = Org("o");
  std::vector<Id> mqtt;
  for (int i = 0; i < 4; ++i) {
    ApiKey k;
    k.org_id = org.id;
    k.secret_hash = "h" + std::to_string(i);
    k.mqtt_hash = i == 1 ? "" : "$7$" + std::to_string(i);
    if (i == 2) k.expires_ms = 1;
    auto r = store_->CreateApiKey(k);
    ASSERT_TRUE(r.ok()) << r.status().message();
    if (i != 1) mqtt.push_back(r->id);
  }
  auto listed = store_->ListMqttApiKeys();
  ASSERT_TRUE(listed.ok());
  std::vector<Id> ids;
  for (const ApiKey& k : *listed) ids.push_back(k.id);
  EXPECT_EQ(ids, mqtt);
  EXPECT_EQ(listed->at(1).expires_ms, 1);
  // Rotation without a broker hash takes the key out of the broker's users.
  ASSERT_TRUE(store_->SetApiKeySecret(mqtt[0], "p", "new", "").ok());
  EXPECT_EQ(store_->ListMqttApiKeys()->size(), 2u);
}

TEST_P(MetaTest, AuditEntriesBeforeACutOffAreDeleted) {
  EXPECT_EQ(*store_->DeleteAuditBefore(1000), 0);  // nothing yet
  for (TimeMs ts : {10, 20, 30}) {
    AuditEntry a;
    a.action = "t" + std::to_string(ts);
    a.object_type = "device";
    a.ts = ts;
    ASSERT_TRUE(store_->AppendAudit(a).ok());
  }
  auto n = store_->DeleteAuditBefore(25);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 2);
  auto left = store_->ListAudit(std::nullopt, {});
  ASSERT_EQ(left->items.size(), 1u);
  EXPECT_EQ(left->items[0].action, "t30");
  EXPECT_EQ(*store_->DeleteAuditBefore(25), 0);
}

}  // namespace
}  // namespace bysans

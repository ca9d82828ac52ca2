// Access per application (issue 21 §2): a member given a role on some applications of an
// organisation reaches those applications' devices, readings, alarms and live stream, and
// nothing else of the organisation. Each refused request is also sent by a member with the same
// role in the whole organisation and must succeed there, so a test cannot pass because the
// request itself is bad.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "security/security_fixture.h"
#include "security/sse_stream.h"

namespace bysans::testing {
namespace {

class AppScopeSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    server_env_.push_back("BYSANS_AUTH_LOGIN_ATTEMPTS_PER_MINUTE=1000");
    server_env_.push_back("BYSANS_AUTH_STREAM_RECHECK_S=1");
    SecurityTest::SetUp();
    // A second application of organisation A with a device of its own.
    auto app = admin_->PostJson(a_.OrgPath() + "/applications", {{"name", "Ældrepleje"}});
    ASSERT_EQ(app.status, 201) << app.body;
    other_app_ = app.Json().value("id", int64_t{0});
    auto dev = admin_->PostJson("/api/v1/applications/" + std::to_string(other_app_) + "/devices",
                                {{"name", "Faldsensor"}, {"transport", "http"}});
    ASSERT_EQ(dev.status, 201) << dev.body;
    other_device_ = dev.Json().value("id", int64_t{0});
    other_key_ = dev.Json().value("apiKey", "");
    scoped_ = AddMember(a_.device.org_id, "operator", "scoped");
    Restrict(scoped_, "operator", {a_.device.app_id});
    whole_ = AddMember(a_.device.org_id, "operator", "whole");
  }

  HttpResult Restrict(const OrgMember& m, const std::string& role, const json& apps) {
    auto r = Send(*a_.admin.client, "PUT", a_.OrgPath() + "/members/" + std::to_string(m.user_id),
                  {{"role", role}, {"applications", apps}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r;
  }

  std::string OtherDevicePath() const { return "/api/v1/devices/" + std::to_string(other_device_); }
  std::string OtherAppPath() const { return "/api/v1/applications/" + std::to_string(other_app_); }

  // The ids in a paged listing.
  static std::vector<int64_t> Ids(const HttpResult& r) {
    std::vector<int64_t> out;
    for (const auto& i : r.Json().value("items", json::array())) out.push_back(i.value("id", 0));
    return out;
  }

  // A critical alarm on `device_id` raised by A's editor's rule; its id.
  int64_t RaiseAlarm(int64_t device_id, const std::string& key) {
    auto rule = Send(*a_.editor.client, "POST", a_.OrgPath() + "/rules",
                     {{"name", "Fald " + std::to_string(device_id)},
                      {"severity", "critical"},
                      {"scope", {{"kind", "device"}, {"id", device_id}}},
                      {"expression", "co2 > 1000"}});
    EXPECT_EQ(rule.status, 201) << rule.body;
    auto r = Ingest(key, json{{"co2", 1500}}.dump());
    EXPECT_EQ(r.status, 204) << r.body;
    int64_t id = 0;
    EXPECT_TRUE(WaitFor([&] {
      auto list =
          admin_->Get(a_.OrgPath() + "/alarms?state=open&deviceId=" + std::to_string(device_id));
      auto items = list.Json().value("items", json::array());
      if (items.empty()) return false;
      id = items[0].value("id", int64_t{0});
      return true;
    }));
    return id;
  }

  int64_t other_app_ = 0, other_device_ = 0;
  std::string other_key_;
  OrgMember scoped_, whole_;
};

TEST_F(AppScopeSecurityTest, ListingsHoldOnlyTheMembersApplications) {
  HttpClient& c = *scoped_.client;
  EXPECT_EQ(Ids(c.Get(a_.OrgPath() + "/applications")), std::vector<int64_t>{a_.device.app_id});
  EXPECT_EQ(Ids(c.Get(a_.OrgPath() + "/devices")), std::vector<int64_t>{a_.device.device_id});
  // Asking for the other application's devices by filter gives nothing either.
  EXPECT_TRUE(Ids(c.Get(a_.OrgPath() + "/devices?app=" + std::to_string(other_app_))).empty());
  // The organisation-wide operator sees both (the listings work).
  EXPECT_EQ(Ids(whole_.client->Get(a_.OrgPath() + "/applications")).size(), 2u);
  EXPECT_EQ(Ids(whole_.client->Get(a_.OrgPath() + "/devices")).size(), 2u);
  // The organisation itself can be read (its name for the UI).
  EXPECT_EQ(c.Get(a_.OrgPath()).status, 200);
  // /auth/me tells the UI which applications.
  auto me = c.Get("/api/v1/auth/me").Json();
  ASSERT_EQ(me["memberships"].size(), 1u) << me.dump();
  EXPECT_EQ(me["memberships"][0]["applications"], json::array({a_.device.app_id}));
}

TEST_F(AppScopeSecurityTest, TheOtherApplicationsObjectsAreNotFound) {
  for (const std::string& path :
       {OtherDevicePath(), OtherDevicePath() + "/readings", OtherDevicePath() + "/latest",
        OtherDevicePath() + "/messages", OtherDevicePath() + "/keys", OtherAppPath(),
        OtherAppPath() + "/devices", OtherAppPath() + "/latest"}) {
    EXPECT_EQ(scoped_.client->Get(path).status, 404) << path;
    EXPECT_EQ(whole_.client->Get(path).status, 200) << path;
  }
  for (const std::string& path : {a_.DevicePath(), a_.DevicePath() + "/readings", a_.AppPath()})
    EXPECT_EQ(scoped_.client->Get(path).status, 200) << path;
}

// Every organisation-wide route stays closed to a restricted member (fail closed), however low
// the role it needs.
TEST_F(AppScopeSecurityTest, OrganisationWideRoutesAreClosed) {
  for (const std::string& path :
       {a_.OrgPath() + "/rules", a_.OrgPath() + "/decoders", a_.OrgPath() + "/device-models"}) {
    EXPECT_EQ(scoped_.client->Get(path).status, 404) << path;
    EXPECT_EQ(whole_.client->Get(path).status, 200) << path;
  }
  // The audit log is not theirs to read.
  EXPECT_NE(scoped_.client->Get("/api/v1/audit?orgId=" + std::to_string(a_.device.org_id)).status,
            200);
}

// SensorThings shows the member's applications only: their Things, Datastreams and Observations;
// the other application's answer 404 by id and are out of every listing, $filter and $expand.
TEST_F(AppScopeSecurityTest, SensorThingsShowsTheMembersApplicationsOnly) {
  ASSERT_EQ(Ingest(a_.device.ingest_key, json{{"co2", 500}}.dump()).status, 204);
  ASSERT_EQ(Ingest(other_key_, json{{"co2", 900}}.dump()).status, 204);
  auto ids = [](const HttpResult& r) {
    std::vector<int64_t> out;
    for (const auto& v : r.Json().value("value", json::array()))
      out.push_back(v.value("@iot.id", int64_t{0}));
    return out;
  };
  const std::string other_thing = "/sta/v1.1/Things(" + std::to_string(other_device_) + ")";
  int64_t other_ds = 0;
  ASSERT_TRUE(WaitFor([&] {
    auto ds = ids(whole_.client->Get(other_thing + "/Datastreams"));
    other_ds = ds.empty() ? 0 : ds[0];
    return other_ds != 0;
  }));
  EXPECT_EQ(ids(scoped_.client->Get("/sta/v1.1/Things")),
            std::vector<int64_t>{a_.device.device_id});
  EXPECT_EQ(ids(whole_.client->Get("/sta/v1.1/Things")).size(), 2u);
  const std::string other_ds_path = "/sta/v1.1/Datastreams(" + std::to_string(other_ds) + ")";
  for (const std::string& path : {other_thing, other_thing + "/Datastreams", other_ds_path,
                                  other_ds_path + "/Observations"}) {
    EXPECT_EQ(scoped_.client->Get(path).status, 404) << path;
    EXPECT_EQ(whole_.client->Get(path).status, 200) << path;
  }
  for (int64_t ds : ids(scoped_.client->Get("/sta/v1.1/Datastreams"))) EXPECT_NE(ds, other_ds);
  // Observations of every visible Datastream: 500 only, never the other device's 900.
  auto obs = scoped_.client->Get("/sta/v1.1/Observations?$filter=result%20eq%20900");
  EXPECT_EQ(obs.status, 200) << obs.body;
  EXPECT_TRUE(obs.Json().value("value", json::array()).empty()) << obs.body;
  EXPECT_FALSE(whole_.client->Get("/sta/v1.1/Observations?$filter=result%20eq%20900")
                   .Json()
                   .value("value", json::array())
                   .empty());
  // The results in the expanded Things (not a search of the text: the URLs hold a random port).
  auto expanded = scoped_.client->Get("/sta/v1.1/Things?$expand=Datastreams/Observations");
  std::vector<double> results;
  const json things = expanded.Json();
  for (const json& thing : things.value("value", json::array()))
    for (const json& ds : thing.value("Datastreams", json::array()))
      for (const json& o : ds.value("Observations", json::array()))
        if (o.contains("result") && o["result"].is_number()) results.push_back(o["result"]);
  EXPECT_EQ(std::count(results.begin(), results.end(), 900.0), 0) << expanded.body;
  EXPECT_GT(std::count(results.begin(), results.end(), 500.0), 0) << expanded.body;
  // Sensors (device models): the other application's device's model is not theirs.
  auto model = Send(*a_.admin.client, "POST", a_.OrgPath() + "/device-models",
                    {{"name", "Ældreplejens faldmodel"}});
  ASSERT_EQ(model.status, 201) << model.body;
  ASSERT_EQ(Send(*a_.admin.client, "PATCH", OtherDevicePath(),
                 {{"deviceModelId", model.Json().value("id", 0)}})
                .status,
            200);
  const std::string sensor =
      "/sta/v1.1/Sensors(" + std::to_string(model.Json().value("id", 0)) + ")";
  EXPECT_EQ(scoped_.client->Get(sensor).status, 404);
  EXPECT_EQ(whole_.client->Get(sensor).status, 200);
  EXPECT_EQ(scoped_.client->Get("/sta/v1.1/Sensors").body.find("faldmodel"), std::string::npos);
  // Their application's Thing is theirs to read.
  EXPECT_EQ(
      scoped_.client->Get("/sta/v1.1/Things(" + std::to_string(a_.device.device_id) + ")").status,
      200);
}

TEST_F(AppScopeSecurityTest, AlarmsOfTheOtherApplicationAreNeitherListedNorAcknowledged) {
  const int64_t mine = RaiseAlarm(a_.device.device_id, a_.device.ingest_key);
  const int64_t theirs = RaiseAlarm(other_device_, other_key_);
  ASSERT_NE(mine, 0);
  ASSERT_NE(theirs, 0);
  EXPECT_EQ(Ids(scoped_.client->Get(a_.OrgPath() + "/alarms?state=open")),
            std::vector<int64_t>{mine});
  EXPECT_EQ(Ids(whole_.client->Get(a_.OrgPath() + "/alarms?state=open")).size(), 2u);
  const std::string ack = "/acknowledge";
  EXPECT_EQ(scoped_.client->Get("/api/v1/alarms/" + std::to_string(theirs)).status, 404);
  EXPECT_EQ(Send(*scoped_.client, "POST", "/api/v1/alarms/" + std::to_string(theirs) + ack,
                 json::object())
                .status,
            404);
  EXPECT_EQ(
      Send(*scoped_.client, "POST", "/api/v1/alarms/" + std::to_string(mine) + ack, json::object())
          .status,
      200);
  EXPECT_EQ(
      Send(*whole_.client, "POST", "/api/v1/alarms/" + std::to_string(theirs) + ack, json::object())
          .status,
      200);
}

TEST_F(AppScopeSecurityTest, TheStreamCarriesOnlyTheMembersDevicesAndEndsWhenTheScopeChanges) {
  HttpClient session(server_->url());
  auto login = session.Login(scoped_.email, scoped_.password);
  ASSERT_EQ(login.status, 200) << login.body;
  SseStream stream(server_->url() + a_.OrgPath() + "/stream", {"Cookie: " + SessionCookie(login)});
  ASSERT_TRUE(stream.Opened()) << stream.body();
  // A value no timestamp or id can contain ("…:12.811Z" once matched a plain 811).
  ASSERT_EQ(Ingest(other_key_, json{{"co2", 4711.25}}.dump()).status, 204);
  ASSERT_EQ(Ingest(a_.device.ingest_key, json{{"co2", 612}}.dump()).status, 204);
  const std::string mine = "\"deviceId\":" + std::to_string(a_.device.device_id);
  ASSERT_TRUE(WaitFor([&] { return stream.body().find(mine) != std::string::npos; }))
      << stream.body();
  // Published in that order by one writer: the other device's reading came first, or not at all.
  EXPECT_EQ(stream.body().find("\"deviceId\":" + std::to_string(other_device_)), std::string::npos)
      << stream.body();
  EXPECT_EQ(stream.body().find("4711.25"), std::string::npos) << stream.body();
  // Given the other application instead: the open stream ends.
  Restrict(scoped_, "operator", {other_app_});
  EXPECT_TRUE(stream.EndsWithin(std::chrono::seconds(5))) << stream.body();
  EXPECT_NE(stream.body().find("event: revoked"), std::string::npos) << stream.body();
}

// Dashboards shared with an application (issue 21 §4): a restricted member lists and reads those
// of their applications only, and changes none; a shared dashboard names only its application's
// devices and goes with the application.
TEST_F(AppScopeSecurityTest, DashboardsSharedWithTheirApplicationOnly) {
  auto make = [&](const std::string& name, const json& app, int64_t device) {
    return Send(
        *a_.editor.client, "POST", a_.OrgPath() + "/dashboards",
        {{"name", name},
         {"applicationId", app},
         {"layout", {{"widgets", {{{"type", "latest"}, {"deviceId", device}, {"key", "co2"}}}}}}});
  };
  auto mine = make("Skoler", a_.device.app_id, a_.device.device_id);
  ASSERT_EQ(mine.status, 201) << mine.body;
  auto theirs = make("Pleje", other_app_, other_device_);
  ASSERT_EQ(theirs.status, 201) << theirs.body;
  auto whole = make("Alt", nullptr, other_device_);
  ASSERT_EQ(whole.status, 201) << whole.body;
  // A dashboard shared with one application names only its devices.
  auto mixed = make("Blandet", a_.device.app_id, other_device_);
  EXPECT_EQ(mixed.status, 400) << mixed.body;
  // Nor another organisation's application.
  EXPECT_EQ(make("Fremmed", b_.device.app_id, a_.device.device_id).status, 400);

  const auto id = [](const HttpResult& r) { return r.Json().value("id", int64_t{0}); };
  EXPECT_EQ(Ids(scoped_.client->Get(a_.OrgPath() + "/dashboards")), std::vector<int64_t>{id(mine)});
  EXPECT_EQ(Ids(whole_.client->Get(a_.OrgPath() + "/dashboards")).size(), 3u);
  const std::string path = "/api/v1/dashboards/";
  EXPECT_EQ(scoped_.client->Get(path + std::to_string(id(mine))).status, 200);
  EXPECT_EQ(scoped_.client->Get(path + std::to_string(id(theirs))).status, 404);
  EXPECT_EQ(scoped_.client->Get(path + std::to_string(id(whole))).status, 404);
  // Read only, even for a restricted editor of that application.
  OrgMember ed = AddMember(a_.device.org_id, "editor", "dash-ed");
  Restrict(ed, "editor", {a_.device.app_id});
  EXPECT_EQ(ed.client->Get(path + std::to_string(id(mine))).status, 200);
  EXPECT_EQ(
      Send(*ed.client, "PUT", path + std::to_string(id(mine)), {{"applicationId", nullptr}}).status,
      404);
  EXPECT_EQ(Send(*ed.client, "DELETE", path + std::to_string(id(mine)), json::object()).status,
            404);
  // The shared dashboard goes with its application.
  ASSERT_LT(Send(*a_.admin.client, "DELETE", OtherAppPath(), json::object()).status, 300);
  EXPECT_EQ(whole_.client->Get(path + std::to_string(id(theirs))).status, 404);
}

TEST_F(AppScopeSecurityTest, ARestrictedEditorChangesOnlyTheirApplication) {
  OrgMember ed = AddMember(a_.device.org_id, "editor", "scoped-ed");
  Restrict(ed, "editor", {a_.device.app_id});
  EXPECT_EQ(Send(*ed.client, "PATCH", a_.DevicePath(), {{"name", "Lokale 1b"}}).status, 200);
  EXPECT_EQ(Send(*ed.client, "PATCH", OtherDevicePath(), {{"name", "x"}}).status, 404);
  EXPECT_EQ(
      Send(*ed.client, "POST", OtherAppPath() + "/devices", {{"name", "ny"}, {"transport", "http"}})
          .status,
      404);
  EXPECT_EQ(Send(*ed.client, "DELETE", OtherDevicePath(), json::object()).status, 404);
  // Nor anything organisation-wide: a new application, an API key, a rule.
  EXPECT_EQ(Send(*ed.client, "POST", a_.OrgPath() + "/applications", {{"name", "ny"}}).status, 404);
  EXPECT_EQ(Send(*ed.client, "POST", a_.OrgPath() + "/rules",
                 {{"name", "r"},
                  {"scope", {{"kind", "device"}, {"id", a_.device.device_id}}},
                  {"expression", "co2 > 5000"}})
                .status,
            404);
  EXPECT_EQ(Send(*a_.editor.client, "PATCH", OtherDevicePath(), {{"name", "x"}}).status, 200);
}

TEST_F(AppScopeSecurityTest, TheScopeIsValidatedAndSurvivesItsApplicationsDeletion) {
  const std::string member = a_.OrgPath() + "/members/" + std::to_string(scoped_.user_id);
  // Not for admins, not another organisation's application, not a made-up one.
  EXPECT_EQ(Send(*a_.admin.client, "PUT", member,
                 {{"role", "admin"}, {"applications", {a_.device.app_id}}})
                .status,
            400);
  for (int64_t app : {b_.device.app_id, int64_t{987654}}) {
    auto r = Send(*a_.admin.client, "PUT", member, {{"role", "viewer"}, {"applications", {app}}});
    EXPECT_EQ(r.status, 400) << r.body;
  }
  // Another organisation's admin cannot restrict (or see) A's members.
  EXPECT_EQ(Send(*b_.admin.client, "PUT", member,
                 {{"role", "viewer"}, {"applications", {b_.device.app_id}}})
                .status,
            404);
  // The member's one application is deleted: they reach nothing, never the whole organisation.
  ASSERT_LT(Send(*a_.admin.client, "DELETE", a_.AppPath(), json::object()).status, 300);
  EXPECT_TRUE(Ids(scoped_.client->Get(a_.OrgPath() + "/devices")).empty());
  EXPECT_TRUE(Ids(scoped_.client->Get(a_.OrgPath() + "/applications")).empty());
  EXPECT_EQ(scoped_.client->Get(OtherDevicePath()).status, 404);
  auto got = a_.admin.client->Get(member).Json();
  EXPECT_EQ(got["applications"], json::array()) << got.dump();
  // Lifting the restriction gives the whole organisation back.
  Restrict(scoped_, "operator", nullptr);
  EXPECT_EQ(scoped_.client->Get(OtherDevicePath()).status, 200);
}

// An invitation to one application: validated like a member's scope, and the member who accepts
// it reaches that application only. Answered by B's viewer, who has an account but no role in A.
TEST_F(AppScopeSecurityTest, AnInvitationToOneApplicationGivesThatApplicationOnly) {
  const std::string invitations = a_.OrgPath() + "/invitations";
  const std::string email = b_.viewer.email;
  EXPECT_EQ(Send(*a_.admin.client, "POST", invitations,
                 {{"email", email}, {"role", "admin"}, {"applications", {a_.device.app_id}}})
                .status,
            400);
  for (int64_t app : {b_.device.app_id, int64_t{987654}}) {
    auto r = Send(*a_.admin.client, "POST", invitations,
                  {{"email", email}, {"role", "editor"}, {"applications", {app}}});
    EXPECT_EQ(r.status, 400) << r.body;
  }
  // B's admin cannot invite anyone to A's application either.
  EXPECT_EQ(Send(*b_.admin.client, "POST", invitations,
                 {{"email", email}, {"role", "editor"}, {"applications", {a_.device.app_id}}})
                .status,
            404);
  auto inv = Send(*a_.admin.client, "POST", invitations,
                  {{"email", email}, {"role", "editor"}, {"applications", {other_app_}}});
  ASSERT_EQ(inv.status, 201) << inv.body;
  EXPECT_EQ(inv.Json()["applications"], json{other_app_}) << inv.body;
  const int64_t id = inv.Json().value("id", int64_t{0});
  auto mine = b_.viewer.client->Get("/api/v1/me/invitations");
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(mine.Json()["items"][0]["applications"], json{other_app_}) << mine.body;
  auto accepted = Send(*b_.viewer.client, "POST",
                       "/api/v1/me/invitations/" + std::to_string(id) + "/accept", json::object());
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(accepted.Json()["applications"], json{other_app_}) << accepted.body;
  // The care application's device: theirs to change; the first application's: not found.
  EXPECT_EQ(b_.viewer.client->Get(OtherDevicePath()).status, 200);
  EXPECT_EQ(Send(*b_.viewer.client, "PATCH", OtherDevicePath(), {{"name", "Faldsensor 2"}}).status,
            200);
  EXPECT_EQ(b_.viewer.client->Get(a_.DevicePath()).status, 404);
  EXPECT_EQ(Ids(b_.viewer.client->Get(a_.OrgPath() + "/devices")),
            std::vector<int64_t>{other_device_});
  EXPECT_EQ(b_.viewer.client->Get(a_.OrgPath() + "/rules").status, 404);
  // The restricted editor cannot invite anyone (only admins do).
  EXPECT_EQ(Send(*b_.viewer.client, "POST", invitations,
                 {{"email", "x@kommune.dk"}, {"role", "viewer"}, {"applications", {other_app_}}})
                .status,
            404);
  auto member =
      a_.admin.client->Get(a_.OrgPath() + "/members/" + std::to_string(b_.viewer.user_id));
  EXPECT_EQ(member.Json()["applications"], json{other_app_}) << member.body;
}

}  // namespace
}  // namespace bysans::testing

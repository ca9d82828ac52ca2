// Saved dashboards across organisations and roles (issue 21 §4): organisation B's editor (the
// attacker) tries to list, read, change and delete A's dashboards, to create one in A, and to
// point a widget of its own dashboard at A's device or application; A's viewer tries to create
// one and to change or delete A's. Each test also checks the legitimate use.
#include <string>

#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class DashboardSecurityTest : public SecurityTest {
 protected:
  static std::string DashboardPath(int64_t id) {
    return "/api/v1/dashboards/" + std::to_string(id);
  }
  static json LatestOf(int64_t device) {
    return {{"widgets", {{{"type", "latest"}, {"deviceId", device}, {"key", "co2"}}}}};
  }
  // A dashboard of `t` showing its own device, created by t's editor.
  static int64_t CreateDashboard(Tenant& t, const std::string& name) {
    auto r = Send(*t.editor.client, "POST", t.OrgPath() + "/dashboards",
                  {{"name", name}, {"layout", LatestOf(t.device.device_id)}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", int64_t{0});
  }
};

TEST_F(DashboardSecurityTest, AnotherOrganisationsEditorCannotReachTheDashboards) {
  int64_t id = CreateDashboard(a_, "A's school");
  const std::string before = admin_->Get(DashboardPath(id)).body;
  HttpClient& b = *b_.editor.client;
  EXPECT_EQ(b.Get(a_.OrgPath() + "/dashboards").status, 404);
  EXPECT_EQ(b.Get(DashboardPath(id)).status, 404);
  EXPECT_EQ(Send(b, "PUT", DashboardPath(id), {{"name", "hijacked"}}).status, 404);
  EXPECT_EQ(Send(b, "PUT", DashboardPath(id), {{"layout", LatestOf(b_.device.device_id)}}).status,
            404);
  EXPECT_EQ(b.Request("DELETE", DashboardPath(id)).status, 404);
  EXPECT_EQ(Send(b, "POST", a_.OrgPath() + "/dashboards",
                 {{"name", "planted"}, {"layout", LatestOf(b_.device.device_id)}})
                .status,
            404);
  // Also B's admin; and the 404 is the one an unknown id gets.
  EXPECT_EQ(b_.admin.client->Get(DashboardPath(id)).status, 404);
  EXPECT_EQ(b_.admin.client->Request("DELETE", DashboardPath(id)).status, 404);
  EXPECT_EQ(b.Get(DashboardPath(id)).Json()["error"]["code"],
            b.Get(DashboardPath(id + 1000)).Json()["error"]["code"]);
  // Nothing changed, nothing was created in A, and A's viewer still reads it.
  EXPECT_EQ(admin_->Get(DashboardPath(id)).body, before);
  auto list = a_.viewer.client->Get(a_.OrgPath() + "/dashboards");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.Json()["items"].size(), 1u) << list.body;
  EXPECT_EQ(list.Json()["items"][0]["name"], "A's school");
}

TEST_F(DashboardSecurityTest, AWidgetCannotShowAnotherOrganisationsDeviceOrApplication) {
  HttpClient& b = *b_.editor.client;
  const std::string list = b_.OrgPath() + "/dashboards";
  const json attacks[] = {LatestOf(a_.device.device_id),
                          {{"widgets",
                            {{{"type", "timeseries"},
                              {"period", "7d"},
                              {"series",
                               {{{"deviceId", b_.device.device_id}, {"key", "co2"}},
                                {{"deviceId", a_.device.device_id}, {"key", "co2"}}}}}}}},
                          {{"widgets", {{{"type", "map"}, {"applicationId", a_.device.app_id}}}}},
                          {{"widgets",
                            {{{"type", "gauge"},
                              {"deviceId", a_.device.device_id},
                              {"key", "co2"},
                              {"min", 0},
                              {"max", 2000}}}}},
                          {{"widgets",
                            {{{"type", "table"},
                              {"deviceIds", {b_.device.device_id, a_.device.device_id}},
                              {"keys", {"co2"}}}}}}};
  for (const json& layout : attacks) {
    auto r = Send(b, "POST", list, {{"name", "stolen"}, {"layout", layout}});
    EXPECT_EQ(r.status, 400) << layout.dump() << " " << r.body;
  }
  // Nor by changing a dashboard of its own afterwards.
  int64_t own = CreateDashboard(b_, "B's own");
  auto put = Send(b, "PUT", DashboardPath(own), {{"layout", LatestOf(a_.device.device_id)}});
  EXPECT_EQ(put.status, 400) << put.body;
  EXPECT_EQ(b.Get(DashboardPath(own)).Json()["layout"]["widgets"][0]["deviceId"],
            b_.device.device_id);
  // The message is the one a device id that does not exist gets (ownership is not revealed).
  auto theirs = Send(b, "POST", list, {{"name", "x"}, {"layout", LatestOf(a_.device.device_id)}});
  auto missing = Send(b, "POST", list, {{"name", "x"}, {"layout", LatestOf(999'999)}});
  std::string m1 = theirs.Json()["error"]["message"], m2 = missing.Json()["error"]["message"];
  const std::string n = std::to_string(a_.device.device_id);
  EXPECT_EQ(m1.replace(m1.find(n), n.size(), "N"), m2.replace(m2.find("999999"), 6, "N"));
  EXPECT_EQ(b.Get(list).Json()["items"].size(), 1u);
}

TEST_F(DashboardSecurityTest, AViewerCannotCreateChangeOrDelete) {
  int64_t id = CreateDashboard(a_, "A's school");
  HttpClient& v = *a_.viewer.client;
  auto create = Send(v, "POST", a_.OrgPath() + "/dashboards",
                     {{"name", "mine"}, {"layout", LatestOf(a_.device.device_id)}});
  EXPECT_EQ(create.status, 403) << create.body;
  EXPECT_EQ(Send(v, "PUT", DashboardPath(id), {{"name", "mine"}}).status, 403);
  EXPECT_EQ(v.Request("DELETE", DashboardPath(id)).status, 403);
  // An admin-only dashboard is out of the viewer's (and the editor's) reach, even to read.
  auto secret =
      Send(*a_.admin.client, "POST", a_.OrgPath() + "/dashboards",
           {{"name", "admins"}, {"minRole", "admin"}, {"layout", LatestOf(a_.device.device_id)}});
  ASSERT_EQ(secret.status, 201) << secret.body;
  const int64_t secret_id = secret.Json()["id"];
  EXPECT_EQ(v.Get(DashboardPath(secret_id)).status, 403);
  EXPECT_EQ(
      Send(*a_.editor.client, "PUT", DashboardPath(secret_id), {{"minRole", "viewer"}}).status,
      403);
  auto list = v.Get(a_.OrgPath() + "/dashboards");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.Json()["items"].size(), 1u) << list.body;
  EXPECT_EQ(list.Json()["items"][0]["name"], "A's school");
  // The legitimate reader.
  EXPECT_EQ(v.Get(DashboardPath(id)).status, 200);
  EXPECT_EQ(a_.admin.client->Get(DashboardPath(secret_id)).Json()["minRole"], "admin");
}

}  // namespace
}  // namespace bysans::testing

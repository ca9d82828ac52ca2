// Saved dashboards (api/dashboards.cc, api/dashboard_layout.h): layout validation (known widget
// types and members only, size and depth limits, devices and applications of the organisation
// only), visibility by the least role, and who may write.
#include "api/dashboard_layout.h"
#include "store/dashboard_store.h"
#include "unit/api/api_fixture.h"

namespace bysans::testing {
namespace {

json Latest(Id device, const std::string& key = "co2") {
  return {{"type", "latest"}, {"deviceId", device}, {"key", key}};
}
json Layout(json widgets) { return {{"widgets", std::move(widgets)}}; }
json With(json widget, const char* member, json value) {
  widget[member] = std::move(value);
  return widget;
}

TEST(DashboardLayoutTest, NormalisesKnownWidgetsAndListsWhatTheyName) {
  json in =
      Layout({{{"type", "timeseries"},
               {"title", "CO2"},
               {"period", "7d"},
               {"series", {{{"deviceId", 7}, {"key", "co2"}}, {{"deviceId", 3}, {"key", "t"}}}}},
              Latest(7),
              {{"type", "alarms"}},
              {{"type", "map"}, {"applicationId", 2}}});
  auto l = api::ValidateDashboardLayout(in);
  ASSERT_TRUE(l.ok()) << l.status().message();
  EXPECT_EQ(l->device_ids, (std::vector<Id>{3, 7}));
  EXPECT_EQ(l->app_ids, (std::vector<Id>{2}));
  ASSERT_EQ(l->layout["widgets"].size(), 4u);
  EXPECT_EQ(l->layout["widgets"][0]["series"][1]["deviceId"], 3);
  EXPECT_EQ(l->layout["widgets"][2], (json{{"type", "alarms"}, {"title", ""}}));
}

TEST(DashboardLayoutTest, GaugesAndTablesNameTheirDevices) {
  json in =
      Layout({{{"type", "gauge"}, {"deviceId", 9}, {"key", "co2"}, {"min", 400}, {"max", 2000.5}},
              {{"type", "table"}, {"deviceIds", {4, 9, 2}}, {"keys", {"co2", "temperature"}}}});
  auto l = api::ValidateDashboardLayout(in);
  ASSERT_TRUE(l.ok()) << l.status().message();
  EXPECT_EQ(l->device_ids, (std::vector<Id>{2, 4, 9}));
  EXPECT_EQ(l->layout["widgets"][0]["max"], 2000.5);
  EXPECT_EQ(l->layout["widgets"][1]["keys"], (json{"co2", "temperature"}));
}

TEST(DashboardLayoutTest, RefusesWhatItDoesNotKnowOrWhatIsTooBig) {
  auto refused = [](const json& layout, const std::string& says) {
    auto l = api::ValidateDashboardLayout(layout);
    ASSERT_FALSE(l.ok()) << layout.dump();
    EXPECT_EQ(l.status().code(), Code::kInvalidArgument);
    EXPECT_NE(l.status().message().find(says), std::string::npos) << l.status().message();
  };
  refused(json::array(), "must be an object");
  refused(Layout({{{"type", "iframe"}, {"src", "https://evil.example"}}}), "unknown type 'iframe'");
  refused(Layout({{{"type", "alarms"}, {"script", "x"}}}), "unknown member 'script'");
  refused(json{{"widgets", json::array()}, {"extra", 1}}, "unknown member 'extra'");
  json gauge = {{"type", "gauge"}, {"deviceId", 1}, {"key", "t"}, {"min", 0}, {"max", 10}};
  refused(Layout({With(gauge, "min", 10)}), "'min' must be below 'max'");
  refused(Layout({With(gauge, "max", "10")}), "'max' must be a number");
  refused(Layout({With(gauge, "max", 1e300)}), "'max' must be a number");
  refused(Layout({With(gauge, "needle", "red")}), "unknown member 'needle'");
  json table = {{"type", "table"}, {"deviceIds", {1}}, {"keys", {"t"}}};
  refused(Layout({With(table, "deviceIds", json::array())}), "'deviceIds'");
  refused(Layout({With(table, "deviceIds", json{1, -2})}), "'deviceIds' must hold positive");
  refused(Layout({With(table, "deviceIds", std::vector<int>(api::kMaxTableDevices + 1, 1))}),
          "'deviceIds'");
  refused(Layout({With(table, "keys", json{"t", ""})}), "each of 'keys'");
  refused(Layout({With(table, "keys", std::vector<std::string>(api::kMaxTableKeys + 1, "k"))}),
          "'keys' must be a list");
  refused(Layout({Latest(0)}), "'deviceId' must be a positive id");
  refused(Layout({{{"type", "latest"}, {"deviceId", "7"}, {"key", "co2"}}}), "'deviceId'");
  refused(Layout({Latest(1, "")}), "'key'");
  refused(Layout({Latest(1, std::string(api::kMaxText + 1, 'k'))}), "'key'");
  refused(Layout({{{"type", "timeseries"},
                   {"period", "1y"},
                   {"series", {{{"deviceId", 1}, {"key", "t"}}}}}}),
          "'period'");
  refused(Layout({{{"type", "timeseries"}, {"period", "24h"}, {"series", json::array()}}}),
          "'series'");
  json many = json::array();
  for (size_t i = 0; i <= api::kMaxSeries; ++i) many.push_back({{"deviceId", 1}, {"key", "t"}});
  refused(Layout({{{"type", "timeseries"}, {"period", "24h"}, {"series", many}}}), "'series'");
  refused(Layout(json(std::vector<json>(api::kMaxWidgets + 1, Latest(1)))), "at most 24 widgets");
  refused(Layout({{{"type", "timeseries"},
                   {"period", "24h"},
                   {"series", {{{"deviceId", 1}, {"key", {{"deep", {1}}}}}}}}}),
          "nested deeper");
  refused(
      Layout(json(std::vector<json>(20, {{"type", "alarms"}, {"title", std::string(2000, 'x')}}))),
      "longer than");
}

class DashboardsApiTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    MakeUser("root@example.dk", "Root-pass-for-tests-1", true);
    root_ = Login("root@example.dk", "Root-pass-for-tests-1");
    org_ = Make("/api/v1/organizations", json{{"name", "A"}});
    other_org_ = Make("/api/v1/organizations", json{{"name", "B"}});
    app_ = Make(OrgPath(org_) + "/applications", json{{"name", "skole"}});
    device_ = Make("/api/v1/applications/" + std::to_string(app_) + "/devices",
                   json{{"name", "klasse-1"}});
    Id other_app = Make(OrgPath(other_org_) + "/applications", json{{"name", "andet"}});
    other_app_ = other_app;
    other_device_ = Make("/api/v1/applications/" + std::to_string(other_app) + "/devices",
                         json{{"name", "fremmed"}});
    for (const char* role : {"viewer", "operator", "editor", "admin"})
      keys_[role] = Key(org_, role);
  }

  static std::string OrgPath(Id org) { return "/api/v1/organizations/" + std::to_string(org); }
  static std::string One(Id id) { return "/api/v1/dashboards/" + std::to_string(id); }

  Id Make(const std::string& path, const json& body) {
    Reply r = Call("POST", path, root_, body);
    EXPECT_EQ(r.status, 201) << path << " " << r.raw;
    return r.body.value("id", Id{0});
  }

  Creds Key(Id org, const std::string& role) {
    Reply r = Call("POST", OrgPath(org) + "/api-keys", root_, json{{"name", role}, {"role", role}});
    EXPECT_EQ(r.status, 201) << r.raw;
    return Creds::Key(r.body.value("key", ""));
  }

  Reply Create(const std::string& role, const json& body) {
    return Call("POST", OrgPath(org_) + "/dashboards", keys_[role], body);
  }

  std::vector<std::string> Names(const std::string& role) {
    Reply r = Call("GET", OrgPath(org_) + "/dashboards", keys_[role]);
    EXPECT_EQ(r.status, 200) << r.raw;
    std::vector<std::string> out;
    for (const json& d : r.body["items"]) out.push_back(d.value("name", ""));
    return out;
  }

  Creds root_;
  Id org_ = 0, other_org_ = 0, app_ = 0, device_ = 0, other_app_ = 0, other_device_ = 0;
  std::map<std::string, Creds> keys_;
};

TEST_F(DashboardsApiTest, EditorCreatesReadsChangesAndDeletes) {
  Reply c = Create("editor", json{{"name", "Skolen"}, {"layout", Layout({Latest(device_)})}});
  ASSERT_EQ(c.status, 201) << c.raw;
  EXPECT_EQ(c.body["minRole"], "viewer");
  EXPECT_EQ(c.body["layout"]["widgets"][0]["deviceId"], device_);
  const Id id = c.body["id"];
  Reply g = Call("GET", One(id), keys_["viewer"]);
  ASSERT_EQ(g.status, 200) << g.raw;
  EXPECT_EQ(g.body["name"], "Skolen");
  EXPECT_EQ(g.body["layout"], c.body["layout"]);

  Reply p = Call("PUT", One(id), keys_["editor"],
                 json{{"name", "Skolen 2"},
                      {"layout", Layout({{{"type", "map"}, {"applicationId", app_}},
                                         {{"type", "alarms"}},
                                         Latest(device_)})}});
  ASSERT_EQ(p.status, 200) << p.raw;
  g = Call("GET", One(id), keys_["viewer"]);
  EXPECT_EQ(g.body["name"], "Skolen 2");
  ASSERT_EQ(g.body["layout"]["widgets"].size(), 3u);
  EXPECT_EQ(g.body["layout"]["widgets"][0]["type"], "map");
  // A PUT of the name alone keeps the layout.
  ASSERT_EQ(Call("PUT", One(id), keys_["editor"], json{{"name", "S3"}}).status, 200);
  EXPECT_EQ(Call("GET", One(id), keys_["viewer"]).body["layout"]["widgets"].size(), 3u);

  EXPECT_EQ(Call("DELETE", One(id), keys_["editor"]).status, 204);
  EXPECT_EQ(Call("GET", One(id), keys_["viewer"]).status, 404);
  EXPECT_EQ(Call("DELETE", One(id), keys_["editor"]).status, 404);
}

TEST_F(DashboardsApiTest, ViewersAndOperatorsCannotWrite) {
  Reply c = Create("editor", json{{"name", "x"}, {"layout", Layout(json::array())}});
  ASSERT_EQ(c.status, 201) << c.raw;
  const Id id = c.body["id"];
  for (const char* role : {"viewer", "operator"}) {
    EXPECT_EQ(Create(role, json{{"name", "mine"}, {"layout", Layout(json::array())}}).status, 403)
        << role;
    EXPECT_EQ(Call("PUT", One(id), keys_[role], json{{"name", "mine"}}).status, 403) << role;
    EXPECT_EQ(Call("DELETE", One(id), keys_[role]).status, 403) << role;
  }
  EXPECT_EQ(Names("admin"), std::vector<std::string>{"x"});
  EXPECT_EQ(Call("GET", One(id), keys_["admin"]).body["name"], "x");
}

TEST_F(DashboardsApiTest, MinimumRoleHidesDashboardsFromLesserRoles) {
  ASSERT_EQ(Create("admin", json{{"name", "a-all"}, {"layout", Layout(json::array())}}).status,
            201);
  ASSERT_EQ(
      Create("admin",
             json{{"name", "b-ops"}, {"minRole", "operator"}, {"layout", Layout(json::array())}})
          .status,
      201);
  Reply adm = Create(
      "admin", json{{"name", "c-adm"}, {"minRole", "admin"}, {"layout", Layout(json::array())}});
  ASSERT_EQ(adm.status, 201);
  EXPECT_EQ(Names("viewer"), std::vector<std::string>{"a-all"});
  EXPECT_EQ(Names("operator"), (std::vector<std::string>{"a-all", "b-ops"}));
  EXPECT_EQ(Names("editor"), (std::vector<std::string>{"a-all", "b-ops"}));
  EXPECT_EQ(Names("admin"), (std::vector<std::string>{"a-all", "b-ops", "c-adm"}));
  const Id id = adm.body["id"];
  EXPECT_EQ(Call("GET", One(id), keys_["viewer"]).status, 403);
  EXPECT_EQ(Call("GET", One(id), keys_["editor"]).status, 403);
  EXPECT_EQ(Call("PUT", One(id), keys_["editor"], json{{"name", "mine"}}).status, 403);
  EXPECT_EQ(Call("DELETE", One(id), keys_["editor"]).status, 403);
  EXPECT_EQ(Call("GET", One(id), keys_["admin"]).status, 200);
  // An editor cannot make a dashboard only admins would see.
  Reply up = Create("editor",
                    json{{"name", "d"}, {"minRole", "admin"}, {"layout", Layout(json::array())}});
  EXPECT_EQ(up.status, 403) << up.raw;
  EXPECT_EQ(
      Create("editor", json{{"name", "d"}, {"minRole", "boss"}, {"layout", Layout(json::array())}})
          .status,
      400);
}

TEST_F(DashboardsApiTest, LayoutNamesOnlyTheOrganisationsDevicesAndApplications) {
  for (const json& layout :
       {Layout({Latest(other_device_)}),
        Layout({{{"type", "timeseries"},
                 {"period", "24h"},
                 {"series",
                  {{{"deviceId", device_}, {"key", "t"}},
                   {{"deviceId", other_device_}, {"key", "t"}}}}}}),
        Layout({{{"type", "map"}, {"applicationId", other_app_}}}), Layout({Latest(999999)})}) {
    Reply r = Create("editor", json{{"name", "x"}, {"layout", layout}});
    EXPECT_EQ(r.status, 400) << layout.dump() << " " << r.raw;
    EXPECT_NE(r.raw.find("not a"), std::string::npos) << r.raw;
  }
  // The same answer for another organisation's device and one that does not exist.
  Reply foreign =
      Create("editor", json{{"name", "x"}, {"layout", Layout({Latest(other_device_)})}});
  Reply missing = Create("editor", json{{"name", "x"}, {"layout", Layout({Latest(999999)})}});
  EXPECT_EQ(foreign.body["error"]["code"], missing.body["error"]["code"]);
  Reply ok = Create("editor", json{{"name", "x"}, {"layout", Layout({Latest(device_)})}});
  ASSERT_EQ(ok.status, 201);
  Reply put = Call("PUT", One(ok.body["id"]), keys_["editor"],
                   json{{"layout", Layout({Latest(other_device_)})}});
  EXPECT_EQ(put.status, 400);
  EXPECT_EQ(
      Call("GET", One(ok.body["id"]), keys_["viewer"]).body["layout"]["widgets"][0]["deviceId"],
      device_);
  EXPECT_EQ(Names("viewer"), std::vector<std::string>{"x"});
  // Missing and unknown fields.
  EXPECT_EQ(Create("editor", json{{"name", "x"}}).status, 400);
  EXPECT_EQ(Create("editor", json{{"layout", Layout(json::array())}}).status, 400);
  EXPECT_EQ(Create("editor",
                   json{{"name", "x"}, {"layout", Layout(json::array())}, {"orgId", other_org_}})
                .status,
            400);
}

TEST_F(DashboardsApiTest, StoreCascadesWithTheOrganisation) {
  ASSERT_EQ(Create("editor", json{{"name", "x"}, {"layout", Layout(json::array())}}).status, 201);
  auto before = store_->dashboards().ListDashboards(org_, Role::kAdmin);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->size(), 1u);
  ASSERT_EQ(Call("DELETE", OrgPath(org_), root_).status, 204);
  auto after = store_->dashboards().ListDashboards(org_, Role::kAdmin);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
  Dashboard d;
  d.org_id = org_;
  d.name = "orphan";
  d.layout = "{}";
  EXPECT_EQ(store_->dashboards().CreateDashboard(d).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace bysans::testing

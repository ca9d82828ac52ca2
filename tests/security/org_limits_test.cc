// An organisation has at most so many devices (limits.max_devices_per_org, or its own maxDevices
// that only a global admin sets), data targets and MQTT integrations (api/org_limits.h): each
// costs the shared server for as long as it exists (a device its series, rules' state and caches;
// a target or an integration a thread and a connection), so one organisation creating them without
// end would grow the server for all, and with threads stop it. The attacks: an editor creating
// devices past the limit (REST and SensorThings), an organisation admin raising the limit, and an
// organisation admin creating data targets and integrations past theirs, an editor creating rules
// past theirs (each is evaluated on the rules thread every organisation shares), an editor
// silencing without end (every change reloads all silences on that thread), and dashboards and
// open-data datasets and applications past theirs (each read whole, the datasets for anyone).
#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class OrgLimitsSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    server_env_ = {
        "BYSANS_LIMITS_MAX_DEVICES_PER_ORG=3",      "BYSANS_LIMITS_MAX_DATA_TARGETS_PER_ORG=2",
        "BYSANS_LIMITS_MAX_INTEGRATIONS_PER_ORG=1", "BYSANS_LIMITS_MAX_RULES_PER_ORG=2",
        "BYSANS_LIMITS_MAX_SILENCES_PER_ORG=2",     "BYSANS_LIMITS_MAX_DASHBOARDS_PER_ORG=1",
        "BYSANS_LIMITS_MAX_DATASETS_PER_ORG=1",     "BYSANS_LIMITS_MAX_APPLICATIONS_PER_ORG=2"};
    SecurityTest::SetUp();  // each organisation starts with one device
  }

  HttpResult NewDevice(HttpClient& c, const Tenant& t, const std::string& name) {
    return Send(c, "POST", t.AppPath() + "/devices", {{"name", name}, {"transport", "http"}});
  }
  HttpResult NewThing(HttpClient& c, const Tenant& t, const std::string& name) {
    return Send(c, "POST", "/sta/v1.1/Things",
                {{"name", name}, {"properties", {{"application", {{"id", t.device.app_id}}}}}});
  }
  // `make(tenant, name)` creates one more of something A may have one of: A's first is created,
  // its second refused naming `setting`, B's first created (its count is its own).
  template <class Make>
  void ExpectLimitOfOne(Make make, const std::string& setting) {
    auto first = make(a_, "one");
    ASSERT_EQ(first.status, 201) << first.body;
    auto second = make(a_, "two");
    EXPECT_EQ(second.status, 409) << second.body;
    EXPECT_NE(second.body.find(setting), std::string::npos) << second.body;
    EXPECT_EQ(make(b_, "b-one").status, 201);
  }
  int64_t DeviceCount(const Tenant& t) {
    auto r = t.admin.client->Get(t.AppPath() + "/devices");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("total", int64_t{-1});
  }
};

TEST_F(OrgLimitsSecurityTest, AnOrganisationCannotGrowPastItsLimitOfDevicesNorRaiseIt) {
  auto org = a_.admin.client->Get(a_.OrgPath());
  ASSERT_EQ(org.status, 200) << org.body;
  EXPECT_TRUE(org.Json()["maxDevices"].is_null());
  EXPECT_EQ(org.Json().value("deviceLimit", int64_t{0}), 3);

  ASSERT_EQ(NewDevice(*a_.editor.client, a_, "second").status, 201);
  ASSERT_EQ(NewThing(*a_.editor.client, a_, "third").status, 201);
  // At the limit: neither the REST API nor SensorThings creates another, and the answer says why.
  auto refused = NewDevice(*a_.editor.client, a_, "fourth");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("may have 3"), std::string::npos) << refused.body;
  EXPECT_EQ(NewThing(*a_.editor.client, a_, "fourth").status, 409);
  EXPECT_EQ(NewDevice(*a_.admin.client, a_, "fourth").status, 409);
  EXPECT_EQ(DeviceCount(a_), 3);

  // The organisation's admin cannot raise its limit, nor lift it.
  for (const json& v : {json(100), json(nullptr)}) {
    auto raise = Send(*a_.admin.client, "PATCH", a_.OrgPath(), {{"maxDevices", v}});
    EXPECT_EQ(raise.status, 403) << raise.body;
  }
  EXPECT_EQ(Send(*a_.admin.client, "PATCH", a_.OrgPath(), {{"name", "renamed"}, {"maxDevices", 9}})
                .status,
            403);
  auto after = a_.admin.client->Get(a_.OrgPath());
  EXPECT_EQ(after.Json().value("name", ""), org.Json().value("name", "?"));  // nothing was written
  EXPECT_EQ(after.Json().value("deviceLimit", int64_t{0}), 3);

  // Another organisation's devices count for it alone.
  EXPECT_EQ(NewDevice(*b_.editor.client, b_, "b second").status, 201);

  // A global admin gives A one more, then A's own limit holds.
  auto raised = Send(*admin_, "PATCH", a_.OrgPath(), {{"maxDevices", 4}});
  ASSERT_EQ(raised.status, 200) << raised.body;
  EXPECT_EQ(raised.Json().value("maxDevices", int64_t{0}), 4);
  EXPECT_EQ(raised.Json().value("deviceLimit", int64_t{0}), 4);
  EXPECT_EQ(NewDevice(*a_.editor.client, a_, "fourth").status, 201);
  EXPECT_EQ(NewDevice(*a_.editor.client, a_, "fifth").status, 409);
  EXPECT_EQ(DeviceCount(a_), 4);
  // A device deleted makes room again.
  ASSERT_EQ(a_.editor.client->Request("DELETE", a_.DevicePath()).status, 204);
  EXPECT_EQ(NewDevice(*a_.editor.client, a_, "fifth").status, 201);
  // Bad limits are refused; null returns A to the server's limit.
  EXPECT_EQ(Send(*admin_, "PATCH", a_.OrgPath(), {{"maxDevices", -1}}).status, 400);
  EXPECT_EQ(Send(*admin_, "PATCH", a_.OrgPath(), {{"maxDevices", "many"}}).status, 400);
  auto back = Send(*admin_, "PATCH", a_.OrgPath(), {{"maxDevices", nullptr}});
  ASSERT_EQ(back.status, 200) << back.body;
  EXPECT_EQ(back.Json().value("deviceLimit", int64_t{0}), 3);
  EXPECT_EQ(NewDevice(*a_.editor.client, a_, "sixth").status, 409);
}

// The limits hold against requests sent at the same moment: each used to be counted, then
// created, so concurrent creations all passed the count (an editor with a script ended past its
// organisation's limit by about the number of requests in flight). A's editor key sends 24
// creations of devices, rules and dashboards at once; exactly as many as the limits leave are
// created, the others refused with 409.
TEST_F(OrgLimitsSecurityTest, ConcurrentCreationsDoNotPassTheLimits) {
  auto key = Send(*a_.admin.client, "POST", a_.OrgPath() + "/api-keys",
                  {{"name", "script"}, {"role", "editor"}});
  ASSERT_EQ(key.status, 201) << key.body;
  const std::string secret = key.Json().value("key", "");
  // Sends `n` POSTs of make(i) to `path` at once; the statuses.
  auto burst = [&](const std::string& path, int n, const std::function<json(int)>& make) {
    std::vector<int> statuses(static_cast<size_t>(n), 0);
    std::vector<std::thread> senders;
    std::atomic<bool> go{false};
    for (int i = 0; i < n; ++i)
      senders.emplace_back([&, i] {
        while (!go.load()) std::this_thread::yield();
        statuses[static_cast<size_t>(i)] = WithKey("POST", path, secret, make(i)).status;
      });
    go = true;
    for (auto& t : senders) t.join();
    return statuses;
  };
  auto count = [](const std::vector<int>& statuses, int status) {
    return std::count(statuses.begin(), statuses.end(), status);
  };
  constexpr int kBurst = 24;
  auto devices = burst(a_.AppPath() + "/devices", kBurst, [](int i) {
    return json{{"name", "burst " + std::to_string(i)}, {"transport", "http"}};
  });
  EXPECT_EQ(count(devices, 201), 2) << "A had one device of 3";
  EXPECT_EQ(count(devices, 409), kBurst - 2);
  EXPECT_EQ(DeviceCount(a_), 3);
  auto rules = burst(a_.OrgPath() + "/rules", kBurst, [&](int i) {
    return json{{"name", "burst " + std::to_string(i)},
                {"scope", {{"kind", "device"}, {"id", a_.device.device_id}}},
                {"expression", "co2 > 1000"}};
  });
  EXPECT_EQ(count(rules, 201), 2);
  EXPECT_EQ(count(rules, 409), kBurst - 2);
  auto dashboards = burst(a_.OrgPath() + "/dashboards", kBurst, [](int i) {
    return json{{"name", "burst " + std::to_string(i)}, {"layout", {{"widgets", json::array()}}}};
  });
  EXPECT_EQ(count(dashboards, 201), 1);
  EXPECT_EQ(count(dashboards, 409), kBurst - 1);
  // B's limits are its own: A's burst left them whole.
  EXPECT_EQ(NewDevice(*b_.editor.client, b_, "b second").status, 201);
}

// Data targets (counted over the organisation's applications) and MQTT integrations (ChirpStack
// of the organisation and external brokers of its applications, together) stop at their limits;
// deleting one makes room; another organisation's count is its own.
TEST_F(OrgLimitsSecurityTest, DataTargetsAndIntegrationsStopAtTheirLimits) {
  auto second_app = Send(*a_.admin.client, "POST", a_.OrgPath() + "/applications",
                         {{"name", "Second application"}});
  ASSERT_EQ(second_app.status, 201) << second_app.body;
  const std::string second =
      "/api/v1/applications/" + std::to_string(second_app.Json().value("id", int64_t{0}));
  auto target = [&](HttpClient& c, const std::string& app, const std::string& name) {
    return Send(c, "POST", app + "/data-targets",
                {{"name", name}, {"url", "https://example.com/" + name}});
  };
  auto first = target(*a_.admin.client, a_.AppPath(), "one");
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_EQ(target(*a_.admin.client, second, "two").status, 201);
  auto refused = target(*a_.admin.client, a_.AppPath(), "three");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("may have 2"), std::string::npos) << refused.body;
  EXPECT_EQ(target(*a_.admin.client, second, "three").status, 409);
  EXPECT_EQ(target(*b_.admin.client, b_.AppPath(), "b-one").status, 201);
  const std::string first_path =
      "/api/v1/data-targets/" + std::to_string(first.Json().value("id", int64_t{0}));
  ASSERT_EQ(a_.admin.client->Request("DELETE", first_path).status, 204);
  EXPECT_EQ(target(*a_.admin.client, a_.AppPath(), "three").status, 201);

  auto integration = [&](HttpClient& c, const std::string& path, const std::string& name) {
    json body = {{"name", name}, {"url", "mqtt://broker.example.org:1883"}, {"username", name}};
    if (path.ends_with("/integrations/mqtt"))  // what an external broker's needs besides
      body.update(
          {{"topicFilter", "sensors/+/data"}, {"deviceTopicLevel", 1}, {"deviceMatch", "name"}});
    return Send(c, "POST", path, body);
  };
  auto chirpstack = integration(*a_.admin.client, a_.OrgPath() + "/integrations/chirpstack", "cs");
  ASSERT_EQ(chirpstack.status, 201) << chirpstack.body;
  auto external = integration(*a_.admin.client, a_.AppPath() + "/integrations/mqtt", "ext");
  EXPECT_EQ(external.status, 409) << external.body;
  EXPECT_NE(external.body.find("may have 1"), std::string::npos) << external.body;
  EXPECT_EQ(integration(*a_.admin.client, a_.OrgPath() + "/integrations/chirpstack", "cs2").status,
            409);
  EXPECT_EQ(integration(*b_.admin.client, b_.OrgPath() + "/integrations/chirpstack", "b").status,
            201);
}

TEST_F(OrgLimitsSecurityTest, AnEditorCannotCreateRulesPastTheLimit) {
  auto rule = [&](const Tenant& t, const std::string& name) {
    return Send(*t.editor.client, "POST", t.OrgPath() + "/rules",
                {{"name", name},
                 {"scope", {{"kind", "device"}, {"id", t.device.device_id}}},
                 {"expression", "co2 > 1000"}});
  };
  auto first = rule(a_, "one");
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_EQ(rule(a_, "two").status, 201);
  auto refused = rule(a_, "three");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("may have 2"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("limits.max_rules_per_org"), std::string::npos) << refused.body;
  auto listed = a_.admin.client->Get(a_.OrgPath() + "/rules");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.Json().value("total", int64_t{-1}), 2) << "the refused rule was stored";
  EXPECT_EQ(rule(b_, "b-one").status, 201);  // B's count is its own
  const std::string first_path =
      "/api/v1/rules/" + std::to_string(first.Json().value("id", int64_t{0}));
  ASSERT_EQ(a_.editor.client->Request("DELETE", first_path).status, 204);
  EXPECT_EQ(rule(a_, "three").status, 201);
}

TEST_F(OrgLimitsSecurityTest, SilencesDashboardsDatasetsAndApplicationsStopAtTheirLimits) {
  auto silence = [&](const Tenant& t) {
    return Send(*t.editor.client, "POST", t.OrgPath() + "/silences",
                {{"deviceId", t.device.device_id}, {"until", "2099-01-01T00:00:00Z"}});
  };
  auto first = silence(a_);
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_EQ(silence(a_).status, 201);
  auto refused = silence(a_);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("2 silences in force and may have 2"), std::string::npos)
      << refused.body;
  auto in_force = a_.editor.client->Get(a_.OrgPath() + "/silences");
  ASSERT_EQ(in_force.status, 200) << in_force.body;
  EXPECT_EQ(in_force.Json().value("total", int64_t{-1}), 2) << "the refused silence was stored";
  EXPECT_EQ(silence(b_).status, 201);
  const std::string lifted =
      "/api/v1/silences/" + std::to_string(first.Json().value("id", int64_t{0}));
  ASSERT_EQ(a_.editor.client->Request("DELETE", lifted).status, 204);
  EXPECT_EQ(silence(a_).status, 201);

  ExpectLimitOfOne(
      [&](const Tenant& t, const std::string& name) {
        return Send(*t.editor.client, "POST", t.OrgPath() + "/dashboards",
                    {{"name", name}, {"layout", {{"widgets", json::array()}}}});
      },
      "limits.max_dashboards_per_org");
  ExpectLimitOfOne(
      [&](const Tenant& t, const std::string& title) {
        return Send(*t.admin.client, "POST", t.OrgPath() + "/open-data/datasets",
                    {{"title", title},
                     {"license", "https://creativecommons.org/licenses/by/4.0/"},
                     {"contactName", "Data"},
                     {"contactEmail", "data@kommune.dk"},
                     {"themes", {"ENVI"}},
                     {"deviceIds", {t.device.device_id}},
                     {"keys", {"co2"}}});
      },
      "limits.max_datasets_per_org");

  auto application = [&](const Tenant& t, const std::string& name) {
    return Send(*t.editor.client, "POST", t.OrgPath() + "/applications", {{"name", name}});
  };
  ASSERT_EQ(application(a_, "second").status, 201);  // each organisation starts with one
  auto third = application(a_, "third");
  EXPECT_EQ(third.status, 409) << third.body;
  EXPECT_NE(third.body.find("has 2 applications and may have 2"), std::string::npos) << third.body;
  EXPECT_EQ(application(b_, "b-second").status, 201);
}

}  // namespace
}  // namespace bysans::testing

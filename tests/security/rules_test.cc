// Rules and alarms across organisations (issue 14, findings 1, 3, the rule part of 18 and the
// alarm part of 15): organisation B (the attacker) tries to make its rules fire on A's
// devices, to silence A's rules through a reused rule id, to send downlinks to A's devices,
// and to learn who owns an alarm, rule or silence id. Each test also checks the legitimate
// use, so it cannot pass by everything being broken.
#include <chrono>
#include <string>
#include <thread>

#include "integration/mqtt_fixture.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

constexpr const char* kUntil2099 = "2099-01-01T00:00:00Z";

class RulesSecurityTest : public SecurityTest {
 protected:
  static json TagRule(const std::string& name, json actions = json::array()) {
    return {{"name", name},
            {"scope", {{"kind", "tag"}, {"tag", "school"}}},
            {"expression", "co2 > 1000"},
            {"actions", std::move(actions)}};
  }
  static json DeviceRule(const std::string& name, int64_t device) {
    return {{"name", name},
            {"scope", {{"kind", "device"}, {"id", device}}},
            {"expression", "co2 > 1000"}};
  }
  static HttpResult CreateRule(OrgMember& m, const Tenant& t, const json& rule) {
    return Send(*m.client, "POST", t.OrgPath() + "/rules", rule);
  }
  // Gives a device of `t` the tag "school" (as that organisation's editor).
  static void TagSchool(Tenant& t, int64_t device) {
    auto r = Send(*t.editor.client, "PATCH", "/api/v1/devices/" + std::to_string(device),
                  {{"tags", {"school"}}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  static json Alarms(Tenant& t) {
    auto r = t.viewer.client->Get(t.OrgPath() + "/alarms");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("items", json::array());
  }
  void Co2(const Tenant& t, double v) {
    auto r = Ingest(t.device.ingest_key, json{{"co2", v}}.dump());
    ASSERT_EQ(r.status, 204) << r.body;
  }
};

// Finding 1: B's tag-scoped rule fires on B's own tagged device, never on A's.
TEST_F(RulesSecurityTest, TagScopedRuleNeverFiresOnAnotherOrganisationsDevice) {
  ASSERT_NO_FATAL_FAILURE(TagSchool(a_, a_.device.device_id));
  ASSERT_NO_FATAL_FAILURE(TagSchool(b_, b_.device.device_id));
  auto rule = CreateRule(b_.editor, b_, TagRule("B's school rule"));
  ASSERT_EQ(rule.status, 201) << rule.body;
  ASSERT_NO_FATAL_FAILURE(Co2(a_, 1500));  // A's device first: an alarm for it would come first
  ASSERT_NO_FATAL_FAILURE(Co2(b_, 1500));
  ASSERT_TRUE(WaitFor([&] { return Alarms(b_).size() >= 1; })) << "B's own device raised nothing";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // time for any stray alarm
  json alarms = Alarms(b_);
  ASSERT_EQ(alarms.size(), 1u) << alarms.dump();
  EXPECT_EQ(alarms[0].value("deviceId", int64_t{0}), b_.device.device_id);
  EXPECT_TRUE(Alarms(a_).empty());
}

// Finding 1: a scope naming A's device, application or device model is refused on create and
// on change, with the same answer as an id that does not exist (nothing revealed).
TEST_F(RulesSecurityTest, ScopesNamingAnotherOrganisationsObjectsAreRefused) {
  auto model = Send(*a_.editor.client, "POST", a_.OrgPath() + "/device-models",
                    {{"name", "A's CO2 sensor"}});
  ASSERT_EQ(model.status, 201) << model.body;
  const int64_t model_id = model.Json().value("id", int64_t{0});
  struct Case {
    const char* kind;
    int64_t victim;
  } cases[] = {{"device", a_.device.device_id},
               {"application", a_.device.app_id},
               {"device_model", model_id}};
  auto own = CreateRule(b_.editor, b_, DeviceRule("B's own", b_.device.device_id));
  ASSERT_EQ(own.status, 201) << own.body;
  const std::string own_path = "/api/v1/rules/" + std::to_string(own.Json().value("id", 0));
  for (const Case& c : cases) {
    SCOPED_TRACE(c.kind);
    json rule = DeviceRule("steal", 0);
    rule["scope"] = {{"kind", c.kind}, {"id", c.victim}};
    auto created = CreateRule(b_.editor, b_, rule);
    EXPECT_TRUE(created.status == 400 || created.status == 404) << created.body;
    auto changed = Send(*b_.editor.client, "PATCH", own_path, {{"scope", rule["scope"]}});
    EXPECT_TRUE(changed.status == 400 || changed.status == 404) << changed.body;
    rule["scope"]["id"] = 987654321;  // no such object anywhere: the same answer
    auto missing = CreateRule(b_.editor, b_, rule);
    EXPECT_EQ(missing.status, created.status);
    EXPECT_EQ(missing.Json()["error"].value("message", ""),
              created.Json()["error"].value("message", ""));
  }
  // The legitimate scopes of B's own objects are accepted.
  json ok = DeviceRule("B's app", 0);
  ok["scope"] = {{"kind", "application"}, {"id", b_.device.app_id}};
  EXPECT_EQ(CreateRule(b_.editor, b_, ok).status, 201);
}

// Finding 3: B creates a rule, raises an alarm with it, silences it until 2099 and deletes it.
// A's next rule gets a fresh id, is not silenced, and B's old alarm never shows its name.
TEST_F(RulesSecurityTest, ADeletedRulesSilenceNeverReachesAnotherOrganisationsRule) {
  auto b_rule = CreateRule(b_.editor, b_, DeviceRule("B's rule", b_.device.device_id));
  ASSERT_EQ(b_rule.status, 201) << b_rule.body;
  const int64_t b_id = b_rule.Json().value("id", int64_t{0});
  ASSERT_NO_FATAL_FAILURE(Co2(b_, 1500));
  ASSERT_TRUE(WaitFor([&] { return Alarms(b_).size() == 1; }));
  auto silence = Send(*b_.editor.client, "POST", b_.OrgPath() + "/silences",
                      {{"ruleId", b_id}, {"until", kUntil2099}});
  ASSERT_EQ(silence.status, 201) << silence.body;
  auto deleted = b_.editor.client->Request("DELETE", "/api/v1/rules/" + std::to_string(b_id));
  ASSERT_EQ(deleted.status, 204) << deleted.body;
  auto b_silences = b_.viewer.client->Get(b_.OrgPath() + "/silences");
  EXPECT_EQ(b_silences.Json().value("total", -1), 0) << "a silence outlived its rule";

  const std::string a_name = "A's fall alarm rule";
  auto a_rule = CreateRule(a_.editor, a_, DeviceRule(a_name, a_.device.device_id));
  ASSERT_EQ(a_rule.status, 201) << a_rule.body;
  const int64_t a_id = a_rule.Json().value("id", int64_t{0});
  EXPECT_GT(a_id, b_id) << "a rule id was reused";
  ASSERT_NO_FATAL_FAILURE(Co2(a_, 1500));
  ASSERT_TRUE(WaitFor([&] { return Alarms(a_).size() == 1; })) << "A's rule was silenced";
  EXPECT_EQ(Alarms(a_)[0].value("ruleId", int64_t{0}), a_id);

  json b_alarms = Alarms(b_);
  ASSERT_EQ(b_alarms.size(), 1u);
  EXPECT_EQ(b_alarms[0].value("ruleId", int64_t{0}), b_id);
  EXPECT_NE(b_alarms[0].value("ruleName", ""), a_name);
  EXPECT_EQ(b_alarms.dump().find(a_name), std::string::npos);
}

// Finding 15 (alarm part): another organisation's alarm, rule and silence ids answer the same
// neutral 404 as ids that do not exist, never naming the owner.
TEST_F(RulesSecurityTest, OtherOrganisationsIdsAnswerANeutral404) {
  auto rule = CreateRule(a_.editor, a_, DeviceRule("A's rule", a_.device.device_id));
  ASSERT_EQ(rule.status, 201) << rule.body;
  const int64_t rule_id = rule.Json().value("id", int64_t{0});
  ASSERT_NO_FATAL_FAILURE(Co2(a_, 1500));
  ASSERT_TRUE(WaitFor([&] { return Alarms(a_).size() == 1; }));
  const int64_t alarm_id = Alarms(a_)[0].value("id", int64_t{0});
  auto silence = Send(*a_.editor.client, "POST", a_.OrgPath() + "/silences",
                      {{"ruleId", rule_id}, {"until", kUntil2099}});
  ASSERT_EQ(silence.status, 201) << silence.body;
  const int64_t silence_id = silence.Json().value("id", int64_t{0});
  const std::string a_org = std::to_string(a_.device.org_id);

  struct Probe {
    std::string method, path, missing_path, kind;
    int64_t id;
  } probes[] = {
      {"GET", "/api/v1/alarms/" + std::to_string(alarm_id), "/api/v1/alarms/987654321", "alarm",
       alarm_id},
      {"POST", "/api/v1/alarms/" + std::to_string(alarm_id) + "/acknowledge",
       "/api/v1/alarms/987654321/acknowledge", "alarm", alarm_id},
      {"GET", "/api/v1/rules/" + std::to_string(rule_id), "/api/v1/rules/987654321", "rule",
       rule_id},
      {"DELETE", "/api/v1/rules/" + std::to_string(rule_id), "/api/v1/rules/987654321", "rule",
       rule_id},
      {"DELETE", "/api/v1/silences/" + std::to_string(silence_id), "/api/v1/silences/987654321",
       "silence", silence_id},
  };
  for (const Probe& p : probes) {
    SCOPED_TRACE(p.method + " " + p.path);
    auto got = b_.admin.client->Request(p.method, p.path, "{}", {"Content-Type: application/json"});
    EXPECT_EQ(got.status, 404) << got.body;
    const std::string message = got.Json()["error"].value("message", "");
    EXPECT_EQ(message, "no " + p.kind + " with id " + std::to_string(p.id));
    EXPECT_EQ(message.find("organi"), std::string::npos) << message;
    auto missing = b_.admin.client->Request(p.method, p.missing_path, "{}",
                                            {"Content-Type: application/json"});
    EXPECT_EQ(missing.status, 404) << missing.body;
  }
  // A itself still reaches all three.
  EXPECT_EQ(a_.viewer.client->Get("/api/v1/alarms/" + std::to_string(alarm_id)).status, 200);
  EXPECT_EQ(a_.viewer.client->Get("/api/v1/rules/" + std::to_string(rule_id)).status, 200);
  EXPECT_EQ(
      a_.editor.client->Request("DELETE", "/api/v1/silences/" + std::to_string(silence_id)).status,
      204);
}

// Finding 1 (actions) and 18: B's tag-scoped rule with a downlink action never reaches A's
// MQTT device (nothing in its downlink history); B's own MQTT device gets the downlink, and
// the audit log of B records it with the rule as the actor.
TEST_F(RulesSecurityTest, DownlinkActionReachesOnlyTheRulesOrganisationAndIsAudited) {
  auto mqtt_device = [&](Tenant& t, const std::string& name) {
    auto dev = Send(*t.admin.client, "POST", t.AppPath() + "/devices",
                    {{"name", name}, {"transport", "mqtt"}, {"tags", {"school"}}});
    EXPECT_EQ(dev.status, 201) << dev.body;
    return dev.Json();
  };
  json a_dev = mqtt_device(a_, "A's MQTT device");
  json b_dev = mqtt_device(b_, "B's MQTT device");
  const int64_t a_id = a_dev.value("id", int64_t{0}), b_id = b_dev.value("id", int64_t{0});
  auto rule = CreateRule(
      b_.editor, b_,
      TagRule("B's downlink rule", json::array({{{"type", "downlink"}, {"hex", "0102"}}})));
  ASSERT_EQ(rule.status, 201) << rule.body;
  const int64_t rule_id = rule.Json().value("id", int64_t{0});

  const std::string url = ReadLine(fs::path(server_->data_dir()) / "mqtt.url");
  auto connect = [&](const json& dev) -> std::unique_ptr<Peer> {
    const json& m = dev["mqtt"];
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto p = std::make_unique<Peer>(m.value("username", "") + "-" + std::to_string(attempt));
      if (p->Connect(url, m.value("username", ""), m.value("password", "")) == 0) return p;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return nullptr;
  };
  auto a_peer = connect(a_dev);
  auto b_peer = connect(b_dev);
  ASSERT_TRUE(a_peer && b_peer);
  ASSERT_GE(a_peer->Publish(a_dev["mqtt"].value("upTopic", ""), R"({"co2": 1500})"), 0);
  ASSERT_GE(b_peer->Publish(b_dev["mqtt"].value("upTopic", ""), R"({"co2": 1500})"), 0);

  auto history = [&](Tenant& t, int64_t device) {
    auto r = t.viewer.client->Get("/api/v1/devices/" + std::to_string(device) + "/downlink");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("items", json::array());
  };
  ASSERT_TRUE(WaitFor([&] { return history(b_, b_id).size() == 1; }))
      << "B's own device got no downlink";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_TRUE(history(a_, a_id).empty()) << history(a_, a_id).dump();
  for (const json& alarm : Alarms(b_)) EXPECT_EQ(alarm.value("deviceId", int64_t{0}), b_id);

  // Audited in B's log, with the rule as the actor (no user).
  json audit;
  ASSERT_TRUE(WaitFor([&] {
    audit =
        b_.admin.client->Get("/api/v1/audit?limit=1000&orgId=" + std::to_string(b_.device.org_id))
            .Json();
    for (const json& e : audit.value("items", json::array())) {
      if (e.value("action", "") == "downlink" && e.value("objectId", "") == std::to_string(b_id))
        return true;
    }
    return false;
  })) << audit.dump();
  for (const json& e : audit["items"]) {
    if (e.value("action", "") != "downlink") continue;
    EXPECT_TRUE(e["userId"].is_null()) << e.dump();
    EXPECT_NE(e.value("detail", "").find("\"ruleId\":" + std::to_string(rule_id)),
              std::string::npos)
        << e.dump();
  }
}

}  // namespace
}  // namespace bysans::testing

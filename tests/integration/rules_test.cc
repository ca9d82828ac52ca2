// Rules, alarms and actions through the real binary: HTTP ingest → pipeline →
// rules thread → alarm + outbox → webhook / e-mail, on each store (a real SQLite file; a real
// PostgreSQL 15, where the rules runtime reads the rule feed of its partitions).
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "integration/backend_fixture.h"
#include "integration/rules_receiver.h"
#include "integration/smtp_server.h"

namespace bysans::testing {
namespace {

using namespace std::chrono_literals;

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

class RulesTest : public BackendServerTest {
 protected:
  std::string Org(int64_t id) { return "/api/v1/organizations/" + std::to_string(id); }

  HttpResult CreateRule(int64_t org, const json& rule) {
    return admin_->PostJson(Org(org) + "/rules", rule);
  }
  json Alarms(int64_t org, const std::string& state = "") {
    auto r = admin_->Get(Org(org) + "/alarms" + (state.empty() ? "" : "?state=" + state));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }
  size_t CountAlarms(int64_t org, const std::string& state) {
    json j = Alarms(org, state);
    return j.contains("items") ? j["items"].size() : 0;
  }
  json Log(int64_t org) { return admin_->Get(Org(org) + "/actions/log?limit=1000").Json(); }
  void Send(const DeviceHandle& d, double co2) {
    auto r = Ingest(d.ingest_key, json{{"co2", co2}}.dump());
    ASSERT_EQ(r.status, 204) << r.body;
  }
  json Co2Rule(const DeviceHandle& d, json actions = json::array()) {
    return {{"name", "CO2 high"},
            {"scope", {{"kind", "device"}, {"id", d.device_id}}},
            {"severity", "warning"},
            {"expression", "co2 > 1000"},
            {"clearExpression", "co2 < 900"},
            {"actions", actions}};
  }
};

BYSANS_ON_BOTH_STORES(RulesTest);

TEST_P(RulesTest, RaisesOnceClearsWithHysteresisAndRaisesAgain) {
  Receiver hook(Receiver::Mode::kOk);
  DeviceHandle d = CreateHttpDevice("Skole");
  Send(d, 500);
  auto rule = CreateRule(d.org_id, Co2Rule(d, json::array({{{"type", "webhook"},
                                                            {"url", hook.url()},
                                                            {"headers", {{"X-Token", "abc"}}},
                                                            {"on", {"raise", "clear"}}}})));
  ASSERT_EQ(rule.status, 201) << rule.body;
  EXPECT_TRUE(rule.Json()["warnings"].empty()) << rule.body;

  Send(d, 1200);
  Send(d, 1300);
  ASSERT_TRUE(WaitFor([&] { return CountAlarms(d.org_id, "active") == 1; }));
  Send(d, 1400);
  Send(d, 950);  // below the condition, above the clear threshold: stays active
  ASSERT_TRUE(WaitFor([&] { return hook.hits().size() >= 1; }));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(CountAlarms(d.org_id, "active"), 1u);
  EXPECT_EQ(CountAlarms(d.org_id, ""), 1u);

  json a = Alarms(d.org_id, "active")["items"][0];
  EXPECT_EQ(a["ruleName"], "CO2 high");
  EXPECT_EQ(a["deviceName"], "Lokale 1");
  EXPECT_EQ(a["severity"], "warning");

  Send(d, 850);
  ASSERT_TRUE(WaitFor([&] { return CountAlarms(d.org_id, "history") == 1; }));
  EXPECT_EQ(CountAlarms(d.org_id, "active"), 0u);

  Send(d, 1500);
  ASSERT_TRUE(WaitFor([&] { return CountAlarms(d.org_id, "active") == 1; }));
  EXPECT_EQ(CountAlarms(d.org_id, ""), 2u);

  // raise, clear, raise delivered; the body carries alarm, device and readings.
  ASSERT_TRUE(WaitFor([&] { return hook.answered_ok() >= 3; }));
  json first = json::parse(hook.hits()[0].body);
  EXPECT_EQ(first["alarm"]["event"], "raise");
  EXPECT_EQ(first["device"]["name"], "Lokale 1");
  EXPECT_EQ(first["readings"]["co2"], 1200);
  ASSERT_TRUE(WaitFor([&] { return Log(d.org_id)["total"].get<int>() >= 3; }));

  // Acknowledge with a comment, then clear by hand.
  std::string id = std::to_string(Alarms(d.org_id, "active")["items"][0]["id"].get<int64_t>());
  auto ack = admin_->PostJson("/api/v1/alarms/" + id + "/acknowledge", {{"comment", "på vej"}});
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(ack.Json()["state"], "acknowledged");
  EXPECT_EQ(ack.Json()["acknowledgedBy"], ServerProcess::kAdminEmail);
  auto again = admin_->PostJson("/api/v1/alarms/" + id + "/acknowledge", json::object());
  EXPECT_EQ(again.status, 409) << again.body;
  auto com = admin_->PostJson("/api/v1/alarms/" + id + "/comment", {{"comment", "udskiftet"}});
  ASSERT_EQ(com.status, 200) << com.body;
  EXPECT_EQ(com.Json()["comments"].size(), 1u);
  auto clr = admin_->PostJson("/api/v1/alarms/" + id + "/clear", json::object());
  ASSERT_EQ(clr.status, 200) << clr.body;
  EXPECT_EQ(clr.Json()["state"], "cleared");
}

// Issue 21: a critical alarm that clears by itself is "cleared, not acknowledged": it stays in
// the open list until a person acknowledges it, then moves to the history, which says who.
TEST_P(RulesTest, ACriticalAlarmClearedUnacknowledgedStaysOpenUntilAcknowledged) {
  DeviceHandle d = CreateHttpDevice("Hjemmepleje");
  Send(d, 500);
  json def = Co2Rule(d);
  def["severity"] = "critical";  // requireAcknowledge by default
  auto rule = CreateRule(d.org_id, def);
  ASSERT_EQ(rule.status, 201) << rule.body;
  EXPECT_EQ(rule.Json()["requireAcknowledge"], true) << rule.body;

  Send(d, 1200);
  ASSERT_TRUE(WaitFor([&] { return CountAlarms(d.org_id, "active") == 1; }));
  json raised = Alarms(d.org_id, "open")["items"][0];
  EXPECT_EQ(raised["status"], "active_unacknowledged");
  EXPECT_EQ(raised["acknowledged"], false);
  EXPECT_EQ(raised["requireAcknowledge"], true);

  Send(d, 850);  // the condition clears: nobody has seen it yet
  ASSERT_TRUE(WaitFor([&] { return CountAlarms(d.org_id, "cleared") == 1; }));
  json open = Alarms(d.org_id, "open");
  ASSERT_EQ(open["items"].size(), 1u) << open.dump();
  EXPECT_EQ(open["total"], 1);
  json a = open["items"][0];
  EXPECT_EQ(a["state"], "cleared");  // older clients: cleared
  EXPECT_EQ(a["status"], "cleared_unacknowledged");
  EXPECT_EQ(a["cleared"], true);
  EXPECT_EQ(a["acknowledged"], false);
  EXPECT_EQ(a["awaitingAcknowledge"], true);
  EXPECT_EQ(a["open"], true);
  EXPECT_TRUE(a["acknowledgedBy"].is_null());
  EXPECT_TRUE(a["clearedBy"].is_null());  // cleared by the system
  EXPECT_EQ(a["clearComment"], "");
  EXPECT_EQ(CountAlarms(d.org_id, "awaiting_acknowledge"), 1u);
  EXPECT_EQ(CountAlarms(d.org_id, "history"), 0u);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(CountAlarms(d.org_id, "open"), 1u);  // it does not go away by itself

  const std::string id = std::to_string(a["id"].get<int64_t>());
  auto ack = admin_->PostJson("/api/v1/alarms/" + id + "/acknowledge", {{"comment", "besøgt"}});
  ASSERT_EQ(ack.status, 200) << ack.body;
  EXPECT_EQ(ack.Json()["state"], "cleared");
  EXPECT_EQ(ack.Json()["status"], "cleared_acknowledged");
  EXPECT_EQ(ack.Json()["open"], false);
  EXPECT_EQ(CountAlarms(d.org_id, "open"), 0u);
  EXPECT_EQ(CountAlarms(d.org_id, "awaiting_acknowledge"), 0u);
  json history = Alarms(d.org_id, "history");
  ASSERT_EQ(history["items"].size(), 1u);
  json h = history["items"][0];
  EXPECT_EQ(h["acknowledgedBy"], ServerProcess::kAdminEmail);
  EXPECT_EQ(h["acknowledgeComment"], "besøgt");
  EXPECT_FALSE(h["acknowledgedAt"].is_null());
  std::vector<std::string> actions;
  for (const auto& e : h["history"]) actions.push_back(e["action"].get<std::string>());
  EXPECT_EQ(actions, (std::vector<std::string>{"raised", "cleared", "acknowledged"}));
  EXPECT_EQ(h["history"][2]["by"], ServerProcess::kAdminEmail);
  EXPECT_EQ(h["history"][2]["detail"], "besøgt");
  EXPECT_EQ(admin_->PostJson("/api/v1/alarms/" + id + "/acknowledge", json::object()).status, 409);

  // A warning (not required) that clears goes straight to the history.
  json warn = Co2Rule(d);
  warn["name"] = "CO2 warning";
  warn["expression"] = "co2 > 3000";
  warn["clearExpression"] = "co2 < 2900";
  ASSERT_EQ(CreateRule(d.org_id, warn).status, 201);
  Send(d, 3500);
  ASSERT_TRUE(WaitFor([&] { return CountAlarms(d.org_id, "active") == 2; }));
  Send(d, 500);
  ASSERT_TRUE(WaitFor([&] { return CountAlarms(d.org_id, "cleared") == 3; }));
  EXPECT_EQ(CountAlarms(d.org_id, "open"), 1u);  // only the second critical one
  EXPECT_EQ(Alarms(d.org_id, "open")["items"][0]["ruleName"], "CO2 high");
}

TEST_P(RulesTest, BadExpressionIs400WithPositionAndUnknownKeyWarns) {
  DeviceHandle d = CreateHttpDevice("Skole");
  Send(d, 500);
  json bad = Co2Rule(d);
  bad["expression"] = "co2 > ";
  auto r = CreateRule(d.org_id, bad);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("at 7"), std::string::npos) << r.body;
  EXPECT_EQ(r.Json()["error"]["position"]["offset"], 6) << r.body;
  EXPECT_EQ(r.Json()["error"]["field"], "expression") << r.body;

  json unknown = Co2Rule(d);
  unknown["expression"] = "temperature > 30";
  unknown["clearExpression"] = "";
  auto w = CreateRule(d.org_id, unknown);
  ASSERT_EQ(w.status, 201) << w.body;
  ASSERT_EQ(w.Json()["warnings"].size(), 1u) << w.body;
  EXPECT_NE(w.Json()["warnings"][0].get<std::string>().find("temperature"), std::string::npos);

  json pager = Co2Rule(d, json::array({{{"type", "pager"}, {"to", "12345678"}}}));
  auto m = CreateRule(d.org_id, pager);
  EXPECT_EQ(m.status, 400) << m.body;
  EXPECT_NE(m.body.find("must be webhook, email, sms, notify_contacts, mqtt or downlink"),
            std::string::npos)
      << m.body;
  // An "sms" action needs a list of numbers in international form (issue 20).
  json sms = Co2Rule(d, json::array({{{"type", "sms"}, {"to", "12345678"}}}));
  auto s = CreateRule(d.org_id, sms);
  EXPECT_EQ(s.status, 400) << s.body;
  EXPECT_NE(s.body.find("actions[0].to"), std::string::npos) << s.body;
}

TEST_P(RulesTest, DryRunOverStoredHistoryCountsKnownFirings) {
  DeviceHandle d = CreateHttpDevice("Skole");
  // A known series, one reading a minute, stored with its own timestamps (2 h ago).
  const int64_t base = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count() -
                       2 * 3'600'000;
  const double series[] = {500, 1200, 1300, 950, 850, 1500, 1600, 700, 1100, 880};
  for (int i = 0; i < 10; ++i) {
    auto r = Ingest(d.ingest_key, json{{"ts", base + i * 60'000}, {"co2", series[i]}}.dump());
    ASSERT_EQ(r.status, 204) << r.body;
  }
  auto dry_run = [&](json rule) {
    rule["name"] = "dry";
    rule["scope"] = {{"kind", "device"}, {"id", d.device_id}};
    rule["enabled"] = false;  // only replayed, never live
    auto created = CreateRule(d.org_id, rule);
    EXPECT_EQ(created.status, 201) << created.body;
    std::string id = std::to_string(created.Json().value("id", int64_t{0}));
    auto r = admin_->PostJson(
        "/api/v1/rules/" + id + "/dry-run",
        {{"deviceId", d.device_id}, {"from", base - 60'000}, {"to", base + 20 * 60'000}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  };
  // co2 > 1000, clear below 900: raised at 1200, 1500, 1100; cleared at 850, 700, 880.
  json plain = dry_run({{"expression", "co2 > 1000"}, {"clearExpression", "co2 < 900"}});
  EXPECT_EQ(plain["raises"], 3) << plain.dump();
  EXPECT_EQ(plain["clears"], 3) << plain.dump();
  EXPECT_EQ(plain["readingsUsed"], 10) << plain.dump();
  EXPECT_EQ(plain["activeAtEnd"], false) << plain.dump();
  ASSERT_EQ(plain["raisedAt"].size(), 3u);
  EXPECT_TRUE(plain["raisedAt"][0].is_string()) << plain.dump();  // RFC 3339
  // For 90 s: the 1200/1300 and 1500/1600 episodes last long enough, 1100 does not.
  json held = dry_run({{"expression", "co2 > 1000"}, {"forMs", 90'000}});
  EXPECT_EQ(held["raises"], 2) << held.dump();
  // Without hysteresis (default clear = not condition): 950 clears the first episode.
  json nohyst = dry_run({{"expression", "co2 > 1000"}});
  EXPECT_EQ(nohyst["raises"], 3) << nohyst.dump();
  EXPECT_EQ(nohyst["clears"], 3) << nohyst.dump();
  // A window holding only the first three readings.
  auto rule_id = CreateRule(d.org_id, {{"name", "w"},
                                       {"scope", {{"kind", "device"}, {"id", d.device_id}}},
                                       {"enabled", false},
                                       {"expression", "co2 > 1000"}})
                     .Json()
                     .value("id", int64_t{0});
  auto window =
      admin_->PostJson("/api/v1/rules/" + std::to_string(rule_id) + "/dry-run",
                       {{"deviceId", d.device_id}, {"from", base}, {"to", base + 2 * 60'000}});
  ASSERT_EQ(window.status, 200) << window.body;
  EXPECT_EQ(window.Json()["readingsUsed"], 3) << window.body;
  EXPECT_EQ(window.Json()["raises"], 1) << window.body;
  EXPECT_EQ(window.Json()["activeAtEnd"], true) << window.body;
}

TEST_P(RulesTest, OrganisationBCannotSeeRulesAlarmsOrLogsOfA) {
  Receiver hook(Receiver::Mode::kOk);
  DeviceHandle a = CreateHttpDevice("A");
  DeviceHandle b = CreateHttpDevice("B");
  auto rule =
      CreateRule(a.org_id, Co2Rule(a, json::array({{{"type", "webhook"}, {"url", hook.url()}}})));
  ASSERT_EQ(rule.status, 201) << rule.body;
  std::string rule_id = std::to_string(rule.Json()["id"].get<int64_t>());
  Send(a, 1500);
  ASSERT_TRUE(WaitFor([&] { return CountAlarms(a.org_id, "active") == 1; }));
  ASSERT_TRUE(WaitFor([&] { return Log(a.org_id)["total"].get<int>() >= 1; }));
  std::string alarm_id =
      std::to_string(Alarms(a.org_id, "active")["items"][0]["id"].get<int64_t>());

  auto key = admin_->PostJson(Org(b.org_id) + "/api-keys", {{"name", "b"}, {"role", "admin"}});
  ASSERT_EQ(key.status, 201) << key.body;
  std::vector<std::string> h = {"X-API-Key: " + key.Json()["key"].get<std::string>()};
  HttpClient other(server_->url());
  for (const std::string& path :
       {Org(a.org_id) + "/rules", Org(a.org_id) + "/alarms", Org(a.org_id) + "/actions/log",
        "/api/v1/rules/" + rule_id, "/api/v1/alarms/" + alarm_id}) {
    auto r = other.Get(path, h);
    EXPECT_EQ(r.status, 404) << path << " " << r.body;
  }
  auto ack = other.Request("POST", "/api/v1/alarms/" + alarm_id + "/acknowledge", "{}",
                           {h[0], "Content-Type: application/json"});
  EXPECT_EQ(ack.status, 404) << ack.body;
  // B's own lists are empty.
  EXPECT_EQ(other.Get(Org(b.org_id) + "/alarms", h).Json()["total"], 0);
  EXPECT_EQ(other.Get(Org(b.org_id) + "/rules", h).Json()["total"], 0);
  EXPECT_EQ(other.Get(Org(b.org_id) + "/actions/log", h).Json()["total"], 0);
  // B cannot scope a rule to A's device.
  auto cross = other.Request("POST", Org(b.org_id) + "/rules", Co2Rule(a).dump(),
                             {h[0], "Content-Type: application/json"});
  EXPECT_EQ(cross.status, 400) << cross.body;
}

TEST_P(RulesTest, RemovingASilenceLiftsItAtOnceForEditorsOfItsOrganisationOnly) {
  Receiver hook(Receiver::Mode::kOk);
  DeviceHandle a = CreateHttpDevice("A");
  DeviceHandle b = CreateHttpDevice("B");
  auto rule =
      CreateRule(a.org_id, Co2Rule(a, json::array({{{"type", "webhook"}, {"url", hook.url()}}})));
  ASSERT_EQ(rule.status, 201) << rule.body;
  auto silence = admin_->PostJson(Org(a.org_id) + "/silences",
                                  {{"deviceId", a.device_id}, {"until", "2099-01-01T00:00:00Z"}});
  ASSERT_EQ(silence.status, 201) << silence.body;
  std::string path = "/api/v1/silences/" + std::to_string(silence.Json()["id"].get<int64_t>());
  Send(a, 1500);  // the condition holds, the device is silenced: no alarm
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(CountAlarms(a.org_id, ""), 0u);

  auto key = [&](int64_t org, const std::string& role) {
    auto k = admin_->PostJson(Org(org) + "/api-keys", {{"name", role}, {"role", role}});
    EXPECT_EQ(k.status, 201) << k.body;
    return std::vector<std::string>{"X-API-Key: " + k.Json().value("key", "")};
  };
  HttpClient other(server_->url());
  auto b_admin = other.Request("DELETE", path, "", key(b.org_id, "admin"));
  EXPECT_EQ(b_admin.status, 404) << b_admin.body;
  auto a_viewer = other.Request("DELETE", path, "", key(a.org_id, "viewer"));
  EXPECT_EQ(a_viewer.status, 403) << a_viewer.body;
  auto missing = admin_->Request("DELETE", "/api/v1/silences/999999", "");
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_EQ(CountAlarms(a.org_id, ""), 0u);
  EXPECT_EQ(admin_->Get(Org(a.org_id) + "/silences").Json()["total"], 1);

  auto removed = other.Request("DELETE", path, "", key(a.org_id, "editor"));
  ASSERT_EQ(removed.status, 204) << removed.body;
  EXPECT_EQ(admin_->Get(Org(a.org_id) + "/silences").Json()["total"], 0);
  // The engine stops honouring it at once: the held condition raises without a new reading.
  ASSERT_TRUE(WaitFor([&] { return CountAlarms(a.org_id, "active") == 1; }));
  ASSERT_TRUE(WaitFor([&] { return hook.answered_ok() >= 1; }));
  EXPECT_EQ(other.Request("DELETE", path, "", key(a.org_id, "editor")).status, 404);
  // Audited.
  auto audit = admin_->Get("/api/v1/audit?limit=1000&orgId=" + std::to_string(a.org_id));
  json entries = audit.Json();
  bool found = false;
  for (const auto& e : entries["items"]) {
    found = found || (e["action"] == "delete" && e["objectType"] == "silence");
  }
  EXPECT_TRUE(found) << audit.body;
}

TEST_P(RulesTest, HangingTargetDoesNotDelayAnotherAndFailuresAreRetried) {
  Receiver hang(Receiver::Mode::kHang);
  Receiver fail(Receiver::Mode::kFail);
  Receiver fast(Receiver::Mode::kOk);
  DeviceHandle d = CreateHttpDevice("Skole");
  json actions = json::array({{{"type", "webhook"}, {"url", hang.url()}, {"timeoutMs", 30000}},
                              {{"type", "webhook"}, {"url", fail.url()}},
                              {{"type", "webhook"}, {"url", fast.url()}}});
  ASSERT_EQ(CreateRule(d.org_id, Co2Rule(d, actions)).status, 201);
  auto sent = std::chrono::steady_clock::now();
  Send(d, 2000);
  ASSERT_TRUE(WaitFor([&] { return !fast.hits().empty(); }));
  auto delay = fast.hits()[0].at - sent;
  EXPECT_LT(delay, 5s) << "the fast target waited for the hanging one";
  ASSERT_TRUE(WaitFor([&] { return !hang.hits().empty(); }));  // the hanging one was tried too

  // The 500 target is retried with growing gaps; every attempt is logged.
  ASSERT_TRUE(WaitFor([&] { return fail.hits().size() >= 3; }));
  auto hits = fail.hits();
  EXPECT_GT(hits[2].at - hits[1].at, hits[1].at - hits[0].at - 200ms);
  fail.set_mode(Receiver::Mode::kOk);
  ASSERT_TRUE(WaitFor([&] { return fail.answered_ok() >= 1; }));
  json log;
  ASSERT_TRUE(WaitFor([&] {
    log = Log(d.org_id);
    int errors = 0;
    for (const auto& l : log["items"]) errors += l["error"] == "HTTP 500";
    return errors >= 3;
  }));
}

// On PostgreSQL the killed process's claims end when its node lease runs out (6 s; RuleStore::
// SetOutboxHolder), not after the claims' 60 s: the restarted process sends the row.
TEST_P(RulesTest, PendingActionsSurviveKill9) {
  Receiver hook(Receiver::Mode::kFail);
  DeviceHandle d = CreateHttpDevice("Skole");
  ASSERT_EQ(
      CreateRule(d.org_id, Co2Rule(d, json::array({{{"type", "webhook"}, {"url", hook.url()}}})))
          .status,
      201);
  Send(d, 2000);
  ASSERT_TRUE(WaitFor([&] { return !hook.hits().empty(); }));  // attempted, failed, pending
  std::string dir = server_->data_dir();
  server_->Kill9();
  auto keep = std::move(server_);  // its directory stays until the test ends
  hook.set_mode(Receiver::Mode::kOk);
  ASSERT_NO_FATAL_FAILURE(StartServer(dir));  // on the same store (PostgreSQL: the same database)
  ASSERT_TRUE(WaitFor([&] { return hook.answered_ok() >= 1; }, 30)) << server_->log();
  json first = json::parse(hook.hits().back().body);
  EXPECT_EQ(first["alarm"]["event"], "raise");
}

TEST_P(RulesTest, EmailArrivesAtARealSmtpServer) {
  SmtpServer smtp;
  DeviceHandle d = CreateHttpDevice("Skole");
  json actions = json::array({{{"type", "email"},
                               {"url", smtp.url()},
                               {"from", "bysans@kommune.test"},
                               {"to", {"pedel@kommune.test"}},
                               {"subject", "CO2 i {{device.name}}"}}});
  ASSERT_EQ(CreateRule(d.org_id, Co2Rule(d, actions)).status, 201);
  Send(d, 2000);
  bool ok = WaitFor([&] { return smtp.Output().find("CO2 i Lokale 1") != std::string::npos; });
  smtp.Stop();
  EXPECT_TRUE(ok) << smtp.Output() << "\n" << Log(d.org_id).dump();
}

}  // namespace
}  // namespace bysans::testing

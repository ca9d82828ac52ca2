// SMS and responsible contacts through the real binary (issue 20): HTTP ingest → rules →
// outbox → the organisation's SMS gateway, which here is a small HTTP receiver in the test
// (integration/rules_receiver.h) on loopback (the harness admits 127.0.0.0/8).
#include <chrono>
#include <set>
#include <thread>

#include "integration/backend_fixture.h"
#include "integration/fixture.h"
#include "integration/rules_receiver.h"
#include "integration/smtp_server.h"

namespace bysans::testing {
namespace {

using namespace std::chrono_literals;

class SmsTest : public ServerTest {
 protected:
  static std::string Org(int64_t id) { return "/api/v1/organizations/" + std::to_string(id); }

  HttpResult Put(const std::string& path, const json& body) {
    return admin_->Request("PUT", path, body.dump(), {"Content-Type: application/json"});
  }
  void PutContacts(const std::string& path, const json& items) {
    auto r = Put(path, json{{"items", items}});
    ASSERT_EQ(r.status, 200) << path << " " << r.body;
  }
  void CoRule(const DeviceHandle& d, const json& action) {
    json rule = {{"name", "CO2 high"},
                 {"scope", {{"kind", "device"}, {"id", d.device_id}}},
                 {"expression", "co2 > 1000"},
                 {"actions", json::array({action})}};
    auto r = admin_->PostJson(Org(d.org_id) + "/rules", rule);
    ASSERT_EQ(r.status, 201) << r.body;
  }
  json Log(int64_t org) { return admin_->Get(Org(org) + "/actions/log?limit=1000").Json(); }
};

BYSANS_SHARED_POSTGRES_ENVIRONMENT();
using SmsOnBothStores = OnBothStores<SmsTest>;
BYSANS_ON_BOTH_STORES(SmsOnBothStores);

// The value of `field` in a form body "a=1&b=2" (percent-decoded, '+' kept).
std::string FormField(const std::string& body, const std::string& field) {
  size_t pos = body.find(field + "=");
  if (pos == std::string::npos) return "";
  std::string raw =
      body.substr(pos + field.size() + 1, body.find('&', pos) - pos - field.size() - 1);
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size()) {
      out.push_back(static_cast<char>(std::stoi(raw.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(raw[i]);
    }
  }
  return out;
}

TEST_P(SmsOnBothStores, GatewayAnswers500Then200AndTheMessageIsSentOnce) {
  Receiver gateway(Receiver::Mode::kFail);
  DeviceHandle d = CreateHttpDevice("Sms Kommune");
  auto gw = Put(Org(d.org_id) + "/sms-gateway",
                {{"url", gateway.url()},
                 {"headers", {{"Authorization", "Bearer {{secret}}"}}},
                 {"bodyFormat", "json"},
                 {"body", R"({"recipient":"{{to}}","text":"{{message}}"})"},
                 {"secret", "tok-4711"}});
  ASSERT_EQ(gw.status, 200) << gw.body;
  EXPECT_EQ(gw.Json()["hasSecret"], true);
  EXPECT_EQ(gw.body.find("tok-4711"), std::string::npos);
  CoRule(d, {{"type", "sms"},
             {"to", {"+45 11 22 33 44"}},
             {"message", "CO2 \"{{readings.co2}}\" ved {{device.name}}"}});
  ASSERT_EQ(Ingest(d.ingest_key, R"({"co2": 2000})").status, 204);

  ASSERT_TRUE(WaitFor([&] { return !gateway.hits().empty(); }));  // answered 500
  gateway.set_mode(Receiver::Mode::kOk);
  ASSERT_TRUE(WaitFor([&] { return gateway.answered_ok() >= 1; }));
  std::this_thread::sleep_for(3s);  // a second delivery would come within the backoff
  EXPECT_EQ(gateway.answered_ok(), 1u);
  const auto hits = gateway.hits();
  const Receiver::Hit& ok = hits.back();
  EXPECT_EQ(ok.answered, 200);
  json sent = json::parse(ok.body, nullptr, false);
  ASSERT_TRUE(sent.is_object()) << ok.body;
  EXPECT_EQ(sent["recipient"], "+4511223344");
  EXPECT_EQ(sent["text"], "CO2 \"2000.0\" ved Lokale 1");  // JSON-escaped into the JSON body
  EXPECT_NE(ok.head.find("Authorization: Bearer tok-4711"), std::string::npos) << ok.head;
  EXPECT_NE(ok.head.find("Content-Type: application/json"), std::string::npos) << ok.head;

  // Every attempt is in the actions log with its delivery status.
  json log;
  ASSERT_TRUE(WaitFor([&] {
    log = Log(d.org_id);
    return log["items"].size() == hits.size();
  })) << log.dump();
  int failed = 0, delivered = 0;
  for (const auto& l : log["items"]) {
    EXPECT_EQ(l["type"], "sms");
    if (l["ok"] == true) {
      ++delivered;
    } else {
      ++failed;
      EXPECT_EQ(l["error"], "SMS gateway answered HTTP 500");
    }
  }
  EXPECT_EQ(delivered, 1);
  EXPECT_EQ(failed, static_cast<int>(hits.size()) - 1);
  EXPECT_GE(failed, 1);
}

TEST_P(SmsOnBothStores, NotifyContactsReachesTheDeviceAndItsApplicationButNoOtherApplication) {
  Receiver gateway(Receiver::Mode::kOk);
  DeviceHandle d = CreateHttpDevice("Kontakt Kommune");
  // A second application of the same organisation with its own contact and device.
  auto app2 = admin_->PostJson(Org(d.org_id) + "/applications", {{"name", "Andet"}});
  ASSERT_EQ(app2.status, 201) << app2.body;
  const int64_t app2_id = app2.Json()["id"];
  auto dev2 = admin_->PostJson("/api/v1/applications/" + std::to_string(app2_id) + "/devices",
                               {{"name", "Anden sensor"}});
  ASSERT_EQ(dev2.status, 201) << dev2.body;
  const std::string app1 = "/api/v1/applications/" + std::to_string(d.app_id);
  const std::string dev1 = "/api/v1/devices/" + std::to_string(d.device_id);
  PutContacts(dev1 + "/contacts",
              json::array({{{"name", "Driftsvagt"}, {"phone", "+45 20 00 00 01"}}}));
  PutContacts(
      app1 + "/contacts",
      json::array(
          {{{"name", "Tilsyn"}, {"phone", "0045 20 00 00 02"}, {"role", "tilsynsførende"}}}));
  PutContacts("/api/v1/applications/" + std::to_string(app2_id) + "/contacts",
              json::array({{{"name", "Fremmed"}, {"phone", "+45 20 00 00 03"}}}));
  PutContacts("/api/v1/devices/" + std::to_string(dev2.Json()["id"].get<int64_t>()) + "/contacts",
              json::array({{{"name", "Fremmed 2"}, {"phone", "+45 20 00 00 04"}}}));

  // The effective list: the device's own first, then the application's, with their source.
  auto eff = admin_->Get(dev1 + "/contacts/effective");
  ASSERT_EQ(eff.status, 200) << eff.body;
  json items = eff.Json()["items"];
  ASSERT_EQ(items.size(), 2u) << eff.body;
  EXPECT_EQ(items[0]["phone"], "+4520000001");
  EXPECT_EQ(items[0]["source"], "device");
  EXPECT_EQ(items[1]["phone"], "+4520000002");
  EXPECT_EQ(items[1]["source"], "application");
  EXPECT_EQ(items[1]["sourceId"], d.app_id);

  auto gw = Put(Org(d.org_id) + "/sms-gateway", {{"url", gateway.url() + "?key={{secret}}"},
                                                 {"bodyFormat", "form"},
                                                 {"body", "to={{to}}&msg={{message}}"},
                                                 {"secret", "k&y"}});
  ASSERT_EQ(gw.status, 200) << gw.body;
  // The test button sends one SMS now and answers the gateway's status.
  auto test = admin_->PostJson(Org(d.org_id) + "/sms-gateway/test", {{"to", "+45 99 99 99 99"}});
  ASSERT_EQ(test.status, 200) << test.body;
  EXPECT_EQ(test.Json()["ok"], true) << test.body;
  EXPECT_EQ(test.Json()["httpStatus"], 200);
  ASSERT_EQ(gateway.hits().size(), 1u);
  EXPECT_EQ(FormField(gateway.hits()[0].body, "to"), "+4599999999");
  EXPECT_NE(gateway.hits()[0].head.find("?key=k%26y"), std::string::npos) << gateway.hits()[0].head;

  CoRule(d, {{"type", "notify_contacts"}, {"via", "sms"}, {"message", "Alarm: {{alarm.message}}"}});
  ASSERT_EQ(Ingest(d.ingest_key, R"({"co2": 2000})").status, 204);
  ASSERT_TRUE(WaitFor([&] { return gateway.hits().size() >= 3; }));
  std::this_thread::sleep_for(1s);
  std::set<std::string> to;
  for (size_t i = 1; i < gateway.hits().size(); ++i) {
    to.insert(FormField(gateway.hits()[i].body, "to"));
    EXPECT_EQ(FormField(gateway.hits()[i].body, "msg").rfind("Alarm: ", 0), 0u);
  }
  EXPECT_EQ(to, (std::set<std::string>{"+4520000001", "+4520000002"}));
  EXPECT_EQ(gateway.hits().size(), 3u);
  json log = Log(d.org_id);
  ASSERT_EQ(log["items"].size(), 1u) << log.dump();
  EXPECT_EQ(log["items"][0]["type"], "notify_contacts");
  EXPECT_EQ(log["items"][0]["ok"], true);

  // Contacts are personal data: reads are audited.
  auto audit = admin_->Get("/api/v1/audit?limit=1000&orgId=" + std::to_string(d.org_id));
  int reads = 0;
  const json entries = audit.Json();
  for (const auto& e : entries["items"]) {
    reads += e.value("action", "") == "read" &&
             e.value("detail", "").find("contacts") != std::string::npos;
  }
  EXPECT_GE(reads, 1) << audit.body;
}

TEST_P(SmsOnBothStores, NotifyContactsByBothReachesEveryAddressAndNumber) {
  SmtpServer smtp;  // python3-aiosmtpd
  Receiver gateway(Receiver::Mode::kOk);
  DeviceHandle d = CreateHttpDevice("Begge Kommune");
  PutContacts(
      "/api/v1/devices/" + std::to_string(d.device_id) + "/contacts",
      json::array(
          {{{"name", "Vagt"}, {"email", "vagt@kommune.test"}, {"phone", "+45 30 00 00 01"}}}));
  PutContacts("/api/v1/applications/" + std::to_string(d.app_id) + "/contacts",
              json::array({{{"name", "Tilsyn"}, {"email", "tilsyn@kommune.test"}}}));
  ASSERT_EQ(Put(Org(d.org_id) + "/sms-gateway",
                {{"url", gateway.url()}, {"body", "to={{to}}&msg={{message}}"}})
                .status,
            200);
  CoRule(d, {{"type", "notify_contacts"},
             {"via", "both"},
             {"message", "CO2 i {{device.name}}"},
             {"subject", "Alarm i {{device.name}}"},
             {"url", smtp.url()},
             {"from", "bysans@kommune.test"}});
  ASSERT_EQ(Ingest(d.ingest_key, R"({"co2": 2000})").status, 204);
  bool mailed =
      WaitFor([&] { return smtp.Output().find("Alarm i Lokale 1") != std::string::npos; });
  smtp.Stop();
  const std::string smtp_log = smtp.Output();
  ASSERT_TRUE(mailed) << smtp_log << "\n" << Log(d.org_id).dump();
  EXPECT_NE(smtp_log.find("vagt@kommune.test"), std::string::npos) << smtp_log;
  EXPECT_NE(smtp_log.find("tilsyn@kommune.test"), std::string::npos) << smtp_log;
  // The one contact with a phone number (again only if a failed e-mail made the row retry).
  ASSERT_GE(gateway.hits().size(), 1u);
  for (const auto& hit : gateway.hits()) {
    EXPECT_EQ(FormField(hit.body, "to"), "+4530000001");
    EXPECT_EQ(FormField(hit.body, "msg"), "CO2 i Lokale 1");
  }
  json log;
  ASSERT_TRUE(WaitFor([&] {
    log = Log(d.org_id);
    return !log["items"].empty() && log["items"][0]["ok"] == true;
  })) << log.dump();
}

}  // namespace
}  // namespace bysans::testing

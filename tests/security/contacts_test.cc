// Attacks on responsible contacts and the SMS gateway (issue 20): another organisation's
// editor or admin, a viewer changing contacts, a non-admin at the SMS gateway, the gateway's
// secret leaking through an answer or the server log, and a gateway URL to a forbidden address.
#include <gtest/gtest.h>

#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class ContactsSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    json items = json::array({{{"name", "Ansvarlig A"}, {"phone", "+4520000001"}}});
    ASSERT_EQ(Send(*a_.admin.client, "PUT", a_.AppPath() + "/contacts", {{"items", items}}).status,
              200);
    ASSERT_EQ(
        Send(*a_.admin.client, "PUT", a_.DevicePath() + "/contacts", {{"items", items}}).status,
        200);
    auto gw = Send(*a_.admin.client, "PUT", a_.OrgPath() + "/sms-gateway",
                   {{"url", "https://sms.example.com/send"},
                    {"headers", {{"X-Token", "{{secret}}"}}},
                    {"body", "to={{to}}&text={{message}}"},
                    {"secret", kSecret}});
    ASSERT_EQ(gw.status, 200) << gw.body;
  }

  // A's contacts and gateway as A's admin sees them.
  json StateOfA() {
    return {admin_->Get(a_.AppPath() + "/contacts").Json(),
            admin_->Get(a_.DevicePath() + "/contacts").Json(),
            admin_->Get(a_.OrgPath() + "/sms-gateway").Json()};
  }

  static constexpr const char* kSecret = "sms-secret-7f3a9c";
};

TEST_F(ContactsSecurityTest, OtherOrganisationCannotReadOrChangeContactsOrGateway) {
  const json before = StateOfA();
  const json contacts = {{"items", json::array({{{"name", "Mallory"}, {"phone", "+4566666666"}}})}};
  for (OrgMember* m : {&b_.editor, &b_.admin}) {
    for (const std::string& path :
         {a_.AppPath() + "/contacts", a_.DevicePath() + "/contacts",
          a_.DevicePath() + "/contacts/effective", a_.OrgPath() + "/sms-gateway"}) {
      auto r = m->client->Get(path);
      EXPECT_TRUE(r.status == 403 || r.status == 404) << path << " " << r.status << r.body;
      EXPECT_EQ(r.body.find("Ansvarlig A"), std::string::npos);
    }
    for (const std::string& path : {a_.AppPath() + "/contacts", a_.DevicePath() + "/contacts"}) {
      auto r = Send(*m->client, "PUT", path, contacts);
      EXPECT_TRUE(r.status == 403 || r.status == 404) << path << " " << r.status << r.body;
    }
    auto gw = Send(*m->client, "PUT", a_.OrgPath() + "/sms-gateway",
                   {{"url", "https://evil.example.com/"}, {"secret", "x"}});
    EXPECT_TRUE(gw.status == 403 || gw.status == 404) << gw.body;
    auto test =
        Send(*m->client, "POST", a_.OrgPath() + "/sms-gateway/test", {{"to", "+4566666666"}});
    EXPECT_TRUE(test.status == 403 || test.status == 404) << test.body;
    auto del = m->client->Request("DELETE", a_.OrgPath() + "/sms-gateway");
    EXPECT_TRUE(del.status == 403 || del.status == 404) << del.body;
  }
  EXPECT_EQ(StateOfA(), before);
}

TEST_F(ContactsSecurityTest, ViewerCannotChangeContactsButEditorCan) {
  const json items = {{"items", json::array({{{"name", "Ny"}, {"email", "ny@kommune.dk"}}})}};
  for (const std::string& path : {a_.AppPath() + "/contacts", a_.DevicePath() + "/contacts"}) {
    EXPECT_EQ(Send(*a_.viewer.client, "PUT", path, items).status, 403) << path;
    auto read = a_.viewer.client->Get(path);
    ASSERT_EQ(read.status, 200) << read.body;
    EXPECT_EQ(read.Json()["items"][0]["name"], "Ansvarlig A");
  }
  EXPECT_EQ(Send(*a_.editor.client, "PUT", a_.DevicePath() + "/contacts", items).status, 200);
  EXPECT_EQ(a_.viewer.client->Get(a_.DevicePath() + "/contacts").Json()["items"][0]["name"], "Ny");
  // Validation: a malformed phone or e-mail and too many contacts are refused.
  EXPECT_EQ(Send(*a_.editor.client, "PUT", a_.AppPath() + "/contacts",
                 {{"items", json::array({{{"name", "X"}, {"phone", "12ab"}}})}})
                .status,
            400);
  EXPECT_EQ(Send(*a_.editor.client, "PUT", a_.AppPath() + "/contacts",
                 {{"items", json::array({{{"name", "X"}, {"email", "not-an-address"}}})}})
                .status,
            400);
  json many = json::array();
  for (int i = 0; i < 21; ++i) many.push_back({{"name", "N"}, {"phone", "+4520000001"}});
  EXPECT_EQ(Send(*a_.editor.client, "PUT", a_.AppPath() + "/contacts", {{"items", many}}).status,
            400);
}

TEST_F(ContactsSecurityTest, OnlyAdminsReadOrChangeTheSmsGateway) {
  const json before = StateOfA();
  for (OrgMember* m : {&a_.editor, &a_.viewer}) {
    EXPECT_EQ(m->client->Get(a_.OrgPath() + "/sms-gateway").status, 403);
    EXPECT_EQ(Send(*m->client, "PUT", a_.OrgPath() + "/sms-gateway",
                   {{"url", "https://evil.example.com/"}})
                  .status,
              403);
    EXPECT_EQ(Send(*m->client, "POST", a_.OrgPath() + "/sms-gateway/test", {{"to", "+4520000001"}})
                  .status,
              403);
    EXPECT_EQ(m->client->Request("DELETE", a_.OrgPath() + "/sms-gateway").status, 403);
  }
  EXPECT_EQ(StateOfA(), before);
}

TEST_F(ContactsSecurityTest, TheSecretNeverAppearsInAnswersOrTheServerLog) {
  std::string seen;
  auto get = a_.admin.client->Get(a_.OrgPath() + "/sms-gateway");
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(get.Json()["hasSecret"], true);
  seen += get.body;
  // Changed without the secret on the same server: kept (and still not shown).
  auto keep = Send(*a_.admin.client, "PUT", a_.OrgPath() + "/sms-gateway",
                   {{"url", "https://sms.example.com/v2"}, {"body", "to={{to}}"}});
  ASSERT_EQ(keep.status, 200) << keep.body;
  EXPECT_EQ(keep.Json()["hasSecret"], true);
  seen += keep.body;
  // Moved to another server without giving it again: refused (never sent elsewhere).
  auto moved = Send(*a_.admin.client, "PUT", a_.OrgPath() + "/sms-gateway",
                    {{"url", "https://other.example.com/"}});
  EXPECT_EQ(moved.status, 400) << moved.body;
  seen += moved.body;
  // A test to an unreachable server, the audit log and the actions log.
  seen +=
      Send(*a_.admin.client, "POST", a_.OrgPath() + "/sms-gateway/test", {{"to", "+4520000001"}})
          .body;
  seen += admin_->Get("/api/v1/audit?limit=1000&orgId=" + std::to_string(a_.device.org_id)).body;
  seen += admin_->Get(a_.OrgPath() + "/actions/log").body;
  EXPECT_EQ(seen.find(kSecret), std::string::npos);
  EXPECT_EQ(server_->log().find(kSecret), std::string::npos);
}

TEST_F(ContactsSecurityTest, AGatewayAtAForbiddenAddressIsRefusedAtDelivery) {
  auto gw = Send(*a_.admin.client, "PUT", a_.OrgPath() + "/sms-gateway",
                 {{"url", "http://169.254.169.254/latest/meta-data"}, {"secret", "x"}});
  ASSERT_EQ(gw.status, 200) << gw.body;
  auto test =
      Send(*a_.admin.client, "POST", a_.OrgPath() + "/sms-gateway/test", {{"to", "+4520000001"}});
  ASSERT_EQ(test.status, 200) << test.body;
  EXPECT_EQ(test.Json()["ok"], false);
  EXPECT_EQ(test.Json()["httpStatus"], 0);
  EXPECT_NE(test.Json()["error"].get<std::string>().find("could not connect"), std::string::npos)
      << test.body;
  // A rule's SMS goes nowhere either: the attempt fails with the neutral message.
  json rule = {{"name", "sms"},
               {"scope", {{"kind", "device"}, {"id", a_.device.device_id}}},
               {"expression", "co2 > 1000"},
               {"actions", json::array({{{"type", "sms"}, {"to", {"+4520000001"}}}})}};
  ASSERT_EQ(Send(*a_.admin.client, "POST", a_.OrgPath() + "/rules", rule).status, 201);
  ASSERT_EQ(Ingest(a_.device.ingest_key, R"({"co2": 2000})").status, 204);
  json log;
  ASSERT_TRUE(WaitFor([&] {
    log = admin_->Get(a_.OrgPath() + "/actions/log").Json();
    return !log["items"].empty();
  }));
  EXPECT_EQ(log["items"][0]["ok"], false);
  EXPECT_NE(log["items"][0]["error"].get<std::string>().find("could not connect"),
            std::string::npos)
      << log.dump();
}

}  // namespace
}  // namespace bysans::testing

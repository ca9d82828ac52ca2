// Issue 14, findings 5, 11 (rules) and 12: rule action secrets are write-only, sealed at rest,
// kept out of the audit log and never follow a URL to another server; SMTP fields with line
// breaks are refused.
#include <string>
#include <string_view>
#include <thread>

#include "integration/rules_receiver.h"
#include "integration/store_contents.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kSmtpSecret = "Smtp-Secret-4711-xyz";
constexpr const char* kHookSecret = "Bearer Hook-Secret-0815-xyz";

class SecretsTest : public SecurityTest {
 protected:
  json Rule(const json& actions) const {
    return {{"name", "CO2 high"},
            {"scope", {{"kind", "device"}, {"id", a_.device.device_id}}},
            {"expression", "co2 > 1000"},
            {"actions", actions}};
  }
  json Email(const std::string& password = kSmtpSecret) const {
    return {{"type", "email"},
            {"url", "smtps://mail.kommune.example:465"},
            {"from", "alarm@kommune.example"},
            {"to", {"vagt@kommune.example"}},
            {"username", "alarm"},
            {"password", password},
            {"on", {"clear"}}};  // never sent here
  }
  json Webhook(const std::string& url) const {
    return {{"type", "webhook"}, {"url", url}, {"headers", {{"Authorization", kHookSecret}}}};
  }
  std::string RulePath(int64_t id) const { return "/api/v1/rules/" + std::to_string(id); }

  // Every byte of the database and its WAL; on the PostgreSQL leg every row of every table of the
  // server's database as text (integration/store_contents.h).
  std::string DatabaseBytes() const { return StoredText(server_->data_dir(), server_env_); }
  // As text, or as the hex of a PostgreSQL bytea.
  static bool HasSecret(const std::string& text) {
    for (std::string_view secret : {"Smtp-Secret-47", "Hook-Secret-0815"}) {
      if (text.find(secret) != std::string::npos || text.find(HexOf(secret)) != std::string::npos)
        return true;
    }
    return false;
  }
};

TEST_F(SecretsTest, ActionSecretsAreWriteOnlySealedAndNeverAudited) {
  Receiver hook(Receiver::Mode::kOk);
  auto created = Send(*a_.editor.client, "POST", a_.OrgPath() + "/rules",
                      Rule(json::array({Email(), Webhook(hook.url())})));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_FALSE(HasSecret(created.body)) << created.body;
  const int64_t id = created.Json().value("id", int64_t{0});

  // A viewer reads the rule and the list: no secret, only that they exist.
  auto got = a_.viewer.client->Get(RulePath(id));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_FALSE(HasSecret(got.body)) << got.body;
  json actions = got.Json()["actions"];
  EXPECT_EQ(actions[0].value("hasPassword", false), true) << got.body;
  EXPECT_EQ(actions[1]["headerNames"], json::array({"Authorization"})) << got.body;
  auto list = a_.viewer.client->Get(a_.OrgPath() + "/rules");
  ASSERT_EQ(list.status, 200);
  EXPECT_FALSE(HasSecret(list.body));

  // An editor sends the rule back as read (a PATCH with a new secret, then a round trip):
  // the audit log holds no secret, and the stored secret is kept.
  actions = a_.editor.client->Get(RulePath(id)).Json()["actions"];
  json patch = {{"actions", json::array({Email("Smtp-Secret-4712-xyz"), actions[1]})}};
  auto patched = Send(*a_.editor.client, "PATCH", RulePath(id), patch);
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_FALSE(HasSecret(patched.body));
  json round_trip = a_.editor.client->Get(RulePath(id)).Json();
  round_trip["name"] = "CO2 high (renamed)";
  ASSERT_EQ(Send(*a_.editor.client, "PATCH", RulePath(id), round_trip).status, 200);
  auto audit = a_.admin.client->Get("/api/v1/audit?orgId=" + std::to_string(a_.device.org_id));
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_NE(audit.body.find("renamed"), std::string::npos) << audit.body;  // it is audited
  EXPECT_FALSE(HasSecret(audit.body)) << audit.body;
  EXPECT_EQ(a_.editor.client->Get(RulePath(id)).Json()["actions"][0].value("hasPassword", false),
            true);

  // Not in clear in the database file or its WAL (which do hold the rest of the action).
  EXPECT_FALSE(HasSecret(DatabaseBytes()));
  EXPECT_NE(DatabaseBytes().find("alarm@kommune.example"), std::string::npos);

  // Still used: the webhook carries the header (opened only for the delivery), and the outbox
  // row copied from the definition is sealed too.
  ASSERT_EQ(Ingest(a_.device.ingest_key, json{{"co2", 1500}}.dump()).status, 204);
  ASSERT_TRUE(WaitFor([&] { return !hook.hits().empty(); }));
  EXPECT_NE(hook.hits()[0].head.find(std::string("Authorization: ") + kHookSecret),
            std::string::npos)
      << hook.hits()[0].head;
  EXPECT_FALSE(HasSecret(DatabaseBytes()));
}

// A Slack-, Teams- or Discord-style webhook carries its credential in the URL's path: a viewer
// (who cannot change the rule) sees only the server; those who may change the rule see it all.
TEST_F(SecretsTest, AWebhookUrlsPathIsHiddenFromViewers) {
  const std::string url = "https://hooks.slack.example/services/T01/B02/Url-Token-4242-xyz";
  auto created = Send(*a_.editor.client, "POST", a_.OrgPath() + "/rules",
                      Rule(json::array({{{"type", "webhook"}, {"url", url}, {"on", {"clear"}}}})));
  ASSERT_EQ(created.status, 201) << created.body;
  const int64_t id = created.Json().value("id", int64_t{0});
  for (const std::string& path : {RulePath(id), a_.OrgPath() + "/rules"}) {
    SCOPED_TRACE(path);
    auto seen = a_.viewer.client->Get(path);
    ASSERT_EQ(seen.status, 200) << seen.body;
    EXPECT_EQ(seen.body.find("Url-Token-4242"), std::string::npos) << seen.body;
    EXPECT_EQ(seen.body.find("/services/"), std::string::npos) << seen.body;
    EXPECT_NE(seen.body.find("https://hooks.slack.example/…"), std::string::npos) << seen.body;
    EXPECT_NE(seen.body.find("\"urlHidden\":true"), std::string::npos) << seen.body;
    for (OrgMember* m : {&a_.editor, &a_.admin}) {
      auto full = m->client->Get(path);
      ASSERT_EQ(full.status, 200) << full.body;
      EXPECT_NE(full.body.find(url), std::string::npos) << full.body;
      EXPECT_EQ(full.body.find("urlHidden"), std::string::npos) << full.body;
    }
  }
  // The cut form sent back would store a wrong URL: refused, the stored one kept.
  json as_seen = a_.viewer.client->Get(RulePath(id)).Json();
  auto back = Send(*a_.editor.client, "PATCH", RulePath(id), {{"actions", as_seen["actions"]}});
  EXPECT_EQ(back.status, 400) << back.body;
  EXPECT_NE(back.body.find("urlHidden"), std::string::npos) << back.body;
  EXPECT_NE(a_.editor.client->Get(RulePath(id)).body.find(url), std::string::npos);
  // Another organisation's admin learns nothing at all.
  EXPECT_EQ(b_.admin.client->Get(RulePath(id)).status, 404);
}

TEST_F(SecretsTest, StoredSecretsDoNotFollowAUrlToAnotherServer) {
  auto created = Send(*a_.editor.client, "POST", a_.OrgPath() + "/rules",
                      Rule(json::array({Email(), Webhook("https://hooks.kommune.example/a")})));
  ASSERT_EQ(created.status, 201) << created.body;
  const int64_t id = created.Json().value("id", int64_t{0});
  json actions = created.Json()["actions"];
  // Another server for the webhook, the header not given again: refused.
  json moved = actions;
  moved[1]["url"] = "https://attacker.example/collect";
  auto r = Send(*a_.editor.client, "PATCH", RulePath(id), {{"actions", moved}});
  EXPECT_EQ(r.status, 400) << r.body;
  // Another SMTP server without the password: refused.
  moved = actions;
  moved[0]["url"] = "smtps://attacker.example:465";
  r = Send(*a_.editor.client, "PATCH", RulePath(id), {{"actions", moved}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("password"), std::string::npos) << r.body;
  // Same server, other path: fine; given again for the new server: fine.
  moved = actions;
  moved[1]["url"] = "https://hooks.kommune.example/b";
  EXPECT_EQ(Send(*a_.editor.client, "PATCH", RulePath(id), {{"actions", moved}}).status, 200);
  moved[0] = Email("New-Smtp-Password-1");
  moved[0]["url"] = "smtps://mail2.kommune.example:465";
  EXPECT_EQ(Send(*a_.editor.client, "PATCH", RulePath(id), {{"actions", moved}}).status, 200);
}

TEST_F(SecretsTest, MailFieldsWithLineBreaksAreRefused) {
  const std::string rules = a_.OrgPath() + "/rules";
  json from = Email();
  from["from"] = "alarm@kommune.example>\r\nRCPT TO:<victim@example.org";
  EXPECT_EQ(Send(*a_.editor.client, "POST", rules, Rule(json::array({from}))).status, 400);
  json subject = Email();
  subject["subject"] = "Alarm\r\nBcc: victim@example.org";
  EXPECT_EQ(Send(*a_.editor.client, "POST", rules, Rule(json::array({subject}))).status, 400);
  json to = Email();
  to["to"] = {"vagt@kommune.example\nDATA"};
  EXPECT_EQ(Send(*a_.editor.client, "POST", rules, Rule(json::array({to}))).status, 400);
  json header = Webhook("https://hooks.kommune.example/a");
  header["headers"]["X-Evil"] = "a\r\nHost: other";
  EXPECT_EQ(Send(*a_.editor.client, "POST", rules, Rule(json::array({header}))).status, 400);
  // The legitimate form is accepted.
  EXPECT_EQ(Send(*a_.editor.client, "POST", rules, Rule(json::array({Email()}))).status, 201);
}

}  // namespace
}  // namespace bysans::testing

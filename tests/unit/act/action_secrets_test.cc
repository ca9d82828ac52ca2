// Rule action secrets (act/action_secrets.h): write-only in the API, sealed when stored,
// kept on a change only while the action's server is unchanged.
#include "act/action_secrets.h"

#include <gtest/gtest.h>

#include "rules/json.h"

namespace bysans {
namespace {

using json = nlohmann::json;

class ActionSecretsTest : public ::testing::Test {
 protected:
  void SetUp() override { box_ = std::move(SecretBox::Open("")).value(); }

  json Email(const std::string& url = "smtps://mail.kommune.dk:465") const {
    return {{"type", "email"},           {"url", url},          {"from", "alarm@kommune.dk"},
            {"to", {"vagt@kommune.dk"}}, {"username", "alarm"}, {"password", "smtp-pw-1"}};
  }
  json Webhook(const std::string& url = "https://hooks.kommune.dk/a") const {
    return {{"type", "webhook"},
            {"url", url},
            {"headers", {{"Authorization", "Bearer tok-1"}, {"X-Trace", "t"}}}};
  }
  json Stored(const json& actions, const json& previous = json::array()) const {
    auto r = act::ActionsForStore(actions, previous, *box_);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : json();
  }
  json Opened(const json& action) const {
    auto r = act::OpenActionSecrets(action, box_.get());
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : json();
  }

  std::unique_ptr<SecretBox> box_;
};

TEST_F(ActionSecretsTest, StoredFormIsSealedAndApiFormHasNoSecret) {
  json stored = Stored(json::array({Email(), Webhook()}));
  const std::string text = stored.dump();
  for (const char* secret : {"smtp-pw-1", "tok-1"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  }
  EXPECT_TRUE(rules::ValidateActions(stored).ok());  // definitions stay valid
  json api = act::ActionsForApi(stored);
  EXPECT_EQ(api[0]["hasPassword"], true);
  EXPECT_FALSE(api[0].contains("password"));
  EXPECT_FALSE(api[0].contains("passwordSealed"));
  EXPECT_EQ(api[1]["headerNames"], json({"Authorization", "X-Trace"}));
  EXPECT_FALSE(api[1].contains("headers"));
  EXPECT_EQ(Opened(stored[0])["password"], "smtp-pw-1");
  EXPECT_EQ(Opened(stored[1])["headers"]["Authorization"], "Bearer tok-1");
  // Clear definitions written before sealing are read as they are.
  json legacy = act::ActionsForApi(json::array({Email(), Webhook()}));
  EXPECT_EQ(legacy.dump().find("smtp-pw-1"), std::string::npos);
  EXPECT_EQ(Opened(Email())["password"], "smtp-pw-1");
  auto sealed = act::SealStoredActions(json::array({Email(), Webhook()}), *box_);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->dump().find("tok-1"), std::string::npos);
}

TEST_F(ActionSecretsTest, SendingTheApiFormBackKeepsTheSecrets) {
  json stored = Stored(json::array({Email(), Webhook()}));
  json back = act::ActionsForApi(stored);         // what a GET shows, sent back by a PATCH
  back[1]["url"] = "https://hooks.kommune.dk/b";  // same server, other path
  json again = Stored(back, stored);
  EXPECT_EQ(Opened(again[0])["password"], "smtp-pw-1");
  EXPECT_EQ(Opened(again[1])["headers"]["X-Trace"], "t");
  // A header sent with null keeps its value, one left out is dropped, a new value replaces.
  json change = Webhook();
  change["headers"] = {{"Authorization", nullptr}, {"X-New", "n"}};
  json changed = Stored(json::array({act::ActionsForApi(stored)[0], change}), stored);
  json opened = Opened(changed[1]);
  EXPECT_EQ(opened["headers"]["Authorization"], "Bearer tok-1");
  EXPECT_EQ(opened["headers"]["X-New"], "n");
  EXPECT_FALSE(opened["headers"].contains("X-Trace"));
  // Reordered actions keep their own secrets.
  json api = act::ActionsForApi(stored);
  json reordered = Stored(json::array({api[1], api[0]}), stored);
  EXPECT_EQ(Opened(reordered[0])["headers"]["Authorization"], "Bearer tok-1");
  EXPECT_EQ(Opened(reordered[1])["password"], "smtp-pw-1");
  // A new action without secrets next to them is just new.
  json fresh = Webhook("https://new.example/");
  fresh.erase("headers");
  json added = Stored(json::array({fresh, api[0], api[1]}), stored);
  EXPECT_FALSE(added[0].contains("headersSealed"));
  EXPECT_EQ(Opened(added[2])["headers"]["Authorization"], "Bearer tok-1");
  // null or "" removes the password.
  json no_pw = Email();
  no_pw["password"] = nullptr;
  EXPECT_EQ(act::ActionsForApi(Stored(json::array({no_pw}), stored))[0]["hasPassword"], false);
}

TEST_F(ActionSecretsTest, SecretsDoNotFollowTheUrlToAnotherServer) {
  json stored = Stored(json::array({Email(), Webhook()}));
  json moved = act::ActionsForApi(stored);
  moved[0]["url"] = "smtps://evil.example:465";
  auto r = act::ActionsForStore(moved, stored, *box_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("password"), std::string::npos) << r.status().message();
  moved = act::ActionsForApi(stored);
  moved[1]["url"] = "https://hooks.kommune.dk:8443/a";  // another port
  EXPECT_FALSE(act::ActionsForStore(moved, stored, *box_).ok());
  json nulls = Webhook("http://hooks.kommune.dk/a");  // another scheme, values kept by null
  nulls["headers"] = {{"Authorization", nullptr}};
  EXPECT_FALSE(act::ActionsForStore(json::array({Email(), nulls}), stored, *box_).ok());
  // Given again, the change is fine.
  EXPECT_TRUE(act::ActionsForStore(json::array({Email("smtps://evil.example:465"),
                                                Webhook("https://other.example/")}),
                                   stored, *box_)
                  .ok());
  // Stored-only members cannot be sent.
  json forged = Email();
  forged["passwordSealed"] = stored[0]["passwordSealed"];
  EXPECT_FALSE(act::ActionsForStore(json::array({forged}), json::array(), *box_).ok());
}

TEST_F(ActionSecretsTest, ValidationRefusesLineBreaksAndTooManyActions) {
  json from = Email();
  from["from"] = "a@kommune.dk>\r\nRCPT TO:<victim@example.org";
  EXPECT_FALSE(rules::ValidateActions(json::array({from})).ok());
  for (const char* field : {"subject", "username"}) {
    json a = Email();
    a[field] = "x\r\nBcc: victim@example.org";
    EXPECT_FALSE(rules::ValidateActions(json::array({a})).ok()) << field;
  }
  json to = Email();
  to["to"] = {std::string("v@kommune.dk\0x", 14)};
  EXPECT_FALSE(rules::ValidateActions(json::array({to})).ok());
  json header = Webhook();
  header["headers"]["X-Evil"] = "a\nHost: other";
  EXPECT_FALSE(rules::ValidateActions(json::array({header})).ok());
  json creds = Webhook("https://user:pw@hooks.kommune.dk/");
  EXPECT_FALSE(rules::ValidateActions(json::array({creds})).ok());
  json many = json::array();
  for (size_t i = 0; i <= rules::kMaxActionsPerRule; ++i) many.push_back(Webhook());
  EXPECT_FALSE(rules::ValidateActions(many).ok());
  many.erase(many.begin());
  EXPECT_TRUE(rules::ValidateActions(many).ok());
}

}  // namespace
}  // namespace bysans

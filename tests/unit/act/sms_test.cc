// act/sms.h: the gateway's checks and the request a message becomes (escaping per place).
#include "act/sms.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "act/action_secrets.h"
#include "rules/json.h"

namespace bysans::act {
namespace {

SmsGateway Gateway() {
  SmsGateway g;
  g.url = "https://sms.example.dk/send?key={{secret}}";
  g.headers = {{"Authorization", "Bearer {{secret}}"}};
  g.body = "to={{to}}&text={{message}}";
  return g;
}

TEST(BuildSmsRequest, FormBodyAndUrlAreUrlEncodedHeadersAreNot) {
  auto r = BuildSmsRequest(Gateway(), "a&b c", "+4520000001", "CO2 høj & 2000 ppm");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->method, "POST");
  EXPECT_EQ(r->url, "https://sms.example.dk/send?key=a%26b%20c");
  EXPECT_EQ(r->body, "to=%2B4520000001&text=CO2%20h%C3%B8j%20%26%202000%20ppm");
  ASSERT_EQ(r->headers.size(), 2u);
  EXPECT_EQ(r->headers[0], (std::pair<std::string, std::string>{"Authorization", "Bearer a&b c"}));
  EXPECT_EQ(r->headers[1].second, "application/x-www-form-urlencoded");
}

TEST(BuildSmsRequest, JsonBodyIsJsonEscapedAndStaysJson) {
  SmsGateway g = Gateway();
  g.body_format = "json";
  g.body = R"({"to":"{{to}}","text":"{{message}}"})";
  g.headers["Content-Type"] = "application/vnd.sms+json";
  auto r = BuildSmsRequest(g, "s", "+4520000001", "say \"hi\"\n\\ end");
  ASSERT_TRUE(r.ok());
  auto body = nlohmann::json::parse(r->body);
  EXPECT_EQ(body["to"], "+4520000001");
  EXPECT_EQ(body["text"], "say \"hi\"\n\\ end");
  ASSERT_EQ(r->headers.size(), 2u);  // the gateway's own Content-Type, no second one
}

TEST(BuildSmsRequest, GetHasNoBodyAndALineBreakCannotReachAHeader) {
  SmsGateway g = Gateway();
  g.method = "GET";
  auto r = BuildSmsRequest(g, "s", "+4520000001", "m");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(r->headers.size(), 1u);
  EXPECT_FALSE(BuildSmsRequest(Gateway(), "s\r\nX-Evil: 1", "+4520000001", "m").ok());
}

TEST(ValidateSmsGateway, RefusesWhatCouldNotBeSentSafely) {
  EXPECT_TRUE(ValidateSmsGateway(Gateway()).ok());
  auto bad = [](auto change) {
    SmsGateway g = Gateway();
    change(g);
    return !ValidateSmsGateway(g).ok();
  };
  EXPECT_TRUE(bad([](SmsGateway& g) { g.url = "ftp://sms.example.dk/"; }));
  EXPECT_TRUE(bad([](SmsGateway& g) { g.url = "https://user:pw@sms.example.dk/"; }));
  EXPECT_TRUE(bad([](SmsGateway& g) { g.url = "https://sms.example.dk/a b"; }));
  EXPECT_TRUE(bad([](SmsGateway& g) { g.url = "https://{{secret}}.example.dk/"; }));
  EXPECT_TRUE(bad([](SmsGateway& g) { g.url = "https://sms.example.dk:{{to}}/"; }));
  EXPECT_FALSE(bad([](SmsGateway& g) { g.url = "https://sms.example.dk/send?key={{secret}}"; }));
  EXPECT_TRUE(bad([](SmsGateway& g) { g.method = "PUT"; }));
  EXPECT_TRUE(bad([](SmsGateway& g) { g.body_format = "xml"; }));
  EXPECT_TRUE(bad([](SmsGateway& g) { g.headers["X Bad"] = "v"; }));
  EXPECT_TRUE(bad([](SmsGateway& g) { g.headers["X"] = "a\nb"; }));
  EXPECT_TRUE(bad([](SmsGateway& g) { g.body = std::string(4097, 'b'); }));
}

using json = nlohmann::json;

TEST(SmsActions, ValidationOfSmsAndNotifyContacts) {
  auto valid = [](const json& a) { return rules::ValidateActions(json::array({a})).ok(); };
  EXPECT_TRUE(
      valid({{"type", "sms"}, {"to", {"+45 20 00 00 01"}}, {"message", "{{alarm.message}}"}}));
  EXPECT_FALSE(valid({{"type", "sms"}, {"to", json::array()}}));
  EXPECT_FALSE(valid({{"type", "sms"}, {"to", {"20000001"}}}));
  EXPECT_FALSE(valid({{"type", "sms"}, {"to", {"+4520000001"}}, {"url", "https://x.dk"}}));
  EXPECT_FALSE(
      valid({{"type", "sms"}, {"to", {"+4520000001"}}, {"message", std::string(1601, 'm')}}));
  EXPECT_TRUE(valid({{"type", "notify_contacts"}, {"via", "sms"}, {"message", "m"}}));
  EXPECT_FALSE(valid({{"type", "notify_contacts"}, {"via", "pigeon"}}));
  // E-mail needs the SMTP server and sender, but no "to" (the contacts are the recipients).
  EXPECT_FALSE(valid({{"type", "notify_contacts"}, {"via", "both"}}));
  EXPECT_TRUE(valid({{"type", "notify_contacts"},
                     {"via", "both"},
                     {"url", "smtps://mail.kommune.dk:465"},
                     {"from", "alarm@kommune.dk"}}));
  EXPECT_FALSE(valid({{"type", "notify_contacts"},
                      {"via", "email"},
                      {"url", "smtps://mail.kommune.dk:465"},
                      {"from", "alarm@kommune.dk"},
                      {"to", {"x@y.dk"}}}));
}

TEST(SmsActions, TheSmtpPasswordOfNotifyContactsIsSealedLikeEmail) {
  auto box = std::move(SecretBox::Open("")).value();
  json a = {{"type", "notify_contacts"},  {"via", "email"},  {"url", "smtps://mail.dk:465"},
            {"from", "alarm@kommune.dk"}, {"username", "u"}, {"password", "pw-notify-1"}};
  auto stored = ActionsForStore(json::array({a}), json::array(), *box);
  ASSERT_TRUE(stored.ok()) << stored.status().message();
  EXPECT_EQ(stored->dump().find("pw-notify-1"), std::string::npos);
  EXPECT_EQ(ActionsForApi(*stored)[0]["hasPassword"], true);
  EXPECT_EQ(OpenActionSecrets((*stored)[0], box.get())->value("password", ""), "pw-notify-1");
}

}  // namespace
}  // namespace bysans::act

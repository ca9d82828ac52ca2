// The one redaction of audit details (core/redact.h).
#include "core/redact.h"

#include <gtest/gtest.h>

namespace bysans {
namespace {

using json = nlohmann::json;

TEST(RedactTest, SecretLookingMembersLoseTheirValuesAtAnyDepth) {
  json doc = {{"name", "Alarm"},
              {"password", "hunter2"},
              {"actions",
               {{{"type", "email"}, {"password", "smtp-pw"}, {"hasPassword", true}},
                {{"type", "webhook"},
                 {"url", "https://x"},
                 {"headers", {{"Authorization", "Bearer abc"}, {"X-Trace", "t1"}}}}}},
              {"clientKey", "-----BEGIN PRIVATE KEY-----"},
              {"apiKey", 42},
              {"X-Auth-Token", "tok"},
              {"rate", {{"key", "temperature"}}}};
  RedactSecrets(doc);
  EXPECT_EQ(doc["name"], "Alarm");
  EXPECT_EQ(doc["password"], kRedacted);
  EXPECT_EQ(doc["actions"][0]["password"], kRedacted);
  EXPECT_EQ(doc["actions"][0]["hasPassword"], true);  // booleans say nothing secret
  EXPECT_EQ(doc["actions"][1]["headers"]["Authorization"], kRedacted);
  EXPECT_EQ(doc["actions"][1]["headers"]["X-Trace"], kRedacted);  // every header value
  EXPECT_EQ(doc["actions"][1]["url"], "https://x");
  EXPECT_EQ(doc["clientKey"], kRedacted);
  EXPECT_EQ(doc["apiKey"], kRedacted);
  EXPECT_EQ(doc["X-Auth-Token"], kRedacted);
  EXPECT_EQ(doc["rate"]["key"], "temperature");  // a reading key is no secret
  EXPECT_EQ(doc.dump().find("hunter2"), std::string::npos);
}

TEST(RedactTest, TextThatIsNotJsonIsKept) {
  EXPECT_EQ(RedactSecretsInText("Indeklima"), "Indeklima");
  EXPECT_EQ(RedactSecretsInText("{broken"), "{broken");
  EXPECT_EQ(RedactSecretsInText(R"({"secret":"s","n":1})"), R"({"n":1,"secret":"[redacted]"})");
}

TEST(RedactTest, DeepNestingIsCutNotRecursed) {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  std::string out = RedactSecretsInText(deep);
  EXPECT_LT(out.size(), 1000u);
}

}  // namespace
}  // namespace bysans

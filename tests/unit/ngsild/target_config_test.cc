#include "ngsild/target_config.h"

#include <gtest/gtest.h>

namespace bysans::ngsild {
namespace {

using nlohmann::json;

TEST(TargetConfigTest, ReadsEverySetting) {
  auto s = TargetFromJson(json::parse(R"({
      "url": "https://broker.example/orion", "tenant": "aarhus", "contextMode": "body",
      "context": "https://smartdatamodels.org/context.jsonld", "timeoutMs": 5000,
      "unmappedAsMeasurements": false,
      "auth": {"type": "oauth2", "tokenUrl": "https://idp.example/token", "clientId": "bysans",
               "clientSecret": "s", "scope": "entities", "credentialsInBody": true}})"));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->target.url, "https://broker.example/orion");
  EXPECT_EQ(s->target.tenant, "aarhus");
  EXPECT_EQ(s->target.context_mode, ContextMode::kInBody);
  EXPECT_EQ(s->target.timeout_ms, 5000);
  EXPECT_EQ(s->target.auth, AuthKind::kOAuth2);
  EXPECT_EQ(s->target.oauth2.client_id, "bysans");
  EXPECT_EQ(s->target.oauth2.scope, "entities");
  EXPECT_TRUE(s->target.oauth2.credentials_in_body);
  EXPECT_FALSE(s->build.unmapped_as_measurements);
}

TEST(TargetConfigTest, DefaultsAndAStaticHeader) {
  auto s = TargetFromJson(json::parse(
      R"({"url": "http://broker:1026", "auth": {"type": "header", "name": "X-Api-Key", "value": "k"}})"));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->target.context_mode, ContextMode::kLinkHeader);
  EXPECT_EQ(s->target.timeout_ms, 10'000);
  EXPECT_EQ(s->target.auth, AuthKind::kHeader);
  EXPECT_EQ(s->target.header_value, "k");
  EXPECT_TRUE(s->build.unmapped_as_measurements);
}

TEST(TargetConfigTest, RefusesWhatCannotBeUsed) {
  for (const char* bad : {
           R"([])",
           R"({})",
           R"({"url": "ftp://broker"})",
           R"({"url": "https://b", "tenant": "a b"})",
           R"({"url": "https://b", "tenant": "x\r\nHost: evil"})",
           R"({"url": "https://b", "context": "javascript:void"})",
           R"({"url": "https://b", "contextMode": "header"})",
           R"({"url": "https://b", "timeoutMs": 50})",
           R"({"url": "https://b", "timeoutMs": "1000"})",
           R"({"url": "https://b", "auth": {"type": "basic"}})",
           R"({"url": "https://b", "auth": {"type": "header", "name": "A: b", "value": "x"}})",
           R"({"url": "https://b", "auth": {"type": "header", "name": "A", "value": "x\ny"}})",
           R"({"url": "https://b", "auth": {"type": "oauth2", "clientId": "c"}})",
           R"({"url": "https://b", "auth": {"type": "oauth2", "tokenUrl": "https://t"}})",
           R"({"url": 5})",
       }) {
    EXPECT_FALSE(TargetFromJson(json::parse(bad)).ok()) << bad;
  }
}

}  // namespace
}  // namespace bysans::ngsild

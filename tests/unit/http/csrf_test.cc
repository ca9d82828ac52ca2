#include "http/csrf.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>

namespace bysans::http {
namespace {

Request Make(std::string method, std::string body,
             std::initializer_list<std::pair<const char*, const char*>> headers) {
  Request r;
  r.method = std::move(method);
  r.body = std::move(body);
  r.headers.Set("Host", "bysans.kommune.dk");
  for (const auto& [name, value] : headers) r.headers.Set(name, value);
  return r;
}

Code CodeOf(const Request& r) { return CheckCookieRequest(r).code(); }

TEST(MediaType, DropsParametersAndCase) {
  EXPECT_EQ(MediaType(" Application/JSON ; charset=utf-8"), "application/json");
  EXPECT_EQ(MediaType(""), "");
  EXPECT_TRUE(IsJsonMediaType("application/json"));
  EXPECT_TRUE(IsJsonMediaType("application/merge-patch+json; charset=utf-8"));
  EXPECT_FALSE(IsJsonMediaType("text/plain; charset=json"));
  EXPECT_FALSE(IsJsonMediaType("text/json"));
  EXPECT_FALSE(IsJsonMediaType("application/+json"));
  EXPECT_FALSE(IsJsonMediaType("application/x-www-form-urlencoded"));
}

TEST(CheckCookieRequest, SafeMethodsPass) {
  for (const char* m : {"GET", "HEAD", "OPTIONS"})
    EXPECT_EQ(CodeOf(Make(m, "", {{"Origin", "https://evil.example"}})), Code::kOk) << m;
}

TEST(CheckCookieRequest, BodyNeedsJsonContentType) {
  EXPECT_EQ(CodeOf(Make("POST", "{}", {{"Content-Type", "application/json; charset=utf-8"}})),
            Code::kOk);
  EXPECT_EQ(CodeOf(Make("POST", "{}", {{"Content-Type", "text/plain; charset=json"}})),
            Code::kUnsupportedMedia);
  EXPECT_EQ(CodeOf(Make("POST", "{}", {{"Content-Type", "application/x-www-form-urlencoded"}})),
            Code::kUnsupportedMedia);
  EXPECT_EQ(CodeOf(Make("POST", "{}", {})), Code::kUnsupportedMedia);
  EXPECT_EQ(CodeOf(Make("PATCH", "{}", {{"Content-Type", "text/plain"}})), Code::kUnsupportedMedia);
}

TEST(CheckCookieRequest, CrossOriginIsRefused) {
  const std::pair<const char*, const char*> json = {"Content-Type", "application/json"};
  EXPECT_EQ(CodeOf(Make("POST", "{}", {json, {"Origin", "https://evil.example"}})),
            Code::kPermissionDenied);
  EXPECT_EQ(CodeOf(Make("POST", "{}", {json, {"Origin", "null"}})), Code::kPermissionDenied);
  EXPECT_EQ(CodeOf(Make("POST", "{}", {json, {"Origin", "https://bysans.kommune.dk.evil.dk"}})),
            Code::kPermissionDenied);
  EXPECT_EQ(CodeOf(Make("DELETE", "", {{"Sec-Fetch-Site", "cross-site"}})),
            Code::kPermissionDenied);
  EXPECT_EQ(CodeOf(Make("DELETE", "", {{"Sec-Fetch-Site", "same-site"}})), Code::kPermissionDenied);
  // Same host; the scheme is not compared (TLS may end at a proxy), default ports are.
  EXPECT_EQ(CodeOf(Make("POST", "{}", {json, {"Origin", "https://BYSANS.kommune.dk"}})), Code::kOk);
  EXPECT_EQ(CodeOf(Make("POST", "{}", {json, {"Origin", "https://bysans.kommune.dk:443"}})),
            Code::kOk);
  EXPECT_EQ(CodeOf(Make("POST", "{}", {json, {"Origin", "https://bysans.kommune.dk:8443"}})),
            Code::kPermissionDenied);
  EXPECT_EQ(CodeOf(Make("POST", "{}", {json, {"Sec-Fetch-Site", "same-origin"}})), Code::kOk);
}

TEST(CheckCookieRequest, BodilessPostNeedsASameOriginSignal) {
  EXPECT_EQ(CodeOf(Make("POST", "", {})), Code::kPermissionDenied);
  EXPECT_EQ(CodeOf(Make("POST", "", {{"Content-Type", "application/x-www-form-urlencoded"}})),
            Code::kPermissionDenied);
  EXPECT_EQ(CodeOf(Make("POST", "", {{"Content-Type", "application/json"}})), Code::kOk);
  EXPECT_EQ(CodeOf(Make("POST", "", {{"Origin", "http://bysans.kommune.dk"}})), Code::kOk);
  EXPECT_EQ(CodeOf(Make("POST", "", {{"Sec-Fetch-Site", "same-origin"}})), Code::kOk);
  // PUT, PATCH and DELETE cannot be sent cross-origin without a preflight.
  EXPECT_EQ(CodeOf(Make("DELETE", "", {})), Code::kOk);
  EXPECT_EQ(CodeOf(Make("DELETE", "", {{"Content-Type", "application/x-www-form-urlencoded"}})),
            Code::kOk);
}

}  // namespace
}  // namespace bysans::http

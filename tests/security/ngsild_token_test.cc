// NGSI-LD data targets' OAuth2 tokens (issue 16): bysans caches the access tokens it gets with
// a target's client credentials. Organisation B's admin names A's token endpoint and client id
// in a target of B's own, aimed at a broker B controls, with a secret B does not know (and then
// even with the right one), and pushes: B's broker must never see A's token, and A's token
// endpoint must see B's own request with B's secret (and refuse it: B's push fails, saying so).
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "integration/ngsild_receiver.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

constexpr const char* kClientId = "kommune-a";
constexpr const char* kSecret = "A-Client-Secret-4711";

class NgsiLdTokenSecurityTest : public SecurityTest {
 protected:
  // A target of `t`'s application sending to `broker` with OAuth2 at A's token endpoint.
  std::string CreateTarget(Tenant& t, const NgsiLdReceiver& broker, const std::string& secret) {
    auto r = Send(*t.admin.client, "POST", t.AppPath() + "/data-targets",
                  {{"name", "FIWARE"},
                   {"type", "ngsi-ld"},
                   {"url", broker.base_url()},
                   {"ngsiLd",
                    {{"auth",
                      {{"type", "oauth2"},
                       {"tokenUrl", idp_.token_url()},
                       {"clientId", kClientId},
                       {"clientSecret", secret}}}}}});
    EXPECT_EQ(r.status, 201) << r.body;
    return "/api/v1/data-targets/" + std::to_string(r.Json().value("id", int64_t{0}));
  }

  // The bearer tokens of the upserts `broker` received.
  static std::vector<std::string> Bearers(NgsiLdReceiver& broker) {
    std::vector<std::string> out;
    for (const auto& u : broker.upserts()) {
      auto it = u.headers.find("authorization");
      out.push_back(it == u.headers.end() ? "" : it->second);
    }
    return out;
  }

  NgsiLdReceiver idp_;       // A's identity provider (its /token) and A's context broker
  NgsiLdReceiver b_broker_;  // the broker B's admin controls
};

TEST_F(NgsiLdTokenSecurityTest, AnotherOrganisationNamingTheSameClientIdNeverGetsTheCachedToken) {
  idp_.RequireOAuth2(kClientId, kSecret, 3600);
  // A's own target gets a token with A's secret and delivers with it.
  const std::string a_target = CreateTarget(a_, idp_, kSecret);
  ASSERT_EQ(Ingest(a_.device.ingest_key, R"({"temperature": 20.5})").status, 204);
  auto a_delivered = [&] {
    for (const auto& u : idp_.upserts())
      if (u.status == 201) return true;
    return false;
  };
  ASSERT_TRUE(WaitFor(a_delivered, 30)) << server_->log() << "\n"
                                        << a_.admin.client->Get(a_target + "/deliveries").body;
  const int a_token_requests = idp_.token_requests();
  ASSERT_GE(a_token_requests, 1);
  std::string a_token;
  for (const auto& bearer : Bearers(idp_))
    if (bearer.rfind("Bearer tok-", 0) == 0) a_token = bearer.substr(7);
  ASSERT_FALSE(a_token.empty());

  // B's target: A's token URL and client id, a wrong secret, B's own broker.
  const std::string b_target = CreateTarget(b_, b_broker_, "not-the-secret");
  ASSERT_EQ(Ingest(b_.device.ingest_key, R"({"temperature": 66})").status, 204);
  auto test =
      Send(*b_.admin.client, "POST", b_target + "/test", {{"deviceId", b_.device.device_id}});
  ASSERT_EQ(test.status, 200) << test.body;
  // B's push asked the token endpoint with B's own secret, was refused, and says so.
  EXPECT_FALSE(test.Json().value("ok", true)) << test.body;
  EXPECT_NE(test.Json().value("error", "").find("OAuth2 token request refused"), std::string::npos)
      << test.body;
  EXPECT_GT(idp_.token_requests(), a_token_requests) << "B's push never asked for its own token";
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the worker's attempts, too
  for (const auto& bearer : Bearers(b_broker_)) {
    EXPECT_NE(bearer, "Bearer " + a_token) << "A's token reached B's broker";
  }
  EXPECT_TRUE(b_broker_.upserts().empty())
      << "B's push reached its broker without a token of its own";

  // Even with the right secret (leaked, or guessed), B gets a token of its own from the
  // endpoint, never the one cached for A's target.
  const int before = idp_.token_requests();
  const std::string b_target2 = CreateTarget(b_, b_broker_, kSecret);
  test = Send(*b_.admin.client, "POST", b_target2 + "/test", {{"deviceId", b_.device.device_id}});
  ASSERT_EQ(test.status, 200) << test.body;
  EXPECT_TRUE(test.Json().value("ok", false)) << test.body;
  EXPECT_GT(idp_.token_requests(), before);
  for (const auto& bearer : Bearers(b_broker_)) {
    EXPECT_NE(bearer, "Bearer " + a_token) << "A's cached token reached B's broker";
  }
  // A's own target keeps delivering with its token.
  const size_t a_upserts = idp_.upserts().size();
  ASSERT_EQ(Ingest(a_.device.ingest_key, R"({"temperature": 21.0})").status, 204);
  EXPECT_TRUE(WaitFor([&] { return idp_.upserts().size() > a_upserts; }, 30));
  EXPECT_EQ(idp_.upserts().back().status, 201);
}

}  // namespace
}  // namespace bysans::testing

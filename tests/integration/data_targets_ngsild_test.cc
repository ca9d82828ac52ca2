// FIWARE NGSI-LD data targets (issue 16) against the real server and a validating NGSI-LD
// broker on loopback (ngsild_receiver.h: the upsert's shape and each Smart Data Model's
// required attributes, an OAuth2 token endpoint): readings of an HTTP device become entities
// that pass the broker's checks, the client secret is write-only, a 207's refusals are in the
// delivery log without holding the target back.
#include <set>
#include <string>
#include <vector>

#include "integration/fixture.h"
#include "integration/ngsild_receiver.h"

namespace bysans::testing {
namespace {

class DataTargetsNgsiLdTest : public ServerTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_OUTBOUND_ALLOW=127.0.0.0/8"};
    ServerTest::SetUp();
    device_ = CreateHttpDevice("Skive Kommune");
    auto loc = admin_->Request("PATCH", "/api/v1/devices/" + std::to_string(device_.device_id),
                               json{{"location", {{"lat", 56.567}, {"lon", 9.027}}}}.dump(),
                               {"Content-Type: application/json"});
    ASSERT_EQ(loc.status, 200) << loc.body;
  }

  json CreateTarget(const json& ngsild) {
    auto r =
        admin_->PostJson("/api/v1/applications/" + std::to_string(device_.app_id) + "/data-targets",
                         {{"name", "FIWARE"},
                          {"type", "ngsi-ld"},
                          {"url", "http://" + rx_.host()},
                          {"ngsiLd", ngsild}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json();
  }
  void Send(const json& reading) {
    auto r = Ingest(device_.ingest_key, reading.dump());
    ASSERT_EQ(r.status, 204) << r.body;
  }
  // The upserts the broker accepted.
  std::vector<NgsiLdReceiver::Request> Accepted() {
    std::vector<NgsiLdReceiver::Request> out;
    for (auto& u : rx_.upserts())
      if (u.status == 201 || u.status == 204 || u.status == 207) out.push_back(u);
    return out;
  }

  NgsiLdReceiver rx_;
  DeviceHandle device_;
};

TEST_F(DataTargetsNgsiLdTest, ReadingsArriveAsValidEntitiesWithOAuth2AndTheSecretStaysWriteOnly) {
  rx_.RequireOAuth2("bysans-skive", "Client-Secret-4711", 3600);
  json target = CreateTarget({{"tenant", "skive"},
                              {"auth",
                               {{"type", "oauth2"},
                                {"tokenUrl", "http://" + rx_.host() + "/token"},
                                {"clientId", "bysans-skive"},
                                {"clientSecret", "Client-Secret-4711"}}}});
  const std::string path = "/api/v1/data-targets/" + std::to_string(target.value("id", 0));
  Send({{"co2", 812}, {"temperature", 21.5}, {"humidity", 41}});
  ASSERT_TRUE(WaitFor([&] { return !Accepted().empty(); }, 30))
      << server_->log() << "\n"
      << admin_->Get(path + "/deliveries").body;
  EXPECT_TRUE(rx_.violations().empty()) << rx_.violations().front();
  EXPECT_GE(rx_.token_requests(), 1);
  const auto first = Accepted().front();
  EXPECT_EQ(first.headers.count("ngsild-tenant") ? first.headers.at("ngsild-tenant") : "", "skive");
  json entities = json::parse(first.body, nullptr, false);
  ASSERT_TRUE(entities.is_array()) << first.body;
  bool co2 = false;
  for (const auto& e : entities) {
    EXPECT_EQ(e.value("id", "").rfind("urn:ngsi-ld:", 0), 0u) << e;
    if (e.contains("co2")) {
      co2 = true;
      EXPECT_EQ(e["co2"].value("value", 0.0), 812.0) << e;
      EXPECT_TRUE(e["co2"].contains("observedAt")) << e;
      EXPECT_EQ(e["location"]["value"]["coordinates"][0], 9.027) << e;  // GeoJSON: lon, lat
    }
  }
  EXPECT_TRUE(co2) << first.body;
  // Write-only: the API never shows the client secret, only that there is one.
  for (const std::string& p :
       {path, "/api/v1/applications/" + std::to_string(device_.app_id) + "/data-targets"}) {
    auto got = admin_->Get(p);
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(got.body.find("Client-Secret-4711"), std::string::npos) << got.body;
  }
  json now = admin_->Get(path).Json();
  EXPECT_TRUE(now.value("hasPassword", false)) << now;
  EXPECT_EQ(now["ngsiLd"]["auth"].value("clientId", ""), "bysans-skive") << now;
  // Moving the token endpoint to another server without the secret again is refused.
  auto moved = admin_->Request("PUT", path,
                               json{{"ngsiLd",
                                     {{"auth",
                                       {{"type", "oauth2"},
                                        {"tokenUrl", "https://idp.example/token"},
                                        {"clientId", "bysans-skive"}}}}}}
                                   .dump(),
                               {"Content-Type: application/json"});
  EXPECT_EQ(moved.status, 400) << moved.body;
}

TEST_F(DataTargetsNgsiLdTest, EntitiesTheBrokerRefusesAreLoggedAndTheTargetGoesOn) {
  json target = CreateTarget(json::object());
  const std::string path = "/api/v1/data-targets/" + std::to_string(target.value("id", 0));
  Send({{"co2", 600}, {"temperature", 20.0}});
  ASSERT_TRUE(WaitFor([&] { return !Accepted().empty(); }, 30)) << server_->log();
  std::set<std::string> ids;
  for (const auto& e : json::parse(Accepted().front().body)) ids.insert(e.value("id", ""));
  rx_.set_answer(NgsiLdReceiver::Answer::k207);
  rx_.set_refused(ids);
  Send({{"co2", 650}, {"temperature", 20.5}});
  json log;
  ASSERT_TRUE(WaitFor(
      [&] {
        log = admin_->Get(path + "/deliveries").Json().value("items", json::array());
        for (const auto& l : log)
          if (l.value("error", "").find("failed") != std::string::npos) return true;
        return false;
      },
      30))
      << log << server_->log();
  // Delivered as far as retrying can: nothing waits in the queue, nothing is a dead letter.
  ASSERT_TRUE(WaitFor(
      [&] {
        json m = admin_->Get(path).Json()["metrics"];
        return m.value("queueDepth", -1) == 0 && m.value("deadLetters", -1) == 0;
      },
      30))
      << admin_->Get(path).body;
  EXPECT_TRUE(rx_.violations().empty()) << rx_.violations().front();
}

TEST_F(DataTargetsNgsiLdTest, BadSettingsAreRefusedWithTheirName) {
  auto bad = [&](const json& ngsild, const std::string& says) {
    auto r =
        admin_->PostJson("/api/v1/applications/" + std::to_string(device_.app_id) + "/data-targets",
                         {{"name", "FIWARE"},
                          {"type", "ngsi-ld"},
                          {"url", "http://" + rx_.host()},
                          {"ngsiLd", ngsild}});
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find(says), std::string::npos) << r.body;
  };
  bad({{"contextMode", "sideways"}}, "contextMode");
  bad({{"auth", {{"type", "kerberos"}}}}, "auth.type");
  bad({{"auth", {{"type", "oauth2"}}}}, "ngsiLd");
  bad({{"url", "http://elsewhere"}}, "ngsiLd.url");
  auto http =
      admin_->PostJson("/api/v1/applications/" + std::to_string(device_.app_id) + "/data-targets",
                       {{"name", "x"},
                        {"type", "http"},
                        {"url", "http://" + rx_.host()},
                        {"ngsiLd", json::object()}});
  EXPECT_EQ(http.status, 400) << http.body;
}

}  // namespace
}  // namespace bysans::testing

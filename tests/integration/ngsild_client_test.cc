// The NGSI-LD client (src/ngsild) against a validating broker on loopback
// (ngsild_receiver.h): entities built from realistic readings of the shipped decoders pass the
// upsert shape and their Smart Data Models' required attributes; 201/204/207/4xx/5xx; OAuth2
// tokens cached, renewed after expiry and after a 401; the outbound-address policy.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "integration/ngsild_receiver.h"
#include "ngsild/client.h"
#include "ngsild/entities.h"

namespace bysans::ngsild {
namespace {

using nlohmann::json;
using testing::NgsiLdReceiver;

constexpr TimeMs kTs = 1'788'390'574'000;

Reading R(std::string key, Value v, std::string unit = "") {
  Reading r;
  r.key = std::move(key);
  r.ts = kTs;
  r.value = std::move(v);
  r.unit = std::move(unit);
  return r;
}
Reading R(std::string key, double v, std::string unit = "") {
  return R(std::move(key), Value(v), std::move(unit));
}

class NgsiLdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Catalogue::Embedded();
    ASSERT_TRUE(c.ok());
    catalogue_ = std::make_unique<Catalogue>(std::move(c).value());
    auto policy = OutboundPolicy::Parse("127.0.0.0/8");
    ASSERT_TRUE(policy.ok());
    client_ = std::make_unique<NgsiLdClient>(clock_, *policy);
    target_.url = receiver_.base_url();
    target_.tenant = "kommune";
  }

  // One device of each of the seed's use cases, with the shipped decoders' keys.
  json SeedEntities() {
    json all = json::array();
    auto add = [&](Id id, std::vector<Reading> readings, std::map<std::string, std::string> md = {},
                   bool located = true) {
      BuildInput in;
      in.device.id = id;
      in.device.org_id = 3;
      if (located) in.device.location = Location{56.1552, 10.2010};
      in.device.metadata = std::move(md);
      in.readings = std::move(readings);
      auto built = BuildEntities(in, *catalogue_);
      EXPECT_TRUE(built.ok()) << built.status().message();
      for (auto& e : *built) all.push_back(std::move(e));
    };
    add(1, {R("temperature", 22.6), R("humidity", 41), R("light", 39), R("motion", 6.0),
            R("co2", 776)});  // Elsys ERS CO2
    add(2, {R("air_humidity", 41.6), R("air_temperature", 24.4), R("barometric_pressure", 96800),
            R("pm10_mass_concentration", 3.9), R("pm2_5_mass_concentration", 3.9),
            R("battery_voltage", 3.109)});  // Decentlab DL-PM
    add(3, {R("distance", 1234), R("battery_voltage", 2.993)}, {{"binDepthMm", "1500"}});  // DL-MBX
    add(4, {R("current_volume_m3", 6.054), R("log_volume_m3", 5.938)}, {}, false);  // Axioma W1
    add(5, {R("temperature", -1.5), R("humidity", 93), R("windSpeed", 7.2, "m/s")});
    add(6, {R("button", Value(std::string("short")))});  // Milesight WS101
    return all;
  }

  void ExpectValid() {
    EXPECT_TRUE(receiver_.violations().empty()) << receiver_.violations().front();
  }

  ManualClock clock_{kTs};
  NgsiLdReceiver receiver_;
  std::unique_ptr<Catalogue> catalogue_;
  std::unique_ptr<NgsiLdClient> client_;
  NgsiLdTarget target_;
};

TEST_F(NgsiLdClientTest, SeedEntitiesPassTheBrokersChecksWithALinkHeader) {
  json entities = SeedEntities();
  std::set<std::string> types;
  for (const auto& e : entities) types.insert(e["type"]);
  EXPECT_EQ(types, (std::set<std::string>{"IndoorEnvironmentObserved", "AirQualityObserved",
                                          "WasteContainer", "WaterConsumptionObserved",
                                          "WeatherObserved", "DeviceMeasurement"}));
  auto r = client_->Upsert(target_, entities);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->outcome, Outcome::kDelivered) << r->Summary();
  EXPECT_EQ(r->http_status, 201);
  ExpectValid();
  auto sent = receiver_.upserts();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].headers["ngsild-tenant"], "kommune");
  // Several models in one request: the context covering all of them.
  EXPECT_NE(sent[0].headers["link"].find("<https://smartdatamodels.org/context.jsonld>"),
            std::string::npos);
  EXPECT_EQ(json::parse(sent[0].body).size(), entities.size());
}

TEST_F(NgsiLdClientTest, OneModelsContextGoesInTheLinkHeader) {
  json entities = SeedEntities();
  json one = json::array({entities[0]});  // IndoorEnvironmentObserved
  ASSERT_EQ(one[0]["type"], "IndoorEnvironmentObserved");
  ASSERT_TRUE(client_->Upsert(target_, one).ok());
  ExpectValid();
  EXPECT_NE(receiver_.upserts().at(0).headers["link"].find("dataModel.Environment"),
            std::string::npos);
}

TEST_F(NgsiLdClientTest, ContextInTheBodyAnd204) {
  receiver_.set_answer(NgsiLdReceiver::Answer::k204);
  target_.context_mode = ContextMode::kInBody;
  target_.url += "/";  // a trailing slash is not doubled
  auto r = client_->Upsert(target_, SeedEntities());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, Outcome::kDelivered);
  EXPECT_EQ(r->http_status, 204);
  ExpectValid();
  EXPECT_EQ(receiver_.upserts().at(0).headers["content-type"], "application/ld+json");
}

TEST_F(NgsiLdClientTest, MultiStatusNamesTheRefusedEntities) {
  json entities = SeedEntities();
  const std::string refused = entities[1]["id"];
  receiver_.set_answer(NgsiLdReceiver::Answer::k207);
  receiver_.set_refused({refused});
  auto r = client_->Upsert(target_, entities);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, Outcome::kPartial);
  EXPECT_EQ(r->http_status, 207);
  EXPECT_EQ(r->succeeded.size(), entities.size() - 1);
  ASSERT_EQ(r->entity_errors.size(), 1u);
  EXPECT_EQ(r->entity_errors[0].entity_id, refused);
  EXPECT_EQ(r->entity_errors[0].title, "Attribute refused");
  EXPECT_NE(r->Summary().find(refused + ": BadRequestData: Attribute refused"), std::string::npos)
      << r->Summary();
  ExpectValid();
}

TEST_F(NgsiLdClientTest, ErrorStatusesAreRetriedOrPermanent) {
  json entities = SeedEntities();
  receiver_.set_answer(NgsiLdReceiver::Answer::k500);
  EXPECT_EQ(client_->Upsert(target_, entities)->outcome, Outcome::kRetry);
  receiver_.set_answer(NgsiLdReceiver::Answer::k429);
  EXPECT_EQ(client_->Upsert(target_, entities)->outcome, Outcome::kRetry);
  receiver_.set_answer(NgsiLdReceiver::Answer::k400);
  auto r = client_->Upsert(target_, entities);
  EXPECT_EQ(r->outcome, Outcome::kPermanent);
  EXPECT_EQ(r->error, "HTTP 400: Bad request: this broker refuses everything");
  ExpectValid();
}

TEST_F(NgsiLdClientTest, DecoderMadeEntitiesArePassedThrough) {
  json entity = {{"id", "urn:ngsi-ld:WaterConsumptionObserved:os2iot-9"},
                 {"type", "WaterConsumptionObserved"},
                 {"waterConsumption",
                  {{"type", "Property"},
                   {"value", 12},
                   {"unitCode", "MTQ"},
                   {"observedAt", "2026-09-02T23:09:34.000Z"}}},
                 {"@context",
                  {"https://raw.githubusercontent.com/smart-data-models/"
                   "dataModel.WaterConsumption/master/context.jsonld"}}};
  BuildInput in;
  in.device.id = 9;
  in.decoded = entity;
  auto built = BuildEntities(in, *catalogue_);
  ASSERT_TRUE(built.ok());
  ASSERT_TRUE(client_->Upsert(target_, *built).ok());
  ExpectValid();
  json sent = json::parse(receiver_.upserts().at(0).body);
  entity.erase("@context");  // moved to the Link header
  EXPECT_EQ(sent, json::array({entity}));
  EXPECT_NE(receiver_.upserts().at(0).headers["link"].find("dataModel.WaterConsumption"),
            std::string::npos);
}

TEST_F(NgsiLdClientTest, TheBrokerRefusesWhatTheModelsForbid) {
  // The receiver's own checks can fail: humidity in % and an air quality entity without location.
  json entity = {
      {"id", "urn:ngsi-ld:AirQualityObserved:x"},
      {"type", "AirQualityObserved"},
      {"dateObserved",
       {{"type", "Property"},
        {"value", "2026-09-02T23:09:34.000Z"},
        {"observedAt", "2026-09-02T23:09:34.000Z"}}},
      {"relativeHumidity",
       {{"type", "Property"}, {"value", 41}, {"observedAt", "2026-09-02T23:09:34.000Z"}}}};
  auto r = client_->Upsert(target_, json::array({entity}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, Outcome::kPermanent);
  auto bad = receiver_.violations();
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_NE(bad[0].find("required attribute location missing"), std::string::npos) << bad[0];
  EXPECT_NE(bad[1].find("0..1"), std::string::npos) << bad[1];
}

TEST_F(NgsiLdClientTest, StaticHeader) {
  target_.auth = AuthKind::kHeader;
  target_.header_name = "X-Api-Key";
  target_.header_value = "s3cret";
  ASSERT_TRUE(client_->Upsert(target_, SeedEntities()).ok());
  EXPECT_EQ(receiver_.upserts().at(0).headers["x-api-key"], "s3cret");
}

TEST_F(NgsiLdClientTest, OAuth2TokensAreCachedAndRenewedAfterExpiryAndAfterA401) {
  receiver_.RequireOAuth2("bysans", "client-secret", 300);
  target_.auth = AuthKind::kOAuth2;
  target_.oauth2 = {receiver_.token_url(), "bysans", "client-secret", "entities", false};
  json entities = SeedEntities();
  auto ok = [&] {
    auto r = client_->Upsert(target_, entities);
    return r.ok() && r->outcome == Outcome::kDelivered;
  };
  EXPECT_TRUE(ok());
  EXPECT_TRUE(ok());
  EXPECT_EQ(receiver_.token_requests(), 1);  // cached
  clock_.Advance(290'000);                   // within the last tenth of its 300 s
  EXPECT_TRUE(ok());
  EXPECT_EQ(receiver_.token_requests(), 2);  // renewed before the broker would refuse it
  receiver_.RevokeTokens();                  // the broker drops it early
  EXPECT_TRUE(ok());                         // 401, a new token, sent again
  EXPECT_EQ(receiver_.token_requests(), 3);
  auto sent = receiver_.upserts();
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[3].status, 401);
  EXPECT_EQ(sent[4].status, 201);
  EXPECT_EQ(sent[4].headers["authorization"], "Bearer tok-3");
  ExpectValid();
  // A broker that keeps refusing: one renewal, then a retry later (not permanent).
  receiver_.RequireOAuth2("bysans", "other-secret", 300);
  receiver_.RevokeTokens();
  auto r = client_->Upsert(target_, entities);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, Outcome::kRetry);
  EXPECT_EQ(r->error, "OAuth2 token request refused (HTTP 401): invalid_client");
}

TEST_F(NgsiLdClientTest, ConcurrentDeliveriesShareOneToken) {
  receiver_.RequireOAuth2("bysans", "client-secret", 300);
  target_.auth = AuthKind::kOAuth2;
  target_.oauth2 = {receiver_.token_url(), "bysans", "client-secret", "", false};
  const json entities = SeedEntities();
  std::atomic<int> delivered{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        auto r = client_->Upsert(target_, entities);
        if (r.ok() && r->outcome == Outcome::kDelivered) ++delivered;
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(delivered.load(), 20);
  EXPECT_EQ(receiver_.token_requests(), 1);
  ExpectValid();
}

TEST_F(NgsiLdClientTest, TheOutboundPolicyRefusesLoopbackUnlessAllowed) {
  NgsiLdClient strict(clock_, OutboundPolicy{});  // public addresses only
  auto r = strict.Upsert(target_, SeedEntities());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, Outcome::kRetry);
  EXPECT_EQ(r->error, "could not connect to " + receiver_.host());
  // The token endpoint goes through the same policy.
  target_.auth = AuthKind::kOAuth2;
  target_.oauth2 = {receiver_.token_url(), "bysans", "x", "", true};
  r = strict.Upsert(target_, SeedEntities());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, Outcome::kRetry);
  EXPECT_EQ(r->error, "OAuth2 token: could not connect to " + receiver_.host());
  EXPECT_EQ(receiver_.requests(), 0u);
}

TEST_F(NgsiLdClientTest, UnusableTargetsAreRefused) {
  json entities = SeedEntities();
  NgsiLdTarget t = target_;
  t.url = "file:///etc/passwd";
  EXPECT_EQ(client_->Upsert(t, entities).status().code(), Code::kInvalidArgument);
  t = target_;
  t.tenant = "a\r\nX-Injected: 1";
  EXPECT_EQ(client_->Upsert(t, entities).status().code(), Code::kInvalidArgument);
  t = target_;
  t.auth = AuthKind::kHeader;
  t.header_name = "Authorization: x\r\nHost";
  EXPECT_EQ(client_->Upsert(t, entities).status().code(), Code::kInvalidArgument);
  t = target_;
  t.auth = AuthKind::kOAuth2;
  EXPECT_EQ(client_->Upsert(t, entities).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(client_->Upsert(target_, json::object()).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(receiver_.requests(), 0u);
}

}  // namespace
}  // namespace bysans::ngsild

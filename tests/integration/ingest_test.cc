// HTTP ingest against the real server on each store (a real SQLite file; a real PostgreSQL 15):
// round trip, aggregation, CSV, and every bad-input case named by the foundation issue.
#include <gtest/gtest.h>

#include <set>

#include "backend_fixture.h"

namespace bysans::testing {
namespace {

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

class IngestTest : public BackendServerTest {};
BYSANS_ON_BOTH_STORES(IngestTest);

std::string Readings(int64_t device_id, const std::string& query = {}) {
  return "/api/v1/devices/" + std::to_string(device_id) + "/readings" + query;
}

TEST_P(IngestTest, RoundTripRawAggregatedAndCsv) {
  DeviceHandle d = CreateHttpDevice("Aarhus");
  // Three readings an hour apart, explicit timestamps.
  const char* times[] = {"2026-11-20T10:15:00Z", "2026-11-20T10:45:00Z", "2026-11-20T11:15:00Z"};
  double co2[] = {600, 800, 1000};
  for (int i = 0; i < 3; ++i) {
    json body = {{"timestamp", times[i]},
                 {"co2", co2[i]},
                 {"air", {{"no2", 10 + i}}},
                 {"door", "open"},
                 {"occupied", true}};
    auto r = Ingest(d.ingest_key, body.dump());
    ASSERT_EQ(r.status, 204) << r.body;
  }
  auto raw = admin_->Get(Readings(d.device_id, "?key=co2"));
  ASSERT_EQ(raw.status, 200) << raw.body;
  auto items = raw.Json()["items"];
  ASSERT_EQ(items.size(), 3u) << raw.body;
  EXPECT_EQ(items[0]["value"], 1000);  // newest first
  EXPECT_EQ(items[0]["ts"], "2026-11-20T11:15:00.000Z");

  auto nested = admin_->Get(Readings(d.device_id, "?key=air.no2"));
  ASSERT_EQ(nested.Json()["items"].size(), 3u) << nested.body;
  auto str = admin_->Get(Readings(d.device_id, "?key=door"));
  EXPECT_EQ(str.Json()["items"][0]["value"], "open") << str.body;
  auto boolean = admin_->Get(Readings(d.device_id, "?key=occupied"));
  EXPECT_EQ(boolean.Json()["items"][0]["value"], true) << boolean.body;

  auto agg = admin_->Get(Readings(d.device_id,
                                  "?key=co2&bucket=1h&agg=avg,min,max,count&from=2026-11-20T00:00:"
                                  "00Z&to=2026-11-21T00:00:00Z"));
  ASSERT_EQ(agg.status, 200) << agg.body;
  auto buckets = agg.Json()["items"];
  ASSERT_EQ(buckets.size(), 2u) << agg.body;
  EXPECT_EQ(buckets[0]["ts"], "2026-11-20T10:00:00.000Z");
  EXPECT_DOUBLE_EQ(buckets[0]["avg"].get<double>(), 700);
  EXPECT_DOUBLE_EQ(buckets[0]["min"].get<double>(), 600);
  EXPECT_DOUBLE_EQ(buckets[0]["max"].get<double>(), 800);
  EXPECT_EQ(buckets[0]["count"], 2);
  EXPECT_EQ(buckets[1]["count"], 1);

  auto csv = admin_->Get(Readings(d.device_id, "?key=co2"), {"Accept: text/csv"});
  ASSERT_EQ(csv.status, 200);
  EXPECT_NE(csv.headers["content-type"].find("text/csv"), std::string::npos);
  EXPECT_NE(csv.body.find("2026-11-20T10:15:00.000Z"), std::string::npos) << csv.body;
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), 4) << csv.body;  // header + 3

  auto messages = admin_->Get("/api/v1/devices/" + std::to_string(d.device_id) + "/messages");
  ASSERT_EQ(messages.status, 200);
  EXPECT_EQ(messages.Json()["items"].size(), 3u) << messages.body;
}

// A text reading over 64 KiB (pipeline/reading_limits.h) is not stored: every store keeps each
// key's latest value, so texts of any size would grow the shared server without bound. The
// message keeps it as sent, with a warning saying so; the other readings are stored.
TEST_P(IngestTest, ATextReadingOverTheLimitIsKeptOnlyInItsMessage) {
  DeviceHandle d = CreateHttpDevice("Odense");
  const std::string big(70'000, 'x');
  auto r = Ingest(d.ingest_key, json{{"note", big}, {"co2", 612}, {"status", "ok"}}.dump());
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(Items(Readings(d.device_id, "?key=co2")).size(), 1u);
  EXPECT_EQ(Items(Readings(d.device_id, "?key=status")).size(), 1u);
  EXPECT_TRUE(Items(Readings(d.device_id, "?key=note")).empty());
  json messages = Items("/api/v1/devices/" + std::to_string(d.device_id) + "/messages");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0]["payload"].get<std::string>().find(big), std::string::npos);
  ASSERT_EQ(messages[0]["decodeWarnings"].size(), 1u) << messages[0]["decodeWarnings"];
  EXPECT_NE(messages[0]["decodeWarnings"][0].get<std::string>().find("('note')"),
            std::string::npos);
  auto latest = admin_->Get("/api/v1/devices/" + std::to_string(d.device_id) + "/latest");
  ASSERT_EQ(latest.status, 200) << latest.body;
  EXPECT_EQ(latest.body.find(big), std::string::npos);
}

// A device whose messages keep making up new keys (ingest.max_keys_per_device, 4 here): the
// readings of keys past the limit are not stored, with a warning on their message; its known
// keys go on, and another device of the same application has keys of its own.
class IngestKeyLimitTest : public IngestTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_INGEST_MAX_KEYS_PER_DEVICE=4"};
    IngestTest::SetUp();
  }
};
BYSANS_ON_BOTH_STORES(IngestKeyLimitTest);

TEST_P(IngestKeyLimitTest, ReadingsOfKeysPastTheLimitStayInTheirMessage) {
  DeviceHandle d = CreateHttpDevice("Odense");
  for (int i = 0; i < 6; ++i) {
    json body = {{"ts", 1'780'000'000'000 + i * 1000},  // a time each: none replaces another
                 {"co2", 600 + i},
                 {"at" + std::to_string(i), i}};  // a new key each message
    ASSERT_EQ(Ingest(d.ingest_key, body.dump()).status, 204);
  }
  auto keys_of = [&](int64_t device) {
    auto r = admin_->Get("/api/v1/devices/" + std::to_string(device) + "/latest");
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<std::string> out;
    json items = r.Json()["items"];
    for (const json& item : items) out.insert(item.value("key", ""));
    return out;
  };
  EXPECT_EQ(keys_of(d.device_id), (std::set<std::string>{"at0", "at1", "at2", "co2"}));
  EXPECT_EQ(Items(Readings(d.device_id, "?key=co2")).size(), 6u);
  json messages = Items("/api/v1/devices/" + std::to_string(d.device_id) + "/messages");
  ASSERT_EQ(messages.size(), 6u);
  size_t warned = 0;
  for (const json& m : messages)
    for (const json& w : m["decodeWarnings"])
      if (w.get<std::string>().find("a device may have at most 4 keys") != std::string::npos)
        ++warned;
  EXPECT_EQ(warned, 3u);  // the messages of at3, at4 and at5
  DeviceHandle other = CreateHttpDevice("Odense");
  ASSERT_EQ(
      Ingest(other.ingest_key, json{{"x1", 1}, {"x2", 2}, {"x3", 3}, {"x4", 4}}.dump()).status,
      204);
  EXPECT_EQ(keys_of(other.device_id).size(), 4u);

  // A restart does not let the device at its limit add keys again: its stored keys count.
  const std::string dir = server_->data_dir();
  server_->Kill9();
  auto before = std::move(server_);
  StartServer(dir);  // the same store (its URL kept on the PostgreSQL leg)
  if (HasFatalFailure()) return;
  ASSERT_EQ(Ingest(d.ingest_key, json{{"co2", 700}, {"late", 1}}.dump()).status, 204);
  EXPECT_EQ(keys_of(d.device_id), (std::set<std::string>{"at0", "at1", "at2", "co2"}));
  EXPECT_EQ(Items(Readings(d.device_id, "?key=co2")).size(), 7u);
}

TEST_P(IngestTest, SenmlIsAcceptedOnTheSameEndpoint) {
  DeviceHandle d = CreateHttpDevice("Odense");
  std::string senml =
      R"([{"bn":"room1/","bt":1.7634e9,"n":"temperature","u":"Cel","v":21.5},{"n":"humidity","u":"%RH","v":40}])";
  auto r = Ingest(d.ingest_key, senml, "application/senml+json");
  ASSERT_EQ(r.status, 204) << r.body;
  auto q = admin_->Get(Readings(d.device_id, "?key=room1/temperature"));
  ASSERT_EQ(q.Json()["items"].size(), 1u) << q.body;
  EXPECT_EQ(q.Json()["items"][0]["unit"], "Cel");
}

// SenML CBOR (RFC 8428 §6) on the same endpoint: read like SenML JSON, the CBOR bytes kept as
// the message; a truncated document is a 400 naming the byte offset, and nothing is stored.
TEST_P(IngestTest, SenmlCborIsAcceptedOnTheSameEndpoint) {
  DeviceHandle d = CreateHttpDevice("Aalborg");
  // [{bn: "room1/", n: "temperature", u: "Cel", v: 21.5}] with the integer labels.
  const std::string cbor(
      "\x81\xa4\x21\x66room1/\x00\x6btemperature\x01\x63"
      "Cel\x02\xf9\x4d\x60",
      32);
  auto truncated = Ingest(d.ingest_key, cbor.substr(0, 20), "application/senml+cbor");
  EXPECT_EQ(truncated.status, 400) << truncated.body;
  EXPECT_NE(truncated.body.find("truncated"), std::string::npos) << truncated.body;
  auto none = admin_->Get("/api/v1/devices/" + std::to_string(d.device_id) + "/messages");
  EXPECT_EQ(none.Json()["items"].size(), 0u) << none.body;

  auto r = Ingest(d.ingest_key, cbor, "application/senml+cbor");
  ASSERT_EQ(r.status, 204) << r.body;
  auto q = admin_->Get(Readings(d.device_id, "?key=room1/temperature"));
  ASSERT_EQ(q.Json()["items"].size(), 1u) << q.body;
  EXPECT_EQ(q.Json()["items"][0]["unit"], "Cel");
  EXPECT_DOUBLE_EQ(q.Json()["items"][0]["value"].get<double>(), 21.5);
  auto one = admin_->Get("/api/v1/devices/" + std::to_string(d.device_id) + "/messages");
  ASSERT_EQ(one.Json()["items"].size(), 1u) << one.body;
  EXPECT_EQ(one.Json()["items"][0]["contentType"], "application/senml+cbor");
}

TEST_P(IngestTest, BadInputIsRefusedClearlyAndNothingIsStored) {
  DeviceHandle d = CreateHttpDevice("Vejle");
  auto malformed = Ingest(d.ingest_key, R"({"co2": 600,)");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.Json()["error"]["code"], "invalid_argument") << malformed.body;
  EXPECT_FALSE(malformed.Json()["error"]["message"].get<std::string>().empty());

  auto unknown = Ingest("not-a-key", R"({"co2": 600})");
  EXPECT_EQ(unknown.status, 403) << unknown.body;
  EXPECT_TRUE(unknown.Json()["error"].is_object());
  HttpClient anon(server_->url());
  auto missing = anon.Request("POST", "/api/v1/receive-data", R"({"co2":1})",
                              {"Content-Type: application/json"});
  EXPECT_EQ(missing.status, 403) << missing.body;

  auto wrong_type = Ingest(d.ingest_key, "co2=600", "text/plain");
  EXPECT_EQ(wrong_type.status, 415) << wrong_type.body;

  std::string big = R"({"pad":")" + std::string(300 * 1024, 'x') + R"("})";
  auto too_large = Ingest(d.ingest_key, big);
  EXPECT_EQ(too_large.status, 413) << too_large.body.substr(0, 200);

  // None of it was stored; the server still serves and a good message works.
  auto none = admin_->Get("/api/v1/devices/" + std::to_string(d.device_id) + "/messages");
  EXPECT_EQ(none.Json()["items"].size(), 0u) << none.body;
  EXPECT_EQ(Ingest(d.ingest_key, R"({"co2": 600})").status, 204);
  auto one = admin_->Get("/api/v1/devices/" + std::to_string(d.device_id) + "/messages");
  EXPECT_EQ(one.Json()["items"].size(), 1u) << one.body;
}

TEST_P(IngestTest, SystemEndpointsAnswer) {
  HttpClient anon(server_->url());
  EXPECT_EQ(anon.Get("/healthz").status, 200);
  auto metrics = anon.Get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("bysans_http_requests_total"), std::string::npos);
  auto openapi = anon.Get("/api/openapi.json");
  ASSERT_EQ(openapi.status, 200);
  EXPECT_EQ(openapi.Json()["openapi"].get<std::string>().substr(0, 2), "3.");
  EXPECT_TRUE(openapi.Json()["paths"].contains("/api/v1/receive-data"));
  auto unknown = anon.Get("/api/v1/no-such-thing");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_TRUE(unknown.Json()["error"].is_object()) << unknown.body;
}

}  // namespace
}  // namespace bysans::testing

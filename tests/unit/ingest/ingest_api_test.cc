// HTTP ingest and reading queries through the router, against the real
// SQLite store and the real Authenticator (see unit/api/api_fixture.h).
#include <future>

#include "core/time_format.h"
#include "unit/api/api_fixture.h"

namespace bysans::testing {
namespace {

class IngestApiTest : public ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    MakeUser("root@example.dk", "rootpassword", /*global_admin=*/true);
    root_ = Login("root@example.dk", "rootpassword");
    Reply org = Call("POST", "/api/v1/organizations", root_, json{{"name", "Aarhus"}});
    ASSERT_EQ(org.status, 201) << org.raw;
    org_ = org.body["id"].get<Id>();
    Reply app = Call("POST", "/api/v1/organizations/" + std::to_string(org_) + "/applications",
                     root_, json{{"name", "Air"}});
    ASSERT_EQ(app.status, 201) << app.raw;
    app_ = app.body["id"].get<Id>();
    Reply dev = Call("POST", "/api/v1/applications/" + std::to_string(app_) + "/devices", root_,
                     json{{"name", "sensor-1"}, {"transport", "http"}});
    ASSERT_EQ(dev.status, 201) << dev.raw;
    device_ = dev.body["id"].get<Id>();
    key_ = dev.body["apiKey"].get<std::string>();
    ASSERT_FALSE(key_.empty());
  }

  // POST /api/v1/receive-data with a chosen content type and key placement.
  Reply Receive(const std::string& body, const std::string& content_type = "application/json",
                const std::string& query_key = "use-default", const std::string& header_key = "") {
    std::string k = query_key == "use-default" ? key_ : query_key;
    http::Request req;
    req.method = "POST";
    req.path = "/api/v1/receive-data";
    req.target = req.path;
    if (!k.empty()) {
      req.target += "?apiKey=" + k;
      req.query["apiKey"] = k;
    }
    if (!content_type.empty()) req.headers.Set("content-type", content_type);
    if (!header_key.empty()) req.headers.Set("x-api-key", header_key);
    req.body = body;
    return Dispatch(req);
  }

  Reply GetWithAccept(const std::string& target, const std::string& accept) {
    http::Request req;
    req.method = "GET";
    req.target = target;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = http::ParseQuery(target.substr(q + 1));
    req.headers.Set("cookie", root_.cookie);
    req.headers.Set("accept", accept);
    Reply out;
    router_.Dispatch(req, [&out](http::Response r) {
      out.status = r.status;
      out.raw = r.body;
      out.headers = r.headers;
    });
    return out;
  }

  std::string Dev(const std::string& rest) {
    return "/api/v1/devices/" + std::to_string(device_) + rest;
  }

  Creds root_;
  Id org_ = 0, app_ = 0, device_ = 0;
  std::string key_;
};

TEST_F(IngestApiTest, RoundTripRawAggregatedAndCsv) {
  // Three messages: two at "now", one carrying its own timestamp.
  EXPECT_EQ(Receive(R"({"temp":21.5,"air":{"no2":12}})").status, 204);
  clock_.Advance(10 * 60'000);
  EXPECT_EQ(Receive(R"({"temp":22.5})").status, 204);
  std::string t0 = FormatRfc3339(kStart - 3'600'000);
  EXPECT_EQ(Receive(R"({"timestamp":")" + t0 + R"(","temp":20})").status, 204);

  Reply raw = Call("GET", Dev("/readings?key=temp"), root_);
  ASSERT_EQ(raw.status, 200) << raw.raw;
  ASSERT_EQ(raw.body["items"].size(), 3u) << raw.raw;
  EXPECT_EQ(raw.body["items"][0]["value"], 22.5);  // newest first
  EXPECT_EQ(raw.body["items"][0]["ts"], FormatRfc3339(kStart + 600'000));
  EXPECT_EQ(raw.body["items"][1]["value"], 21.5);
  EXPECT_EQ(raw.body["items"][2]["ts"], t0);
  EXPECT_EQ(raw.body["items"][2]["quality"], "ok");

  Reply limited = Call("GET", Dev("/readings?key=temp&limit=1"), root_);
  EXPECT_EQ(limited.body["items"].size(), 1u);
  EXPECT_EQ(Call("GET", Dev("/readings?limit=0"), root_).status, 400);
  EXPECT_EQ(Call("GET", Dev("/readings?quality=bogus"), root_).status, 400);

  Reply agg = Call("GET", Dev("/readings?key=temp&bucket=1h&agg=avg,count"), root_);
  ASSERT_EQ(agg.status, 200) << agg.raw;
  ASSERT_FALSE(agg.body["items"].empty()) << agg.raw;
  int64_t total = 0;
  for (const auto& b : agg.body["items"]) {
    EXPECT_TRUE(b.contains("ts"));
    EXPECT_TRUE(b.contains("avg"));
    EXPECT_FALSE(b.contains("min"));
    EXPECT_FALSE(b.contains("max"));
    total += b["count"].get<int64_t>();
  }
  EXPECT_EQ(total, 3);
  EXPECT_EQ(Call("GET", Dev("/readings?bucket=1h"), root_).status, 400);  // key required
  EXPECT_EQ(Call("GET", Dev("/readings?key=temp&bucket=soon"), root_).status, 400);
  EXPECT_EQ(Call("GET", Dev("/readings?key=temp&bucket=1h&agg=median"), root_).status, 400);

  Reply csv = Call("GET", Dev("/readings?key=temp&format=csv"), root_);
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.headers.Get("content-type"), "text/csv; charset=utf-8");
  EXPECT_NE(csv.headers.Get("content-disposition").find("attachment"), std::string::npos);
  EXPECT_EQ(csv.raw.rfind("device_id,key,ts,value,unit,quality\r\n", 0), 0u) << csv.raw;
  EXPECT_NE(csv.raw.find(std::to_string(device_) + ",temp," + FormatRfc3339(kStart + 600'000) +
                         ",22.5,,ok\r\n"),
            std::string::npos)
      << csv.raw;

  Reply csv_agg = GetWithAccept(Dev("/readings?key=temp&bucket=1d"), "text/csv");
  ASSERT_EQ(csv_agg.status, 200);
  EXPECT_EQ(csv_agg.raw.rfind("ts,avg,min,max,count\r\n", 0), 0u) << csv_agg.raw;
  EXPECT_NE(csv_agg.raw.find(",20,22.5,3\r\n"), std::string::npos) << csv_agg.raw;

  Reply keys = Call("GET", Dev("/keys"), root_);
  ASSERT_EQ(keys.status, 200);
  EXPECT_EQ(keys.body["items"], json({"air.no2", "temp"}));

  Reply latest = Call("GET", Dev("/latest"), root_);
  ASSERT_EQ(latest.status, 200) << latest.raw;
  ASSERT_EQ(latest.body["items"].size(), 2u);
  EXPECT_EQ(latest.body["items"][1]["key"], "temp");
  EXPECT_EQ(latest.body["items"][1]["value"], 22.5);

  Reply app_latest = Call("GET", "/api/v1/applications/" + std::to_string(app_) + "/latest", root_);
  ASSERT_EQ(app_latest.status, 200) << app_latest.raw;
  ASSERT_EQ(app_latest.body["items"].size(), 1u);
  EXPECT_EQ(app_latest.body["items"][0]["deviceName"], "sensor-1");
  EXPECT_EQ(app_latest.body["items"][0]["readings"]["temp"]["value"], 22.5);
  EXPECT_EQ(app_latest.body["items"][0]["readings"]["air.no2"]["value"], 12);

  Reply msgs = Call("GET", Dev("/messages"), root_);
  ASSERT_EQ(msgs.status, 200) << msgs.raw;
  ASSERT_EQ(msgs.body["items"].size(), 3u);
  EXPECT_EQ(msgs.body["items"][2]["payload"], R"({"temp":21.5,"air":{"no2":12}})");
  EXPECT_EQ(msgs.body["items"][2]["payloadEncoding"], "utf8");
  EXPECT_EQ(msgs.body["items"][2]["transport"], "http");
  EXPECT_EQ(msgs.body["items"][2]["decodeStatus"], "none");
  Reply msgs_csv = Call("GET", Dev("/messages?format=csv"), root_);
  EXPECT_NE(msgs_csv.raw.find(R"("{""temp"":22.5}")"), std::string::npos) << msgs_csv.raw;

  Reply quality = Call("GET", Dev("/quality"), root_);
  ASSERT_EQ(quality.status, 200);
  EXPECT_EQ(quality.body["counts"]["ok"], 4);
  EXPECT_EQ(quality.body["counts"]["spike"], 0);

  std::string metrics = metrics_.Serialize();
  EXPECT_NE(metrics.find(R"(bysans_ingest_messages_total{result="ok",transport="http"} 3)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(bysans_ingest_readings_total{transport="http"} 4)"), std::string::npos);
}

TEST_F(IngestApiTest, MalformedJsonIsRejectedAndNothingStored) {
  Reply r = Receive(R"({"temp": 21.5,)");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error"]["code"], "invalid_argument");
  EXPECT_NE(r.body["error"]["message"].get<std::string>().find("byte"), std::string::npos);
  EXPECT_EQ(Receive("").status, 400);
  EXPECT_TRUE(Call("GET", Dev("/messages"), root_).body["items"].empty());
  EXPECT_TRUE(Call("GET", Dev("/readings"), root_).body["items"].empty());
  EXPECT_NE(metrics_.Serialize().find(
                R"(bysans_ingest_messages_total{result="bad_request",transport="http"} 2)"),
            std::string::npos);
}

TEST_F(IngestApiTest, UnknownOrMissingKeyIsForbidden) {
  Reply r = Receive(R"({"a":1})", "application/json", "not-a-key");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["error"]["code"], "permission_denied");
  EXPECT_EQ(Receive(R"({"a":1})", "application/json", "").status, 403);
  // The key may come in the X-API-Key header instead.
  EXPECT_EQ(Receive(R"({"a":1})", "application/json", "", key_).status, 204);
}

TEST_F(IngestApiTest, WrongContentTypeIs415) {
  Reply r = Receive("temp=1", "application/x-www-form-urlencoded");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.body["error"]["code"], "unsupported_media_type") << r.raw;
  EXPECT_TRUE(Call("GET", Dev("/messages"), root_).body["items"].empty());
}

TEST_F(IngestApiTest, SenmlBodyIsStored) {
  EXPECT_EQ(Receive(R"([{"bn":"room:","n":"temp","u":"Cel","v":19.5,"t":-60},
                        {"n":"door","vs":"open"}])",
                    "application/senml+json")
                .status,
            204);
  Reply r = Call("GET", Dev("/readings?key=room:temp"), root_);
  ASSERT_EQ(r.body["items"].size(), 1u) << r.raw;
  EXPECT_EQ(r.body["items"][0]["unit"], "Cel");
  EXPECT_EQ(r.body["items"][0]["ts"], FormatRfc3339(kStart - 60'000));
  Reply door = Call("GET", Dev("/readings?key=room:door"), root_);
  ASSERT_EQ(door.body["items"].size(), 1u);
  EXPECT_EQ(door.body["items"][0]["value"], "open");
  EXPECT_EQ(Receive(R"({"n":"x"})", "application/senml+json").status, 400);
}

TEST_F(IngestApiTest, RotatedKeyStopsWorkingAtOnce) {
  EXPECT_EQ(Receive(R"({"a":1})").status, 204);  // now cached
  Reply rot = Call("POST", Dev("/rotate-key"), root_);
  ASSERT_EQ(rot.status, 200) << rot.raw;
  std::string new_key = rot.body["apiKey"];
  EXPECT_EQ(Receive(R"({"a":2})", "application/json", new_key).status, 204);
  EXPECT_EQ(Receive(R"({"a":3})").status, 403) << "the cache forgot the old key";
  clock_.Advance(5'001);
  EXPECT_EQ(Receive(R"({"a":4})").status, 403);
  EXPECT_EQ(Receive(R"({"a":5})", "application/json", new_key).status, 204);
}

TEST_F(IngestApiTest, DeletedDevicesKeyStopsWorkingAtOnce) {
  EXPECT_EQ(Receive(R"({"a":1})").status, 204);  // now cached
  ASSERT_EQ(Call("DELETE", Dev(""), root_).status, 204);
  EXPECT_EQ(Receive(R"({"a":2})").status, 403);
}

TEST_F(IngestApiTest, DeviceInMaintenanceStillStores) {
  ASSERT_EQ(Call("PATCH", Dev(""), root_, json{{"inMaintenance", true}}).status, 200);
  EXPECT_EQ(Receive(R"({"a":1})").status, 204);
  EXPECT_EQ(Call("GET", Dev("/readings"), root_).body["items"].size(), 1u);
}

TEST_F(IngestApiTest, CsvQuotesAwkwardStrings) {
  EXPECT_EQ(Receive(R"({"note":"a, \"b\"\nc"})").status, 204);
  Reply csv = Call("GET", Dev("/readings?format=csv"), root_);
  EXPECT_NE(csv.raw.find(",note," + FormatRfc3339(kStart) + ",\"a, \"\"b\"\"\nc\",,ok\r\n"),
            std::string::npos)
      << csv.raw;
}

TEST_F(IngestApiTest, BinaryPayloadIsShownAsBase64) {
  IngestBatch b;
  RawMessage m;
  m.device_id = device_;
  m.received_ms = kStart;
  m.transport = Transport::kMqtt;
  m.content_type = "application/octet-stream";
  m.payload = std::string("\x01\xff\x00hi", 5);
  m.decode_status = DecodeStatus::kNone;
  b.messages.push_back(m);
  ASSERT_TRUE(store_->Append(std::move(b)).ok());
  Reply msgs = Call("GET", Dev("/messages"), root_);
  ASSERT_EQ(msgs.body["items"].size(), 1u) << msgs.raw;
  EXPECT_EQ(msgs.body["items"][0]["payloadEncoding"], "base64");
  EXPECT_EQ(msgs.body["items"][0]["payload"], "Af8AaGk=");
}

TEST_F(IngestApiTest, OtherOrganisationSeesNothing) {
  ASSERT_EQ(Receive(R"({"a":1})").status, 204);
  Reply org2 = Call("POST", "/api/v1/organizations", root_, json{{"name", "Odense"}});
  ASSERT_EQ(org2.status, 201);
  User u = MakeUser("viewer@odense.dk", "viewerpassword", false);
  ASSERT_EQ(Call("PUT",
                 "/api/v1/organizations/" + std::to_string(org2.body["id"].get<Id>()) +
                     "/members/" + std::to_string(u.id),
                 root_, json{{"role", "viewer"}})
                .status,
            200);
  Creds other = Login("viewer@odense.dk", "viewerpassword");
  for (const std::string& path :
       {Dev("/readings"), Dev("/keys"), Dev("/latest"), Dev("/messages"), Dev("/quality"),
        "/api/v1/applications/" + std::to_string(app_) + "/latest"}) {
    Reply r = Call("GET", path, other);
    EXPECT_EQ(r.status, 404) << path << " " << r.raw;
  }
  EXPECT_EQ(Call("GET", Dev("/readings")).status, 401);
}

}  // namespace
}  // namespace bysans::testing

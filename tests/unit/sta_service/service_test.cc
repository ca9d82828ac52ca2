// The read service on a real store, without HTTP: answers, errors and memory safety (the suite
// runs under ASan/UBSan too). The HTTP edge, auth and tenancy: tests/integration/sta_test.cc,
// tests/security/sta_test.cc.
#include "sta/service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sta/catalog.h"
#include "sta/observations.h"
#include "unit/store/temp_store.h"

namespace bysans::sta {
namespace {

using json = nlohmann::json;

constexpr TimeMs kT0 = 1'767'225'600'000;  // 2026-01-01

class ServiceTest : public bysans::testing::StoreTest {
 protected:
  void SetUp() override {
    Open();
    org_ = store_->CreateOrganization(Organization{0, "A", 0, 100})->id;
    other_org_ = store_->CreateOrganization(Organization{0, "B", 0, 100})->id;
    Application app;
    app.org_id = org_;
    app.name = "Indeklima";
    app_ = store_->CreateApplication(app)->id;
    DeviceModel m;
    m.org_id = org_;
    m.name = "Klima";
    m.doc_json = R"({"name":"Klima","description":"Climate"})";
    model_ = store_->CreateDeviceModel(m)->id;
    dev_ = MakeDevice(org_, app_, "Lokale 1", Location{55.68, 12.57}, model_);
    dev2_ = MakeDevice(org_, app_, "Kælder", std::nullopt, std::nullopt);
    Application b_app;
    b_app.org_id = other_org_;
    b_app.name = "B";
    other_dev_ = MakeDevice(other_org_, store_->CreateApplication(b_app)->id, "Secret",
                            Location{1, 2}, std::nullopt);
    IngestBatch b;
    for (int i = 0; i < 6; ++i) {
      b.readings.push_back(R(dev_, "temperature", kT0 + i * 600'000, 20.0 + i));
      b.readings.push_back(R(dev_, "status", kT0 + i * 600'000, std::string(i % 2 ? "on" : "off")));
    }
    b.readings.push_back(R(dev2_, "temperature", kT0, -3.5));
    b.readings.push_back(R(other_dev_, "temperature", kT0, 99.0));
    ASSERT_TRUE(store_->Append(std::move(b)).ok());
    auto listed = store_->ListSeries({dev_, dev2_, other_dev_});
    ASSERT_TRUE(listed.ok());
    for (const SeriesRef& s : *listed) series_[{s.device_id, s.key}] = s.id;
  }

  Id MakeDevice(Id org, Id app, std::string name, std::optional<Location> loc,
                std::optional<Id> model) {
    Device d;
    d.org_id = org;
    d.app_id = app;
    d.name = std::move(name);
    d.location = loc;
    d.device_model_id = model;
    d.tags = {"t"};
    d.metadata = {{"room", "1"}};
    auto got = store_->CreateDevice(d, "key-" + d.name);
    EXPECT_TRUE(got.ok()) << got.status().message();
    return got.ok() ? got->id : 0;
  }
  static Reading R(Id dev, std::string key, TimeMs ts, bysans::Value v) {
    return Reading{dev, std::move(key), ts, std::move(v), "", Quality::kOk};
  }

  Result<ServeReply> Call(const std::string& path, const std::string& query = "") {
    Catalog c(*store_, {org_});  // loaded lazily, as the server does
    return Serve(c, ServeRequest{path, query, "http://h/sta/v1.1", kT0});
  }
  json Ok(const std::string& path, const std::string& query = "") {
    auto r = Call(path, query);
    EXPECT_TRUE(r.ok()) << path << "?" << query << ": " << r.status().message();
    if (!r.ok()) return json();
    EXPECT_EQ(r->status, 200) << path;
    return json::parse(r->body, nullptr, false);
  }
  std::string Temp() {
    return "Datastreams(" + std::to_string(series_[{dev_, "temperature"}]) + ")";
  }

  Id org_ = 0, other_org_ = 0, app_ = 0, model_ = 0, dev_ = 0, dev2_ = 0, other_dev_ = 0;
  std::map<std::pair<Id, std::string>, int64_t> series_;
};

TEST_F(ServiceTest, EntitySetsHoldOnlyTheCatalogsOrganisations) {
  EXPECT_EQ(Ok("Things")["value"].size(), 2u);
  EXPECT_EQ(Ok("Datastreams")["value"].size(), 3u);
  EXPECT_EQ(Ok("Observations", "$count=true")["@iot.count"], 13);
  EXPECT_EQ(Ok("Locations")["value"].size(), 1u);
  EXPECT_EQ(Ok("Sensors")["value"].size(), 2u);  // the model and "unknown"
  EXPECT_EQ(Call("Things(" + std::to_string(other_dev_) + ")").status().code(), Code::kNotFound);
  const std::string other_obs = "Observations('" +
                                std::to_string(series_[{other_dev_, "temperature"}]) + "-" +
                                std::to_string(kT0) + "')";
  EXPECT_EQ(Call(other_obs).status().code(), Code::kNotFound);
  EXPECT_TRUE(Ok("Things", "$filter=Datastreams/Observations/result%20gt%2050")["value"].empty());
}

TEST_F(ServiceTest, PathsPropertiesValuesAndRefs) {
  EXPECT_EQ(Ok("Things(" + std::to_string(dev_) + ")/name"), json({{"name", "Lokale 1"}}));
  auto raw = Call(Temp() + "/Observations('" + std::to_string(series_[{dev_, "temperature"}]) +
                  "-" + std::to_string(kT0) + "')/result/$value");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->body, "20");
  auto null_prop = Call(Temp() + "/resultTime");
  ASSERT_TRUE(null_prop.ok());
  EXPECT_EQ(null_prop->status, 204);
  EXPECT_EQ(Ok(Temp() + "/Thing/Locations/$ref")["value"].size(), 1u);
  EXPECT_EQ(Ok("ObservedProperties('status')/Datastreams")["value"].size(), 1u);
  EXPECT_EQ(Ok(Temp() + "/Sensor")["name"], "Klima");
  for (const char* bad : {"Nope", "Things(1)/Nope", "Things(abc)", "Things(", "Things(1)/$value",
                          "Observations('1-x')", "Things(999)/Datastreams"})
    EXPECT_EQ(Call(bad).status().code(), Code::kNotFound) << bad;
}

TEST_F(ServiceTest, QueryOptions) {
  json latest =
      Ok("Things",
         "$expand=Datastreams($expand=Observations($top=1;$orderby=phenomenonTime%20desc))"
         "&$orderby=name%20desc");
  ASSERT_EQ(latest["value"].size(), 2u);
  EXPECT_EQ(latest["value"][0]["name"], "Lokale 1");
  for (const json& ds : latest["value"][0]["Datastreams"]) {
    ASSERT_EQ(ds["Observations"].size(), 1u);
    EXPECT_EQ(ds["Observations"][0]["phenomenonTime"], "2026-01-01T00:50:00.000Z");
  }
  json page = Ok(Temp() + "/Observations", "$top=2&$skip=1&$count=true&$select=result");
  EXPECT_EQ(page["@iot.count"], 6);
  EXPECT_EQ(page["value"], json::parse(R"([{"result":21},{"result":22}])"));
  EXPECT_EQ(page["@iot.nextLink"], "http://h/sta/v1.1/" + Temp() +
                                       "/Observations?$count=true&$select=result&$top=2&$skip=3");
  json ranged = Ok(Temp() + "/Observations",
                   "$filter=phenomenonTime%20gt%202026-01-01T00:10:00Z%20and%20"
                   "phenomenonTime%20le%202026-01-01T00:30:00Z&$orderby=phenomenonTime%20desc");
  ASSERT_EQ(ranged["value"].size(), 2u);
  EXPECT_EQ(ranged["value"][0]["result"], 23);
  json arr = Ok(Temp() + "/Observations", "$resultFormat=dataArray&$select=result");
  EXPECT_EQ(arr["value"][0]["dataArray"].size(), 6u);
  EXPECT_EQ(arr["value"][0]["dataArray"][5], json({25}));
  json sorted = Ok("Observations", "$orderby=result%20desc&$top=1&$filter=result%20ge%200");
  EXPECT_EQ(sorted["value"][0]["result"], 25);
  EXPECT_EQ(Ok("Observations", "$filter=Datastream/@iot.id%20eq%20" +
                                   std::to_string(series_[{dev2_, "temperature"}]))["value"]
                .size(),
            1u);
  // The largest $skip is valid and empty (no overflow in skip + top).
  for (const char* set : {"Things", "Observations", "Datastreams(1)/Observations"}) {
    auto huge = Call(set, "$skip=9223372036854775807&$top=10&$count=true");
    ASSERT_TRUE(huge.ok()) << set << ": " << huge.status().message();
    EXPECT_TRUE(json::parse(huge->body)["value"].empty()) << set;
  }
  for (const char* bad : {"$filter=(name%20eq%201", "$top=x", "$expand=Nope", "$select=nope",
                          "$orderby=name%20up", "$bogus=1"})
    EXPECT_EQ(Call("Things", bad).status().code(), Code::kInvalidArgument) << bad;
}

TEST_F(ServiceTest, PublicScopeShowsOnlyItsDevicesAndKeys) {
  PublicScope scope;
  scope.devices = {*store_->GetDevice(dev_)};
  scope.keys = {"temperature"};
  Catalog c(*store_, scope);
  ASSERT_TRUE(c.Load().ok());
  auto r = Serve(c, ServeRequest{"Things", "$expand=Datastreams($expand=Sensor)", "http://h", kT0});
  ASSERT_TRUE(r.ok()) << r.status().message();
  json body = json::parse(r->body);
  ASSERT_EQ(body["value"].size(), 1u);
  EXPECT_EQ(body["value"][0]["properties"], json::object());
  ASSERT_EQ(body["value"][0]["Datastreams"].size(), 1u);
  EXPECT_EQ(body["value"][0]["Datastreams"][0]["Sensor"]["name"], "unknown");
}

// One request's work is bounded: the entities it renders (expansions included) and the
// readings its scans read; past either it is a 400 naming what to narrow, not a huge answer.
TEST_F(ServiceTest, AnswersAndScansAreBounded) {
  IngestBatch b;
  for (int k = 0; k < 11; ++k)
    for (int64_t i = 0; i < 10'000; ++i)
      b.readings.push_back(R(dev2_, "k" + std::to_string(k), kT0 + i * 1000, 1.0));
  ASSERT_TRUE(store_->Append(std::move(b)).ok());
  auto big = Call("Things(" + std::to_string(dev2_) + ")/Datastreams",
                  "$top=100&$expand=Observations($top=10000)");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), Code::kInvalidArgument);
  EXPECT_NE(big.status().message().find("$top"), std::string::npos) << big.status().message();
  EXPECT_TRUE(Call("Things(" + std::to_string(dev2_) + ")/Datastreams",
                   "$top=100&$expand=Observations($top=1000)")
                  .ok());

  ObservationScan scan;
  const SeriesRef* s = nullptr;
  Catalog c(*store_, {org_});
  auto listed = c.SeriesOfDevice(dev2_);
  ASSERT_FALSE(listed.empty());
  s = listed.back();
  scan.series = {s};
  scan.page = 1000;
  int64_t budget = 2500;
  scan.budget = &budget;
  int64_t seen = 0;
  Status st = ScanObservations(*store_, scan, [&](Entity&&) { return ++seen > 0; });
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.message();
  EXPECT_EQ(seen, 2000);  // two pages fit, the third is refused
}

}  // namespace
}  // namespace bysans::sta

// Personal device metadata keys (issue 18, Application::personal_metadata_keys): a marker value
// in a key the application marks personal never reaches the decoder (a decoder that returns its
// metadata argument), a data target's delivery (a real local HTTP receiver) or the open-data
// export, while the other keys do and members still see it in the device API.
#include "integration/fixture.h"
#include "integration/target_receiver.h"

namespace bysans::testing {
namespace {

constexpr const char* kMarker = "p-4711-PERSONAL-9d8c7b";
constexpr const char* kPublicValue = "lokale-A12-PUBLIC";

class PersonalMetadataTest : public ServerTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_OUTBOUND_ALLOW=127.0.0.0/8"};
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    d_ = CreateHttpDevice("Personlig Kommune");
    auto dev =
        admin_->Request("PATCH", DevicePath(),
                        json{{"metadata", {{"citizenId", kMarker}, {"room", kPublicValue}}}}.dump(),
                        {"Content-Type: application/json"});
    ASSERT_EQ(dev.status, 200) << dev.body;
    auto app = admin_->Request("PATCH", "/api/v1/applications/" + std::to_string(d_.app_id),
                               json{{"personalMetadataKeys", {"citizenId"}}}.dump(),
                               {"Content-Type: application/json"});
    ASSERT_EQ(app.status, 200) << app.body;
    EXPECT_EQ(app.Json()["personalMetadataKeys"], json({"citizenId"})) << app.body;
    // An OS2iot decoder that hands its metadata argument back as a reading.
    auto dec = admin_->PostJson(
        "/api/v1/organizations/" + std::to_string(d_.org_id) + "/decoders",
        {{"name", "echo"},
         {"code",
          "function decode(payload, metadata) { return {seen: JSON.stringify(metadata), "
          "v: 1}; }"}});
    ASSERT_EQ(dec.status, 201) << dec.body;
    AttachDecoder(d_.device_id, dec.Json().value("id", int64_t{0}));
    auto target =
        admin_->PostJson("/api/v1/applications/" + std::to_string(d_.app_id) + "/data-targets",
                         {{"name", "receiver"}, {"url", rx_.url()}});
    ASSERT_EQ(target.status, 201) << target.body;
    ASSERT_EQ(Ingest(d_.ingest_key, R"({"x": 1})").status, 204);
  }

  std::string DevicePath() const { return "/api/v1/devices/" + std::to_string(d_.device_id); }

  TargetReceiver rx_{TargetReceiver::Mode::kOk};
  DeviceHandle d_;
};

TEST_F(PersonalMetadataTest, NeverReachesTheDecoderADataTargetOrOpenData) {
  // The decoder saw the device's metadata, but not the personal key.
  json seen = Items(DevicePath() + "/readings?key=seen&limit=10");
  ASSERT_EQ(seen.size(), 1u) << seen;
  const std::string what = seen[0]["value"].get<std::string>();
  EXPECT_NE(what.find(kPublicValue), std::string::npos) << what;
  EXPECT_EQ(what.find(kMarker), std::string::npos) << what;
  // The data target's delivery.
  ASSERT_TRUE(WaitFor([&] { return !rx_.hits().empty(); }, 30));
  for (const auto& hit : rx_.hits()) {
    EXPECT_NE(hit.body.find(kPublicValue), std::string::npos) << hit.body;
    EXPECT_EQ(hit.body.find(kMarker), std::string::npos) << hit.body;
  }
  // Open data: a published dataset of the device (every key), read without login.
  json meta = {{"title", "Indeklima"},
               {"description", "CO2"},
               {"keywords", {"co2"}},
               {"themes", {"ENVI"}},
               {"license", "https://creativecommons.org/licenses/by/4.0/"},
               {"accrualPeriodicity", "R/PT1H"},
               {"contactName", "Teknik"},
               {"contactEmail", "t@kommune.dk"},
               {"documentationUrl", "https://kommune.dk"},
               {"deviceIds", {d_.device_id}}};
  auto ds = admin_->PostJson(
      "/api/v1/organizations/" + std::to_string(d_.org_id) + "/open-data/datasets", meta);
  ASSERT_EQ(ds.status, 201) << ds.body;
  const std::string id = std::to_string(ds.Json().value("id", int64_t{0}));
  auto pub = admin_->Request("PUT", "/api/v1/open-data/datasets/" + id,
                             json{{"published", true}}.dump(), {"Content-Type: application/json"});
  ASSERT_EQ(pub.status, 200) << pub.body;
  HttpClient anon(server_->url());
  const std::string base =
      "/api/v1/open-data-dk-sharing/" + std::to_string(d_.org_id) + "/datasets/" + id;
  for (const std::string& path : {base + "/latest", base + "/history.csv?limit=100",
                                  "/api/v1/open-data-dk-sharing/" + std::to_string(d_.org_id)}) {
    auto r = anon.Get(path);
    ASSERT_EQ(r.status, 200) << path << " " << r.body;
    EXPECT_EQ(r.body.find(kMarker), std::string::npos) << path << " " << r.body;
  }
  EXPECT_NE(anon.Get(base + "/latest").body.find(kPublicValue), std::string::npos)
      << "the open data must carry the decoder's reading for this test to mean anything";
  // Members still see the key in the device API.
  auto dev = admin_->Get(DevicePath());
  ASSERT_EQ(dev.status, 200);
  EXPECT_EQ(dev.Json()["metadata"].value("citizenId", ""), kMarker) << dev.body;
}

}  // namespace
}  // namespace bysans::testing

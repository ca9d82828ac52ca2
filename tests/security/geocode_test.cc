// Address search (issue 21 §2; api/geocode.h): only editors and admins search, the geocoder sees
// the text and nothing of the caller, answers are bounded, callers are limited, and the geocoder
// is reached only where the outbound-address policy allows. The geocoder is a real HTTP server on
// loopback answering as DAWA does.
#include "integration/target_receiver.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

// DAWA's adgangsadresser?struktur=mini answer: x is the longitude, y the latitude.
constexpr const char* kDawa = R"json([
  {"id": "0a3f50a0-4660-32b8-e044-0003ba298018", "vejnavn": "Rådhuspladsen", "husnr": "1",
   "postnr": "1550", "postnrnavn": "København V",
   "betegnelse": "Rådhuspladsen 1, 1550 København V", "x": 12.56874, "y": 55.67563},
  {"betegnelse": "Rådhuspladsen 2, 1550 København V", "x": 12.5691, "y": 55.6759},
  {"betegnelse": "no coordinates"},
  {"betegnelse": "off the globe", "x": 12.5, "y": 123.0}])json";

class GeocodeSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    geocoder_.set_answer(kDawa);
    // The harness allows loopback (where this geocoder listens) through outbound.allow.
    server_env_.push_back("BYSANS_WEB_GEOCODER_URL=http://127.0.0.1:" +
                          std::to_string(geocoder_.port()) + "/adgangsadresser?q={q}");
    SecurityTest::SetUp();
  }
  TargetReceiver geocoder_{TargetReceiver::Mode::kOk};
};

TEST_F(GeocodeSecurityTest, AnEditorFindsPlacesAndTheGeocoderSeesOnlyTheText) {
  auto r = a_.editor.client->Get("/api/v1/geocode?q=R%C3%A5dhuspladsen%201");
  ASSERT_EQ(r.status, 200) << r.body;
  const json items = r.Json()["items"];
  ASSERT_EQ(items.size(), 2u) << r.body;  // without coordinates, or off the globe: left out
  EXPECT_EQ(items[0]["label"], "Rådhuspladsen 1, 1550 København V");
  EXPECT_DOUBLE_EQ(items[0]["lat"].get<double>(), 55.67563);
  EXPECT_DOUBLE_EQ(items[0]["lon"].get<double>(), 12.56874);
  auto hits = geocoder_.hits();
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].head.rfind("GET /adgangsadresser?q=R%C3%A5dhuspladsen%201 HTTP/1.1", 0), 0u)
      << hits[0].head;
  for (const char* never : {"Cookie", "cookie", "X-API-Key", "Authorization", "editor-a"})
    EXPECT_EQ(hits[0].head.find(never), std::string::npos) << never << " in " << hits[0].head;
}

TEST_F(GeocodeSecurityTest, ViewersAndStrangersDoNotSearchAndBadQueriesAreRefused) {
  EXPECT_EQ(a_.viewer.client->Get("/api/v1/geocode?q=Vesterbro").status, 403);
  HttpClient anonymous(server_->url());
  EXPECT_EQ(anonymous.Get("/api/v1/geocode?q=Vesterbro").status, 401);
  EXPECT_EQ(a_.editor.client->Get("/api/v1/geocode?q=V").status, 400);
  EXPECT_EQ(a_.editor.client->Get("/api/v1/geocode").status, 400);
  EXPECT_EQ(a_.editor.client->Get("/api/v1/geocode?q=" + std::string(201, 'a')).status, 400);
  EXPECT_TRUE(geocoder_.hits().empty());
}

TEST_F(GeocodeSecurityTest, ACallerIsLimitedAndABadGeocoderIsAClearError) {
  int limited = 0;
  for (int i = 0; i < 40; ++i)
    limited += a_.editor.client->Get("/api/v1/geocode?q=Vesterbro").status == 429;
  EXPECT_GT(limited, 0);
  EXPECT_LE(geocoder_.hits().size(), 30u);
  // Another caller has their own allowance.
  EXPECT_EQ(a_.admin.client->Get("/api/v1/geocode?q=Vesterbro").status, 200);
  geocoder_.set_answer("<html>not a geocoder</html>");
  auto bad = a_.admin.client->Get("/api/v1/geocode?q=Vesterbro");
  EXPECT_EQ(bad.status, 503) << bad.body;
  EXPECT_NE(bad.body.find("does not understand"), std::string::npos) << bad.body;
  geocoder_.set_mode(TargetReceiver::Mode::kFail);
  auto failed = a_.admin.client->Get("/api/v1/geocode?q=Vesterbro");
  EXPECT_EQ(failed.status, 503) << failed.body;
  EXPECT_NE(failed.body.find("answered HTTP 500"), std::string::npos) << failed.body;
  EXPECT_EQ(a_.admin.client->Get("/healthz").status, 200);
}

// Without outbound.allow for loopback, the geocoder on loopback is not reached: the setting
// cannot aim bysans at the municipality's internal network.
class GeocodePolicyTest : public GeocodeSecurityTest {
 protected:
  void SetUp() override {
    server_env_.push_back("BYSANS_OUTBOUND_ALLOW=");
    GeocodeSecurityTest::SetUp();
  }
};

TEST_F(GeocodePolicyTest, AGeocoderOnAPrivateAddressIsNotReached) {
  auto r = a_.editor.client->Get("/api/v1/geocode?q=Vesterbro");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_NE(r.body.find("could not reach"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("127.0.0.1:" + std::to_string(geocoder_.port()) + " ("), std::string::npos);
  EXPECT_TRUE(geocoder_.hits().empty());
}

}  // namespace
}  // namespace bysans::testing

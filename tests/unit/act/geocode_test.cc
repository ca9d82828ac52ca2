// act/geocode.h: the geocoder's URL and the answers of DAWA, Nominatim and GeoJSON geocoders.
#include "act/geocode.h"

#include <gtest/gtest.h>

namespace bysans::act {
namespace {

TEST(GeocodeTest, TheTextIsPercentEncodedIntoTheTemplate) {
  EXPECT_EQ(GeocodeUrl("https://g.example/s?q={q}&n=8", "Åboulevarden 3&x=1"),
            "https://g.example/s?q=%C3%85boulevarden%203%26x%3D1&n=8");
}

TEST(GeocodeTest, DawaMiniAndAutocompleteAnswers) {
  auto mini = ParseGeocodeAnswer(R"([{"betegnelse": "Rådhuspladsen 1, 1550 København V",
                                       "x": 12.56874, "y": 55.67563}])");
  ASSERT_TRUE(mini.ok()) << mini.status().message();
  ASSERT_EQ(mini->size(), 1u);
  EXPECT_EQ((*mini)[0].label, "Rådhuspladsen 1, 1550 København V");
  EXPECT_DOUBLE_EQ((*mini)[0].lat, 55.67563);
  EXPECT_DOUBLE_EQ((*mini)[0].lon, 12.56874);
  // /autocomplete: the text in "tekst", the coordinates in the nested address.
  auto auto_ = ParseGeocodeAnswer(R"([{"tekst": "Vestergade 2, 8000 Aarhus C",
                                        "adgangsadresse": {"x": 10.2, "y": 56.15}}])");
  ASSERT_TRUE(auto_.ok());
  ASSERT_EQ(auto_->size(), 1u);
  EXPECT_EQ((*auto_)[0].label, "Vestergade 2, 8000 Aarhus C");
  EXPECT_DOUBLE_EQ((*auto_)[0].lat, 56.15);
}

TEST(GeocodeTest, NominatimWritesCoordinatesAsText) {
  auto r = ParseGeocodeAnswer(
      R"([{"display_name": "Odense Rådhus, Flakhaven", "lat": "55.3959", "lon": "10.3883"},
          {"display_name": "bad", "lat": "55,3", "lon": "10.3"}])");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);  // "55,3" is no number
  EXPECT_DOUBLE_EQ((*r)[0].lon, 10.3883);
}

TEST(GeocodeTest, GeoJsonPointsWithAName) {
  auto r = ParseGeocodeAnswer(R"({"type": "FeatureCollection", "features": [
      {"type": "Feature", "geometry": {"type": "Point", "coordinates": [9.92, 57.05]},
       "properties": {"name": "Aalborg Rådhus"}},
      {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[0, 0]]},
       "properties": {"name": "an area"}}]})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].label, "Aalborg Rådhus");
  EXPECT_DOUBLE_EQ((*r)[0].lat, 57.05);
}

TEST(GeocodeTest, AtMostTenPlacesAndAnythingElseIsAnError) {
  std::string many = "[";
  for (int i = 0; i < 50; ++i)
    many += std::string(i ? "," : "") + R"({"betegnelse": "Vej )" + std::to_string(i) +
            R"(", "x": 10, "y": 55})";
  auto r = ParseGeocodeAnswer(many + "]");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), kMaxPlaces);
  for (const char* bad : {"<html></html>", R"({"places": []})", "42", ""})
    EXPECT_FALSE(ParseGeocodeAnswer(bad).ok()) << bad;
  EXPECT_FALSE(ParseGeocodeAnswer(std::string(100, '[') + std::string(100, ']')).ok());
}

}  // namespace
}  // namespace bysans::act

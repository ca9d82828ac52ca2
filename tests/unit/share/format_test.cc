#include "share/format.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/time_format.h"

namespace bysans::share {
namespace {

using json = nlohmann::json;

ShareRecord Record(int64_t position, std::string decoded) {
  ShareRecord r;
  r.position = position;
  r.device_id = 7;
  r.received_ms = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
  r.message_id = 42;
  r.decoded_json = std::move(decoded);
  r.readings = {Reading{7, "air.co2", 1'704'067'199'000, 612.0, "ppm", Quality::kOk},
                Reading{7, "door", 1'704'067'199'000, true, "", Quality::kStuck},
                Reading{7, "state", 1'704'067'199'000, std::string("open"), "", Quality::kOk}};
  return r;
}

Device Lokale() {
  Device d;
  d.id = 7;
  d.name = "Lokale 1";
  d.dev_eui = "0011223344556677";
  d.location = Location{56.15, 10.2};
  return d;
}

TEST(FormatTest, EnvelopeCarriesDeviceReadingsAndDecodedPayload) {
  const Device dev = Lokale();
  DeviceLookup lookup = [&](Id id) { return id == 7 ? &dev : nullptr; };
  json e =
      json::parse(FormatRecord(kFormatBysans, Record(1, R"({"co2":612,"door":true})"), lookup));
  EXPECT_EQ(e["device"], json({{"id", 7},
                               {"name", "Lokale 1"},
                               {"devEui", "0011223344556677"},
                               {"location", {{"lat", 56.15}, {"lon", 10.2}}}}));
  EXPECT_EQ(e["receivedAt"], "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(e["messageId"], 42);
  EXPECT_EQ(e["decoded"], json({{"co2", 612}, {"door", true}}));
  ASSERT_EQ(e["readings"].size(), 3u);
  EXPECT_EQ(e["readings"][0], json({{"key", "air.co2"},
                                    {"value", 612.0},
                                    {"unit", "ppm"},
                                    {"quality", "ok"},
                                    {"ts", "2023-12-31T23:59:59.000Z"}}));
  EXPECT_EQ(e["readings"][0]["value"], 612.0);
  EXPECT_EQ(e["readings"][0]["unit"], "ppm");
  EXPECT_EQ(e["readings"][0]["ts"], "2023-12-31T23:59:59.000Z");
  EXPECT_EQ(e["readings"][1]["value"], true);
  EXPECT_EQ(e["readings"][1]["quality"], "stuck");
  EXPECT_EQ(e["readings"][2]["value"], "open");
}

TEST(FormatTest, EnvelopeOfAGoneDeviceHasItsIdOnly) {
  json e = json::parse(FormatRecord(kFormatBysans, Record(1, ""), [](Id) { return nullptr; }));
  EXPECT_EQ(e["device"], json({{"id", 7}}));
  EXPECT_TRUE(e["decoded"].is_null());
}

TEST(FormatTest, Os2iotBodyIsTheDecodedPayloadAsItIs) {
  const std::string decoded = R"({"temperature":21.5,"nested":{"a":[1,2,3]}})";
  EXPECT_EQ(FormatRecord(kFormatOs2iot, Record(1, decoded), nullptr), decoded);
  // Not JSON (bytes a device sent): a JSON string, so the body stays valid JSON.
  EXPECT_EQ(json::parse(FormatRecord(kFormatOs2iot, Record(1, "{oops"), nullptr)), "{oops");
  // Too deep for the JSON nesting limit: also sent as a string, never parsed into a tree.
  std::string deep(200, '[');
  deep += std::string(200, ']');
  EXPECT_TRUE(json::parse(FormatRecord(kFormatOs2iot, Record(1, deep), nullptr)).is_string());
}

TEST(FormatTest, BatchingSendsAJsonArrayInOrder) {
  std::vector<ShareRecord> records = {Record(1, R"({"n":1})"), Record(2, R"({"n":2})"),
                                      Record(3, R"({"n":3})")};
  json os2iot = json::parse(FormatRequest(kFormatOs2iot, records, true, nullptr));
  EXPECT_EQ(os2iot, json::parse(R"([{"n":1},{"n":2},{"n":3}])"));
  json envelopes = json::parse(FormatRequest(kFormatBysans, records, true, nullptr));
  ASSERT_TRUE(envelopes.is_array());
  ASSERT_EQ(envelopes.size(), 3u);
  EXPECT_EQ(envelopes[2]["decoded"]["n"], 3);
  // Batching on with one record: still an array; off: the record's body alone.
  EXPECT_TRUE(
      json::parse(FormatRequest(kFormatOs2iot, {records.data(), 1}, true, nullptr)).is_array());
  EXPECT_EQ(FormatRequest(kFormatOs2iot, {records.data(), 1}, false, nullptr), R"({"n":1})");
}

TEST(FormatTest, KnownFormats) {
  EXPECT_TRUE(IsKnownFormat("bysans"));
  EXPECT_TRUE(IsKnownFormat("os2iot"));
  EXPECT_FALSE(IsKnownFormat("ngsi-ld"));
}

}  // namespace
}  // namespace bysans::share

namespace bysans::share {
namespace {

TEST(FormatTest, TimesAreWrittenAsCoreFormatsThem) {
  for (TimeMs t : {TimeMs{0}, TimeMs{1}, TimeMs{999}, TimeMs{1'704'067'199'999},
                   TimeMs{951'782'400'000} /* 2000-02-29 */, TimeMs{4'102'444'800'123}, TimeMs{-1},
                   TimeMs{-86'400'001}, TimeMs{253'402'300'799'999}}) {
    ShareRecord r;
    r.received_ms = t;
    json e = json::parse(FormatRecord(kFormatBysans, r, nullptr));
    EXPECT_EQ(e["receivedAt"], FormatRfc3339(t)) << t;
  }
}

}  // namespace
}  // namespace bysans::share

// The rule feed's records written and read in bulk (store/rule_feed_codec.h): the device's part is
// written once per device of a group and parsed once per device of a read, and every record still
// decodes to its own device and readings.
#include "store/rule_feed_codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/share_codec.h"

namespace bysans {
namespace {

Device MakeDevice(Id id, const std::string& name) {
  Device d;
  d.id = id;
  d.org_id = 7;
  d.app_id = 70 + id;
  d.name = name;
  d.dev_eui = "00112233445566" + std::to_string(10 + id);
  d.tags = {"skole", "bygning " + std::to_string(id)};
  d.device_model_id = 300 + id;
  d.expected_interval_s = 600;
  d.in_maintenance = id % 2 == 0;
  return d;
}

std::vector<Reading> Readings(Id device, double v) {
  return {{device, "co2", 1'767'225'600'000, v, "ppm", Quality::kOk},
          {device, "note", 1'767'225'600'000, std::string("vindue åbent"), "", Quality::kStuck}};
}

void ExpectDevice(const Device& got, const Device& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.org_id, want.org_id);
  EXPECT_EQ(got.app_id, want.app_id);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.dev_eui, want.dev_eui);
  EXPECT_EQ(got.tags, want.tags);
  EXPECT_EQ(got.device_model_id, want.device_model_id);
  EXPECT_EQ(got.expected_interval_s, want.expected_interval_s);
  EXPECT_EQ(got.in_maintenance, want.in_maintenance);
}

TEST(RuleFeedCodecTest, AGroupsRecordsDecodeToTheirOwnDevicesAndReadings) {
  const Device a = MakeDevice(1, "Klasse 1A");
  const Device b = MakeDevice(2, "Klasse 2B");
  Device a_renamed = a;  // the same device changed between two messages of a group
  a_renamed.name = "Klasse 1A (flyttet)";
  a_renamed.device_model_id.reset();
  struct Sent {
    const Device* device;
    double v;
  };
  const std::vector<Sent> sent = {{&a, 400}, {&b, 500}, {&a, 410}, {&a_renamed, 420}, {&b, 510}};
  RuleFeedEncoder encoder;
  std::vector<std::string> records;
  for (const Sent& s : sent)
    records.push_back(encoder.Encode(*s.device, Readings(s.device->id, s.v)));

  RuleFeedDecoder decoder;
  std::vector<RuleFeedEntry> entries;
  for (const std::string& r : records) {
    auto e = decoder.Decode(r);
    ASSERT_TRUE(e.ok()) << e.status().message();
    entries.push_back(std::move(e).value());
  }
  for (size_t i = 0; i < sent.size(); ++i) {
    SCOPED_TRACE(i);
    ExpectDevice(*entries[i].device, *sent[i].device);
    ASSERT_EQ(entries[i].readings.size(), 2u);
    EXPECT_EQ(entries[i].readings[0].device_id, sent[i].device->id);
    EXPECT_EQ(entries[i].readings[0].key, "co2");
    EXPECT_EQ(std::get<double>(entries[i].readings[0].value), sent[i].v);
    EXPECT_EQ(entries[i].readings[0].unit, "ppm");
    EXPECT_EQ(std::get<std::string>(entries[i].readings[1].value), "vindue åbent");
    EXPECT_EQ(entries[i].readings[1].quality, Quality::kStuck);
  }
  // One Device per distinct device part within a read; the renamed device is its own.
  EXPECT_EQ(entries[0].device, entries[2].device);
  EXPECT_EQ(entries[1].device, entries[4].device);
  EXPECT_NE(entries[0].device, entries[1].device);
  EXPECT_NE(entries[0].device, entries[3].device);
  // A record read on its own decodes the same.
  auto alone = DecodeRuleFeedRecord(records[3]);
  ASSERT_TRUE(alone.ok());
  ExpectDevice(*alone->device, a_renamed);
  EXPECT_EQ(EncodeRuleFeedRecord(b, Readings(b.id, 510)), records[4]);
}

TEST(RuleFeedCodecTest, CorruptRecordsAreRefused) {
  RuleFeedDecoder decoder;
  EXPECT_FALSE(decoder.Decode("not a record").ok());
  std::string no_device;
  EncodeShareRecord(1, 0, 0, R"({"name":"x"})", Readings(1, 1), &no_device);
  EXPECT_FALSE(decoder.Decode(no_device).ok());
  std::string not_json;
  EncodeShareRecord(1, 0, 0, "{", Readings(1, 1), &not_json);
  EXPECT_FALSE(decoder.Decode(not_json).ok());
  // A good record after the bad ones still decodes.
  const Device d = MakeDevice(3, "Affald 3");
  auto e = decoder.Decode(RuleFeedEncoder().Encode(d, Readings(3, 80)));
  ASSERT_TRUE(e.ok()) << e.status().message();
  ExpectDevice(*e->device, d);
}

}  // namespace
}  // namespace bysans

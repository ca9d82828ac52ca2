// Replays the decoder fixtures (tests/fixtures/decoders/*.json: payload in -> readings out) and
// the vendor-published examples in ../shared/fixtures/lorawan-examples through the decoders
// bysans ships (decoders/*.js).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "decode/cayenne_lpp.h"
#include "decode/js/js_engine.h"
#include "unit/decode/test_util.h"

namespace bysans::decode {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::Find;
using testing::HexToBytes;
using testing::ReadFile;
using testing::SourcePath;

bool NearlyEqual(double a, double b) {
  if (a == b) return true;
  return std::fabs(a - b) <= 1e-6 * std::max(std::fabs(a), std::fabs(b));
}

// Checks one expected value against our reading.
void ExpectReading(const std::vector<Reading>& readings, const std::string& key,
                   const json& expected, const std::string& where) {
  const Reading* r = Find(readings, key);
  ASSERT_NE(r, nullptr) << where << ": no reading " << key;
  if (expected.is_number()) {
    ASSERT_TRUE(std::holds_alternative<double>(r->value)) << where << ": " << key;
    EXPECT_TRUE(NearlyEqual(std::get<double>(r->value), expected.get<double>()))
        << where << ": " << key << " = " << std::get<double>(r->value) << ", expected " << expected;
  } else if (expected.is_boolean()) {
    ASSERT_TRUE(std::holds_alternative<bool>(r->value)) << where << ": " << key;
    EXPECT_EQ(std::get<bool>(r->value), expected.get<bool>()) << where << ": " << key;
  } else if (expected.is_string()) {
    ASSERT_TRUE(std::holds_alternative<std::string>(r->value)) << where << ": " << key;
    EXPECT_EQ(std::get<std::string>(r->value), expected.get<std::string>()) << where << ": " << key;
  } else {
    ADD_FAILURE() << where << ": unsupported expected value for " << key;
  }
}

class DecoderFixtures : public ::testing::Test {
 protected:
  void SetUp() override {
    auto e = JsEngine::Create();
    ASSERT_TRUE(e.ok()) << e.status().message();
    engine_ = std::move(e).value();
  }

  DecodeResult Decode(const std::string& decoder, int fport, const std::string& hex) {
    DecodeInput in;
    in.bytes = HexToBytes(hex);
    in.fport = fport;
    in.recv_time = 1764065732712;
    if (decoder == "native:cayenne_lpp") return DecodeCayenneLppToResult(in, 1);
    auto it = code_.find(decoder);
    if (it == code_.end()) it = code_.emplace(decoder, ReadFile(SourcePath(decoder))).first;
    EXPECT_FALSE(it->second.empty()) << "missing decoder " << decoder;
    Id id = static_cast<Id>(std::hash<std::string>{}(decoder)&0xffffff) + 1;
    return engine_->Decode(JsDecoder{1, id, 1, it->second}, in, 1);
  }

  std::unique_ptr<JsEngine> engine_;
  std::map<std::string, std::string> code_;
};

TEST_F(DecoderFixtures, PayloadInReadingsOut) {
  int files = 0, cases = 0;
  for (const auto& entry : fs::directory_iterator(SourcePath("tests/fixtures/decoders"))) {
    if (entry.path().extension() != ".json") continue;
    json doc = json::parse(ReadFile(entry.path().string()));
    if (!doc.contains("cases")) continue;  // e.g. the ChirpStack uplink sample
    ++files;
    std::string decoder = doc["decoder"];
    for (const auto& c : doc["cases"]) {
      ++cases;
      std::string where = entry.path().filename().string() + " / " + c["name"].get<std::string>();
      DecodeResult r = Decode(decoder, c["fPort"], c["bytes_hex"]);
      if (c.contains("error")) {
        EXPECT_FALSE(r.status.ok()) << where;
        EXPECT_NE(r.status.message().find(c["error"].get<std::string>()), std::string::npos)
            << where << ": " << r.status.message();
        continue;
      }
      ASSERT_TRUE(r.status.ok()) << where << ": " << r.status.message();
      for (const auto& [key, value] : c["readings"].items()) {
        ExpectReading(r.readings, key, value, where);
      }
    }
  }
  EXPECT_GE(files, 8);
  EXPECT_GE(cases, 16);
}

// Our reading key for each documented output field, per device (identity unless listed);
// fields mapped to "" are not produced by our decoder.
const std::map<std::string, std::pair<std::string, std::map<std::string, std::string>>>& Devices() {
  static const auto* m =
      new std::map<std::string, std::pair<std::string, std::map<std::string, std::string>>>{
          {"elsys__ers-co2.json", {"decoders/elsys-ers-co2.js", {}}},
          {"decentlab__dl-iam.json", {"decoders/decentlab-dl-iam.js", {}}},
          {"decentlab__dl-mbx.json", {"decoders/decentlab-dl-mbx.js", {}}},
          {"decentlab__dl-pm.json", {"decoders/decentlab-dl-pm.js", {}}},
          {"imbuildings__people-counter.json", {"decoders/imbuildings-people-counter.js", {}}},
          {"axioma__qalcosonic-w1.json",
           {"decoders/axioma-qalcosonic-w1.js",
            {{"payload_format", ""},
             {"history_multiplier", ""},
             {"low_battery", ""},
             {"permanent_error", ""},
             {"temporary_error", ""},
             {"pipe_empty", ""},
             {"backflow", ""},
             {"burst", ""},
             {"leakage", ""},
             {"low_temperature", ""}}}},
          {"milesight-iot__ws101.json", {"decoders/milesight-ws101.js", {}}},
      };
  return *m;
}

TEST_F(DecoderFixtures, VendorExamplesReplay) {
  fs::path dir = fs::path(BYSANS_SOURCE_DIR).parent_path() / "shared/fixtures/lorawan-examples";
  if (!fs::exists(dir)) GTEST_SKIP() << "no vendor examples at " << dir;
  int devices = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    std::string name = entry.path().filename().string();
    auto dev = Devices().find(name);
    ASSERT_NE(dev, Devices().end()) << "no shipped decoder for " << name;
    ++devices;
    json doc = json::parse(ReadFile(entry.path().string()));
    for (const auto& ex : doc["examples"]) {
      std::string where = name + " / " + ex["description"].get<std::string>();
      DecodeResult r = Decode(dev->second.first, ex["fPort"], ex["bytes_hex"]);
      ASSERT_TRUE(r.status.ok()) << where << ": " << r.status.message();
      for (const auto& [field, value] : ex["expected"]["data"].items()) {
        std::string key = field;
        auto mapped = dev->second.second.find(field);
        if (mapped != dev->second.second.end()) key = mapped->second;
        if (key.empty()) continue;
        const json& v = value.is_object() ? value["value"] : value;
        ExpectReading(r.readings, key, v, where);
      }
    }
  }
  EXPECT_EQ(devices, 7);
}

}  // namespace
}  // namespace bysans::decode

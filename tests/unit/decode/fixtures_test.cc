// Replays the decoder fixtures (tests/fixtures/decoders/*.json: payload in -> readings out,
// object in -> downlink bytes out) through the decoders they name (the shipped decoders/*.js and
// the corpus in tests/fixtures/decoders/js), and the vendor-published examples copied into
// tests/fixtures/decoders/vendor-examples through the shipped decoders. Node's answers for the
// same files are compared in tests/integration/node_reference_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "core/encoding.h"
#include "decode/cayenne_lpp.h"
#include "decode/js/js_engine.h"
#include "unit/decode/engine_test.h"
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

class DecoderFixtures : public testing::EngineTest {
 protected:
  // The fixture's calling convention ("contract": os2iot, ttn, chirpstack-v3, ttn-v2; none =
  // auto).
  static Contract ContractOf(const json& doc) {
    const std::string c = doc.value("contract", "");
    if (c == "os2iot") return Contract::kOs2iot;
    if (c == "ttn") return Contract::kTtnDecodeUplink;
    if (c == "chirpstack-v3") return Contract::kChirpstackV3Decode;
    if (c == "ttn-v2") return Contract::kTtnV2Decoder;
    return Contract::kUnknown;
  }

  JsDecoder Js(const std::string& decoder, Contract contract) {
    auto it = code_.find(decoder);
    if (it == code_.end()) it = code_.emplace(decoder, ReadFile(SourcePath(decoder))).first;
    EXPECT_FALSE(it->second.empty()) << "missing decoder " << decoder;
    Id id = static_cast<Id>(std::hash<std::string>{}(decoder)&0xffffff) + 1;
    return JsDecoder{1, id, 1, it->second, contract};
  }

  DecodeResult Decode(const std::string& decoder, int fport, const std::string& hex,
                      Contract contract = Contract::kUnknown) {
    DecodeInput in;
    in.bytes = HexToBytes(hex);
    in.fport = fport;
    in.recv_time = 1764065732712;
    if (decoder == "native:cayenne_lpp") return DecodeCayenneLppToResult(in, 1);
    if (contract == Contract::kOs2iot) {
      // OS2iot decoders get the whole ChirpStack v4 uplink carrying the frame (as over MQTT).
      json uplink =
          json::parse(ReadFile(SourcePath("tests/fixtures/decoders/chirpstack-v4-uplink.json")));
      uplink["data"] = EncodeBase64(in.bytes);
      uplink["fPort"] = fport;
      in.uplink_json = uplink.dump();
    }
    return engine_->Decode(Js(decoder, contract), in, 1);
  }

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
      DecodeResult r = Decode(decoder, c["fPort"], c["bytes_hex"], ContractOf(doc));
      if (c.contains("error")) {
        EXPECT_FALSE(r.status.ok()) << where;
        EXPECT_NE(r.status.message().find(c["error"].get<std::string>()), std::string::npos)
            << where << ": " << r.status.message();
        continue;
      }
      EXPECT_TRUE(r.status.ok()) << where << ": " << r.status.message();
      if (!r.status.ok() || !c.contains("readings")) continue;
      for (const auto& [key, value] : c["readings"].items()) {
        ExpectReading(r.readings, key, value, where);
      }
    }
  }
  EXPECT_GE(files, 16);
  EXPECT_GE(cases, 37);
}

// encodeDownlink: object in, the vendor's bytes and fPort out.
TEST_F(DecoderFixtures, ObjectInDownlinkBytesOut) {
  int downlinks = 0;
  for (const auto& entry : fs::directory_iterator(SourcePath("tests/fixtures/decoders"))) {
    if (entry.path().extension() != ".json") continue;
    json doc = json::parse(ReadFile(entry.path().string()));
    if (!doc.contains("downlinks")) continue;
    for (const auto& d : doc["downlinks"]) {
      ++downlinks;
      std::string where = entry.path().filename().string() + " / " + d["name"].get<std::string>();
      EncodeInput in;
      in.data_json = d["object"].dump();
      EncodeResult r = engine_->Encode(Js(doc["decoder"], ContractOf(doc)), in, Limits{});
      ASSERT_TRUE(r.status.ok()) << where << ": " << r.status.message();
      std::string bytes;
      for (int b : d["expected"]["bytes"]) bytes.push_back(static_cast<char>(b));
      EXPECT_EQ(r.bytes, bytes) << where;
      EXPECT_EQ(r.fport, d["expected"]["fPort"].get<int>()) << where;
    }
  }
  EXPECT_GE(downlinks, 4);
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

// The vendors' published examples (copied into the repository: it used to read them from
// ../shared/fixtures, outside the checkout, and skipped wherever that folder was missing).
TEST_F(DecoderFixtures, VendorExamplesReplay) {
  fs::path dir = SourcePath("tests/fixtures/decoders/vendor-examples");
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

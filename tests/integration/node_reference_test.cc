// Node.js as the reference: every decoder fixture (tests/fixtures/decoders/*.json, the corpus of
// vendor decoders with their published examples) runs under Node
// (tests/fixtures/decoders/node_reference.js, a `vm` context calling the fixture's contract) and
// through the real server's POST /api/v1/decoders/test. Asserted per case: Node gives the
// vendor's expected output (the fixture's "expected"), and bysans gives Node's output text
// exactly (JSON.stringify's key order and number format), Node's warnings, and an error exactly
// when Node threw or returned `errors`.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "core/encoding.h"
#include "fixture.h"
#include "unit/decode/test_util.h"

namespace bysans::testing {
namespace {

namespace fs = std::filesystem;

std::string ReadText(const fs::path& p) { return decode::testing::ReadFile(p.string()); }

// Runs the Node harness on one fixture file: case name → its JSON line.
std::map<std::string, json> RunNode(const fs::path& fixture, std::string* error) {
  const std::string cmd = std::string(BYSANS_NODE) + " " + BYSANS_SOURCE_DIR +
                          "/tests/fixtures/decoders/node_reference.js " + BYSANS_SOURCE_DIR + " " +
                          fixture.string() + " 2>&1";
  std::map<std::string, json> out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *error = "cannot run " + cmd;
    return out;
  }
  std::string text;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof(buf), p)) text.append(buf, n);
  const int rc = ::pclose(p);
  if (rc != 0) *error = "node failed (" + std::to_string(rc) + "): " + text;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("name")) out[j["name"].get<std::string>()] = j;
  }
  return out;
}

// `expected` is found in `actual`: numbers within 1e-9 relative, objects by the expected keys.
bool Matches(const json& expected, const json& actual, std::string* why, const std::string& at) {
  if (expected.is_number() && actual.is_number()) {
    const double e = expected.get<double>(), a = actual.get<double>();
    if (e == a || std::fabs(e - a) <= 1e-9 * std::max(std::fabs(e), std::fabs(a))) return true;
  } else if (expected.is_object() && actual.is_object()) {
    for (const auto& [k, v] : expected.items()) {
      if (!actual.contains(k)) {
        *why = at + "." + k + " missing";
        return false;
      }
      if (!Matches(v, actual[k], why, at + "." + k)) return false;
    }
    return true;
  } else if (expected.is_array() && actual.is_array() && expected.size() == actual.size()) {
    for (size_t i = 0; i < expected.size(); ++i)
      if (!Matches(expected[i], actual[i], why, at + "[" + std::to_string(i) + "]")) return false;
    return true;
  } else if (expected == actual) {
    return true;
  }
  *why = at + ": expected " + expected.dump() + ", got " + actual.dump();
  return false;
}

// The length of the JSON value at the start of `s` (0 if it is not one).
size_t JsonValueLength(std::string_view s) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
        if (depth == 0) return i + 1;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
      if (depth < 0) return i;
    } else if (depth == 0 && (c == ',' || c == '}')) {
      return i;
    }
  }
  return depth == 0 ? s.size() : 0;
}

// The test endpoint's `output` exactly as the server wrote it (it embeds the decoder's own
// JSON.stringify text; parsing and re-printing would hide key order and number format).
std::string OutputText(const std::string& body) {
  const std::string key = "{\"output\":";
  if (body.compare(0, key.size(), key) != 0) return "<no output first in " + body + ">";
  std::string_view rest(body);
  rest.remove_prefix(key.size());
  return std::string(rest.substr(0, JsonValueLength(rest)));
}

// The function a contract calls (the test endpoint's `entryPoint`).
std::string EntryPoint(const std::string& contract) {
  if (contract == "os2iot") return "decode";
  if (contract == "chirpstack-v3") return "Decode";
  if (contract == "ttn-v2") return "Decoder";
  return "decodeUplink";
}

// Node failed on a case: it threw, or decodeUplink returned non-empty `errors`.
bool NodeFailed(const json& n, const std::string& contract) {
  return n.contains("threw") || (contract == "ttn" && n["result"].is_object() &&
                                 n["result"].contains("errors") && !n["result"]["errors"].empty());
}

class NodeReferenceTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    auto org = admin_->PostJson("/api/v1/organizations", {{"name", "Korpus Kommune"}});
    ASSERT_EQ(org.status, 201) << org.body;
    org_id_ = org.Json().value("id", int64_t{0});
    uplink_ = nlohmann::ordered_json::parse(ReadText(
        fs::path(BYSANS_SOURCE_DIR) / "tests/fixtures/decoders/chirpstack-v4-uplink.json"));
  }

  // The corpus files with JS decoders: (file name, document).
  static std::vector<std::pair<std::string, json>> Corpus() {
    std::vector<std::pair<std::string, json>> out;
    for (const auto& e : fs::directory_iterator(fs::path(BYSANS_SOURCE_DIR) / DIR)) {
      if (e.path().extension() != ".json") continue;
      json doc = json::parse(ReadText(e.path()));
      if (!doc.contains("cases") || doc["decoder"].get<std::string>().rfind("native:", 0) == 0)
        continue;
      out.emplace_back(e.path().filename().string(), std::move(doc));
    }
    return out;
  }

  static constexpr const char* DIR = "tests/fixtures/decoders";
  int64_t org_id_ = 0;
  nlohmann::ordered_json uplink_;  // in the file's key order, as a client sends it
};

TEST_F(NodeReferenceTest, EveryCorpusCaseGivesNodesOutput) {
  int files = 0, cases = 0, vendor_checked = 0, auto_runs = 0;
  for (const auto& [file, doc] : Corpus()) {
    ++files;
    const std::string contract = doc.value("contract", "ttn");
    const std::string code = ReadText(fs::path(BYSANS_SOURCE_DIR) / doc["decoder"]);
    std::string node_error;
    const auto node = RunNode(fs::path(BYSANS_SOURCE_DIR) / DIR / file, &node_error);
    ASSERT_TRUE(node_error.empty()) << file << ": " << node_error;
    for (const auto& c : doc["cases"]) {
      ++cases;
      const std::string where = file + " / " + c["name"].get<std::string>();
      auto it = node.find(c["name"].get<std::string>());
      ASSERT_NE(it, node.end()) << where << ": no answer from Node";
      const json& n = it->second;
      const bool node_failed = NodeFailed(n, contract);
      // Node against the vendor's documented output.
      if (c.contains("expected")) {
        std::string why;
        EXPECT_TRUE(n.contains("result") && Matches(c["expected"], n["result"], &why, "output"))
            << where << ": Node disagrees with the expected output: " << why << " " << n.dump();
        ++vendor_checked;
      }
      if (c.contains("error")) {
        EXPECT_TRUE(node_failed) << where << ": Node did not fail";
      }
      // bysans through the test endpoint: with the fixture's contract, and in auto mode (which
      // must find the same entry point from the code, whatever its helpers are named).
      // In the uplink's key order: an OS2iot decoder may pass parts of it through.
      nlohmann::ordered_json body = {{"code", code}, {"orgId", org_id_}, {"fPort", c["fPort"]}};
      if (contract == "os2iot") {
        nlohmann::ordered_json u = uplink_;
        u["fPort"] = c["fPort"];
        u["data"] = EncodeBase64(DecodeHex(c["bytes_hex"].get<std::string>()).value());
        body["payload"] = u;
      } else {
        body["payload"] = c["bytes_hex"];
        body["encoding"] = "hex";
      }
      size_t explicit_warnings = 0;
      for (const char* mode : {"explicit", "auto"}) {
        const std::string at = where + " [" + mode + "]";
        if (std::string_view(mode) == "explicit") {
          body["contract"] = contract;
        } else {
          body.erase("contract");
          ++auto_runs;
        }
        auto r = admin_->Request("POST", "/api/v1/decoders/test", body.dump(),
                                 {"Content-Type: application/json"});
        ASSERT_EQ(r.status, 200) << at << ": " << r.body;
        const json res = r.Json();
        EXPECT_EQ(res.value("entryPoint", json()), json(EntryPoint(contract))) << at << r.body;
        // Auto mode says when the code defines several entry points (helpers named like one).
        const json& warnings = res["warnings"];
        if (std::string_view(mode) == "explicit") {
          explicit_warnings = warnings.size();
        } else if (doc.value("several_entry_points", false)) {
          EXPECT_EQ(warnings.size(), explicit_warnings + 1) << at << ": " << r.body;
          EXPECT_TRUE(std::any_of(warnings.begin(), warnings.end(),
                                  [&](const json& w) {
                                    return w.get<std::string>().find(EntryPoint(contract)) !=
                                           std::string::npos;
                                  }))
              << at << ": no warning about the choice: " << r.body;
        } else {
          EXPECT_EQ(warnings.size(), explicit_warnings) << at << ": " << r.body;
        }
        if (node_failed) {
          EXPECT_FALSE(res["error"].is_null()) << at << ": bysans did not fail: " << r.body;
          if (n.contains("threw")) {
            const std::string msg = res["error"].is_string() ? res["error"].get<std::string>() : "";
            EXPECT_NE(msg.find(n["threw"].get<std::string>()), std::string::npos)
                << at << ": bysans' error lacks Node's " << n["threw"] << ": " << r.body;
          } else {  // decodeUplink's errors, kept structured
            EXPECT_EQ(res["errors"], n["result"]["errors"]) << at << ": " << r.body;
          }
          continue;
        }
        EXPECT_TRUE(res["error"].is_null()) << at << ": " << r.body;
        EXPECT_EQ(OutputText(r.body), n.value("output", "")) << at;
        if (contract == "ttn" && n["result"].contains("warnings")) {
          for (const auto& w : n["result"]["warnings"]) {
            EXPECT_NE(std::find(res["warnings"].begin(), res["warnings"].end(), w),
                      res["warnings"].end())
                << at << ": Node's warning " << w << " missing: " << r.body;
          }
        }
      }
    }
  }
  EXPECT_GE(files, 15);
  EXPECT_GE(cases, 33);
  EXPECT_GE(vendor_checked, 17);
  EXPECT_EQ(auto_runs, cases);
}

// encodeDownlink: an object downlink to a device is encoded by its decoder into Node's bytes,
// which are the vendor's.
TEST_F(NodeReferenceTest, ObjectDownlinksGiveNodesBytes) {
  auto app = admin_->PostJson("/api/v1/organizations/" + std::to_string(org_id_) + "/applications",
                              {{"name", "Korpus"}});
  ASSERT_EQ(app.status, 201) << app.body;
  const std::string app_id = std::to_string(app.Json().value("id", int64_t{0}));
  int downlinks = 0;
  for (const auto& [file, doc] : Corpus()) {
    if (!doc.contains("downlinks")) continue;
    std::string node_error;
    const auto node = RunNode(fs::path(BYSANS_SOURCE_DIR) / DIR / file, &node_error);
    ASSERT_TRUE(node_error.empty()) << file << ": " << node_error;
    auto dec = admin_->PostJson("/api/v1/organizations/" + std::to_string(org_id_) + "/decoders",
                                {{"name", file},
                                 {"code", ReadText(fs::path(BYSANS_SOURCE_DIR) / doc["decoder"])},
                                 {"contract", doc.value("contract", "ttn")}});
    ASSERT_EQ(dec.status, 201) << dec.body;
    auto dev = admin_->PostJson("/api/v1/applications/" + app_id + "/devices",
                                {{"name", file}, {"transport", "mqtt"}});
    ASSERT_EQ(dev.status, 201) << dev.body;
    const std::string dev_path =
        "/api/v1/devices/" + std::to_string(dev.Json().value("id", int64_t{0}));
    auto attach = admin_->Request("PUT", dev_path + "/decoder",
                                  json{{"decoderId", dec.Json().value("id", int64_t{0})}}.dump(),
                                  {"Content-Type: application/json"});
    ASSERT_EQ(attach.status, 200) << attach.body;
    for (const auto& d : doc["downlinks"]) {
      ++downlinks;
      const std::string where = file + " / " + d["name"].get<std::string>();
      auto it = node.find(d["name"].get<std::string>());
      ASSERT_NE(it, node.end()) << where << ": no answer from Node";
      const json& n = it->second;
      std::string why;
      EXPECT_TRUE(Matches(d["expected"], n.value("result", json()), &why, "encoded"))
          << where << ": Node disagrees with the vendor: " << why;
      auto r = admin_->PostJson(dev_path + "/downlink", {{"object", d["object"]}});
      ASSERT_EQ(r.status, 202) << where << ": " << r.body;
      auto bytes = DecodeBase64(r.Json().value("data", ""));
      ASSERT_TRUE(bytes.ok()) << where << ": " << r.body;
      json got = json::array();
      for (char ch : *bytes) got.push_back(static_cast<uint8_t>(ch));
      EXPECT_EQ(got, n["result"]["bytes"]) << where << ": " << r.body;
    }
  }
  EXPECT_GE(downlinks, 4);
}

}  // namespace
}  // namespace bysans::testing

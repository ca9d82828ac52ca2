// Export → import → export over the API and the CLI on the real server: the imported devices
// answer the same readings and aggregates; an export during ingest is consistent.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "integration/export_archive.h"
#include "integration/fixture.h"

namespace bysans::testing {
namespace {

class ExportIntegrationTest : public ServerTest {
 protected:
  // Devices of an organisation by name → id.
  std::map<std::string, int64_t> Devices(int64_t org) {
    auto r = admin_->Get("/api/v1/organizations/" + std::to_string(org) + "/devices?limit=1000");
    std::map<std::string, int64_t> out;
    const json list = r.Json();  // kept: a range-for over a temporary's member dangles
    for (const auto& d : list["items"]) out[d["name"]] = d["id"];
    return out;
  }
  json Readings(int64_t device, const std::string& query = "") {
    return admin_
        ->Get("/api/v1/devices/" + std::to_string(device) + "/readings?limit=10000" + query)
        .Json();
  }
};

TEST_F(ExportIntegrationTest, RoundTripThroughTheApiAnswersTheSameReadingsAndAggregates) {
  DeviceHandle h = CreateHttpDevice("Kommune");
  for (int i = 0; i < 50; ++i) {
    const std::string body = json{
        {"temperature", 20 + i * 0.25},
        {"door", i % 2 == 0},
        {"label", "r" + std::to_string(i)},
        {"ts", 1'780'000'000'000 +
                   i * 600'000}}.dump();
    ASSERT_LT(Ingest(h.ingest_key, body).status, 300);
  }
  const int64_t job = ExportAndWait(*admin_, h.org_id);
  ASSERT_GT(job, 0);
  auto archive = admin_->Get("/api/v1/organizations/" + std::to_string(h.org_id) + "/exports/" +
                             std::to_string(job) + "/archive");
  ASSERT_EQ(archive.status, 200);
  auto imported = admin_->PostJson("/api/v1/organizations/import",
                                   {{"archive", Base64(archive.body)}, {"name", "Copy"}});
  ASSERT_EQ(imported.status, 201) << imported.body;
  const int64_t copy = imported.Json()["orgId"];
  EXPECT_EQ(imported.Json()["readings"], 150);
  auto a = Devices(h.org_id);
  auto b = Devices(copy);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, id] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    json ra = Readings(id);
    json rb = Readings(b[name]);
    ASSERT_EQ(ra["items"].size(), 150u);
    for (auto* r : {&ra, &rb})
      for (auto& item : (*r)["items"]) item.erase("deviceId");
    EXPECT_EQ(ra["items"], rb["items"]);
    const std::string agg = "&key=temperature&bucket=1h&agg=avg,min,max,count&from=2026-05-01";
    json aa = Readings(id, agg);
    json ab = Readings(b[name], agg);
    ASSERT_FALSE(aa["items"].empty()) << aa.dump();
    EXPECT_EQ(aa["items"], ab["items"]);
  }
  // The copy exported again: the same readings (ids and export times apart).
  const int64_t job2 = ExportAndWait(*admin_, copy);
  auto archive2 = admin_->Get("/api/v1/organizations/" + std::to_string(copy) + "/exports/" +
                              std::to_string(job2) + "/archive");
  ASSERT_EQ(archive2.status, 200);
  auto lines = [](const std::string& tar) {
    std::string text = ArchiveText(tar);
    size_t n = 0;
    for (size_t i = 0; (i = text.find("\"key\":\"temperature\"", i)) != std::string::npos; ++i) ++n;
    return n;
  };
  EXPECT_EQ(lines(archive.body), 50u);
  EXPECT_EQ(lines(archive2.body), 50u);
}

TEST_F(ExportIntegrationTest, CliExportDuringIngestIsConsistent) {
  DeviceHandle h = CreateHttpDevice("Kommune");
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  // Every message carries the same 6 keys: a consistent snapshot has as many readings of each.
  std::thread ingest([&] {
    for (int i = 0; !stop; ++i) {
      json body = {{"ts", 1'780'000'000'000 + i * 1000}};
      for (const char* k : {"a", "b", "c", "d", "e", "f"}) body[k] = i;
      if (Ingest(h.ingest_key, body.dump()).status < 300) ++sent;
    }
  });
  WaitFor([&] { return sent > 20; });
  const std::string out = server_->data_dir() + "/cli.tar";
  const std::string cmd = std::string(BYSANS_BINARY_DIR) + "/bin/bysans export --org " +
                          std::to_string(h.org_id) + " --out " + out + " --data-dir " +
                          server_->data_dir() + " > /dev/null 2>&1";
  const int rc = std::system(cmd.c_str());
  stop = true;
  ingest.join();
  ASSERT_EQ(rc, 0);
  std::FILE* f = std::fopen(out.c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string tar;
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) tar.append(buf, n);
  std::fclose(f);
  const std::string text = ArchiveText(tar);
  std::map<std::string, size_t> per_key;
  for (const char* k : {"a", "b", "c", "d", "e", "f"}) {
    const std::string needle = std::string("\"key\":\"") + k + "\"";
    for (size_t i = 0; (i = text.find(needle, i)) != std::string::npos; ++i) ++per_key[k];
  }
  EXPECT_GT(per_key["a"], 0u);
  for (const auto& [k, n] : per_key) EXPECT_EQ(n, per_key["a"]) << k;
}

// What an export killed mid-way leaves (a .partial archive, its spool, the database copy) is
// removed when the server starts again; finished archives stay.
class ExportLeftoversTest : public ServerTest {
 protected:
  void SetUp() override {}
};

TEST_F(ExportLeftoversTest, AKilledExportLeavesNothingAfterARestart) {
  char tmpl[] = "/tmp/bysans_export_left_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::filesystem::create_directories(dir + "/exports/.snapshot-3");
  std::ofstream(dir + "/exports/org-1-job-3.tar.partial") << "half";
  std::ofstream(dir + "/exports/.snapshot-3/bysans.db") << "copy";
  std::ofstream(dir + "/exports/org-1-job-2.tar") << "done";
  StartServer(dir);
  EXPECT_TRUE(WaitFor([&] { return !std::filesystem::exists(dir + "/exports/.snapshot-3"); }, 10));
  EXPECT_FALSE(std::filesystem::exists(dir + "/exports/org-1-job-3.tar.partial"));
  EXPECT_TRUE(std::filesystem::exists(dir + "/exports/org-1-job-2.tar"));
  server_.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bysans::testing

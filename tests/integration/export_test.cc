// Export → import → export over the API and the CLI on the real server: the imported devices
// answer the same readings and aggregates; an export during ingest is consistent; an
// organisation runs one export at a time, keeps its newest archives only, and none fills the disk.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
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

// Exports are bounded (api/org_export.cc): an organisation has at most one export queued or
// running, whatever its admin sends; another organisation's export is not held up by it; only the
// organisation's newest archives stay, in the listing and on disk.
class ExportLimitsTest : public ExportIntegrationTest {
 protected:
  // api/org_export.cc kKeptArchivesPerOrganization.
  static constexpr size_t kKeptArchives = 3;

  std::string OrgPath(int64_t org) { return "/api/v1/organizations/" + std::to_string(org); }

  // A user who is an admin of `org` only, logged in.
  std::unique_ptr<HttpClient> OrgAdmin(int64_t org, const std::string& email) {
    auto user = admin_->PostJson(
        "/api/v1/users", {{"email", email}, {"password", "export-admin-pw-9"}, {"name", email}});
    EXPECT_EQ(user.status, 201) << user.body;
    const int64_t uid = user.Json().value("id", int64_t{0});
    auto member =
        admin_->Request("PUT", OrgPath(org) + "/members/" + std::to_string(uid),
                        json{{"role", "admin"}}.dump(), {"Content-Type: application/json"});
    EXPECT_LT(member.status, 300) << member.body;
    auto client = std::make_unique<HttpClient>(server_->url());
    EXPECT_EQ(client->Login(email, "export-admin-pw-9").status, 200);
    return client;
  }

  // Enough readings (SenML, 1,000 a message) that copying the database and writing the archive
  // take far longer than a few requests on loopback, so a job is still pending between them.
  void FillDatabase(const DeviceHandle& d, int messages) {
    for (int m = 0; m < messages; ++m) {
      json senml = json::array();
      for (int i = 0; i < 1000; ++i) {
        json record = {{"n", "temperature"}, {"v", 20 + i % 7}, {"t", i * 60}};
        if (i == 0) record["bt"] = 1'700'000'000 + m * 60'000;
        senml.push_back(record);
      }
      ASSERT_EQ(Ingest(d.ingest_key, senml.dump(), "application/senml+json").status, 204);
    }
  }

  static HttpResult StartExport(HttpClient& client, int64_t org) {
    return client.Request("POST", "/api/v1/organizations/" + std::to_string(org) + "/export", "",
                          {"Content-Type: application/json"});
  }

  std::string JobState(HttpClient& client, int64_t job) {
    return client.Get("/api/v1/jobs/" + std::to_string(job)).Json().value("state", "");
  }

  bool WaitUntilFinished(HttpClient& client, int64_t job) {
    return WaitFor([&] {
      const std::string state = JobState(client, job);
      return state == "done" || state == "failed";
    });
  }

  std::set<int64_t> ListedArchives(HttpClient& client, int64_t org) {
    auto r = client.Get(OrgPath(org) + "/exports");
    EXPECT_EQ(r.status, 200) << r.body;
    std::set<int64_t> jobs;
    const json list = r.Json();  // kept: a range-for over a temporary's member dangles
    for (const auto& item : list["items"]) jobs.insert(item["jobId"].get<int64_t>());
    return jobs;
  }

  std::set<int64_t> ArchivesOnDisk(int64_t org) {
    const std::string prefix = "org-" + std::to_string(org) + "-job-";
    std::set<int64_t> jobs;
    for (const auto& e : std::filesystem::directory_iterator(server_->data_dir() + "/exports")) {
      const std::string name = e.path().filename().string();
      if (name.starts_with(prefix) && name.ends_with(".tar"))
        jobs.insert(std::stoll(name.substr(prefix.size())));
    }
    return jobs;
  }
};

TEST_F(ExportLimitsTest, OneExportAtATimePerOrganisationOthersNotHeldUp) {
  DeviceHandle a = CreateHttpDevice("Kommune A");
  DeviceHandle b = CreateHttpDevice("Kommune B");
  FillDatabase(a, 100);
  auto a_admin = OrgAdmin(a.org_id, "a-admin@kommune.dk");
  auto b_admin = OrgAdmin(b.org_id, "b-admin@kommune.dk");

  auto first = StartExport(*a_admin, a.org_id);
  ASSERT_EQ(first.status, 202) << first.body;
  const int64_t pending = first.Json()["jobId"];
  std::vector<HttpResult> repeats;
  for (int i = 0; i < 4; ++i) repeats.push_back(StartExport(*a_admin, a.org_id));
  auto other_org = StartExport(*b_admin, b.org_id);
  // Only meaningful if A's first export was pending through every request above.
  const std::string state = JobState(*a_admin, pending);
  ASSERT_TRUE(state == "queued" || state == "running")
      << "the export finished before the requests were sent (" << state
      << "): give FillDatabase more messages";

  for (const HttpResult& r : repeats) {
    EXPECT_EQ(r.status, 409) << r.body;
    const json body = r.Json();
    EXPECT_EQ(body.value(json::json_pointer("/error/code"), ""), "failed_precondition") << r.body;
    EXPECT_NE(body.value(json::json_pointer("/error/message"), "")
                  .find("export job " + std::to_string(pending) + " of this organisation"),
              std::string::npos)
        << r.body;
  }
  EXPECT_EQ(other_org.status, 202) << other_org.body;

  // Once A's export is done, A may start the next.
  ASSERT_TRUE(WaitUntilFinished(*a_admin, pending));
  EXPECT_EQ(JobState(*a_admin, pending), "done");
  auto next = StartExport(*a_admin, a.org_id);
  ASSERT_EQ(next.status, 202) << next.body;
  ASSERT_TRUE(WaitUntilFinished(*a_admin, next.Json()["jobId"]));
}

TEST_F(ExportLimitsTest, OnlyTheNewestArchivesOfAnOrganisationAreKept) {
  DeviceHandle a = CreateHttpDevice("Kommune A");
  DeviceHandle b = CreateHttpDevice("Kommune B");
  auto a_admin = OrgAdmin(a.org_id, "a-admin@kommune.dk");
  const int64_t b_job = ExportAndWait(*admin_, b.org_id);
  ASSERT_GT(b_job, 0);

  std::vector<int64_t> a_jobs;
  for (size_t i = 0; i < kKeptArchives + 2; ++i) {
    a_jobs.push_back(ExportAndWait(*a_admin, a.org_id));
    ASSERT_GT(a_jobs.back(), 0);
  }
  const std::set<int64_t> newest(a_jobs.end() - kKeptArchives, a_jobs.end());
  EXPECT_EQ(ListedArchives(*a_admin, a.org_id), newest);
  EXPECT_EQ(ArchivesOnDisk(a.org_id), newest);
  for (int64_t old : {a_jobs[0], a_jobs[1]}) {
    auto gone = a_admin->Get(OrgPath(a.org_id) + "/exports/" + std::to_string(old) + "/archive");
    EXPECT_EQ(gone.status, 404) << "archive of export " << old << " still served";
  }
  // Another organisation's archive is not counted against A's.
  EXPECT_EQ(ListedArchives(*admin_, b.org_id), std::set<int64_t>{b_job});
  EXPECT_EQ(ArchivesOnDisk(b.org_id), std::set<int64_t>{b_job});
}

// A server whose reserve of free space (export.free_space_reserve_mb) is larger than any disk: an
// export is refused at its start with 503 saying why, holds no export slot (a second start is
// refused the same way, not with 409), leaves no archive, and the server goes on serving.
class ExportFullDiskTest : public ExportLimitsTest {
 protected:
  void SetUp() override {
    server_env_.push_back("BYSANS_EXPORT_FREE_SPACE_RESERVE_MB=1000000000");  // ~1 PB
    StartServer();
  }
};

TEST_F(ExportFullDiskTest, AnExportThatWouldFillTheDiskIsRefused) {
  DeviceHandle a = CreateHttpDevice("Kommune A");
  ASSERT_EQ(Ingest(a.ingest_key, R"({"temperature": 21.5})", "application/json").status, 204);
  auto a_admin = OrgAdmin(a.org_id, "a-admin@kommune.dk");
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto refused = StartExport(*a_admin, a.org_id);
    EXPECT_EQ(refused.status, 503) << refused.body;
    const std::string message =
        refused.Json().value(json::json_pointer("/error/message"), std::string());
    EXPECT_NE(message.find("not enough free disk space for an export"), std::string::npos)
        << refused.body;
    EXPECT_NE(message.find("1000000000 MiB"), std::string::npos) << refused.body;
  }
  EXPECT_TRUE(ListedArchives(*a_admin, a.org_id).empty());
  EXPECT_EQ(admin_->Get("/healthz").status, 200);
  EXPECT_EQ(Ingest(a.ingest_key, R"({"temperature": 21.6})", "application/json").status, 204);
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

// `bysans backup` / `bysans restore` (backup/): a copy taken while the server ingests holds every
// message acknowledged before it began; a restored server answers with it; a damaged, forged or
// misdirected restore is refused before anything is written; one server per data directory.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "fixture.h"

namespace bysans::testing {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class BackupTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    char tmpl[] = "/tmp/bysans-backup-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    work_ = tmpl;
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    fs::remove_all(work_, ec);
  }

  std::pair<int, std::string> Backup(const std::string& from_dir, const std::string& out) {
    return RunBinary({"backup", "--data-dir", from_dir, "--out", out});
  }
  std::pair<int, std::string> Restore(const std::string& from, const std::string& data_dir) {
    return RunBinary({"restore", "--from", from, "--data-dir", data_dir});
  }

  // A backup of the running server (with one reading) in work_/name.
  std::string MakeBackup(const std::string& name) {
    DeviceHandle d = CreateHttpDevice("Backup Kommune");
    EXPECT_EQ(Ingest(d.ingest_key, R"({"co2": 415})").status, 204);
    const std::string out = work_ + "/" + name;
    auto [rc, text] = Backup(server_->data_dir(), out);
    EXPECT_EQ(rc, 0) << text;
    return out;
  }

  std::string work_;
};

TEST_F(BackupTest, BackupUnderLoadKeepsEverythingAcknowledgedBeforeItAndRestores) {
  DeviceHandle d = CreateHttpDevice("Backup Kommune");
  constexpr int64_t kBaseTs = 1'760'000'000'000;
  std::atomic<bool> stop{false};
  std::atomic<int> acked_upto{-1};  // every seq up to here was acknowledged, in order
  std::thread poster([&] {
    HttpClient client(server_->url());
    for (int seq = 0; !stop.load(); ++seq) {
      json body = {{"seq", seq}, {"timestamp", kBaseTs + seq}};
      auto r = client.Request("POST", "/api/v1/receive-data?apiKey=" + d.ingest_key, body.dump(),
                              {"Content-Type: application/json"});
      if (r.status != 204) break;
      acked_upto = seq;
    }
  });
  while (acked_upto.load() < 200) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const int acked_before = acked_upto.load();  // acknowledged before the backup began
  const std::string backup = work_ + "/backup";
  auto [rc, text] = Backup(server_->data_dir(), backup);
  const int acked_during = acked_upto.load();
  ASSERT_EQ(rc, 0) << text;
  while (acked_upto.load() < acked_during + 100) {  // ingest went on through the backup
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  poster.join();
  EXPECT_NE(text.find("bysans.db"), std::string::npos) << text;
  for (const char* f : {"backup.json", "README.txt", "bysans.db", "secret.key"}) {
    EXPECT_TRUE(fs::exists(backup + "/" + f)) << f;
  }
  EXPECT_FALSE(fs::exists(backup + ".partial"));
  const std::string key = ReadAll(server_->data_dir() + "/secret.key");

  // Restoring into the running server's directory is refused; into a new one it works.
  auto refused = Restore(backup, server_->data_dir());
  EXPECT_EQ(refused.first, 2) << refused.second;
  EXPECT_NE(refused.second.find("is not empty"), std::string::npos) << refused.second;
  auto keep = std::move(server_);
  EXPECT_EQ(keep->Terminate(), 0);
  const std::string restored = work_ + "/restored";
  auto [rrc, rtext] = Restore(backup, restored);
  ASSERT_EQ(rrc, 0) << rtext;
  EXPECT_EQ(ReadAll(restored + "/secret.key"), key);  // sealed secrets still open

  StartServer(restored);  // the same admin logs in: it is the same database
  auto r = admin_->Get("/api/v1/devices/" + std::to_string(d.device_id) +
                       "/readings?key=seq&limit=100000&from=" + std::to_string(kBaseTs) +
                       "&to=" + std::to_string(kBaseTs + 1'000'000));
  ASSERT_EQ(r.status, 200) << r.body;
  std::set<int64_t> seqs;
  const json page = r.Json();  // kept: a range-for over a temporary's member would dangle
  for (const auto& item : page["items"]) seqs.insert(item["value"].get<int64_t>());
  for (int seq = 0; seq <= acked_before; ++seq) {
    ASSERT_TRUE(seqs.count(seq)) << "seq " << seq << " was acknowledged before the backup began; "
                                 << seqs.size() << " in the backup: " << r.body.substr(0, 300);
  }
  // Nothing that was not sent, and nothing acknowledged after the backup ended.
  ASSERT_FALSE(seqs.empty());
  EXPECT_LE(*seqs.rbegin(), acked_upto.load());
  std::cout << "acknowledged before the backup " << acked_before + 1 << ", in the backup "
            << seqs.size() << ", acknowledged by its end " << acked_during + 1 << "\n";
  // New data flows into the restored server.
  EXPECT_EQ(Ingest(d.ingest_key, R"({"seq": -1})").status, 204);
}

TEST_F(BackupTest, DamagedOrForgedBackupsAreRefusedBeforeAnythingIsWritten) {
  const std::string good = MakeBackup("good");
  auto copy = [&](const std::string& name) {
    const std::string dir = work_ + "/" + name;
    fs::copy(good, dir, fs::copy_options::recursive);
    return dir;
  };
  auto expect_refused = [&](const std::string& backup, const std::string& why) {
    const std::string target = work_ + "/target-" + fs::path(backup).filename().string();
    auto [rc, text] = Restore(backup, target);
    EXPECT_EQ(rc, 2) << text;
    EXPECT_NE(text.find(why), std::string::npos) << "expected \"" << why << "\" in: " << text;
    EXPECT_FALSE(fs::exists(target)) << "a refused restore wrote " << target;
  };
  {  // one byte of the database changed
    const std::string b = copy("flipped");
    std::fstream f(b + "/bysans.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(5000);
    f.put('\x7f');
    f.close();
    expect_refused(b, "bysans.db: SHA-256 does not match");
  }
  {  // the database cut short
    const std::string b = copy("truncated");
    fs::resize_file(b + "/bysans.db", 4096);
    expect_refused(b, "bysans.db: 4096 bytes, backup.json says");
  }
  auto edit_manifest = [&](const std::string& name, const std::function<void(json&)>& edit) {
    const std::string b = copy(name);
    json m = json::parse(ReadAll(b + "/backup.json"));
    edit(m);
    std::ofstream(b + "/backup.json", std::ios::trunc) << m.dump();
    return b;
  };
  expect_refused(edit_manifest("v9", [](json& m) { m["version"] = 9; }),
                 "format version 9 is not supported");
  expect_refused(edit_manifest("notbackup", [](json& m) { m["format"] = "tar"; }),
                 "not a bysans backup");
  expect_refused(edit_manifest("escape",
                               [](json& m) {
                                 m["files"].push_back({{"path", "../../etc/cron.d/x"},
                                                       {"bytes", 1},
                                                       {"sha256", std::string(64, 'a')}});
                               }),
                 "is not a file of a backup");
  expect_refused(edit_manifest("wrongtype", [](json& m) { m["files"][0]["bytes"] = "32"; }),
                 "needs \"path\" (string), \"bytes\" (integer >= 0)");
  expect_refused(edit_manifest("nodb",
                               [](json& m) {
                                 json keep = json::array();
                                 for (auto& f : m["files"]) {
                                   if (f["path"] != "bysans.db") keep.push_back(f);
                                 }
                                 m["files"] = keep;
                               }),
                 "lists no bysans.db");
  {  // a missing listed file
    const std::string b = copy("missing");
    fs::remove(b + "/secret.key");
    expect_refused(b, "secret.key: listed in backup.json but cannot be read");
  }
  // The untouched backup still restores (the checks above are not failing everything).
  auto [rc, text] = Restore(good, work_ + "/target-good");
  EXPECT_EQ(rc, 0) << text;
}

TEST_F(BackupTest, OneServerPerDataDirectoryAndBackupsGoIntoNewDirectories) {
  // A second server on the same data directory is refused, naming the first.
  auto [rc, text] = RunBinary(
      {"serve", "--data-dir", server_->data_dir(), "--http-port", "0", "--mqtt-port", "0"});
  EXPECT_NE(rc, 0) << text;
  EXPECT_NE(
      text.find("is in use by another bysans (pid " + std::to_string(server_->pid()) + ", serve)"),
      std::string::npos)
      << text;
  // A backup does not write into a directory that has something in it.
  const std::string busy = work_ + "/busy";
  fs::create_directories(busy);
  std::ofstream(busy + "/notes.txt") << "keep me";
  auto [brc, btext] = Backup(server_->data_dir(), busy);
  EXPECT_EQ(brc, 2) << btext;
  EXPECT_NE(btext.find("is not empty"), std::string::npos) << btext;
  EXPECT_EQ(ReadAll(busy + "/notes.txt"), "keep me");
  // And the first server kept serving.
  EXPECT_EQ(admin_->Get("/api/v1/organizations").status, 200);
}

}  // namespace
}  // namespace bysans::testing

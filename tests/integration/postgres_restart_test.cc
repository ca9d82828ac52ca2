// PostgreSQL restarted mid-stream (issue 19): a server on its own real PostgreSQL takes HTTP
// readings while the database goes down for a few seconds and comes back. Meanwhile ingest
// answers 503 (the device retries), the server keeps serving, ingest resumes by itself once the
// database is back, and every reading that was acknowledged (204) is stored.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "fixture.h"
#include "support/postgres_instance.h"

namespace bysans::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

TEST(PostgresRestartTest, IngestPausesWithA503AndResumesWithNothingAcknowledgedLost) {
  auto pg = PostgresInstance::Start();
  ASSERT_TRUE(pg.ok()) << pg.status().message();
  auto url = (*pg)->CreateDatabase("restart");
  ASSERT_TRUE(url.ok()) << url.status().message();
  ServerProcess server;
  server.SetEnv({"BYSANS_STORE_URL=" + *url});
  ASSERT_TRUE(server.Start()) << server.log();
  HttpClient admin(server.url());
  ASSERT_EQ(admin.Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);
  auto org = admin.PostJson("/api/v1/organizations", {{"name", "Kommune"}});
  auto app = admin.PostJson(
      "/api/v1/organizations/" + std::to_string(org.Json().value("id", 0)) + "/applications",
      {{"name", "Skoler"}});
  auto dev = admin.PostJson(
      "/api/v1/applications/" + std::to_string(app.Json().value("id", 0)) + "/devices",
      {{"name", "Lokale"}, {"transport", "http"}});
  ASSERT_EQ(dev.status, 201) << dev.body;
  const std::string key = dev.Json().value("apiKey", "");
  const int64_t device_id = dev.Json().value("id", int64_t{0});

  // A device sending a numbered reading every 20 ms, each with its own time.
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::mutex mu;
  std::set<int> acked;
  std::map<int, int> refused;  // HTTP status → count
  const int64_t t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() -
                     3'600'000;
  std::thread device([&] {
    HttpClient client(server.url());
    for (int seq = 0; !stop; ++seq) {
      auto r = client.Request("POST", "/api/v1/receive-data?apiKey=" + key,
                              json{{"seq", seq}, {"ts", t0 + seq}}.dump(),
                              {"Content-Type: application/json"});
      {
        std::lock_guard lk(mu);
        if (r.status == 204) {
          acked.insert(seq);
        } else {
          ++refused[r.status];
        }
      }
      ++sent;
      std::this_thread::sleep_for(20ms);
    }
  });
  auto acked_count = [&] {
    std::lock_guard lk(mu);
    return acked.size();
  };
  std::this_thread::sleep_for(1s);
  ASSERT_GT(acked_count(), 10u) << server.log();
  ASSERT_TRUE((*pg)->Down().ok());
  std::this_thread::sleep_for(3s);
  const size_t acked_while_down = acked_count();
  {
    std::lock_guard lk(mu);
    EXPECT_GT(refused[503], 0) << "no 503 while the database was down";
  }
  // The server itself goes on answering.
  EXPECT_NE(HttpClient(server.url()).Get("/healthz").status, 0) << server.log();
  ASSERT_TRUE((*pg)->Up().ok());
  const auto up = std::chrono::steady_clock::now();
  bool resumed = false;
  while (std::chrono::steady_clock::now() - up < 30s) {
    if (acked_count() > acked_while_down + 20) {
      resumed = true;
      break;
    }
    std::this_thread::sleep_for(50ms);
  }
  stop = true;
  device.join();
  ASSERT_TRUE(resumed) << "ingest did not resume within 30 s of the database's return\n"
                       << server.log();
  std::cout << "resumed "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - up)
                   .count()
            << " ms after the database was back; " << sent << " sent, " << acked_count()
            << " acknowledged\n";
  std::map<int, int> refused_copy;
  {
    std::lock_guard lk(mu);
    refused_copy = refused;
  }
  for (const auto& [status, n] : refused_copy)
    EXPECT_EQ(status, 503) << n << " answers " << status << " (a device should retry a 503 only)";

  // Every acknowledged reading is stored.
  std::set<int> stored;
  for (int attempt = 0; attempt < 50 && stored.size() < acked_count(); ++attempt) {
    auto r = admin.Get("/api/v1/devices/" + std::to_string(device_id) +
                       "/readings?key=seq&limit=100000");
    if (r.status == 200) {
      stored.clear();
      for (const auto& item : r.Json().value("items", json::array()))
        stored.insert(static_cast<int>(item.value("value", 0.0)));
    }
    std::this_thread::sleep_for(100ms);
  }
  std::lock_guard lk(mu);
  for (int seq : acked) EXPECT_TRUE(stored.count(seq)) << "acknowledged reading " << seq << " lost";
  EXPECT_EQ(server.Terminate(), 0) << server.log();
}

}  // namespace
}  // namespace bysans::testing

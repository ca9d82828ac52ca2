// Two real servers (nodes A and B) on one real PostgreSQL: a change made through A's API reaches
// B's caches and rules runtime through the store's change feed (LISTEN/NOTIFY,
// src/store/postgres/change_feed.h) — an HTTP ingest key rotated on A is refused on B within
// 2 s (B's key cache would otherwise keep it for its 5 s TTL), and a rule created on A raises
// its alarm for readings sent to B (B's rules runtime would otherwise never load it). And an
// organisation's limits hold against creations sent to both nodes at once.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "harness.h"
#include "security/sse_stream.h"
#include "unit/store_postgres/shared_postgres.h"

namespace bysans::testing {
namespace {

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

using json = nlohmann::json;

class TwoNodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string url = SharedPostgres::NewDatabase();
    ASSERT_FALSE(url.empty());
    a_ = std::make_unique<ServerProcess>();
    a_->SetEnv({"BYSANS_STORE_URL=" + url});
    ASSERT_TRUE(a_->Start()) << a_->log();
    // B's own data directory with A's secret key (every node of one database has the same).
    char tmpl[] = "/tmp/bysans-nodeb-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    b_dir_ = tmpl;
    std::filesystem::copy_file(a_->data_dir() + "/secret.key", b_dir_ + "/secret.key");
    b_ = std::make_unique<ServerProcess>(b_dir_);
    b_->SetEnv({"BYSANS_STORE_URL=" + url});
    ASSERT_TRUE(b_->Start()) << b_->log();
    admin_a_ = std::make_unique<HttpClient>(a_->url());
    ASSERT_EQ(admin_a_->Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status,
              200);
  }
  void TearDown() override {
    b_.reset();
    a_.reset();
    if (!b_dir_.empty()) std::filesystem::remove_all(b_dir_);
  }

  // An organisation, application and HTTP device made through A: {org, device, ingest key}.
  std::tuple<int64_t, int64_t, std::string> DeviceOnA() {
    auto org = admin_a_->PostJson("/api/v1/organizations", {{"name", "Kommune"}});
    EXPECT_EQ(org.status, 201) << org.body;
    const int64_t org_id = org.Json().value("id", int64_t{0});
    auto app = admin_a_->PostJson(
        "/api/v1/organizations/" + std::to_string(org_id) + "/applications", {{"name", "Klima"}});
    EXPECT_EQ(app.status, 201) << app.body;
    auto dev = admin_a_->PostJson(
        "/api/v1/applications/" + std::to_string(app.Json().value("id", int64_t{0})) + "/devices",
        {{"name", "Lokale"}, {"transport", "http"}});
    EXPECT_EQ(dev.status, 201) << dev.body;
    return {org_id, dev.Json().value("id", int64_t{0}), dev.Json().value("apiKey", "")};
  }
  int IngestOnB(const std::string& key, double co2) { return Ingest(*b_, key, co2); }
  int Ingest(ServerProcess& node, const std::string& key, double co2) {
    HttpClient device(node.url());
    return device
        .Request("POST", "/api/v1/receive-data?apiKey=" + key, json{{"co2", co2}}.dump(),
                 {"Content-Type: application/json"})
        .status;
  }

  std::unique_ptr<ServerProcess> a_, b_;
  std::string b_dir_;
  std::unique_ptr<HttpClient> admin_a_;
};

TEST_F(TwoNodesTest, AnIngestKeyRotatedOnAIsRefusedOnBWithinTwoSeconds) {
  auto [org, device, key] = DeviceOnA();
  ASSERT_FALSE(key.empty());
  ASSERT_EQ(IngestOnB(key, 500), 204);  // B has the key in its cache now
  ASSERT_EQ(IngestOnB(key, 510), 204);

  auto rotated = admin_a_->PostJson("/api/v1/devices/" + std::to_string(device) + "/rotate-key",
                                    json::object());
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const auto t0 = std::chrono::steady_clock::now();
  bool refused = false;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2)) {
    if (IngestOnB(key, 520) == 403) {
      refused = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(refused) << "the old ingest key still works on B 2 s after it was rotated on A";
  EXPECT_EQ(IngestOnB(rotated.Json().value("apiKey", ""), 530), 204);
}

TEST_F(TwoNodesTest, ARuleCreatedOnARaisesItsAlarmForReadingsSentToB) {
  auto [org, device, key] = DeviceOnA();
  ASSERT_EQ(IngestOnB(key, 500), 204);
  auto rule = admin_a_->PostJson("/api/v1/organizations/" + std::to_string(org) + "/rules",
                                 {{"name", "CO2 high"},
                                  {"scope", {{"kind", "device"}, {"id", device}}},
                                  {"severity", "warning"},
                                  {"expression", "co2 > 1000"}});
  ASSERT_EQ(rule.status, 201) << rule.body;
  // Readings go to B only; the alarm is read through A (one database).
  auto active = [&] {
    auto r = admin_a_->Get("/api/v1/organizations/" + std::to_string(org) + "/alarms?state=active");
    return r.status == 200 ? r.Json()["items"].size() : size_t{0};
  };
  const auto t0 = std::chrono::steady_clock::now();
  while (active() == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    ASSERT_EQ(IngestOnB(key, 1500), 204);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(active(), 1u) << "readings sent to B did not raise the alarm of a rule created on A\n"
                          << b_->log();
}

// An editor's script sends 24 device creations at once, half to each node: exactly the room the
// organisation's limit leaves is created, four times (the limit raised in between). Each node's own
// requests were already counted in turn; the nodes did not wait for each other, so both could
// pass one count (api/org_limits.h: a lock of the store across the nodes now).
TEST_F(TwoNodesTest, AnOrganisationsLimitHoldsAgainstCreationsSentToBothNodes) {
  auto [org, device, key] = DeviceOnA();  // one device of the organisation's limit
  const std::string org_path = "/api/v1/organizations/" + std::to_string(org);
  auto made = admin_a_->PostJson(org_path + "/api-keys", {{"name", "script"}, {"role", "editor"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string secret = made.Json().value("key", "");
  auto apps = admin_a_->Get(org_path + "/applications");
  ASSERT_EQ(apps.status, 200) << apps.body;
  const std::string devices_path = "/api/v1/applications/" +
                                   std::to_string(apps.Json()["items"][0].value("id", int64_t{0})) +
                                   "/devices";
  auto device_count = [&] {
    return admin_a_->Get(org_path + "/devices?limit=1").Json().value("total", int64_t{-1});
  };
  for (int round = 1; round <= 4; ++round) {
    const int64_t limit = 1 + 3 * round;
    HttpResult raise = admin_a_->Request("PATCH", org_path, json{{"maxDevices", limit}}.dump(),
                                         {"Content-Type: application/json"});
    ASSERT_EQ(raise.status, 200) << raise.body;
    constexpr int kBurst = 24;
    std::vector<int> statuses(kBurst, 0);
    std::vector<std::thread> senders;
    std::atomic<bool> go{false};
    for (int i = 0; i < kBurst; ++i)
      senders.emplace_back([&, i] {
        HttpClient client((i % 2 == 0 ? *a_ : *b_).url());
        const std::string body = json{
            {"name", "burst " + std::to_string(round) + "." + std::to_string(i)},
            {"transport", "http"}}.dump();
        while (!go.load()) std::this_thread::yield();
        statuses[static_cast<size_t>(i)] =
            client
                .Request("POST", devices_path, body,
                         {"X-API-Key: " + secret, "Content-Type: application/json"})
                .status;
      });
    go = true;
    for (auto& t : senders) t.join();
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 3) << "round " << round;
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 409), kBurst - 3) << "round " << round;
    EXPECT_EQ(device_count(), limit) << "round " << round;
  }
}

// The live stream answers the same on every node: a client whose stream is served by B sees the
// readings A stored (store/live_relay.h), each once, and only its own organisation's.
TEST_F(TwoNodesTest, BsLiveStreamShowsTheReadingsStoredThroughA) {
  auto [org, device, key] = DeviceOnA();
  auto [other_org, other_device, other_key] = DeviceOnA();
  HttpClient admin_b(b_->url());
  auto login = admin_b.Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword);
  ASSERT_EQ(login.status, 200);
  const std::string cookie =
      login.headers["set-cookie"].substr(0, login.headers["set-cookie"].find(';'));
  auto stream = std::make_unique<SseStream>(
      b_->url() + "/api/v1/organizations/" + std::to_string(org) + "/stream",
      std::vector<std::string>{"Cookie: " + cookie});
  ASSERT_TRUE(stream->Opened());
  auto seen = [&](double co2) {
    const std::string body = stream->body();
    const std::string needle = "\"value\":" + json(co2).dump();
    size_t n = 0;
    for (size_t at = body.find(needle); at != std::string::npos; at = body.find(needle, at + 1))
      ++n;
    return n;
  };
  // A relays once it heard B ask (within a second or so): readings before may not show.
  double warmup = 400;
  const auto t0 = std::chrono::steady_clock::now();
  while (seen(warmup) == 0 && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5)) {
    warmup += 1;
    ASSERT_EQ(Ingest(*a_, key, warmup), 204);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GT(seen(warmup), 0u) << "B's stream never showed a reading stored through A\n"
                              << stream->body();
  ASSERT_EQ(Ingest(*a_, other_key, 777.25), 204);  // another organisation's device
  ASSERT_EQ(Ingest(*a_, key, 1234.5), 204);
  const auto t1 = std::chrono::steady_clock::now();
  while (seen(1234.5) == 0 && std::chrono::steady_clock::now() - t1 < std::chrono::seconds(2))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(seen(1234.5), 1u) << stream->body();
  EXPECT_NE(stream->body().find("\"deviceId\":" + std::to_string(device)), std::string::npos);
  EXPECT_EQ(seen(777.25), 0u) << "another organisation's reading reached the stream";
  b_.reset();  // ends the stream
  stream.reset();
}

}  // namespace
}  // namespace bysans::testing

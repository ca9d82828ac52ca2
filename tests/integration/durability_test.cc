// "Acknowledged means durable": every reading answered with 204 survives a
// kill -9 of the server and a restart on the same data directory.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "fixture.h"

namespace bysans::testing {
namespace {

class DurabilityTest : public ServerTest {};

constexpr int64_t kBaseTs = 1'700'000'000'000;
constexpr int64_t kPosterSpan = 1'000'000'000;  // ms of timestamps reserved per poster

TEST_F(DurabilityTest, AcknowledgedReadingsSurviveKill9) {
  DeviceHandle d = CreateHttpDevice("Horsens");
  // Several concurrent posters so group commits hold many messages; the
  // server is killed while they are still posting.
  std::atomic<int> acked_max[4];
  std::vector<std::thread> posters;
  std::atomic<bool> stop{false};
  for (int t = 0; t < 4; ++t) {
    acked_max[t] = -1;
    posters.emplace_back([&, t] {
      HttpClient client(server_->url());
      for (int seq = 0; !stop.load(); ++seq) {
        json body = {{"seq", seq}, {"poster", t}, {"timestamp", kBaseTs + t * kPosterSpan + seq}};
        auto r = client.Request("POST", "/api/v1/receive-data?apiKey=" + d.ingest_key, body.dump(),
                                {"Content-Type: application/json"});
        if (r.status != 204) break;
        acked_max[t] = seq;  // every seq up to here was acknowledged in order
      }
    });
  }
  // Let some messages flow, then crash the server mid-stream.
  while (acked_max[0] < 50 || acked_max[3] < 50)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server_->Kill9();
  stop = true;
  for (auto& p : posters) p.join();

  std::string dir = server_->data_dir();
  auto keep = std::move(server_);  // keep the temp dir alive
  server_ = std::make_unique<ServerProcess>(dir);
  ASSERT_TRUE(server_->Start()) << server_->log();
  admin_ = std::make_unique<HttpClient>(server_->url());
  ASSERT_EQ(admin_->Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);

  // Each poster's messages have their own time range; read them back per poster.
  std::vector<std::set<int64_t>> per_poster(4);
  for (int t = 0; t < 4; ++t) {
    int64_t from = kBaseTs + t * kPosterSpan, to = from + kPosterSpan - 1;
    auto r = admin_->Get("/api/v1/devices/" + std::to_string(d.device_id) +
                         "/readings?key=seq&limit=100000&from=" + std::to_string(from) +
                         "&to=" + std::to_string(to));
    ASSERT_EQ(r.status, 200) << r.body;
    const json page = r.Json();
    for (const auto& item : page["items"])
      per_poster[static_cast<size_t>(t)].insert(item["value"].get<int64_t>());
  }
  for (int t = 0; t < 4; ++t)
    std::cout << "poster " << t << ": acked " << acked_max[t] + 1 << ", stored "
              << per_poster[static_cast<size_t>(t)].size() << "\n";
  int64_t total_acked = 0;
  for (int t = 0; t < 4; ++t) {
    total_acked += acked_max[t] + 1;
    for (int seq = 0; seq <= acked_max[t]; ++seq)
      ASSERT_TRUE(per_poster[static_cast<size_t>(t)].count(seq))
          << "poster " << t << " seq " << seq << " was acknowledged but is missing; stored "
          << per_poster[static_cast<size_t>(t)].size() << " of " << acked_max[t] + 1 << " (first "
          << (per_poster[static_cast<size_t>(t)].empty()
                  ? -1
                  : *per_poster[static_cast<size_t>(t)].begin())
          << ")";
  }
  std::cout << "acknowledged " << total_acked
            << " messages before kill -9; all present after restart\n";
  keep.reset();
}

}  // namespace
}  // namespace bysans::testing

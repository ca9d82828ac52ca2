// The simulator's ChirpStack uplinks carry deduplication ids that never repeat across runs: a
// restart of `serve --demo` on the same data directory must not resend the ids of the last run
// (bysans would drop those uplinks as duplicates of stored ones).
#include "sim/simulator.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace bysans::sim {
namespace {

// Fills every request with the same byte: a different byte per "run", no real randomness.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(unsigned char b) : b_(b) {}
  void Fill(void* buf, size_t n) override { std::memset(buf, b_, n); }

 private:
  unsigned char b_;
};

std::vector<DemoDevice> LorawanDevices() {
  std::vector<DemoDevice> out;
  for (int i = 0; i < 4; ++i) {
    DemoDevice d;
    d.id = 10 + i;
    d.name = "Knap " + std::to_string(i);
    d.codec = DemoCodec::kMilesightWs101;
    d.kind = DemoKind::kFallSensor;
    d.dev_eui = "24e124538b22300" + std::to_string(i);
    d.chirpstack_app_id = "6f0d3a1e-5b2c-4e8a-9a41-0c1d2e3f4a01";
    d.app_name = "Tryghed";
    out.push_back(d);
  }
  return out;
}

// The deduplication ids of one run's first round (one uplink per device).
std::set<std::string> FirstRoundIds(Random& random) {
  ManualClock clock(1'764'000'000'000);
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> ids;
  const size_t devices = LorawanDevices().size();
  Simulator sim("http://127.0.0.1:1", LorawanDevices(), clock, random, 3600,
                [&](const std::string& topic, const std::string& payload) {
                  // Only uplinks: the demo gateways' state and stats messages carry no id.
                  if (!topic.ends_with("/event/up")) return Status::Ok();
                  std::lock_guard lock(mu);
                  ids.insert(nlohmann::json::parse(payload).value("deduplicationId", ""));
                  cv.notify_all();
                  return Status::Ok();
                });
  sim.Start();
  {
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return ids.size() >= devices; }));
  }
  sim.Stop();
  return ids;
}

TEST(Simulator, DeduplicationIdsDoNotRepeatAcrossRuns) {
  FixedRandom first_run(1), second_run(2);
  std::set<std::string> a = FirstRoundIds(first_run);
  std::set<std::string> b = FirstRoundIds(second_run);
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  for (const std::string& id : b) EXPECT_EQ(a.count(id), 0u) << id << " was sent by both runs";
}

}  // namespace
}  // namespace bysans::sim

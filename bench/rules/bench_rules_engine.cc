// Measures the rule engine alone: 10,000 rules over 10,000 devices, messages
// of 4 readings (3 referenced by rules, 1 not), ticks every 1,000 messages.
// Prints: BENCH rules_engine readings_per_s=<n> rules=10000 devices=10000 ...
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/clock.h"
#include "rules/engine.h"

namespace {

using bysans::Id;
using bysans::ManualClock;
using bysans::Reading;
using bysans::TimeMs;
using namespace bysans::rules;  // NOLINT

constexpr int kDevices = 10000;
constexpr int kAppRules = 4;
constexpr int kRules = 10000;
constexpr int kMessages = 50000;  // pre-built, replayed

uint64_t Mix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

DeviceInfo Device(int i) {
  DeviceInfo d;
  d.id = i + 1;
  d.org_id = 1;
  d.app_id = 1 + i % 4;
  d.model_id = 100 + i % 10;
  d.tags = {i % 2 ? "classroom" : "office"};
  d.expected_interval_s = 600;
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  ManualClock clock(1'700'000'000'000);
  RuleEngine engine(clock);
  std::vector<AlarmEvent> events;
  // Per-device rules of several kinds, and a few wide ones.
  for (int i = 0; i < kRules - kAppRules; ++i) {
    Rule r;
    r.id = i + 1;
    r.org_id = 1;
    r.name = "r";
    r.name += std::to_string(i);
    r.scope = {ScopeKind::kDevice, static_cast<Id>(i % kDevices + 1), "", ""};
    switch (i % 4) {
      case 0:
        r.expression = "co2 > 1000 and temperature > 24";
        break;
      case 1:
        r.expression = "co2 > 1200";
        r.clear_expression = "co2 < 900";
        r.for_ms = 15 * 60'000;
        break;
      case 2:
        r.expression = "temperature between 18 and 24";
        break;
      default:
        r.kind = ConditionKind::kRateOfChange;
        r.rate = {"co2", 10 * 60'000, 300, Direction::kRise};
        break;
    }
    if (!engine.UpsertRule(r, &events).ok()) return 1;
  }
  const char* wide[kAppRules] = {"battery < 20", "rssi < -120", "", ""};
  for (int k = 0; k < kAppRules; ++k) {
    Rule r;
    r.id = kRules - kAppRules + k + 1;
    r.org_id = 1;
    r.name = "wide";
    r.name += std::to_string(k);
    r.scope = {ScopeKind::kApplication, 1 + k, "", ""};
    if (k < 2) {
      r.expression = wide[k];
    } else {
      r.kind = ConditionKind::kSilence;
      r.silence.interval_multiple = 3;
    }
    if (!engine.UpsertRule(r, &events).ok()) return 1;
  }
  std::vector<DeviceInfo> devices;
  for (int i = 0; i < kDevices; ++i) devices.push_back(Device(i));

  uint64_t seed = 42;
  struct Message {
    int device;
    std::vector<Reading> readings;
  };
  std::vector<Message> messages(kMessages);
  for (int m = 0; m < kMessages; ++m) {
    int d = static_cast<int>(Mix(seed) % kDevices);
    messages[m].device = d;
    const char* keys[] = {"co2", "temperature", "battery", "humidity"};
    double vals[] = {400.0 + static_cast<double>(Mix(seed) % 1000),
                     15.0 + static_cast<double>(Mix(seed) % 120) / 10.0,
                     static_cast<double>(Mix(seed) % 100), 50.0};
    for (int k = 0; k < 4; ++k) {
      Reading r;
      r.device_id = d + 1;
      r.key = keys[k];
      r.value = vals[k];
      messages[m].readings.push_back(std::move(r));
    }
  }

  using Steady = std::chrono::steady_clock;
  auto run = [&](int64_t count) {
    for (int64_t i = 0; i < count; ++i) {
      Message& m = messages[static_cast<size_t>(i % kMessages)];
      clock.Advance(1);
      for (auto& r : m.readings) r.ts = clock.NowMs();
      engine.OnReadings(devices[static_cast<size_t>(m.device)], m.readings, &events);
      if (i % 1000 == 0) engine.OnTick(&events);
      if (events.size() > 10000) events.clear();
    }
  };
  run(kMessages);  // warm up: every device and state exists
  size_t raised = 0;
  int64_t done = 0;
  auto start = Steady::now();
  double elapsed = 0;
  while (elapsed < seconds) {
    run(20000);
    done += 20000;
    raised += events.size();
    elapsed = std::chrono::duration<double>(Steady::now() - start).count();
  }
  double readings = static_cast<double>(done) * 4;
  std::printf(
      "BENCH rules_engine readings_per_s=%.0f rules=%zu devices=%zu ns_per_reading=%.0f "
      "messages_per_s=%.0f\n",
      readings / elapsed, engine.rule_count(), engine.device_count(), elapsed * 1e9 / readings,
      static_cast<double>(done) / elapsed);
  (void)raised;
  return 0;
}

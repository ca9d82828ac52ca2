// The simulator posts realistic, slowly varying readings for the demo devices
// to bysans' own HTTP ingest endpoint (real HTTP, the same path a device uses).
// It runs on its own thread until Stop().
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "sim/demo.h"

namespace bysans::sim {

// One device's simulated physical state; Next() advances it one step and
// returns the JSON body the device would send.
class DeviceModelSim {
 public:
  DeviceModelSim(DemoKind kind, uint64_t seed);
  std::string Next(TimeMs now);

 private:
  DemoKind kind_;
  std::mt19937_64 rng_;
  double temperature_, humidity_, co2_, battery_, fill_, no2_, pm25_, pm10_;
  double Noise(double scale);
};

class Simulator {
 public:
  // base_url like "http://127.0.0.1:8080".
  Simulator(std::string base_url, std::vector<DemoDevice> devices, const Clock& clock,
            int interval_s);
  ~Simulator();
  void Start();
  void Stop();
  int64_t posted() const { return posted_.load(); }
  int64_t failed() const { return failed_.load(); }

 private:
  void Run();
  std::string base_url_;
  std::vector<DemoDevice> devices_;
  std::vector<DeviceModelSim> models_;
  const Clock& clock_;
  int interval_s_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<int64_t> posted_{0}, failed_{0};
};

}  // namespace bysans::sim

// The simulator sends realistic, slowly varying readings for the demo devices the way real
// devices reach bysans: HTTP devices post JSON to bysans' own HTTP ingest endpoint (real HTTP,
// the same path a device uses); LoRaWAN devices send their vendor's binary frame (sim/frames.h)
// wrapped in a ChirpStack v4 uplink event, published over MQTT on
// application/{appId}/device/{devEui}/event/up, as a network server would — so that the demo
// runs MQTT → ChirpStack ingest → shipped decoder → quality → store end to end.
// It runs on its own thread until Stop().
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/random.h"
#include "core/status.h"
#include "sim/demo.h"
#include "sim/frames.h"

namespace bysans::sim {

// One device's simulated physical state; Next() advances it one step and
// returns the JSON body the device would send.
class DeviceModelSim {
 public:
  // `serial` is the device's own id where a vendor frame carries one (Decentlab).
  DeviceModelSim(DemoKind kind, uint64_t seed, uint16_t serial = 0);
  // One step; the JSON body an HTTP device sends.
  std::string Next(TimeMs now);
  // One step; the values a vendor's device of this kind reports, keyed as the codec's shipped
  // decoder names them and rounded to the frame's resolution (input of EncodeFrame).
  std::map<std::string, double> NextVendor(DemoCodec codec, TimeMs now);

 private:
  void Advance(TimeMs now);
  DemoKind kind_;
  std::mt19937_64 rng_;
  uint16_t serial_;
  double temperature_, humidity_, co2_, battery_, fill_, no2_, pm25_, pm10_, pressure_;
  double Noise(double scale);
  double Uniform();
};

// The ChirpStack v4 "up" event JSON for a frame (deviceInfo, devAddr, fCnt, fPort, base64
// data, one gateway in rxInfo with rssi/snr, a fresh deduplicationId from `rng`).
std::string ChirpstackUplinkJson(const DemoDevice& d, const LorawanFrame& frame, int64_t fcnt,
                                 TimeMs now, std::mt19937_64& rng);

// Publishes one MQTT message (QoS 1) into bysans' broker; an error is counted as a failure.
using MqttPublisher = std::function<Status(const std::string& topic, const std::string& payload)>;

class Simulator {
 public:
  // base_url like "http://127.0.0.1:8080".
  // `publish` carries the LoRaWAN devices' uplinks; without it they are not simulated.
  // `random` seeds this run's deduplication ids, so that no two runs (a restart on the same
  // data directory) send the same ones: bysans would drop the later uplinks as duplicates.
  Simulator(std::string base_url, std::vector<DemoDevice> devices, const Clock& clock,
            Random& random, int interval_s, MqttPublisher publish = nullptr);
  ~Simulator();
  void Start();
  void Stop();
  int64_t posted() const { return posted_.load(); }
  int64_t failed() const { return failed_.load(); }

 private:
  void Run();
  void PublishGatewayEvents(std::vector<int64_t>& carried, int round);
  std::string base_url_;
  std::vector<DemoDevice> devices_;
  std::vector<DeviceModelSim> models_;
  const Clock& clock_;
  int interval_s_;
  MqttPublisher publish_;
  std::vector<int64_t> fcnt_;
  std::mt19937_64 rng_;  // deduplication ids and radio values; seeded per run
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<int64_t> posted_{0}, failed_{0};
};

}  // namespace bysans::sim

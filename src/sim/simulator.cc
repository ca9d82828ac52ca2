#include "sim/simulator.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/time_format.h"
#include "lorawan/chirpstack.h"
#include "sim/demo_gateways.h"

namespace bysans::sim {
namespace {

double Round(double v, int decimals) {
  double f = std::pow(10.0, decimals);
  return std::round(v * f) / f;
}

// Hour of day (UTC+1, Danish winter time is close enough for a demo).
double HourOfDay(TimeMs now) { return std::fmod(static_cast<double>(now) / 3.6e6 + 1.0, 24.0); }

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

DeviceModelSim::DeviceModelSim(DemoKind kind, uint64_t seed, uint16_t serial)
    : kind_(kind), rng_(seed), serial_(serial) {
  temperature_ = 20.5 + Noise(1.0);
  humidity_ = 42 + Noise(4);
  co2_ = 550 + Noise(60);
  battery_ = 80 + Noise(15);
  fill_ = 20 + std::abs(Noise(25));
  no2_ = 22 + Noise(5);
  pm25_ = 8 + std::abs(Noise(3));
  pm10_ = 15 + std::abs(Noise(5));
  pressure_ = 101300 + Noise(300);
}

double DeviceModelSim::Noise(double scale) {
  std::normal_distribution<double> d(0.0, scale);
  return d(rng_);
}

double DeviceModelSim::Uniform() {
  std::uniform_real_distribution<double> u(0, 1);
  return u(rng_);
}

void DeviceModelSim::Advance(TimeMs now) {
  double hour = HourOfDay(now);
  battery_ = std::clamp(battery_ - 0.002, 1.0, 100.0);
  switch (kind_) {
    case DemoKind::kFallSensor:
      temperature_ += (21.5 - temperature_) * 0.05 + Noise(0.05);
      break;
    case DemoKind::kRoomClimate: {
      bool school_hours = hour >= 8 && hour < 15;
      double co2_target = school_hours ? 1150 : 450;
      co2_ += (co2_target - co2_) * 0.04 + Noise(15);
      double t_target = school_hours ? 22.5 : 20.0;
      temperature_ += (t_target - temperature_) * 0.03 + Noise(0.05);
      humidity_ += (45 - humidity_) * 0.02 + Noise(0.3);
      break;
    }
    case DemoKind::kWasteBin:
      fill_ += std::abs(Noise(0.6)) + 0.2;
      if (fill_ > 95 && Uniform() < 0.2) fill_ = 3 + std::abs(Noise(2));  // emptied
      fill_ = std::min(fill_, 100.0);
      temperature_ += (8 - temperature_) * 0.02 + Noise(0.1);
      break;
    case DemoKind::kAirQuality: {
      bool rush = (hour >= 7 && hour < 9) || (hour >= 15 && hour < 18);
      no2_ += ((rush ? 45 : 18) - no2_) * 0.05 + Noise(1.2);
      pm25_ += ((rush ? 14 : 7) - pm25_) * 0.05 + Noise(0.4);
      pm10_ += ((rush ? 26 : 13) - pm10_) * 0.05 + Noise(0.6);
      temperature_ += (7 - temperature_) * 0.02 + Noise(0.1);
      humidity_ += (80 - humidity_) * 0.02 + Noise(0.4);
      pressure_ += (101300 - pressure_) * 0.01 + Noise(20);
      break;
    }
  }
}

std::string DeviceModelSim::Next(TimeMs now) {
  Advance(now);
  bool school_hours = HourOfDay(now) >= 8 && HourOfDay(now) < 15;
  nlohmann::json body;
  switch (kind_) {
    case DemoKind::kFallSensor:
      body = {{"fall", Uniform() < 0.01},
              {"buttonPressed", Uniform() < 0.005},
              {"batteryLevel", Round(battery_, 1)},
              {"temperature", Round(temperature_, 1)}};
      break;
    case DemoKind::kRoomClimate:
      body = {{"temperature", Round(temperature_, 2)},
              {"humidity", Round(humidity_, 1)},
              {"co2", std::round(std::max(380.0, co2_))},
              {"light", std::round(school_hours ? 350 + Noise(30) : 5 + std::abs(Noise(3)))},
              {"motion", school_hours && Uniform() < 0.8 ? 1 : 0},
              {"battery", Round(battery_, 1)}};
      break;
    case DemoKind::kWasteBin:
      body = {{"fillLevel", Round(fill_, 1)},
              {"distanceMm", std::round(1200 * (1 - fill_ / 100.0) + 50)},
              {"temperature", Round(temperature_, 1)},
              {"battery", Round(battery_, 1)}};
      break;
    case DemoKind::kAirQuality:
      body = {{"air",
               {{"no2", Round(std::max(0.0, no2_), 1)},
                {"pm25", Round(std::max(0.0, pm25_), 1)},
                {"pm10", Round(std::max(0.0, pm10_), 1)}}},
              {"temperature", Round(temperature_, 1)},
              {"humidity", Round(std::clamp(humidity_, 0.0, 100.0), 1)}};
      break;
  }
  return body.dump();
}

std::map<std::string, double> DeviceModelSim::NextVendor(DemoCodec codec, TimeMs now) {
  Advance(now);
  bool school_hours = HourOfDay(now) >= 8 && HourOfDay(now) < 15;
  double battery_v = Round(2.9 + battery_ * 0.0065, 3);  // two AA cells / a Li-SOCl2 cell
  std::map<std::string, double> v;
  switch (codec) {
    case DemoCodec::kElsysErsCo2:
      v = {{"temperature", Round(temperature_, 1)},
           {"humidity", std::round(std::clamp(humidity_, 0.0, 100.0))},
           {"light", std::round(school_hours ? 350 + Noise(30) : 5 + std::abs(Noise(3)))},
           {"motion", school_hours ? std::round(Uniform() * 12) : 0.0},
           {"co2", std::round(std::max(380.0, co2_))},
           {"vdd", std::round(battery_v * 1000)}};
      break;
    case DemoCodec::kDecentlabMbx:
      v = {{"device_id", serial_},
           {"distance", std::round(1200 * (1 - fill_ / 100.0) + 50)},
           {"number_of_valid_samples", Uniform() < 0.9 ? 10.0 : 9.0},
           {"battery_voltage", battery_v}};
      break;
    case DemoCodec::kDecentlabPm: {
      double pm25 = Round(std::max(0.0, pm25_), 1);
      double pm10 = Round(std::max(pm25, pm10_), 1);
      double pm1 = Round(pm25 * 0.7, 1);
      double pm4 = Round((pm25 + pm10) / 2, 1);
      v = {{"device_id", serial_},
           {"battery_voltage", battery_v},
           {"pm1_0_mass_concentration", pm1},
           {"pm2_5_mass_concentration", pm25},
           {"pm4_mass_concentration", pm4},
           {"pm10_mass_concentration", pm10},
           {"typical_particle_size", std::round(450 + Noise(40))},
           {"pm0_5_number_concentration", Round(pm25 * 5.1, 1)},
           {"pm1_0_number_concentration", Round(pm25 * 6.0, 1)},
           {"pm2_5_number_concentration", Round(pm25 * 6.2, 1)},
           {"pm4_number_concentration", Round(pm25 * 6.25, 1)},
           {"pm10_number_concentration", Round(pm25 * 6.3, 1)},
           {"air_temperature", Round(temperature_, 2)},
           {"air_humidity", Round(std::clamp(humidity_, 0.0, 100.0), 2)},
           {"barometric_pressure", 2 * std::round(pressure_ / 2)}};
      break;
    }
    case DemoCodec::kMilesightWs101:
      v = {{"battery", std::round(battery_)}};
      if (Uniform() < 0.004) v["button_code"] = 1 + std::floor(Uniform() * 3);  // 1..3
      break;
    case DemoCodec::kJson:
      break;
  }
  return v;
}

std::string ChirpstackUplinkJson(const DemoDevice& d, const LorawanFrame& frame, int64_t fcnt,
                                 TimeMs now, std::mt19937_64& rng) {
  auto hex = [&](int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < digits; ++i) s.push_back(kHex[rng() & 0xf]);
    return s;
  };
  std::string dedup =
      hex(8) + "-" + hex(4) + "-4" + hex(3) + "-a" + hex(3) + "-" + hex(12);  // UUID v4 shape
  std::normal_distribution<double> noise(0.0, 1.0);
  double rssi = std::round(-95 + 8 * noise(rng));
  double snr = Round(std::clamp(6 + 3 * noise(rng), -15.0, 12.0), 1);
  std::string time = FormatRfc3339(now);
  const DemoGateway& gw = GatewayOfDevice(d.id);
  nlohmann::json j = {
      {"deduplicationId", dedup},
      {"time", time},
      {"deviceInfo",
       {{"tenantName", "Demo Kommune"},
        {"applicationId", d.chirpstack_app_id},
        {"applicationName", d.app_name},
        {"deviceProfileName", CodecDisplayName(d.codec)},
        {"deviceName", d.name},
        {"devEui", d.dev_eui},
        {"deviceClassEnabled", "CLASS_A"}}},
      {"devAddr", d.dev_eui.substr(8)},
      {"adr", true},
      {"dr", 5},
      {"fCnt", fcnt},
      {"fPort", frame.fport},
      {"confirmed", false},
      {"data", EncodeBase64(frame.bytes)},
      {"rxInfo",
       {{{"gatewayId", gw.id},
         {"uplinkId", static_cast<int64_t>(rng() & 0xffff)},
         {"time", time},
         {"rssi", rssi},
         {"snr", snr},
         {"channel", static_cast<int64_t>(rng() % 8)},
         {"location", {{"latitude", gw.latitude}, {"longitude", gw.longitude}}},
         {"crcStatus", "CRC_OK"}}}},
      {"txInfo",
       {{"frequency", 868100000 + 200000 * static_cast<int64_t>(rng() % 3)},
        {"modulation",
         {{"lora", {{"bandwidth", 125000}, {"spreadingFactor", 7}, {"codeRate", "CR_4_5"}}}}}}}};
  return j.dump();
}

Simulator::Simulator(std::string base_url, std::vector<DemoDevice> devices, const Clock& clock,
                     Random& random, int interval_s, MqttPublisher publish)
    : base_url_(std::move(base_url)),
      devices_(std::move(devices)),
      clock_(clock),
      interval_s_(interval_s),
      publish_(std::move(publish)) {
  uint64_t seed = 0;
  random.Fill(&seed, sizeof(seed));
  rng_.seed(seed);
  for (const auto& d : devices_)
    models_.emplace_back(d.kind, static_cast<uint64_t>(d.id) * 7919,
                         static_cast<uint16_t>(d.id & 0xffff));
  fcnt_.assign(devices_.size(), 0);
}

Simulator::~Simulator() { Stop(); }

void Simulator::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Simulator::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// A local ChirpStack's gateway messages: each gateway's state once it has carried uplinks (the
// first rounds: bysans links a gateway to the organisation from its uplinks, about a second
// later), and its stats every round.
void Simulator::PublishGatewayEvents(std::vector<int64_t>& carried, int round) {
  const TimeMs now = clock_.NowMs();
  for (size_t g = 0; g < carried.size(); ++g) {
    if (carried[g] == 0 && round > 0) continue;
    const DemoGateway& gw = DemoGateways()[g];
    Status st = Status::Ok();
    if (round < 2) st = publish_(GatewayConnTopic(gw), GatewayConnJson(gw, true));
    if (st.ok()) st = publish_(GatewayStatsTopic(gw), GatewayStatsJson(gw, now, carried[g], 0));
    if (!st.ok()) spdlog::debug("simulator: gateway {} events: {}", gw.id, st.message());
    carried[g] = 0;
  }
}

void Simulator::Run() {
  CURL* curl = curl_easy_init();
  if (!curl) {
    spdlog::error("simulator: libcurl failed to initialise");
    return;
  }
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  bool warned = false;
  // Uplinks each demo gateway carried since its last stats message.
  std::vector<int64_t> carried(DemoGateways().size(), 0);
  int round = 0;
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    for (size_t i = 0; i < devices_.size(); ++i) {
      if (devices_[i].codec != DemoCodec::kJson) {
        if (!publish_) continue;  // no MQTT: LoRaWAN devices stay silent
        const DemoDevice& d = devices_[i];
        TimeMs now = clock_.NowMs();
        LorawanFrame frame = EncodeFrame(d.codec, models_[i].NextVendor(d.codec, now));
        std::string topic =
            "application/" + d.chirpstack_app_id + "/device/" + d.dev_eui + "/event/up";
        Status st = publish_(topic, ChirpstackUplinkJson(d, frame, fcnt_[i]++, now, rng_));
        if (st.ok()) {
          posted_.fetch_add(1);
          ++carried[&GatewayOfDevice(d.id) - DemoGateways().data()];
        } else {
          failed_.fetch_add(1);
          if (!warned) {
            spdlog::warn("simulator: uplink for '{}' failed: {}", d.name, st.message());
            warned = true;
          }
        }
        continue;
      }
      std::string body = models_[i].Next(clock_.NowMs());
      std::string url = base_url_ + "/api/v1/receive-data?apiKey=" + devices_[i].api_key;
      curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
      CURLcode rc = curl_easy_perform(curl);
      long code = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
      if (rc == CURLE_OK && code == 204) {
        posted_.fetch_add(1);
      } else {
        failed_.fetch_add(1);
        if (!warned) {
          spdlog::warn("simulator: post for '{}' failed: {} (HTTP {})", devices_[i].name,
                       rc == CURLE_OK ? "server refused" : curl_easy_strerror(rc), code);
          warned = true;
        }
      }
    }
    if (publish_) PublishGatewayEvents(carried, round++);
    lock.lock();
    cv_.wait_for(lock, std::chrono::seconds(interval_s_), [&] { return stop_; });
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
}

}  // namespace bysans::sim

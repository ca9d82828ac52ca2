#include "sim/simulator.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

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

DeviceModelSim::DeviceModelSim(DemoKind kind, uint64_t seed) : kind_(kind), rng_(seed) {
  temperature_ = 20.5 + Noise(1.0);
  humidity_ = 42 + Noise(4);
  co2_ = 550 + Noise(60);
  battery_ = 80 + Noise(15);
  fill_ = 20 + std::abs(Noise(25));
  no2_ = 22 + Noise(5);
  pm25_ = 8 + std::abs(Noise(3));
  pm10_ = 15 + std::abs(Noise(5));
}

double DeviceModelSim::Noise(double scale) {
  std::normal_distribution<double> d(0.0, scale);
  return d(rng_);
}

std::string DeviceModelSim::Next(TimeMs now) {
  double hour = HourOfDay(now);
  battery_ = std::max(1.0, battery_ - 0.002);
  nlohmann::json body;
  switch (kind_) {
    case DemoKind::kFallSensor: {
      std::uniform_real_distribution<double> u(0, 1);
      temperature_ += (21.5 - temperature_) * 0.05 + Noise(0.05);
      body = {{"fall", u(rng_) < 0.01},
              {"buttonPressed", u(rng_) < 0.005},
              {"batteryLevel", Round(battery_, 1)},
              {"temperature", Round(temperature_, 1)}};
      break;
    }
    case DemoKind::kRoomClimate: {
      bool school_hours = hour >= 8 && hour < 15;
      double co2_target = school_hours ? 1150 : 450;
      co2_ += (co2_target - co2_) * 0.04 + Noise(15);
      double t_target = school_hours ? 22.5 : 20.0;
      temperature_ += (t_target - temperature_) * 0.03 + Noise(0.05);
      humidity_ += (45 - humidity_) * 0.02 + Noise(0.3);
      std::uniform_real_distribution<double> u(0, 1);
      body = {{"temperature", Round(temperature_, 2)},
              {"humidity", Round(humidity_, 1)},
              {"co2", std::round(std::max(380.0, co2_))},
              {"light", std::round(school_hours ? 350 + Noise(30) : 5 + std::abs(Noise(3)))},
              {"motion", school_hours && u(rng_) < 0.8 ? 1 : 0},
              {"battery", Round(battery_, 1)}};
      break;
    }
    case DemoKind::kWasteBin: {
      std::uniform_real_distribution<double> u(0, 1);
      fill_ += std::abs(Noise(0.6)) + 0.2;
      if (fill_ > 95 && u(rng_) < 0.2) fill_ = 3 + std::abs(Noise(2));  // emptied
      fill_ = std::min(fill_, 100.0);
      double distance = 1200 * (1 - fill_ / 100.0) + 50;
      temperature_ += (8 - temperature_) * 0.02 + Noise(0.1);
      body = {{"fillLevel", Round(fill_, 1)},
              {"distanceMm", std::round(distance)},
              {"temperature", Round(temperature_, 1)},
              {"battery", Round(battery_, 1)}};
      break;
    }
    case DemoKind::kAirQuality: {
      bool rush = (hour >= 7 && hour < 9) || (hour >= 15 && hour < 18);
      no2_ += ((rush ? 45 : 18) - no2_) * 0.05 + Noise(1.2);
      pm25_ += ((rush ? 14 : 7) - pm25_) * 0.05 + Noise(0.4);
      pm10_ += ((rush ? 26 : 13) - pm10_) * 0.05 + Noise(0.6);
      temperature_ += (7 - temperature_) * 0.02 + Noise(0.1);
      humidity_ += (80 - humidity_) * 0.02 + Noise(0.4);
      body = {{"air",
               {{"no2", Round(std::max(0.0, no2_), 1)},
                {"pm25", Round(std::max(0.0, pm25_), 1)},
                {"pm10", Round(std::max(0.0, pm10_), 1)}}},
              {"temperature", Round(temperature_, 1)},
              {"humidity", Round(std::clamp(humidity_, 0.0, 100.0), 1)}};
      break;
    }
  }
  return body.dump();
}

Simulator::Simulator(std::string base_url, std::vector<DemoDevice> devices, const Clock& clock,
                     int interval_s)
    : base_url_(std::move(base_url)),
      devices_(std::move(devices)),
      clock_(clock),
      interval_s_(interval_s) {
  for (const auto& d : devices_) models_.emplace_back(d.kind, static_cast<uint64_t>(d.id) * 7919);
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
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    for (size_t i = 0; i < devices_.size(); ++i) {
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
    lock.lock();
    cv_.wait_for(lock, std::chrono::seconds(interval_s_), [&] { return stop_; });
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
}

}  // namespace bysans::sim

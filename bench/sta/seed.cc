// Fills a bysans data directory for `BENCH sta` (run.sh): one organisation and application,
// 10,000 HTTP devices with six keys each reporting every 10 minutes (20 million readings, as the
// store benchmark), and one more device with a year of 10-minute temperatures. Written through
// the store's own interfaces (MetaStore, SeriesStore), so the server opens it as its own.
// Usage: bench_sta_seed <data-dir> [readings]   (prints the year device's id on stdout)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_inflight.h"
#include "store/sqlite/sqlite_store.h"

namespace bysans {
namespace {

constexpr int kDevices = 10'000;
constexpr int kKeys = 6;
constexpr int kBatch = 5'000;
constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01
constexpr TimeMs kStep = 600'000;          // 10 minutes
constexpr int64_t kYear = 52'560;          // a year of 10-minute readings

int Fail(const char* what, const Status& s) {
  std::fprintf(stderr, "bench_sta_seed: %s: %s\n", what, s.message().c_str());
  return 1;
}

int Run(const std::string& dir, int64_t total) {
  SystemClock clock;
  SqliteOptions o;
  o.path = dir + "/bysans.db";
  o.clock = &clock;
  auto opened = OpenSqliteStore(o);
  if (!opened.ok()) return Fail("open", opened.status());
  std::unique_ptr<Store> store = std::move(opened).value();
  auto org = store->CreateOrganization(Organization{0, "Bench kommune", 0, 100});
  if (!org.ok()) return Fail("organisation", org.status());
  Application app;
  app.org_id = org->id;
  app.name = "Indeklima";
  auto created_app = store->CreateApplication(app);
  if (!created_app.ok()) return Fail("application", created_app.status());
  std::vector<Id> ids;
  ids.reserve(kDevices + 1);
  for (int i = 0; i <= kDevices; ++i) {
    Device d;
    d.org_id = org->id;
    d.app_id = created_app->id;
    d.name = i == kDevices ? "year" : "Lokale " + std::to_string(i + 1);
    d.location = Location{55.86 + i * 1e-5, 9.85 + i * 1e-5};
    char key[65];
    std::snprintf(key, sizeof key, "%064x", i + 1);
    auto dev = store->CreateDevice(d, key);
    if (!dev.ok()) return Fail("device", dev.status());
    ids.push_back(dev->id);
  }
  std::fprintf(stderr, "bench_sta_seed: %d devices\n", kDevices + 1);
  const std::string keys[kKeys] = {"temperature", "humidity", "co2", "battery", "rssi", "snr"};
  const std::string units[kKeys] = {"°C", "%", "ppm", "%", "dBm", "dB"};
  Inflight inflight(32);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t start = 0; start < total; start += kBatch) {
    IngestBatch b;
    b.readings.reserve(kBatch);
    for (int64_t i = start; i < std::min(total, start + kBatch); ++i) {
      const int64_t step = i / (kDevices * kKeys);
      const int64_t in_step = i % (kDevices * kKeys);
      const int64_t dev = in_step / kKeys;
      const int k = static_cast<int>(in_step % kKeys);
      b.readings.push_back(
          Reading{ids[static_cast<size_t>(dev)], keys[k], kT0 + step * kStep + (dev % 600) * 1000,
                  20.0 + static_cast<double>((i * 7919) % 1000) / 100, units[k], Quality::kOk});
    }
    inflight.Acquire();
    store->AppendAsync(std::move(b), [&](Status s) { inflight.Release(s); });
  }
  for (int64_t i = 0; i < kYear; i += kBatch) {
    IngestBatch b;
    for (int64_t j = i; j < std::min(kYear, i + kBatch); ++j)
      b.readings.push_back(Reading{ids.back(), "temperature", kT0 - 365LL * 86'400'000 + j * kStep,
                                   10 + static_cast<double>(j % 144) / 10, "°C", Quality::kOk});
    inflight.Acquire();
    store->AppendAsync(std::move(b), [&](Status s) { inflight.Release(s); });
  }
  if (Status s = inflight.Drain(); !s.ok()) return Fail("append", s);
  store->Close();
  std::fprintf(stderr, "bench_sta_seed: %lld readings in %.0f s\n",
               static_cast<long long>(total + kYear),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  std::printf("%lld\n", static_cast<long long>(ids.back()));
  return 0;
}

}  // namespace
}  // namespace bysans

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_sta_seed <data-dir> [readings]\n");
    return 2;
  }
  const int64_t total = argc > 2 ? std::atoll(argv[2]) : 20'000'000;
  return bysans::Run(argv[1], total);
}

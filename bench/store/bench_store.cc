// Store benchmark: fills a large store and measures the sustained append rate over the last 1M
// readings, hourly aggregation of one year-long series, and Latest over 10,000 devices. The same
// workload runs on SQLite and on PostgreSQL 15 (a server the benchmark starts itself,
// tests/support/postgres_instance.h); BENCH_STORE=sqlite|postgres|both (default both). Prints one
// BENCH line per store on stdout.
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "bench_inflight.h"
#include "store/postgres/postgres_series_store.h"
#include "store/sqlite/sqlite_store.h"
#include "support/postgres_instance.h"

namespace bysans {
namespace {

using Steady = std::chrono::steady_clock;
double MsSince(Steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
}

constexpr int kDevices = 10'000;
constexpr int kKeys = 6;
constexpr int kBatch = 5'000;
constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01
constexpr TimeMs kStep = 600'000;          // 10 minutes

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// A store under test: opened (again, for the reopen phase) and closed by the workload.
struct Backend {
  std::function<Result<std::unique_ptr<SeriesStore>>()> open;
  std::function<void(SeriesStore&)> close;
  // Optional, after the measurements (BENCH_EXPLAIN=1): prints the backend's query plans.
  std::function<void()> explain;
};

struct Figures {
  double rate = 0, agg_ms = 0, latest_ms = 0, p99_ms = 0, max_ms = 0;
};

bool RunWorkload(const Backend& backend, Figures* out) {
  const bool quick = getenv("BENCH_QUICK") && std::string(getenv("BENCH_QUICK")) == "1";
  const int64_t total = quick ? 2'000'000 : 20'000'000;
  const int64_t measured = 1'000'000;
  auto opened = backend.open();
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().message().c_str());
    return false;
  }
  std::unique_ptr<SeriesStore> store = std::move(opened).value();
  const std::string keys[kKeys] = {"temp", "humidity", "co2", "battery", "rssi", "snr"};

  // Readings in time order: every device reports all keys each 10 minutes.
  auto make_batch = [&](int64_t start, int64_t n) {
    IngestBatch b;
    b.readings.reserve(static_cast<size_t>(n));
    for (int64_t i = start; i < start + n; ++i) {
      const int64_t step = i / (kDevices * kKeys);
      const int64_t in_step = i % (kDevices * kKeys);
      const Id dev = 1 + in_step / kKeys;
      const int k = static_cast<int>(in_step % kKeys);
      const TimeMs ts = kT0 + step * kStep + (dev % 600) * 1000;
      b.readings.push_back(Reading{dev, keys[k], ts,
                                   20.0 + static_cast<double>((i * 7919) % 1000) / 100,
                                   k == 0 ? "°C" : "", Quality::kOk});
    }
    return b;
  };

  Inflight inflight(32);
  // Append latency (AppendAsync → done, queueing included) over the last 4M
  // readings: seals fall inside this window.
  std::mutex lat_mu;
  std::vector<double> lat_ms;
  std::atomic<bool> record{false};
  auto done_cb = [&](Steady::time_point t0) {
    return [&, t0](Status st) {
      if (record) {
        const double ms = MsSince(t0);
        std::lock_guard lk(lat_mu);
        lat_ms.push_back(ms);
      }
      inflight.Release(st);
    };
  };
  const int64_t timed_from = total - measured;
  auto t_fill = Steady::now();
  int64_t next = 0;
  auto append_until = [&](int64_t end) {
    while (next < end) {
      const int64_t n = std::min<int64_t>(kBatch, end - next);
      IngestBatch b = make_batch(next, n);
      inflight.Acquire();
      store->AppendAsync(std::move(b), done_cb(Steady::now()));
      next += n;
      if (next % 2'000'000 < kBatch)
        std::fprintf(stderr, "  %lld readings, %.0f s\n", static_cast<long long>(next),
                     MsSince(t_fill) / 1000);
    }
  };
  append_until(timed_from - 3 * measured);
  record = true;  // written before the next AppendAsync, read by its callbacks
  const auto t_sustained = Steady::now();
  append_until(timed_from);
  Status s = inflight.Drain();
  if (!s.ok()) {
    std::fprintf(stderr, "append: %s\n", s.message().c_str());
    return false;
  }
  // Pre-build the measured batches so the rate is the store's, not the generator's.
  std::vector<IngestBatch> last;
  for (int64_t i = timed_from; i < total; i += kBatch)
    last.push_back(make_batch(i, std::min<int64_t>(kBatch, total - i)));
  auto t_last = Steady::now();
  for (auto& b : last) {
    inflight.Acquire();
    store->AppendAsync(std::move(b), done_cb(Steady::now()));
  }
  s = inflight.Drain();
  const double last_ms = MsSince(t_last);
  if (!s.ok()) {
    std::fprintf(stderr, "append: %s\n", s.message().c_str());
    return false;
  }
  const double rate = static_cast<double>(measured) / (last_ms / 1000);
  std::fprintf(stderr, "fill: %lld readings in %.1f s overall; last 1M at %.0f readings/s\n",
               static_cast<long long>(total), MsSince(t_fill) / 1000, rate);
  // Informational: a window long enough to include several seals.
  std::fprintf(stderr, "sustained over the last 4M readings (incl. seals): %.0f readings/s\n",
               4.0 * static_cast<double>(measured) / (MsSince(t_sustained) / 1000));
  std::sort(lat_ms.begin(), lat_ms.end());
  auto pct = [&](double p) {
    return lat_ms.empty() ? 0.0 : lat_ms[static_cast<size_t>(p * (lat_ms.size() - 1))];
  };
  const double lat_p50 = pct(0.5), lat_p99 = pct(0.99), lat_max = pct(1.0);
  std::fprintf(stderr,
               "append latency over the last 4M (%zu batches of %d, 32 in flight): "
               "p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
               lat_ms.size(), static_cast<int>(kBatch), lat_p50, lat_p99, lat_max);

  // One series with a year of 10-minute readings.
  const Id year_dev = kDevices + 1;
  const int64_t year_n = 52'560;
  const TimeMs year_t0 = kT0 - 365LL * 24 * 3'600'000;
  for (int64_t i = 0; i < year_n; i += kBatch) {
    IngestBatch b;
    for (int64_t j = i; j < std::min(year_n, i + kBatch); ++j)
      b.readings.push_back(Reading{year_dev, "temp", year_t0 + j * kStep,
                                   10 + static_cast<double>(j % 144) / 10, "°C", Quality::kOk});
    s = store->Append(std::move(b));
    if (!s.ok()) {
      std::fprintf(stderr, "append year: %s\n", s.message().c_str());
      return false;
    }
  }
  std::vector<Id> devices;
  for (Id d = 1; d <= kDevices; ++d) devices.push_back(d);

  auto measure = [&](const char* phase, double* agg_ms, double* latest_ms) -> bool {
    std::vector<double> agg, lat;
    for (int r = 0; r < 9; ++r) {
      auto t = Steady::now();
      auto buckets =
          store->Aggregate({year_dev, "temp", year_t0, year_t0 + year_n * kStep, 3'600'000});
      agg.push_back(MsSince(t));
      int64_t n = 0;  // 8,760 hours of 6 readings each
      if (buckets.ok())
        for (const Bucket& b : *buckets) n += b.count;
      if (!buckets.ok() || buckets->size() != 8760 || n != year_n) {
        std::fprintf(stderr, "aggregate: %s, %zu buckets, %lld readings\n",
                     buckets.ok() ? "ok" : buckets.status().message().c_str(),
                     buckets.ok() ? buckets->size() : 0, static_cast<long long>(n));
        return false;
      }
      t = Steady::now();
      auto latest = store->Latest(devices);
      lat.push_back(MsSince(t));
      if (!latest.ok() || latest->size() != static_cast<size_t>(kDevices * kKeys)) {
        std::fprintf(stderr, "latest: wrong result\n");
        return false;
      }
    }
    *agg_ms = Median(agg);
    *latest_ms = Median(lat);
    std::fprintf(stderr, "%s: hourly aggregate of a year %.2f ms, latest of 10k devices %.2f ms\n",
                 phase, *agg_ms, *latest_ms);
    return true;
  };
  double agg_open = 0, lat_open = 0, agg_sealed = 0, lat_sealed = 0;
  if (!measure("before reopen", &agg_open, &lat_open)) return false;
  auto t_reopen = Steady::now();
  backend.close(*store);
  store.reset();
  opened = backend.open();
  if (!opened.ok()) return false;
  store = std::move(opened).value();
  std::fprintf(stderr, "close (seal) + reopen: %.0f ms\n", MsSince(t_reopen));
  if (!measure("after reopen", &agg_sealed, &lat_sealed)) return false;
  if (backend.explain && getenv("BENCH_EXPLAIN") && std::string(getenv("BENCH_EXPLAIN")) == "1")
    backend.explain();
  backend.close(*store);
  *out = Figures{rate, std::max(agg_open, agg_sealed), std::max(lat_open, lat_sealed), lat_p99,
                 lat_max};
  return true;
}

std::string TempDirectory() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "bysans_bench_XXXXXX").string();
  if (!mkdtemp(tmpl.data())) return "";
  return tmpl;
}

int RunSqlite() {
  const std::string dir = TempDirectory();
  if (dir.empty()) {
    std::perror("mkdtemp");
    return 1;
  }
  SystemClock clock;
  SqliteOptions o;
  o.path = dir + "/bench.db";
  o.clock = &clock;
  if (const char* sp = getenv("BENCH_SEAL_POINTS")) o.seal_points = std::atoll(sp);
  std::fprintf(stderr, "sqlite: seal_points=%lld\n", static_cast<long long>(o.seal_points));
  Backend b;
  b.open = [&]() -> Result<std::unique_ptr<SeriesStore>> {
    BYSANS_ASSIGN_OR_RETURN(std::unique_ptr<Store> s, OpenSqliteStore(o));
    return std::unique_ptr<SeriesStore>(std::move(s));
  };
  b.close = [](SeriesStore& s) { static_cast<Store&>(s).Close(); };
  Figures f;
  const bool ok = RunWorkload(b, &f);
  std::error_code ec;
  const auto size = std::filesystem::file_size(o.path, ec);
  std::fprintf(stderr, "sqlite database size: %.0f MB\n", static_cast<double>(size) / 1e6);
  std::filesystem::remove_all(dir, ec);
  if (!ok) return 1;
  std::printf(
      "BENCH store append_rows_per_s=%.0f agg_year_ms=%.2f latest_10k_ms=%.2f "
      "append_p99_ms=%.1f append_max_ms=%.1f\n",
      f.rate, f.agg_ms, f.latest_ms, f.p99_ms, f.max_ms);
  std::fflush(stdout);
  return 0;
}

// PostgreSQL on this machine with durable defaults (fsync, synchronous_commit on: the group
// commit amortises them) and the sizes a server of this size would be given.
int RunPostgres() {
  testing::PostgresOptions po;
  po.settings = {"shared_buffers=1GB", "max_wal_size=8GB", "checkpoint_timeout=30min",
                 "wal_compression=on", "work_mem=32MB"};
  // BENCH_PG_STATEMENTS=1: the backend's time per statement (pg_stat_statements) and its WAL,
  // printed after the run.
  const bool statements =
      getenv("BENCH_PG_STATEMENTS") && std::string(getenv("BENCH_PG_STATEMENTS")) == "1";
  if (statements) po.settings.push_back("shared_preload_libraries=pg_stat_statements");
  auto pg = testing::PostgresInstance::Start(po);
  if (!pg.ok()) {
    std::fprintf(stderr, "postgres: %s\n", pg.status().message().c_str());
    return 1;
  }
  auto url = (*pg)->CreateDatabase("bench");
  if (!url.ok()) {
    std::fprintf(stderr, "postgres: %s\n", url.status().message().c_str());
    return 1;
  }
  SystemClock clock;
  PostgresStoreOptions o;
  o.url = *url;
  o.clock = &clock;
  if (const char* w = getenv("BENCH_PG_WRITERS")) o.writers = std::atoi(w);
  if (const char* m = getenv("BENCH_PG_COMMIT_READINGS")) o.max_commit_readings = std::atoll(m);
  std::fprintf(stderr, "postgres: %d writer(s), at most %zu readings per group commit\n", o.writers,
               o.max_commit_readings);
  Backend b;
  b.open = [&]() -> Result<std::unique_ptr<SeriesStore>> {
    BYSANS_ASSIGN_OR_RETURN(std::unique_ptr<PostgresSeriesStore> s, PostgresSeriesStore::Open(o));
    return std::unique_ptr<SeriesStore>(std::move(s));
  };
  b.close = [](SeriesStore& s) { static_cast<PostgresSeriesStore&>(s).Close(); };
  b.explain = [&] {
    // The statements Latest and Aggregate send for the measured calls.
    const std::string ea = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ";
    const std::string year_t0 = std::to_string(kT0 - 365LL * 24 * 3'600'000);
    const std::string year_t1 = std::to_string(kT0 - 365LL * 24 * 3'600'000 + 52'560 * kStep);
    const std::vector<std::string> queries = {
        "SELECT device_id, vals FROM device_latest WHERE device_id >= 1 AND device_id <= 10000",
        "SELECT hour, n, mn, mx, sm FROM readings_hourly WHERE series_id = (SELECT id FROM series "
        "WHERE device_id = 10001 AND key = 'temp') AND hour >= " +
            year_t0 + " AND hour < " + year_t1};
    for (const auto& q : queries) {
      auto plan = (*pg)->Query("bench", ea + q);
      std::fprintf(stderr, "plan (JSON):\n%s\n",
                   plan.ok() ? plan->c_str() : plan.status().message().c_str());
    }
  };
  if (statements) {
    auto ext = (*pg)->Query("bench", "CREATE EXTENSION pg_stat_statements");
    if (!ext.ok()) std::fprintf(stderr, "pg_stat_statements: %s\n", ext.status().message().c_str());
  }
  Figures f;
  const bool ok = RunWorkload(b, &f);
  if (statements) {
    auto top = (*pg)->Query(
        "bench",
        "SELECT string_agg(format('%12s ms %9s calls %12s rows %10s wal_MB  %s', "
        "round(total_exec_time), calls, rows, round(wal_bytes / 1e6), left(regexp_replace(query, "
        "'\\s+', ' ', 'g'), 110)), E'\\n' ORDER BY total_exec_time DESC) FROM (SELECT * FROM "
        "pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15) t");
    std::fprintf(stderr, "statements by backend time:\n%s\n",
                 top.ok() ? top->c_str() : top.status().message().c_str());
  }
  auto size = (*pg)->Query("bench", "SELECT pg_database_size('bench') / 1000000");
  std::fprintf(stderr, "postgres database size: %s MB\n", size.ok() ? size->c_str() : "?");
  if (!ok) {
    std::fprintf(stderr, "postgres log:\n%s\n", (*pg)->Log().c_str());
    return 1;
  }
  std::printf(
      "BENCH postgres append_rows_per_s=%.0f agg_year_ms=%.2f latest_10k_ms=%.2f "
      "append_p99_ms=%.1f append_max_ms=%.1f\n",
      f.rate, f.agg_ms, f.latest_ms, f.p99_ms, f.max_ms);
  std::fflush(stdout);
  return 0;
}

int Run() {
  const char* which = getenv("BENCH_STORE");
  const std::string w = which && *which ? which : "both";
  if (w != "sqlite" && w != "postgres" && w != "both") {
    std::fprintf(stderr, "BENCH_STORE must be sqlite, postgres or both\n");
    return 2;
  }
  int rc = 0;
  if (w != "postgres") rc |= RunSqlite();
  if (w != "sqlite") rc |= RunPostgres();
  return rc;
}

}  // namespace
}  // namespace bysans

int main() { return bysans::Run(); }

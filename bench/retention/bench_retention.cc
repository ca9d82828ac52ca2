// Retention benchmark (issue 18): 30 simulated days of steady ingest into a real SqliteStore on a
// ManualClock, 200 devices each sending one reading and one raw message per simulated minute
// (8.6M readings and 8.6M messages in 30 days), with a 7-day retention of readings and raw
// messages (hourly aggregates kept 3650 days) enforced by a cleanup thread once per simulated
// hour, as the server's housekeeping does; the file size (database + WAL) after each day. Then
// the same ingest without cleanup. Prints one BENCH line on stdout.
#include <sqlite3.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_inflight.h"
#include "core/thread_name.h"
#include "store/sqlite/sqlite_store.h"

namespace bysans {
namespace {

using Steady = std::chrono::steady_clock;
double MsSince(Steady::time_point t0) {
  return std::chrono::duration<double, std::milli>(Steady::now() - t0).count();
}

constexpr int kDevices = 200;
constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01
constexpr TimeMs kMinute = 60'000;
constexpr TimeMs kHour = 3'600'000;
constexpr TimeMs kDay = 86'400'000;
constexpr int kRetentionDays = 7;

struct RunResult {
  double readings_per_s = 0;
  double p99_ms = 0;
  std::vector<double> mb_per_day;  // database + WAL after each day (WAL at rest)
  double wal_peak_mb = 0;          // the WAL's size at the end of a day, before it is truncated
  RetentionCounts removed;
  int cleanups = 0;
  double cleanup_ms[2] = {0, 0};  // readings, raw messages
};

int64_t FileBytes(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

IngestBatch MinuteBatch(TimeMs t, int64_t minute) {
  IngestBatch b;
  b.readings.reserve(kDevices);
  b.messages.reserve(kDevices);
  for (Id dev = 1; dev <= kDevices; ++dev) {
    const double temp = 18.0 + static_cast<double>((dev * 7 + minute) % 80) / 10;
    const TimeMs ts = t + dev * 100;  // devices spread over the minute
    b.readings.push_back(Reading{dev, "temp", ts, temp, "°C", Quality::kOk});
    RawMessage m;
    m.device_id = dev;
    m.received_ms = ts;
    m.transport = Transport::kHttp;
    m.content_type = "application/json";
    m.payload = "{\"temp\":" + std::to_string(temp) +
                ",\"battery\":3.61,\"seq\":" + std::to_string(minute) + "}";
    m.decode_status = DecodeStatus::kOk;
    b.messages.push_back(std::move(m));
  }
  return b;
}

bool RunOnce(bool cleanup, int aggregates_days, int days, RunResult* out) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "bysans_bench_XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    std::perror("mkdtemp");
    return false;
  }
  const std::string dir = tmpl;
  ManualClock clock(kT0);
  SqliteOptions o;
  o.path = dir + "/bench.db";
  o.clock = &clock;
  // 200 readings a minute is 3.3 a second: in real time every passive checkpoint catches up and
  // the WAL starts over after each commit. Compressed into seconds, passive checkpoints always
  // run behind, so the WAL would grow to the 256 MiB safety valve and hide the database file;
  // the valve at 16 MiB models the real-time WAL.
  o.wal_catch_up_bytes = int64_t{16} << 20;
  // The WAL is measured at rest: truncated at each day's end (below), as a real-time server's
  // WAL is restarted by every checkpoint; its high-water mark is printed apart.
  // 200 series fill the default 1,048,576-point segment only every 3.6 days, so the file's
  // plateau comes at the first seal after day 7; a seal every ~5.5 simulated hours here
  // (BENCH_SEAL_POINTS to change it).
  o.seal_points = 65'536;
  if (const char* sp = getenv("BENCH_SEAL_POINTS")) o.seal_points = std::atoll(sp);
  auto opened = OpenSqliteStore(o);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().message().c_str());
    return false;
  }
  std::unique_ptr<Store> store = std::move(opened).value();
  std::vector<Id> devices;
  for (Id d = 1; d <= kDevices; ++d) devices.push_back(d);

  // The cleanup: once per simulated hour, the cutoffs from the clock (housekeeping's job).
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::thread cleaner;
  if (cleanup) {
    cleaner = std::thread([&] {
      NameThisThread("cleanup");
      TimeMs next = kT0 + kHour;
      while (!stop.load()) {
        const TimeMs now = clock.NowMs();
        if (now < next) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          continue;
        }
        next = now + kHour;
        // The housekeeping's cutoffs (whole days).
        const RetentionCutoffs cuts =
            RetentionCutoffsAt(RetentionDays{kRetentionDays, kRetentionDays, aggregates_days}, now);
        // Readings (and aggregates), then raw messages: timed apart.
        for (int part = 0; part < 2; ++part) {
          const auto t0 = Steady::now();
          auto r = store->ApplyRetention(
              devices, part == 0 ? RetentionCutoffs{std::nullopt, cuts.readings_before,
                                                    cuts.aggregates_before}
                                 : RetentionCutoffs{cuts.raw_before, std::nullopt, std::nullopt});
          if (!r.ok()) {
            std::fprintf(stderr, "retention: %s\n", r.status().message().c_str());
            failed = true;
            return;
          }
          out->cleanup_ms[part] += MsSince(t0);
          out->removed += *r;
        }
        ++out->cleanups;
      }
    });
  }

  Inflight inflight(8);
  std::mutex lat_mu;
  std::vector<double> lat_ms;
  auto t_start = Steady::now();
  double ingest_ms = 0;
  bool ok = true;
  for (int day = 0; day < days && ok; ++day) {
    const auto t_day = Steady::now();
    for (int64_t m = 0; m < 1440; ++m) {
      const int64_t minute = day * 1440 + m;
      const TimeMs t = kT0 + minute * kMinute;
      clock.Set(t);
      inflight.Acquire();
      const auto t0 = Steady::now();
      store->AppendAsync(MinuteBatch(t, minute), [&, t0](Status st) {
        {
          std::lock_guard lk(lat_mu);
          lat_ms.push_back(MsSince(t0));
        }
        inflight.Release(st);
      });
    }
    Status st = inflight.Drain();
    ingest_ms += MsSince(t_day);
    if (!st.ok()) {
      std::fprintf(stderr, "append: %s\n", st.message().c_str());
      ok = false;
    }
    const double wal_peak = static_cast<double>(FileBytes(o.path + "-wal")) / (1 << 20);
    out->wal_peak_mb = std::max(out->wal_peak_mb, wal_peak);
    // The WAL at rest: checkpointed and truncated while ingest pauses (a TRUNCATE checkpoint
    // from a connection of our own; readers or a cleanup step may make it busy: retried).
    sqlite3* ck = nullptr;
    if (sqlite3_open(o.path.c_str(), &ck) == SQLITE_OK) {
      for (int i = 0; i < 100 && FileBytes(o.path + "-wal") > 0; ++i) {
        sqlite3_exec(ck, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
        if (FileBytes(o.path + "-wal") > 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    sqlite3_close(ck);
    const double mb =
        static_cast<double>(FileBytes(o.path) + FileBytes(o.path + "-wal")) / (1 << 20);
    out->mb_per_day.push_back(mb);
    std::fprintf(stderr, "  day %2d: %7.1f MB (db %.1f + wal %.1f), %.1f s\n", day + 1, mb,
                 static_cast<double>(FileBytes(o.path)) / (1 << 20),
                 static_cast<double>(FileBytes(o.path + "-wal")) / (1 << 20),
                 MsSince(t_start) / 1000);
  }
  stop = true;
  if (cleaner.joinable()) cleaner.join();
  store->Close();
  std::sort(lat_ms.begin(), lat_ms.end());
  if (!lat_ms.empty()) out->p99_ms = lat_ms[lat_ms.size() * 99 / 100];
  out->readings_per_s = static_cast<double>(days) * 1440 * kDevices / (ingest_ms / 1000);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return ok && !failed.load();
}

int Run() {
  int days = 30;
  if (const char* d = getenv("BENCH_DAYS")) days = std::max(kRetentionDays + 1, std::atoi(d));
  std::fprintf(stderr,
               "%d devices x 1 reading + 1 raw message per simulated minute, %d days, retention "
               "%d days (readings and raw messages; hourly aggregates 3650 days)\n",
               kDevices, days, kRetentionDays);
  RunResult with, without, kept;
  auto report = [](const char* what, const RunResult& r) {
    std::fprintf(stderr,
                 "  %s: %.0f readings/s, append p99 %.1f ms; %d cleanups, %.1f s (readings) + "
                 "%.1f s (raw) in total; removed %lld readings, %lld hourly-summary rows, %lld "
                 "raw messages, %lld raw rows deleted whole (%lld unread); WAL peak %.1f MB\n",
                 what, r.readings_per_s, r.p99_ms, r.cleanups, r.cleanup_ms[0] / 1000,
                 r.cleanup_ms[1] / 1000, static_cast<long long>(r.removed.readings),
                 static_cast<long long>(r.removed.aggregate_chunks),
                 static_cast<long long>(r.removed.raw_messages),
                 static_cast<long long>(r.removed.raw_rows),
                 static_cast<long long>(r.removed.raw_rows_unread), r.wal_peak_mb);
  };
  auto growth = [](const RunResult& r) {
    const double day7 = r.mb_per_day[kRetentionDays - 1];
    return (r.mb_per_day.back() - day7) / day7 * 100;
  };
  std::fprintf(stderr, "with cleanup once per simulated hour, hourly aggregates also 7 days:\n");
  if (!RunOnce(true, kRetentionDays, days, &with)) return 1;
  report("with cleanup", with);
  std::fprintf(stderr, "without cleanup:\n");
  if (!RunOnce(false, kRetentionDays, days, &without)) return 1;
  report("without cleanup", without);
  std::fprintf(stderr, "with cleanup, hourly aggregates kept 3650 days (the default):\n");
  if (!RunOnce(true, 3650, days, &kept)) return 1;
  report("aggregates kept", kept);
  std::fprintf(
      stderr,
      "growth day 7 -> %d: %.1f %% (aggregates 7 days), %.1f %% (aggregates kept: %.2f "
      "MB a day for 200 series' hourly summaries)\n",
      days, growth(with), growth(kept),
      (kept.mb_per_day.back() - kept.mb_per_day[kRetentionDays - 1]) / (days - kRetentionDays));
  std::printf("BENCH retention size_growth_after_day7_pct=%.1f ingest_ratio=%.2f\n", growth(with),
              with.readings_per_s / without.readings_per_s);
  return 0;
}

}  // namespace
}  // namespace bysans

int main() { return bysans::Run(); }

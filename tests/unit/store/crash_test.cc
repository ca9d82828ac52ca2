// Kill -9 durability: a child process appends batches and reports each
// acknowledged batch through a pipe; the parent kills it at a random moment,
// reopens the database and checks every acknowledged batch is there once.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <string>

#include "unit/store/temp_store.h"

namespace bysans {
namespace {

constexpr TimeMs kT0 = 1'704'067'200'000;
constexpr int kPerBatch = 10;

[[noreturn]] void ChildMain(const std::string& path, int fd) {
  ManualClock clock(kT0);
  SqliteOptions o;
  o.path = path;
  o.clock = &clock;
  o.seal_points = 2000;  // seal often so a kill can land in a seal
  auto r = OpenSqliteStore(o);
  if (!r.ok()) _exit(2);
  std::unique_ptr<Store> store = std::move(r).value();
  std::atomic<int> in_flight{0};
  for (int32_t i = 0;; ++i) {
    while (in_flight.load() > 64) usleep(100);
    IngestBatch b;
    RawMessage m;
    m.device_id = 1;
    m.received_ms = kT0 + i;
    m.payload = "batch-" + std::to_string(i);
    b.messages.push_back(m);
    for (int j = 0; j < kPerBatch; ++j)
      b.readings.push_back(Reading{1, "v", kT0 + static_cast<TimeMs>(i) * kPerBatch + j,
                                   static_cast<double>(i), "", Quality::kOk});
    ++in_flight;
    store->AppendAsync(std::move(b), [fd, i, &in_flight](Status s) {
      if (s.ok()) {
        if (write(fd, &i, sizeof i) != static_cast<ssize_t>(sizeof i)) _exit(3);
      }
      --in_flight;
    });
  }
}

TEST(CrashTest, AcknowledgedBatchesSurviveKill9) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/crash.db";
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 3; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      ChildMain(path, fds[1]);
    }
    close(fds[1]);
    const int kill_after = 50 + static_cast<int>(rng() % 1500);
    std::set<int32_t> acked;
    bool killed = false;
    int32_t idx;
    while (read(fds[0], &idx, sizeof idx) == static_cast<ssize_t>(sizeof idx)) {
      acked.insert(idx);
      if (!killed && static_cast<int>(acked.size()) >= kill_after) {
        kill(pid, SIGKILL);
        killed = true;
      }
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(killed) << "child ended early, status " << status;
    ASSERT_TRUE(WIFSIGNALED(status));

    ManualClock clock(kT0);
    SqliteOptions o;
    o.path = path;
    o.clock = &clock;
    auto r = OpenSqliteStore(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    auto store = std::move(r).value();
    MessageQuery mq;
    mq.device_id = 1;
    mq.limit = 10000;
    std::map<std::string, int> seen;
    // Page through all messages (newest first) by received_ms.
    for (;;) {
      auto ms = store->QueryMessages(mq);
      ASSERT_TRUE(ms.ok());
      for (auto& m : *ms) ++seen[m.payload];
      if (ms->size() < 10000) break;
      mq.to = ms->back().received_ms - 1;
    }
    ReadingQuery rq;
    rq.device_id = 1;
    rq.key = "v";
    rq.limit = 100'000'000;
    auto rs = store->QueryReadings(rq);
    ASSERT_TRUE(rs.ok());
    std::map<TimeMs, double> vals;
    for (auto& x : *rs) EXPECT_TRUE(vals.emplace(x.ts, std::get<double>(x.value)).second);
    for (int32_t i : acked) {
      EXPECT_EQ(seen["batch-" + std::to_string(i)], 1) << "round " << round << " batch " << i;
      for (int j = 0; j < kPerBatch; ++j) {
        auto it = vals.find(kT0 + static_cast<TimeMs>(i) * kPerBatch + j);
        ASSERT_NE(it, vals.end()) << "round " << round << " batch " << i;
        EXPECT_EQ(it->second, static_cast<double>(i));
      }
    }
    for (auto& [payload, n] : seen) EXPECT_LE(n, 1) << payload;
    store->Close();
    // Each round starts from an empty database.
    if (::testing::Test::HasFailure()) break;
    std::error_code ec;
    std::filesystem::remove(path, ec);
    std::filesystem::remove(path + "-wal", ec);
    std::filesystem::remove(path + "-shm", ec);
  }
}

}  // namespace
}  // namespace bysans

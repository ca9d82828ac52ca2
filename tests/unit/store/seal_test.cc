// The sealer thread: appends go on while a seal runs, queries during a sliced
// seal see every point once, and a crash in the middle of a sliced seal loses
// and duplicates nothing.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/db.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
constexpr TimeMs kMin = 60'000;
constexpr int kKeys = 20;  // series of the test device
constexpr int64_t kSealPoints = 100;
constexpr int kSlice = 3;  // series per seal slice: 7 slices for 20 series
constexpr auto kPatience = std::chrono::seconds(60);

std::string Key(int k) { return "k" + std::to_string(k); }

// Expected content: key → ts → value (last write wins).
using Expected = std::map<std::string, std::map<TimeMs, double>>;

// One point per key (the first `keys` keys) at minute `m` (value v + key
// index), recorded in `want`.
IngestBatch Minute(int m, double v, Expected* want, int keys = kKeys) {
  IngestBatch b;
  for (int k = 0; k < keys; ++k) {
    const TimeMs ts = kT0 + m * kMin;
    b.readings.push_back(Reading{1, Key(k), ts, v + k, "", Quality::kOk});
    (*want)[Key(k)][ts] = v + k;
  }
  return b;
}

SqliteOptions BaseOptions(const std::string& path, const Clock* clock) {
  SqliteOptions o;
  o.path = path;
  o.clock = clock;
  o.seal_points = kSealPoints;
  o.seal_slice_series = kSlice;
  return o;
}

// Every point exactly once, with its last written value, raw and hourly.
void ExpectExactlyOnce(Store& store, const Expected& want) {
  ReadingQuery q;
  q.device_id = 1;
  q.limit = 10'000'000;
  auto r = store.QueryReadings(q);
  ASSERT_TRUE(r.ok()) << r.status().message();
  Expected got;
  size_t total = 0;
  for (const Reading& rd : r.value()) {
    auto [it, inserted] = got[rd.key].emplace(rd.ts, std::get<double>(rd.value));
    EXPECT_TRUE(inserted) << "duplicate " << rd.key << " @" << rd.ts;
    ++total;
  }
  size_t want_total = 0;
  for (const auto& [k, pts] : want) want_total += pts.size();
  EXPECT_EQ(total, want_total);
  EXPECT_EQ(got, want);
  for (const auto& [key, pts] : want) {
    AggregateQuery a;
    a.device_id = 1;
    a.key = key;
    a.from = kT0 - 24 * 3'600'000;
    a.to = kT0 + 24 * 3'600'000;
    auto b = store.Aggregate(a);
    ASSERT_TRUE(b.ok()) << b.status().message();
    std::map<TimeMs, std::pair<int64_t, double>> brute;  // hour → (count, sum)
    for (const auto& [ts, v] : pts) {
      auto& e = brute[ts - ((ts - kT0) % 3'600'000 + 3'600'000) % 3'600'000];
      ++e.first;
      e.second += v;
    }
    std::map<TimeMs, std::pair<int64_t, double>> agg;
    for (const Bucket& bk : b.value()) agg[bk.start] = {bk.count, bk.sum};
    EXPECT_EQ(agg, brute) << key;
  }
}

// Chunks written by a seal that has not finished (seq > sealed_upto).
int64_t UnfinishedChunks(const std::string& path) {
  auto db = sqlite::Db::Open(path, 1024);
  EXPECT_TRUE(db.ok());
  if (!db.ok()) return -1;
  auto st = (*db)->Prepare(
      "SELECT count(*) FROM chunks WHERE seq > (SELECT sealed_upto FROM seal_state)");
  EXPECT_TRUE(st.ok());
  if (!st.ok() || !(*st)->Step()) return -1;
  return (*st)->Int(0);
}

// Holds the sealer after the first slice of its first seal until opened.
struct Gate {
  bool first = true;  // sealer thread only
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  bool open = false;  // test thread only
  void Open() {
    if (!open) release.set_value();
    open = true;
  }
};
// Opens the gate when the test body ends (also on failure), before the store
// it is declared after is closed.
struct OpenOnExit {
  std::shared_ptr<Gate> gate;
  ~OpenOnExit() { gate->Open(); }
};

class SealTest : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.path() + "/seal.db"; }
  testing::TempDir dir_;
  ManualClock clock_{kT0};
};

TEST_F(SealTest, AppendsAndQueriesProceedWhileASealIsInProgress) {
  auto gate = std::make_shared<Gate>();
  auto entered = gate->entered.get_future();
  SqliteOptions o = BaseOptions(Path(), &clock_);
  o.after_seal_slice = [gate](int slice) {
    if (!gate->first || slice != 0) return;
    gate->first = false;
    gate->entered.set_value();
    gate->released.wait();
  };
  auto opened = OpenSqliteStore(o);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(opened).value();
  OpenOnExit open_on_exit{gate};
  Expected want;
  // 5 minutes x 20 keys = seal_points: the seal starts and stops in slice 0.
  for (int m = 0; m < 5; ++m) ASSERT_TRUE(store->Append(Minute(m, m, &want)).ok());
  ASSERT_EQ(entered.wait_for(kPatience), std::future_status::ready);
  // The seal is held after its first slice: appends still complete (up to 2 x
  // seal_points may wait for it), including rewrites of points being sealed.
  for (int m = 5; m < 12; ++m) ASSERT_TRUE(store->Append(Minute(m, 100 + m, &want)).ok());
  ExpectExactlyOnce(*store, want);  // hourly sums from chunks + memory, no overlap
  ASSERT_TRUE(store->Append(Minute(2, 500, &want)).ok());  // overwrite of a sealing point
  EXPECT_GT(UnfinishedChunks(Path()), 0);                  // slice 0 is committed but invisible
  ExpectExactlyOnce(*store, want);
  gate->Open();
  // Once the seal has finished (Close waits for it and seals the rest).
  store->Close();
  EXPECT_EQ(UnfinishedChunks(Path()), 0);
  store.reset();
  opened = OpenSqliteStore(BaseOptions(Path(), &clock_));
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  store = std::move(opened).value();
  ExpectExactlyOnce(*store, want);
  ASSERT_TRUE(store->Append(Minute(1, 900, &want)).ok());  // late data after sealing
  ExpectExactlyOnce(*store, want);
  store->Close();
}

TEST_F(SealTest, QueriesDuringManySealsSeeEveryPointOnce) {
  auto opened = OpenSqliteStore(BaseOptions(Path(), &clock_));
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(opened).value();
  Expected want;
  // Seals run in the background while this thread keeps appending and checking;
  // every 7th minute rewrites an older one (late data through the final transaction).
  for (int m = 0; m < 60; ++m) {
    ASSERT_TRUE(store->Append(Minute(m, m, &want)).ok());
    if (m % 7 == 6) {
      ASSERT_TRUE(store->Append(Minute(m - 6, 1000 + m, &want, m % 3 + 1)).ok());
    }
    ExpectExactlyOnce(*store, want);
    if (HasFatalFailure()) return;
  }
  store->Close();
}

// Child: one completed seal, then a second one that dies after its first slice.
[[noreturn]] void CrashingChild(const std::string& path) {
  ManualClock clock(kT0);
  Expected want;
  {
    auto r = OpenSqliteStore(BaseOptions(path, &clock));
    if (!r.ok()) _exit(2);
    for (int m = 0; m < 5; ++m)
      if (!r.value()->Append(Minute(m, m, &want)).ok()) _exit(3);
    r.value()->Close();
  }
  SqliteOptions o = BaseOptions(path, &clock);
  o.after_seal_slice = [](int) { _exit(0); };  // "crash" after the first slice
  auto r = OpenSqliteStore(o);
  if (!r.ok()) _exit(4);
  // 3 late series (final transaction) and 17 fresh ones (6 slices of 3).
  if (!r.value()->Append(Minute(1, 700, &want, 3)).ok()) _exit(6);
  for (int m = 5; m < 10; ++m)
    if (!r.value()->Append(Minute(m, m, &want)).ok()) _exit(5);
  std::this_thread::sleep_for(kPatience);  // the seal runs now; its hook ends the process
  _exit(7);
}

TEST_F(SealTest, CrashAfterFirstSliceKeepsEveryPointOnce) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) CrashingChild(Path());
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_GT(UnfinishedChunks(Path()), 0);  // the crash left a partial seal behind
  Expected want;
  for (int m = 0; m < 5; ++m) (void)Minute(m, m, &want);
  (void)Minute(1, 700, &want, 3);
  for (int m = 5; m < 10; ++m) (void)Minute(m, m, &want);
  auto opened = OpenSqliteStore(BaseOptions(Path(), &clock_));
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<Store> store = std::move(opened).value();
  EXPECT_EQ(UnfinishedChunks(Path()), 0);  // recovery removed it
  ExpectExactlyOnce(*store, want);
  auto latest = store->Latest({1});
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest.value().size(), static_cast<size_t>(kKeys));
  for (const Reading& r : latest.value()) EXPECT_EQ(r.ts, kT0 + 9 * kMin) << r.key;
  store->Close();
  store.reset();
  opened = OpenSqliteStore(BaseOptions(Path(), &clock_));
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  store = std::move(opened).value();
  ExpectExactlyOnce(*store, want);
  store->Close();
}

}  // namespace
}  // namespace bysans

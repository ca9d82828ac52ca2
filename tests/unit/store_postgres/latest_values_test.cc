// pg::LatestValues (the series writer's latest-value rows) under two writers, on the real
// database: each writer on its own connection, as two group-commit writers of a node or two
// nodes are.
#include <atomic>
#include <barrier>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "store/postgres/pg_latest_values.h"
#include "unit/store_postgres/series_backend_fixture.h"

namespace bysans::testing {
namespace {

class LatestValuesTest : public SeriesBackendTest {
 protected:
  static constexpr Id kDevices = 4000;

  // Writes `devices` in one committed transaction of `writer`, at time `t`.
  void Write(pg::LatestValues& writer, pqxx::connection& c, Id first, Id step, TimeMs t) {
    pqxx::work w(c);
    writer.Write(w, Entries(first, step, t), {});
    w.commit();
  }
  static std::map<Id, std::vector<pg::LatestEntry>> Entries(Id first, Id step, TimeMs t) {
    std::map<Id, std::vector<pg::LatestEntry>> entries;
    for (Id d = first; d <= kDevices; d += step)
      entries[d].push_back(pg::LatestEntry{"v", t, 0, double(t), 0, "", ""});
    return entries;
  }
};

// Two writers each holding an up-to-date row for half of the devices (A the odd ones, B the even
// ones) and an out-of-date one for the other half, then writing all devices at once. Writing
// the rows they hold first and locking the others after, the two would deadlock (each holds the
// rows the other locks next; PostgreSQL then aborts one). With every row locked in device order
// before any is written, one waits for the other and both commit.
TEST_P(LatestValuesTest, TwoWritersWithCrossedStaleRowsBothCommit) {
  pqxx::connection ca(url_), cb(url_), check(url_);
  for (int attempt = 0; attempt < 3; ++attempt) {
    SCOPED_TRACE(attempt);
    const TimeMs t = kT0 + attempt * 10;
    pg::LatestValues a, b;
    Write(a, ca, 1, 1, t);      // A holds every row
    Write(b, cb, 1, 1, t + 1);  // B rewrote them all: A's are out of date
    Write(a, ca, 1, 2, t + 2);  // A up to date for the odd devices, B out of date for them
    Write(b, cb, 2, 2, t + 3);  // B up to date for the even devices
    std::barrier start(2);
    std::atomic<int> failed{0};
    auto both = [&](pg::LatestValues& v, pqxx::connection& c, TimeMs at) {
      start.arrive_and_wait();
      try {
        Write(v, c, 1, 1, at);
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++failed;
      }
    };
    std::thread ta([&] { both(a, ca, t + 5); });
    std::thread tb([&] { both(b, cb, t + 5); });
    ta.join();
    tb.join();
    EXPECT_EQ(failed.load(), 0);
    pqxx::work r(check);
    EXPECT_EQ(r.exec("SELECT count(*) FROM device_latest")[0][0].as<int64_t>(), kDevices);
  }
}

INSTANTIATE_TEST_SUITE_P(Postgres, LatestValuesTest, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace bysans::testing

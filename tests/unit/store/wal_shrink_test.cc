// The WAL is never truncated inside a commit (no journal_size_limit); the
// checkpoint thread truncates a WAL that grew beyond wal_keep_bytes once the
// store has been idle for wal_shrink_idle_ms, and not while commits go on.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using namespace std::chrono_literals;

class WalShrinkTest : public testing::StoreTest {
 protected:
  SqliteOptions Options() {
    SqliteOptions o = StoreTest::Options();
    o.wal_keep_bytes = 256 * 1024;
    o.wal_shrink_idle_ms = 600;
    o.wal_catch_up_bytes = catch_up_bytes_;
    return o;
  }
  void SetUp() override {
    auto r = OpenSqliteStore(Options());
    ASSERT_TRUE(r.ok()) << r.status().message();
    store_ = std::move(r).value();
  }
  int64_t catch_up_bytes_ = 0;

  std::uintmax_t WalBytes() {
    std::error_code ec;
    auto n = std::filesystem::file_size(dir_.path() + "/bysans.db-wal", ec);
    return ec ? 0 : n;
  }
  // One message with a 4 KiB payload: ~1 MiB of WAL per 250.
  void Write(int n) {
    for (int i = 0; i < n; ++i) {
      IngestBatch b;
      RawMessage m;
      m.device_id = 1;
      m.received_ms = 1'700'000'000'000 + i;
      m.content_type = "application/octet-stream";
      m.payload = std::string(4096, static_cast<char>('a' + i % 26));
      b.messages.push_back(std::move(m));
      ASSERT_TRUE(store_->Append(std::move(b)).ok());
    }
  }
};

TEST_F(WalShrinkTest, GrownWalIsTruncatedAfterIdleNotDuringWrites) {
  Write(750);
  ASSERT_GT(WalBytes(), 256u * 1024) << "the test needs a WAL above wal_keep_bytes";
  // Writes every 100 ms (shorter than the idle time): the WAL keeps its size.
  for (int i = 0; i < 10; ++i) {
    Write(1);
    std::this_thread::sleep_for(100ms);
    EXPECT_GT(WalBytes(), 256u * 1024) << "truncated while commits went on, at " << i;
  }
  // Idle: truncated within a few idle periods.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (WalBytes() > 256u * 1024 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_LE(WalBytes(), 256u * 1024);
  // And the store goes on working.
  Write(3);
  MessageQuery q;
  q.device_id = 1;
  q.limit = 5;
  auto ms = store_->QueryMessages(q);
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(ms->size(), 5u);
}

// The WAL header's checkpoint sequence (bytes 12..15, big-endian): SQLite counts one per
// restart of the WAL from its beginning.
uint32_t WalRestarts(const std::string& wal) {
  std::ifstream f(wal, std::ios::binary);
  unsigned char h[16] = {};
  f.read(reinterpret_cast<char*>(h), sizeof h);
  return f ? (uint32_t{h[12]} << 24) | (uint32_t{h[13]} << 16) | (uint32_t{h[14]} << 8) | h[15] : 0;
}

class WalCatchUpTest : public WalShrinkTest {
 protected:
  void SetUp() override {
    catch_up_bytes_ = int64_t{1} << 20;
    WalShrinkTest::SetUp();
  }
};

// Commits back to back (a queue that never empties): a passive checkpoint always runs behind,
// so only the catch-up with writers held restarts the WAL. (With wal_catch_up_bytes = 0 the
// same run counted no restart here: the WAL only grew.)
TEST_F(WalCatchUpTest, TheWalStartsOverUnderSteadyWrites) {
  const std::string wal = dir_.path() + "/bysans.db-wal";
  Write(10);
  const uint32_t before = WalRestarts(wal);
  std::atomic<int> in_flight{0};
  const auto end = std::chrono::steady_clock::now() + 3s;
  int i = 0;
  while (std::chrono::steady_clock::now() < end) {
    if (in_flight.load() >= 64) {
      std::this_thread::sleep_for(100us);
      continue;
    }
    auto b = std::make_shared<IngestBatch>();
    RawMessage m;
    m.device_id = 1;
    m.received_ms = 1'700'000'000'000 + ++i;
    m.content_type = "application/octet-stream";
    m.payload = std::string(4096, static_cast<char>('a' + i % 26));
    b->messages.push_back(std::move(m));
    ++in_flight;
    store_->AppendShared(b, [&](Status st) {
      EXPECT_TRUE(st.ok() || st.code() == Code::kUnavailable) << st.message();
      --in_flight;
    });
  }
  while (in_flight.load() > 0) std::this_thread::sleep_for(1ms);
  EXPECT_GE(WalRestarts(wal) - before, 1u) << "WAL bytes " << WalBytes();
}

}  // namespace
}  // namespace bysans

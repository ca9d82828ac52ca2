// decode/quarantine.h: a fingerprint left in a slot by a process that died is quarantined by the
// next one (and persisted, so the one after still knows it) until it expires; a slot cleared by a
// finished decode leaves nothing behind.
#include "decode/quarantine.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

namespace bysans::decode {
namespace {

namespace fs = std::filesystem;

class QuarantineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bysans-quarantine-XXXXXX";
    dir_ = mkdtemp(tmpl);
    opts_.dir = dir_;
    opts_.ttl_ms = 60'000;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Quarantine> Open() {
    auto q = Quarantine::Open(opts_, clock_);
    EXPECT_TRUE(q.ok()) << q.status().message();
    return q.ok() ? std::move(q).value() : nullptr;
  }

  // A process that dies (as on a crash) while `fp` is in flight.
  void DieWhileDecoding(const Fingerprint& fp) {
    pid_t pid = fork();
    if (pid == 0) {
      auto q = Quarantine::Open(opts_, clock_);
      if (!q.ok()) _exit(1);
      Quarantine::Guard busy(**q, fp);
      _exit(0);  // no destructor runs: the slot stays set
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }

  std::string dir_;
  QuarantineOptions opts_;
  ManualClock clock_{1'700'000'000'000};
};

TEST_F(QuarantineTest, FinishedDecodesLeaveNothing) {
  Fingerprint fp = FingerprintOf(7, "payload", "");
  {
    auto q = Open();
    { Quarantine::Guard g(*q, fp); }
    EXPECT_FALSE(q->Contains(fp));
  }
  EXPECT_EQ(Open()->size(), 0u);
}

TEST_F(QuarantineTest, InFlightAtDeathIsQuarantinedUntilItExpires) {
  Fingerprint fp = FingerprintOf(7, "poison", "");
  DieWhileDecoding(fp);
  auto q = Open();
  EXPECT_TRUE(q->Contains(fp));
  EXPECT_FALSE(q->Contains(FingerprintOf(7, "poison2", ""))) << "another payload";
  EXPECT_FALSE(q->Contains(FingerprintOf(8, "poison", ""))) << "another device";
  q.reset();
  // Persisted: the next start still knows it (the slots were cleared)...
  clock_.Advance(30'000);
  q = Open();
  EXPECT_TRUE(q->Contains(fp));
  // ...until it expires.
  clock_.Advance(31'000);
  EXPECT_FALSE(q->Contains(fp));
  q.reset();
  EXPECT_EQ(Open()->size(), 0u);
}

TEST_F(QuarantineTest, EveryConcurrentDecodeHasItsOwnSlot) {
  opts_.slots = 2;
  Fingerprint a = FingerprintOf(1, "a", ""), b = FingerprintOf(2, "b", "");
  pid_t pid = fork();
  if (pid == 0) {
    auto q = Quarantine::Open(opts_, clock_);
    if (!q.ok()) _exit(1);
    Quarantine::Guard ga(**q, a);
    Quarantine::Guard gb(**q, b);
    Quarantine::Guard unguarded(**q, FingerprintOf(3, "c", ""));  // no slot left
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  auto q = Open();
  EXPECT_TRUE(q->Contains(a));
  EXPECT_TRUE(q->Contains(b));
  EXPECT_EQ(q->size(), 2u);
}

TEST(FingerprintTest, PayloadAndFrameAreKeptApart) {
  EXPECT_NE(FingerprintOf(1, "ab", "").hash, FingerprintOf(1, "a", "b").hash);
  EXPECT_EQ(FingerprintOf(1, "ab", "c"), FingerprintOf(1, "ab", "c"));
}

}  // namespace
}  // namespace bysans::decode

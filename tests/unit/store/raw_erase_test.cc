// Erasure of raw messages (store/sqlite/raw_erase.cc): deleting a device erases its messages
// from the database file and its WAL, not only from answers; the other devices' messages keep
// their ids and counts; a time range can be erased; the index stays right across a reopen.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/decoder_store.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

class RawEraseTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    message_index_batch_ = 64;  // index batches get written, so both paths are covered
    StoreTest::SetUp();
    auto org = store_->CreateOrganization({0, "Kommune", 0});
    ASSERT_TRUE(org.ok());
    auto app = store_->CreateApplication({0, org->id, "Plejebolig", "", 0});
    ASSERT_TRUE(app.ok());
    for (Id* id : {&citizen_, &school_}) {
      Device d;
      d.app_id = app->id;
      d.name = id == &citizen_ ? "fall sensor" : "classroom";
      auto r = store_->CreateDevice(d, "");
      ASSERT_TRUE(r.ok()) << r.status().message();
      *id = r->id;
    }
  }

  // `n` commits, each with one message of each device; the citizen's payloads are random
  // bytes (zstd stores them as they are, so a search of the file can find them) containing
  // the marker.
  void Ingest(int n, TimeMs t0) {
    std::mt19937_64 rng(n);
    for (int i = 0; i < n; ++i) {
      std::string noise(160, '\0');
      for (char& c : noise) c = static_cast<char>(rng());
      IngestBatch b;
      RawMessage m = testing::JsonMessage(citizen_, t0 + i, kMarker + noise);
      m.content_type = "application/octet-stream";
      b.messages.push_back(std::move(m));
      b.messages.push_back(
          testing::JsonMessage(school_, t0 + i, R"({"co2":)" + std::to_string(400 + i) + "}"));
      ASSERT_TRUE(store_->Append(std::move(b)).ok());
    }
  }

  std::vector<RawMessage> Messages(Id device, TimeMs from = INT64_MIN, TimeMs to = INT64_MAX) {
    return testing::MessagesOf(*store_, device, from, to);
  }

  // Whether the marker is in the database file or its WAL.
  bool MarkerInFiles() {
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream in(dir_.path() + "/bysans.db" + suffix, std::ios::binary);
      std::stringstream s;
      s << in.rdbuf();
      if (s.str().find(kMarker) != std::string::npos) return true;
    }
    return false;
  }

  static constexpr char kMarker[] = "MARKER-citizen-7f3a9c";
  Id citizen_ = 0, school_ = 0;
};

TEST_F(RawEraseTest, ADeletedDevicesMessagesLeaveTheFileAndOthersKeepTheirIds) {
  Ingest(200, kT0);
  const std::vector<RawMessage> school_before = Messages(school_);
  ASSERT_EQ(school_before.size(), 200u);
  ASSERT_EQ(Messages(citizen_).size(), 200u);
  store_->Close();  // checkpoints: the payloads are in the database file itself
  store_.reset();
  ASSERT_TRUE(MarkerInFiles()) << "the test must see the marker before the erasure";
  Open();

  ASSERT_TRUE(store_->DeleteDevice(citizen_).ok());
  for (int i = 0; i < 100 && !Messages(citizen_).empty(); ++i) {  // the eraser thread's pass
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(Messages(citizen_).empty());
  const std::vector<RawMessage> school_after = Messages(school_);
  ASSERT_EQ(school_after.size(), school_before.size());
  for (size_t i = 0; i < school_after.size(); ++i) {
    EXPECT_EQ(school_after[i].id, school_before[i].id);
    EXPECT_EQ(school_after[i].payload, school_before[i].payload);
  }
  // The first pass has run and checkpointed; the file and the WAL no longer hold the marker.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(MarkerInFiles());
  // Still so after a reopen (nothing is recovered from a log), and new messages get new ids.
  Reopen();
  EXPECT_TRUE(Messages(citizen_).empty());
  EXPECT_EQ(Messages(school_).size(), 200u);
  Ingest(1, kT0 + 1000);
  auto newest = Messages(school_);
  ASSERT_EQ(newest.size(), 201u);
  EXPECT_GT(newest.front().id, school_before.front().id);
}

TEST_F(RawEraseTest, ATimeRangeIsErasedAndCountsStayRightAcrossAReopen) {
  Ingest(300, kT0);  // some rows indexed, the newest not yet
  auto erased = store_->EraseRawMessages(citizen_, kT0 + 100, kT0 + 249);
  ASSERT_TRUE(erased.ok()) << erased.status().message();
  EXPECT_EQ(*erased, 150);
  auto check = [&] {
    const auto left = Messages(citizen_);
    ASSERT_EQ(left.size(), 150u);
    for (const RawMessage& m : left) {
      EXPECT_TRUE(m.received_ms < kT0 + 100 || m.received_ms > kT0 + 249) << m.received_ms;
    }
    EXPECT_EQ(Messages(citizen_, kT0 + 100, kT0 + 249).size(), 0u);
    EXPECT_EQ(Messages(citizen_, kT0, kT0 + 99).size(), 100u);
    EXPECT_EQ(Messages(school_).size(), 300u);
  };
  check();
  Ingest(100, kT0 + 10'000);  // the writer writes index batches over erased rows
  EXPECT_EQ(Messages(citizen_, kT0, kT0 + 9'999).size(), 150u);
  // Counts come from the index where a whole run is inside the range: it must not count the
  // erased ones.
  EXPECT_EQ(*store_->decoders().CountMessages(citizen_, kT0, kT0 + 9'999), 150);
  EXPECT_EQ(*store_->decoders().CountMessages(citizen_, INT64_MIN, INT64_MAX), 250);
  Reopen();
  EXPECT_EQ(*store_->decoders().CountMessages(citizen_, INT64_MIN, INT64_MAX), 250);
  EXPECT_EQ(Messages(citizen_, kT0, kT0 + 9'999).size(), 150u);
  EXPECT_EQ(Messages(citizen_).size(), 250u);
  EXPECT_EQ(Messages(school_).size(), 400u);
  // Erasing again finds nothing more; erasing everything leaves nothing.
  EXPECT_EQ(*store_->EraseRawMessages(citizen_, kT0 + 100, kT0 + 249), 0);
  EXPECT_EQ(*store_->EraseRawMessages(citizen_, INT64_MIN, INT64_MAX), 250);
  EXPECT_TRUE(Messages(citizen_).empty());
  EXPECT_EQ(Messages(school_).size(), 400u);
}

}  // namespace
}  // namespace bysans

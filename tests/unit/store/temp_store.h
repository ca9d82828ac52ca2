// Test helper: a real SQLite store in a fresh temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "store/sqlite/sqlite_store.h"

namespace bysans::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bysans_store_XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    if (p) path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The times of a series' readings in [from, to], oldest first (every one of them).
inline std::vector<TimeMs> ReadingTimes(SeriesStore& store, Id dev, const std::string& key,
                                        TimeMs from = INT64_MIN, TimeMs to = INT64_MAX) {
  ReadingQuery q;
  q.device_id = dev;
  q.key = key;
  q.from = from;
  q.to = to;
  q.limit = 10'000'000;
  q.oldest_first = true;
  auto r = store.QueryReadings(q);
  EXPECT_TRUE(r.ok()) << r.status().message();
  std::vector<TimeMs> out;
  if (r.ok())
    for (const Reading& x : *r) out.push_back(x.ts);
  return out;
}

// The raw messages of `device` received in [from, to], newest first (up to a million).
inline std::vector<RawMessage> MessagesOf(SeriesStore& store, Id device, TimeMs from = INT64_MIN,
                                          TimeMs to = INT64_MAX) {
  MessageQuery q;
  q.device_id = device;
  q.from = from;
  q.to = to;
  q.limit = 1'000'000;
  auto r = store.QueryMessages(q);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : std::vector<RawMessage>{};
}

// An MQTT JSON message of `device` as the ingest paths build it (decode pending).
inline RawMessage JsonMessage(Id device, TimeMs received_ms, std::string payload,
                              std::string dedup_key = {}) {
  RawMessage m;
  m.device_id = device;
  m.received_ms = received_ms;
  m.transport = Transport::kMqtt;
  m.content_type = "application/json";
  m.payload = std::move(payload);
  m.decode_status = DecodeStatus::kPending;
  m.dedup_key = std::move(dedup_key);
  return m;
}

class StoreTest : public ::testing::Test {
 protected:
  SqliteOptions Options() {
    SqliteOptions o;
    o.path = dir_.path() + "/bysans.db";
    o.clock = &clock_;
    o.seal_points = seal_points_;
    o.message_index_batch = message_index_batch_;
    o.dedup_window = dedup_window_;
    o.group_commit_interval_us = commit_interval_us_;
    o.max_queue_batches = max_queue_batches_;
    return o;
  }
  void Open() {
    auto r = OpenSqliteStore(Options());
    ASSERT_TRUE(r.ok()) << r.status().message();
    store_ = std::move(r).value();
  }
  void Reopen() {
    store_->Close();
    store_.reset();
    Open();
  }
  void SetUp() override { Open(); }
  void TearDown() override {
    if (store_) store_->Close();
  }

  TempDir dir_;
  ManualClock clock_{1'700'000'000'000};
  int64_t seal_points_ = 262144;
  int64_t message_index_batch_ = 8192;
  size_t dedup_window_ = 262'144;
  int64_t commit_interval_us_ = 0;  // store tests commit at once unless they test pacing
  size_t max_queue_batches_ = 4096;
  std::unique_ptr<Store> store_;
};

// A store with one organisation, one application and two devices `a_` and `b_` (for stores
// keyed by device: CoAP credentials and downlinks, LwM2M).
class TwoDeviceStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    Organization org = store_->CreateOrganization({0, "o", 0}).value();
    app_ = store_->CreateApplication({0, org.id, "a", "d", 0}).value();
    a_ = MakeDevice("a");
    b_ = MakeDevice("b");
  }
  Id MakeDevice(const std::string& name) {
    Device d;
    d.app_id = app_.id;
    d.name = name;
    auto r = store_->CreateDevice(d, "");
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->id : 0;
  }
  Application app_;
  Id a_ = 0, b_ = 0;
};

}  // namespace bysans::testing

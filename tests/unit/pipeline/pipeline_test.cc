// The pipeline against a real SQLite store: `done` after the commit, the
// message and its readings stored, commit listeners called after `done` with
// the committed batch itself; an uplink refused for back-pressure comes back whole.
#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "store/sqlite/db.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

class PipelineTest : public testing::StoreTest {
 protected:
  pipeline::Uplink Make(Id device_id, TimeMs ts, double value) {
    auto d = std::make_shared<Device>();
    d->id = device_id;
    d->org_id = 1;
    d->transport = Transport::kMqtt;
    pipeline::Uplink u;
    u.device = d;
    u.raw.device_id = device_id;
    u.raw.received_ms = ts;
    u.raw.transport = Transport::kMqtt;
    u.raw.content_type = "application/json";
    u.raw.payload = R"({"ts":)" + std::to_string(ts) + R"(,"temperature":21.5})";
    u.raw.decode_status = DecodeStatus::kNone;
    u.readings.push_back(Reading{device_id, "temperature", ts, value, "C", Quality::kOk});
    u.readings.push_back(Reading{device_id, "battery", ts, 3.1, "V", Quality::kOk});
    u.dedup_key = "test:" + std::to_string(device_id) + ":" + std::to_string(ts);
    return u;
  }

  // What the store holds for a device: its raw messages (newest first) and its readings of
  // `key`, at most 1,000 of each.
  std::vector<RawMessage> StoredMessages(Id device_id) {
    MessageQuery mq;
    mq.device_id = device_id;
    mq.from = 0;
    mq.to = kT0 * 2;
    mq.limit = 1000;
    auto msgs = store_->QueryMessages(mq);
    EXPECT_TRUE(msgs.ok()) << msgs.status().message();
    return msgs.ok() ? *msgs : std::vector<RawMessage>{};
  }
  std::vector<Reading> StoredReadings(Id device_id, const std::string& key) {
    ReadingQuery rq;
    rq.device_id = device_id;
    rq.key = key;
    rq.limit = 1000;
    auto rs = store_->QueryReadings(rq);
    EXPECT_TRUE(rs.ok()) << rs.status().message();
    return rs.ok() ? *rs : std::vector<Reading>{};
  }

  // True once nothing is in flight (within 60 s).
  static bool WaitUntilCommitted(const pipeline::Pipeline& p) {
    for (int i = 0; i < 12'000 && p.in_flight() > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return p.in_flight() == 0;
  }

  Metrics metrics_;
  std::mutex mu_;
  std::condition_variable cv_;
};

TEST_F(PipelineTest, DoneAfterCommitThenListenersSeeTheCommittedMessage) {
  pipeline::Pipeline p(*store_, metrics_, pipeline::PipelineOptions{});
  struct Seen {
    Id device = 0;
    std::string content_type, payload, dedup_key;
    size_t readings = 0;
    bool done_first = false;
  };
  std::vector<Seen> seen;
  int done = 0;
  p.AddCommitListener([&](const Device& d, const RawMessage& raw, const std::vector<Reading>& rs) {
    std::lock_guard lock(mu_);
    seen.push_back(Seen{d.id, raw.content_type, raw.payload, raw.dedup_key, rs.size(), done > 0});
    cv_.notify_all();
  });
  const int kUplinks = 50;
  std::vector<Status> results;
  for (int i = 0; i < kUplinks; ++i) {
    p.Submit(Make(7, kT0 + i * 1000, i), [&](Status st) {
      std::lock_guard lock(mu_);
      results.push_back(st);
      ++done;
      cv_.notify_all();
    });
  }
  {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(60), [&] {
      return done == kUplinks && static_cast<int>(seen.size()) == kUplinks;
    }));
  }
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.message();
  for (const Seen& s : seen) {
    EXPECT_EQ(s.device, 7);
    EXPECT_EQ(s.content_type, "application/json");
    // The listener sees the committed batch itself (shared with the store, not copied).
    EXPECT_EQ(s.payload.rfind(R"({"ts":)", 0), 0u) << s.payload;
    EXPECT_EQ(s.dedup_key.rfind("test:7:", 0), 0u);
    EXPECT_EQ(s.readings, 2u);
    EXPECT_TRUE(s.done_first);
  }
  EXPECT_EQ(p.in_flight(), 0u);

  // The store holds every message with its payload, and every reading.
  auto msgs = StoredMessages(7);
  ASSERT_EQ(msgs.size(), static_cast<size_t>(kUplinks));
  EXPECT_EQ(msgs.front().payload,
            R"({"ts":)" + std::to_string(kT0 + 49'000) + R"(,"temperature":21.5})");
  EXPECT_EQ(StoredReadings(7, "temperature").size(), static_cast<size_t>(kUplinks));
  p.Stop();
}

// The copy is acknowledged, marked as a duplicate (the transport counts it as one, not as
// stored), counted, and not handed to the commit listeners a second time.
TEST_F(PipelineTest, RedeliveredMessageIsAcknowledgedAndStoredOnce) {
  pipeline::Pipeline p(*store_, metrics_, pipeline::PipelineOptions{});
  int listened = 0;
  p.AddCommitListener([&](const Device&, const RawMessage&, const std::vector<Reading>&) {
    std::lock_guard lock(mu_);
    ++listened;
  });
  for (int copy = 0; copy < 2; ++copy) {
    std::promise<Status> done;
    auto u = std::make_shared<pipeline::Uplink>(Make(3, kT0, 1.0));
    p.Submit(u, [&](Status st) { done.set_value(st); });
    auto f = done.get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
    EXPECT_TRUE(f.get().ok());
    EXPECT_EQ(u->duplicate, copy == 1);
  }
  EXPECT_EQ(StoredMessages(3).size(), 1u);
  EXPECT_EQ(metrics_.Counter("bysans_pipeline_duplicates_total", "").Value(), 1);
  p.Stop();
  std::lock_guard lock(mu_);
  EXPECT_EQ(listened, 1);
}

// Back-pressure without a copy: an uplink the store refuses (its queue is full while another
// connection holds SQLite's write lock) comes back whole in the caller's shared uplink, and
// submitting that same object again stores it once the store drains.
TEST_F(PipelineTest, UplinkRefusedByAFullStoreComesBackForRetry) {
  max_queue_batches_ = 1;
  Reopen();
  pipeline::Pipeline p(*store_, metrics_, pipeline::PipelineOptions{});
  auto blocker = sqlite::Db::Open(dir_.path() + "/bysans.db", 1024);
  ASSERT_TRUE(blocker.ok()) << blocker.status().message();
  ASSERT_TRUE((*blocker)->Exec("BEGIN IMMEDIATE").ok());

  std::vector<std::future<Status>> accepted;
  std::shared_ptr<pipeline::Uplink> refused;
  for (int i = 0; i < 10 && !refused; ++i) {
    auto u = std::make_shared<pipeline::Uplink>(Make(5, kT0 + i * 1000, i));
    auto done = std::make_shared<std::promise<Status>>();
    auto f = done->get_future();
    p.Submit(u, [done](Status st) { done->set_value(st); });
    if (f.wait_for(std::chrono::milliseconds(200)) == std::future_status::ready) {
      Status st = f.get();
      ASSERT_EQ(st.code(), Code::kUnavailable) << st.message();
      refused = u;
    } else {
      accepted.push_back(std::move(f));
    }
  }
  ASSERT_TRUE(refused) << "the store never refused an uplink";
  const TimeMs ts = refused->raw.received_ms;
  EXPECT_EQ(refused->raw.payload, R"({"ts":)" + std::to_string(ts) + R"(,"temperature":21.5})");
  EXPECT_EQ(refused->raw.dedup_key, "test:5:" + std::to_string(ts));
  ASSERT_EQ(refused->readings.size(), 2u);
  EXPECT_EQ(refused->readings[0].key, "temperature");

  ASSERT_TRUE((*blocker)->Exec("ROLLBACK").ok());
  for (auto& f : accepted) {
    ASSERT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
    EXPECT_TRUE(f.get().ok());
  }
  std::promise<Status> again;
  p.Submit(refused, [&](Status st) { again.set_value(st); });
  auto f = again.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_TRUE(f.get().ok());

  EXPECT_EQ(StoredMessages(5).size(), accepted.size() + 1);
  EXPECT_EQ(StoredReadings(5, "temperature").size(), accepted.size() + 1);
  p.Stop();
}

// Decoders that take turns: while organisation 2's decodes hang (a looping decoder), they hold
// at most all but one worker, organisation 1's uplinks are decoded and committed, and each
// device's messages reach the store in the order they were submitted.
class HangingDecoder final : public pipeline::UplinkDecoder {
 public:
  bool Applies(const Device&) override { return true; }
  void Decode(pipeline::Uplink& u) override {
    std::unique_lock lock(mu);
    if (u.device->org_id == 2) {
      ++hanging;
      cv.notify_all();
      cv.wait(lock, [&] { return released; });
    }
  }
  std::mutex mu;
  std::condition_variable cv;
  int hanging = 0;
  bool released = false;
};

TEST_F(PipelineTest, HangingDecodesOfOneOrganisationDoNotStallAnother) {
  pipeline::PipelineOptions opts;
  opts.decode_threads = 3;
  pipeline::Pipeline p(*store_, metrics_, opts);
  auto decoder = std::make_shared<HangingDecoder>();
  p.SetDecoder(decoder);
  std::map<Id, std::vector<double>> order;  // device → committed values
  p.AddCommitListener([&](const Device& d, const RawMessage&, const std::vector<Reading>& rs) {
    std::lock_guard lock(mu_);
    order[d.id].push_back(std::get<double>(rs.at(0).value));
    cv_.notify_all();
  });
  auto submit = [&](Id org, Id device, int i) {
    pipeline::Uplink u = Make(device, kT0 + i * 1000, i);
    auto d = std::make_shared<Device>(*u.device);
    d->org_id = org;
    u.device = d;
    p.Submit(std::move(u), [](Status) {});
  };
  for (int i = 0; i < 5; ++i) submit(2, 20 + i, i);
  {
    std::unique_lock lock(decoder->mu);
    ASSERT_TRUE(decoder->cv.wait_for(lock, std::chrono::seconds(30),
                                     [&] { return decoder->hanging == 2; }));
  }
  constexpr int kEach = 40;
  for (int i = 0; i < kEach; ++i) {
    submit(1, 10, i);
    submit(1, 11, i);
  }
  {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(60), [&] {
      return order[10].size() == kEach && order[11].size() == kEach;
    })) << "organisation 1 waited for organisation 2";
  }
  EXPECT_EQ(decoder->hanging, 2) << "organisation 2 holds two of three workers, never three";
  for (Id dev : {10, 11}) {
    std::vector<double> want;
    for (int i = 0; i < kEach; ++i) want.push_back(i);
    EXPECT_EQ(order[dev], want) << "device " << dev;
  }
  {
    std::lock_guard lock(decoder->mu);
    decoder->released = true;
  }
  decoder->cv.notify_all();
  p.Stop();
  EXPECT_EQ(StoredMessages(22).size(), 1u);
}

// One organisation holds at most its share of the in-flight window (org_window.h): while its
// uplinks wait (here its decodes hang), its further ones are refused with kUnavailable and the
// reason, and another organisation's are accepted and committed; once its uplinks are through,
// its places are free again.
TEST_F(PipelineTest, AnOrganisationHoldsAtMostItsShareOfTheInFlightWindow) {
  pipeline::PipelineOptions opts;
  opts.decode_threads = 3;
  opts.max_in_flight = 16;
  opts.max_in_flight_per_org = 4;
  pipeline::Pipeline p(*store_, metrics_, opts);
  auto decoder = std::make_shared<HangingDecoder>();
  p.SetDecoder(decoder);
  auto uplink = [&](Id org, Id device, int i) {
    pipeline::Uplink u = Make(device, kT0 + i * 1000, i);
    auto d = std::make_shared<Device>(*u.device);
    d->org_id = org;
    u.device = d;
    return u;
  };
  std::atomic<int> accepted{0};
  std::vector<std::string> refusals;
  for (int i = 0; i < 20; ++i)
    p.Submit(uplink(2, 20 + i, i), [&](Status st) {
      if (st.ok()) {
        ++accepted;
        return;
      }
      EXPECT_EQ(st.code(), Code::kRateLimited) << st.message();
      refusals.push_back(st.message());
    });
  ASSERT_EQ(refusals.size(), 16u) << "organisation 2 has four places of sixteen";
  EXPECT_NE(refusals[0].find("its share of the ingest pipeline"), std::string::npos) << refusals[0];
  EXPECT_EQ(p.in_flight(), 4u);
  // Organisation 1 finds room while organisation 2's four wait: its uplinks, one after another,
  // and four at once (its own share), are committed.
  auto committed = [&](pipeline::Uplink u) {
    std::promise<Status> done;
    p.Submit(std::move(u), [&](Status st) { done.set_value(st); });
    return done.get_future().get();
  };
  for (int i = 0; i < 12; ++i) {
    Status st = committed(uplink(1, 10, i));
    ASSERT_TRUE(st.ok()) << st.message();
  }
  std::vector<std::future<Status>> four;
  std::vector<std::promise<Status>> promises(4);
  for (int i = 0; i < 4; ++i) {
    four.push_back(promises[i].get_future());
    p.Submit(uplink(1, 11, i), [&promises, i](Status st) { promises[i].set_value(st); });
  }
  for (auto& f : four) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(StoredMessages(10).size(), 12u);
  {
    std::lock_guard lock(decoder->mu);
    decoder->released = true;
  }
  decoder->cv.notify_all();
  ASSERT_TRUE(WaitUntilCommitted(p));
  EXPECT_EQ(accepted, 4);
  Status again = committed(uplink(2, 30, 0));
  EXPECT_TRUE(again.ok()) << "organisation 2's places were given back: " << again.message();
  p.Stop();
}

bool WaitUntil(const std::function<bool()>& pred) {
  for (int i = 0; i < 12'000 && !pred(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return pred();
}

// A slow organisation's backlog is bounded: beyond max_decode_backlog_ms its uplinks are stored
// raw at once with kDecodeBacklogError; another organisation's are decoded as usual.
class SlowDecoder final : public pipeline::UplinkDecoder {
 public:
  bool Applies(const Device&) override { return true; }
  void Decode(pipeline::Uplink& u) override {
    if (u.device->org_id == 2) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    u.raw.decode_status = DecodeStatus::kOk;
  }
};

TEST_F(PipelineTest, SlowOrganisationsBacklogIsStoredRawBeyondTheBound) {
  pipeline::PipelineOptions opts;
  opts.max_decode_backlog_ms = 50;
  pipeline::Pipeline p(*store_, metrics_, opts);
  p.SetDecoder(std::make_shared<SlowDecoder>());
  std::atomic<int> done{0};
  auto submit = [&](Id org, Id device, int i) {
    pipeline::Uplink u = Make(device, kT0 + i * 1000, i);
    auto d = std::make_shared<Device>(*u.device);
    d->org_id = org;
    u.device = d;
    p.Submit(std::move(u), [&](Status st) {
      EXPECT_TRUE(st.ok()) << st.message();
      ++done;
    });
  };
  submit(2, 20, 0);  // gives organisation 2 its history: 20 ms per decode
  ASSERT_TRUE(WaitUntil([&] { return done == 1; }));
  for (int i = 1; i <= 20; ++i) {
    submit(2, 20, i);
    submit(1, 10, i);
  }
  ASSERT_TRUE(WaitUntil([&] { return done == 41; }));
  p.Stop();
  int decoded = 0, shed = 0;
  for (const RawMessage& m : StoredMessages(20)) {
    if (m.decode_status == DecodeStatus::kOk) ++decoded;
    if (m.decode_error == pipeline::kDecodeBacklogError) ++shed;
  }
  EXPECT_GE(decoded, 2);
  EXPECT_GE(shed, 10);
  EXPECT_EQ(decoded + shed, 21);
  for (const RawMessage& m : StoredMessages(10)) EXPECT_EQ(m.decode_status, DecodeStatus::kOk);
  EXPECT_EQ(StoredMessages(10).size(), 20u);
}

// An uplink whose readings are final (SensorThings Observations) is stored as given even when
// the device has a decoder: the decoder does not run.
class RewritingDecoder final : public pipeline::UplinkDecoder {
 public:
  bool Applies(const Device&) override { return true; }
  void Decode(pipeline::Uplink& u) override {
    ++calls;
    for (Reading& r : u.readings) r.value = -99.0;
  }
  std::atomic<int> calls{0};
};

TEST_F(PipelineTest, SkipDecodeStoresTheReadingsAsGiven) {
  pipeline::Pipeline p(*store_, metrics_, {});
  auto decoder = std::make_shared<RewritingDecoder>();
  p.SetDecoder(decoder);
  auto submit = [&](pipeline::Uplink u) {
    std::promise<Status> done;
    p.Submit(std::move(u), [&](Status st) { done.set_value(st); });
    return done.get_future().get();
  };
  pipeline::Uplink skipped = Make(7, kT0, 21.5);
  skipped.skip_decode = true;
  ASSERT_TRUE(submit(std::move(skipped)).ok());
  ASSERT_TRUE(submit(Make(7, kT0 + 1000, 22.5)).ok());
  p.Stop();
  EXPECT_EQ(decoder->calls, 1);  // the second uplink only
  auto readings = StoredReadings(7, "temperature");
  ASSERT_EQ(readings.size(), 2u);
  std::map<TimeMs, double> by_ts;
  for (const Reading& r : readings) by_ts[r.ts] = std::get<double>(r.value);
  EXPECT_EQ(by_ts[kT0], 21.5);
  EXPECT_EQ(by_ts[kT0 + 1000], -99.0);
}

}  // namespace
}  // namespace bysans

// raw_log rows (store/sqlite/raw_log_codec.h), the by-device run encoding
// (raw_device_runs.h) and the in-memory dedup window (dedup_window.h).
#include "store/sqlite/raw_log_codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "store/sqlite/dedup_window.h"
#include "store/sqlite/raw_device_runs.h"

namespace bysans::sqlite {
namespace {

RawMessage Msg(Id device, TimeMs t, std::string content_type, std::string payload) {
  RawMessage m;
  m.device_id = device;
  m.received_ms = t;
  m.transport = Transport::kLorawan;
  m.content_type = std::move(content_type);
  m.payload = std::move(payload);
  m.decode_status = DecodeStatus::kError;
  m.decode_error = "bad byte 3";
  m.dedup_key = "up:" + std::to_string(t);
  return m;
}

std::string Encode(const std::vector<RawMessage>& msgs) {
  std::vector<const RawMessage*> ptrs;
  for (const RawMessage& m : msgs) ptrs.push_back(&m);
  std::string out;
  EncodeRawLog(ptrs, &out);
  return out;
}

TEST(RawLogCodecTest, RoundTripsEveryFieldWithConsecutiveIds) {
  const std::vector<RawMessage> msgs = {
      Msg(7, 1'700'000'000'123, "application/json", "{\"a\":1}"),
      Msg(900'000, 1'699'999'999'000, "application/x-vendor", std::string("\0\xff\x01", 3)),
      Msg(7, INT64_MIN, "application/octet-stream", ""),
      Msg(1, INT64_MAX, "", std::string(70'000, 'x'))};
  const std::string blob = Encode(msgs);
  RawLogReader reader(blob, 41);
  RawLogEntry e;
  for (size_t i = 0; i < msgs.size(); ++i) {
    ASSERT_TRUE(reader.Next(&e)) << i << ": " << reader.status().message();
    RawMessage got = e.ToMessage();
    EXPECT_EQ(got.id, static_cast<Id>(41 + i));
    EXPECT_EQ(got.device_id, msgs[i].device_id);
    EXPECT_EQ(got.received_ms, msgs[i].received_ms);
    EXPECT_EQ(got.transport, msgs[i].transport);
    EXPECT_EQ(got.content_type, msgs[i].content_type);
    EXPECT_EQ(got.payload, msgs[i].payload);
    EXPECT_EQ(got.decode_status, msgs[i].decode_status);
    EXPECT_EQ(got.decode_error, msgs[i].decode_error);
    EXPECT_EQ(got.dedup_key, msgs[i].dedup_key);
  }
  EXPECT_FALSE(reader.Next(&e));
  EXPECT_TRUE(reader.status().ok());
}

TEST(RawLogCodecTest, EveryTruncationOrBadFormatIsAnErrorNotACrash) {
  const std::string blob =
      Encode({Msg(7, 1000, "application/json", "{\"a\":1}"), Msg(8, 2000, "text/csv", "1,2,3")});
  for (size_t len = 0; len < blob.size(); ++len) {
    RawLogReader reader(std::string_view(blob).substr(0, len), 1);
    RawLogEntry e;
    int n = 0;
    while (reader.Next(&e)) ++n;
    // A cut can only fall between messages (or after the format byte).
    if (reader.status().ok()) {
      EXPECT_TRUE(len == 1 || n >= 1) << len;
    } else {
      EXPECT_LT(n, 2) << len;
    }
  }
  std::string wrong = blob;
  wrong[0] = 9;  // unknown format
  RawLogReader reader(wrong, 1);
  RawLogEntry e;
  EXPECT_FALSE(reader.Next(&e));
  EXPECT_FALSE(reader.status().ok());
}

// A commit's ChirpStack-like events: similar JSON that differs per message.
std::vector<RawMessage> SimilarEvents(int n) {
  std::vector<RawMessage> msgs;
  for (int i = 0; i < n; ++i) {
    msgs.push_back(Msg(100 + i % 7, 1'700'000'000'000 + i * 13, "application/json",
                       R"({"deduplicationId":"1f0e-)" + std::to_string(i * 7919) +
                           R"(","deviceInfo":{"tenantName":"Kommune","applicationName":"Skoler",)"
                           R"("deviceProfileName":"Elsys ERS CO2","devEui":"a81758fffe0)" +
                           std::to_string(i) + R"("},"fCnt":)" + std::to_string(i) +
                           R"(,"fPort":5,"data":"AQDuAikEAH0FAAYB)" + std::to_string(i % 10) +
                           R"(","rxInfo":[{"gatewayId":"0016c001ff1b","rssi":-)" +
                           std::to_string(60 + i % 40) + R"(,"snr":7.5}]})"));
  }
  return msgs;
}

TEST(RawLogCodecTest, LargeRowsAreCompressedAndReadBackExactly) {
  const std::vector<RawMessage> msgs = SimilarEvents(200);
  const std::string plain = Encode(msgs);
  ZstdCompressor z;
  std::string scratch;
  auto row = CompressRawLog(plain, z, &scratch);
  ASSERT_TRUE(row.ok()) << row.status().message();
  EXPECT_EQ(row->front(), 3);                // format 3
  EXPECT_LT(row->size() * 4, plain.size());  // similar events shrink several times
  RawLogReader reader(*row, 500);
  RawLogEntry e;
  for (size_t i = 0; i < msgs.size(); ++i) {
    ASSERT_TRUE(reader.Next(&e)) << i << ": " << reader.status().message();
    EXPECT_EQ(e.id, static_cast<Id>(500 + i));
    EXPECT_EQ(e.payload, msgs[i].payload);
    EXPECT_EQ(e.dedup_key, msgs[i].dedup_key);
    EXPECT_EQ(e.received_ms, msgs[i].received_ms);
  }
  EXPECT_FALSE(reader.Next(&e));
  EXPECT_TRUE(reader.status().ok());
}

TEST(RawLogCodecTest, SmallOrIncompressibleRowsAreStoredAsTheyAre) {
  ZstdCompressor z;
  std::string scratch;
  const std::string small = Encode({Msg(7, 1000, "application/json", "{\"a\":1}")});
  auto row = CompressRawLog(small, z, &scratch);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(*row, small);
  std::string noise(4096, '\0');
  uint32_t x = 2463534242u;
  for (char& c : noise) {  // xorshift: bytes zstd cannot shrink
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    c = static_cast<char>(x);
  }
  const std::string random = Encode({Msg(7, 1000, "application/octet-stream", noise)});
  row = CompressRawLog(random, z, &scratch);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(*row, random);
}

TEST(RawLogCodecTest, DamagedCompressedRowsAreAnErrorNotACrash) {
  ZstdCompressor z;
  std::string scratch;
  const std::string plain = Encode(SimilarEvents(50));
  const std::string packed(*CompressRawLog(plain, z, &scratch));
  ASSERT_EQ(packed.front(), 3);
  auto fails = [](std::string_view row) {
    RawLogReader reader(row, 1);
    RawLogEntry e;
    while (reader.Next(&e)) {
    }
    return !reader.status().ok();
  };
  for (size_t len = 1; len < packed.size(); len += 7) {
    EXPECT_TRUE(fails(std::string_view(packed).substr(0, len))) << len;  // truncated
  }
  std::string flipped = packed;
  flipped[flipped.size() / 2] ^= 0x5a;  // zstd checks block structure; the codec the rest
  RawLogReader reader(flipped, 1);
  RawLogEntry e;
  int n = 0;
  while (reader.Next(&e)) ++n;
  EXPECT_TRUE(!reader.status().ok() || n == 50);
  EXPECT_TRUE(fails(packed + "x"));  // trailing bytes
  // A frame that declares more than the caller accepts is refused before anything is allocated.
  std::string frame, out;
  ASSERT_TRUE(z.Compress(std::string(1000, 'a'), &frame).ok());
  EXPECT_TRUE(ZstdDecompress(frame, 1000, &out).ok());
  EXPECT_EQ(out, std::string(1000, 'a'));
  Status st = ZstdDecompress(frame, 999, &out);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("declares 1000 bytes"), std::string::npos) << st.message();
}

TEST(RawDeviceRunsTest, BuilderCountsMessagesPerRowAndDevice) {
  RawRunsBuilder a;
  a.Add(7, 10, 5000);
  a.Add(8, 10, 5001);
  a.Add(7, 10, 4000);
  a.Add(7, 13, 6000);
  EXPECT_EQ(a.messages(), 4);
  EXPECT_EQ(a.logs(), 2);
  RawRunsBuilder b;
  b.Add(7, 20, 7000);
  a.Merge(b);
  EXPECT_EQ(a.messages(), 5);
  EXPECT_EQ(a.logs(), 3);
  EXPECT_EQ(a.newest_log(), 20);

  std::vector<RunEntry> logs = {{10, 2}, {13, 1}, {20, 1}};
  std::string blob;
  EncodeRunLogs(logs, &blob);
  std::vector<RunEntry> back;
  ASSERT_TRUE(DecodeRunLogs(blob, 10, &back).ok());
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[1].log_id, 13);
  EXPECT_EQ(back[2].count, 1);
  back.clear();
  EXPECT_FALSE(DecodeRunLogs(blob.substr(0, 1), 10, &back).ok());
}

TEST(DedupWindowTest, KeepsTheNewestAndTakesBackAFailedCommit) {
  DedupWindow w(3);
  const uint64_t a = DedupWindow::Hash("a"), b = DedupWindow::Hash("b");
  EXPECT_NE(a, b);
  w.Add(a, 1);
  w.Add(b, 2);
  w.Add(a, 3);  // a hash seen twice (a collision, or the caller's choice)
  auto both = w.Candidates(a);
  std::sort(both.begin(), both.end());
  EXPECT_EQ(both, (std::vector<int64_t>{1, 3}));
  w.Add(DedupWindow::Hash("c"), 4);  // 1 leaves the window
  EXPECT_EQ(w.Candidates(a), (std::vector<int64_t>{3}));
  EXPECT_EQ(w.size(), 3u);
  w.RemoveNewest(2);
  EXPECT_TRUE(w.Candidates(a).empty());
  EXPECT_TRUE(w.Candidates(DedupWindow::Hash("c")).empty());
  EXPECT_EQ(w.Candidates(b), (std::vector<int64_t>{2}));
}

// Against a plain model: many colliding hashes (few distinct ones, so probe runs
// are long and wrap around the table), adds, evictions and take-backs.
TEST(DedupWindowTest, MatchesAModelUnderCollisionsAndWrapAround) {
  constexpr size_t kCap = 37;
  DedupWindow w(kCap);
  std::deque<std::pair<uint64_t, int64_t>> model;
  uint64_t rng = 12345;
  auto next = [&] {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return rng >> 33;
  };
  int64_t id = 0;
  for (int step = 0; step < 20000; ++step) {
    // Hashes from a small set, some near the table's end (wrap-around).
    const uint64_t h = (next() % 9) * 0x1000000000000001ull + (next() % 2 ? 127 : 0);
    if (next() % 10 == 0) {
      const size_t n = next() % 4;
      w.RemoveNewest(n);
      for (size_t i = 0; i < n && !model.empty(); ++i) model.pop_back();
    } else {
      w.Add(h, ++id);
      model.emplace_back(h, id);
      if (model.size() > kCap) model.pop_front();
    }
    ASSERT_EQ(w.size(), model.size());
    std::vector<int64_t> want;
    for (const auto& [mh, mid] : model)
      if (mh == h) want.push_back(mid);
    auto got = w.Candidates(h);
    std::sort(got.begin(), got.end());
    ASSERT_EQ(got, want) << "step " << step;
  }
}

}  // namespace
}  // namespace bysans::sqlite

// Raw messages by device (store/sqlite/raw_messages_read.h): raw_log rows are
// found through raw_device_runs once the writer wrote their index batch, and by
// reading the newest rows until then. Whatever the batch size, every query sees
// each message of the device once, in id order, before and after a reopen.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "store/decoder_store.h"
#include "store/sqlite/db.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

// message_index_batch
class MessageIndexTest : public testing::StoreTest, public ::testing::WithParamInterface<int> {
 protected:
  void SetUp() override {
    message_index_batch_ = GetParam();
    Open();
  }

  // Appends `n` messages, device 7 and 8 in turn, as one batch each; message i
  // is received at kT0 + i s. One extra copy of the first carries its dedup key
  // again and must be stored once.
  void AppendMessages(int first, int n) {
    for (int i = first; i < first + n; ++i) {
      IngestBatch b;
      const RawMessage m =
          testing::JsonMessage(i % 2 == 0 ? 7 : 8, kT0 + i * 1000,
                               "{\"i\":" + std::to_string(i) + "}", "k" + std::to_string(i));
      b.messages.push_back(m);
      ASSERT_TRUE(store_->Append(std::move(b)).ok());
      want_[m.device_id].push_back(m.payload);
    }
    IngestBatch again;
    again.messages.push_back(testing::JsonMessage(
        7, kT0, "{\"duplicate\":true}", "k" + std::to_string(first % 2 == 0 ? first : first + 1)));
    ASSERT_TRUE(store_->Append(std::move(again)).ok());
  }

  void CheckDevice(Id device) {
    const std::vector<std::string>& want = want_[device];
    MessageQuery q;
    q.device_id = device;
    q.limit = 10000;
    auto newest_first = store_->QueryMessages(q);
    ASSERT_TRUE(newest_first.ok()) << newest_first.status().message();
    ASSERT_EQ(newest_first->size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(newest_first->at(i).payload, want[want.size() - 1 - i]) << "at " << i;
      EXPECT_EQ(newest_first->at(i).device_id, device);
      if (i > 0) {
        EXPECT_LT(newest_first->at(i).id, newest_first->at(i - 1).id);
      }
    }
    q.limit = 3;
    auto three = store_->QueryMessages(q);
    ASSERT_TRUE(three.ok());
    ASSERT_EQ(three->size(), 3u);
    EXPECT_EQ(three->at(2).payload, want[want.size() - 3]);

    // Pages of 4 in id order, as a re-decode job reads them.
    DecoderStore& ds = store_->decoders();
    std::vector<std::string> paged;
    Id after = 0;
    for (;;) {
      auto page = ds.MessagesAfter(device, INT64_MIN, INT64_MAX, after, 4);
      ASSERT_TRUE(page.ok()) << page.status().message();
      if (page->empty()) break;
      for (const RawMessage& m : *page) {
        EXPECT_GT(m.id, after);
        after = m.id;
        paged.push_back(m.payload);
      }
    }
    EXPECT_EQ(paged, want);

    auto all = ds.CountMessages(device, INT64_MIN, INT64_MAX);
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(*all, static_cast<int64_t>(want.size()));
    // A time window: messages 10..19 of this device's parity.
    auto window = ds.CountMessages(device, kT0 + 10'000, kT0 + 19'000);
    ASSERT_TRUE(window.ok());
    EXPECT_EQ(*window, 5);
  }

  // raw_device_runs counts every message of the raw_log rows up to
  // raw_indexed_upto once, and nothing above it.
  void CheckWatermark() {
    auto db = sqlite::Db::Open(dir_.path() + "/bysans.db", 1024);
    ASSERT_TRUE(db.ok());
    auto st = (*db)->Prepare(
        "SELECT (SELECT coalesce(sum(n), 0) FROM raw_log WHERE id <= s.raw_indexed_upto), "
        "(SELECT coalesce(sum(n), 0) FROM raw_device_runs), "
        "(SELECT count(*) FROM raw_device_runs WHERE first_log > s.raw_indexed_upto), "
        "s.raw_indexed_upto FROM seal_state s");
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE((*st)->Step());
    EXPECT_EQ((*st)->Int(0), (*st)->Int(1));
    EXPECT_EQ((*st)->Int(2), 0);
    if (GetParam() <= 5) {
      EXPECT_GT((*st)->Int(3), 0);
    }
  }

  std::map<Id, std::vector<std::string>> want_;
};

TEST_P(MessageIndexTest, EveryMessageOnceInOrderAcrossBatchesAndReopen) {
  AppendMessages(0, 30);
  CheckDevice(7);
  CheckDevice(8);
  CheckWatermark();
  Reopen();  // the messages not yet indexed are found again at open
  CheckDevice(7);
  CheckDevice(8);
  AppendMessages(30, 15);
  CheckDevice(7);
  CheckDevice(8);
  CheckWatermark();
}

// Batch 1: every commit indexes; 3 and 5: a few commits per batch, and the reopen
// falls between batches; 8192: everything is found by reading the newest rows.
INSTANTIATE_TEST_SUITE_P(BatchSizes, MessageIndexTest, ::testing::Values(1, 3, 5, 8192));

}  // namespace
}  // namespace bysans

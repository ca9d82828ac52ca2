// Raw messages in the store (store/sqlite/raw_log_*.h): dedup across a reopen
// and beyond the window, a re-decode's status, and migration 12 moving the
// raw_messages rows of an older database.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/decoder_store.h"
#include "store/sqlite/db.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

class RawLogStoreTest : public testing::StoreTest {
 protected:
  // One message of device 7 with a reading of its own time (so a stored copy
  // would add a reading).
  void Append(const std::string& key, const std::string& payload, TimeMs t) {
    IngestBatch b;
    b.messages.push_back(testing::JsonMessage(7, t, payload, key));
    b.readings.push_back(Reading{7, "n", kT0 + ++appended_, Value{1.0}, "", Quality::kOk});
    ASSERT_TRUE(store_->Append(std::move(b)).ok());
  }

  std::vector<std::string> Payloads(Id device = 7) {
    MessageQuery q;
    q.device_id = device;
    q.limit = 1000;
    auto r = store_->QueryMessages(q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    std::vector<std::string> out;
    if (r.ok()) {
      for (auto it = r->rbegin(); it != r->rend(); ++it) out.push_back(it->payload);
    }
    return out;
  }

  int appended_ = 0;

  size_t Readings() {
    ReadingQuery q;
    q.device_id = 7;
    q.key = "n";
    q.limit = 1000;
    auto r = store_->QueryReadings(q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->size() : 0;
  }
};

TEST_F(RawLogStoreTest, ACopyIsRecognisedAfterAReopenAndInTheSameCommit) {
  Append("k1", "first", kT0);
  Reopen();  // the window is loaded from raw_log
  Append("k1", "copy after reopen", kT0);
  Append("k2", "second", kT0 + 1000);
  // Two copies of one key queued together reach one group commit.
  IngestBatch b;
  for (int i = 0; i < 2; ++i)
    b.messages.push_back(testing::JsonMessage(7, kT0 + 2000, "third", "k3"));
  ASSERT_TRUE(store_->Append(std::move(b)).ok());
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"first", "second", "third"}));
  EXPECT_EQ(Readings(), 2u);  // k1 and k2; the copy's reading was not stored again
}

TEST_F(RawLogStoreTest, ACopyOlderThanTheWindowIsStoredAgain) {
  dedup_window_ = 2;
  Reopen();
  Append("k1", "one", kT0);
  Append("k2", "two", kT0 + 1000);
  Append("k3", "three", kT0 + 2000);
  Append("k3", "three again", kT0 + 2000);  // in the window: dropped
  Append("k1", "one again", kT0);           // left the window: stored
  EXPECT_EQ(Payloads(), (std::vector<std::string>{"one", "two", "three", "one again"}));
}

// A database from before migration 12: its raw_messages rows (ids kept, with a
// gap) become raw_log rows; their keys still stop copies.
TEST_F(RawLogStoreTest, MigrationMovesRawMessagesRows) {
  store_->Close();
  store_.reset();
  {
    auto db = sqlite::Db::Open(dir_.path() + "/bysans.db", 1024);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->Exec(R"sql(
DROP TABLE raw_log; DROP TABLE raw_device_runs; DROP TABLE raw_decode;
DELETE FROM schema_version WHERE version = 12;
CREATE TABLE raw_messages(
  id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL, received_ms INTEGER NOT NULL,
  transport INTEGER NOT NULL, content_type TEXT NOT NULL, payload BLOB NOT NULL,
  decode_status INTEGER NOT NULL, decode_error TEXT NOT NULL, dedup_key TEXT);
CREATE UNIQUE INDEX raw_messages_dedup ON raw_messages(dedup_key);
CREATE TABLE raw_device_index(
  dev INTEGER NOT NULL, msg INTEGER NOT NULL, PRIMARY KEY(dev, msg)) WITHOUT ROWID;
INSERT INTO raw_messages VALUES
  (1, 7, 1704067200000, 1, 'application/json', 'm1', 1, '', 'k1'),
  (2, 8, 1704067201000, 1, 'application/json', 'm2', 1, '', NULL),
  (3, 7, 1704067202000, 2, 'application/octet-stream', 'm3', 2, 'no decoder', 'k3'),
  (5, 7, 1704067203000, 1, 'text/csv', 'm5', 3, '', 'k5');
INSERT INTO raw_device_index VALUES (7, 1), (8, 2), (7, 3);
UPDATE seal_state SET raw_indexed_upto = 3;
)sql")
                    .ok());
  }
  Open();
  MessageQuery q;
  q.device_id = 7;
  auto got = store_->QueryMessages(q);
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ(got->at(0).id, 5);
  EXPECT_EQ(got->at(0).content_type, "text/csv");
  EXPECT_EQ(got->at(1).id, 3);
  EXPECT_EQ(got->at(1).decode_error, "no decoder");
  EXPECT_EQ(got->at(1).transport, Transport::kLorawan);
  EXPECT_EQ(got->at(2).payload, "m1");
  EXPECT_EQ(Payloads(8), (std::vector<std::string>{"m2"}));
  Append("k5", "copy of m5", kT0 + 5000);
  Append("k6", "m6", kT0 + 6000);
  got = store_->QueryMessages(q);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 4u);
  EXPECT_EQ(got->at(0).payload, "m6");
  EXPECT_EQ(got->at(0).id, 6);  // after the newest migrated id
  auto count = store_->decoders().CountMessages(7, INT64_MIN, INT64_MAX);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 4);
  auto db = sqlite::Db::Open(dir_.path() + "/bysans.db", 1024);
  ASSERT_TRUE(db.ok());
  auto old = (*db)->Prepare(
      "SELECT count(*) FROM sqlite_schema WHERE name IN ('raw_messages', 'raw_device_index')");
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE((*old)->Step());
  EXPECT_EQ((*old)->Int(0), 0);
}

}  // namespace
}  // namespace bysans

// A decode's structured errors and warnings (RawMessage::decode_errors / decode_warnings) in
// raw_log rows (format 2, raw_log_codec.h) and in a re-decode's raw_decode row; rows and tables
// written before migration 15 still read (SQLite only). On both backends: notes written and
// replaced by a re-decode and contracts per version in
// tests/unit/store_postgres/decoder_backends_test.cc, a downlink's object in
// tests/unit/store_postgres/mqtt_store_backends_test.cc.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/decoder_store.h"
#include "store/sqlite/chunk_codec.h"
#include "store/sqlite/db.h"
#include "store/sqlite/raw_log_codec.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using Strings = std::vector<std::string>;

constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

// A raw_log row as format 1 wrote it (no decode notes): one message per entry of `payloads`,
// device 7, JSON, status error "old error".
std::string FormatOneRow(const Strings& payloads, TimeMs t) {
  std::string out(1, '\1');
  TimeMs prev = 0;
  for (const std::string& p : payloads) {
    sqlite::PutVarint(7, &out);
    sqlite::PutVarint(sqlite::ZigZag(t - prev), &out);
    prev = t;
    out.push_back(static_cast<char>(Transport::kMqtt));
    out.push_back(static_cast<char>(DecodeStatus::kError));
    sqlite::PutVarint(1, &out);  // application/json
    for (const std::string& s : {p, std::string("old error"), std::string()}) {
      sqlite::PutVarint(s.size(), &out);
      out += s;
    }
  }
  return out;
}

TEST(DecodeNotesCodecTest, RoundTripsAndRejectsCorruptNotes) {
  EXPECT_EQ(sqlite::EncodeDecodeNotes({}, {}), "");
  const Strings errors = {"bad length", ""}, warnings = {"°C assumed", std::string(300, 'w')};
  const std::string bytes = sqlite::EncodeDecodeNotes(errors, warnings);
  Strings e, w;
  ASSERT_TRUE(sqlite::DecodeDecodeNotes(bytes, &e, &w));
  EXPECT_EQ(e, errors);
  EXPECT_EQ(w, warnings);
  for (size_t len = 1; len < bytes.size(); ++len)
    EXPECT_FALSE(sqlite::DecodeDecodeNotes(bytes.substr(0, len), nullptr, nullptr)) << len;
  EXPECT_FALSE(sqlite::DecodeDecodeNotes(bytes + "x", nullptr, nullptr));
}

TEST(DecodeNotesCodecTest, FormatTwoCarriesNotesAndFormatOneStillReads) {
  RawMessage a = testing::JsonMessage(7, kT0, "{\"t\":1}");
  a.decode_status = DecodeStatus::kError;
  a.decode_errors = {"unknown frame type 9"};
  a.decode_warnings = {"battery low"};
  RawMessage b = testing::JsonMessage(7, kT0 + 1, "{}");
  std::vector<const RawMessage*> msgs = {&a, &b};
  std::string blob;
  sqlite::EncodeRawLog(msgs, &blob);
  EXPECT_EQ(blob[0], 2);
  sqlite::RawLogReader reader(blob, 1);
  sqlite::RawLogEntry e;
  ASSERT_TRUE(reader.Next(&e));
  RawMessage got = e.ToMessage();
  EXPECT_EQ(got.decode_errors, a.decode_errors);
  EXPECT_EQ(got.decode_warnings, a.decode_warnings);
  ASSERT_TRUE(reader.Next(&e));
  EXPECT_TRUE(e.ToMessage().decode_errors.empty());
  EXPECT_FALSE(reader.Next(&e));
  EXPECT_TRUE(reader.status().ok());

  const std::string old = FormatOneRow({"x", "y"}, kT0);
  sqlite::RawLogReader old_reader(old, 5);
  ASSERT_TRUE(old_reader.Next(&e)) << old_reader.status().message();
  got = e.ToMessage();
  EXPECT_EQ(got.id, 5);
  EXPECT_EQ(got.payload, "x");
  EXPECT_EQ(got.decode_error, "old error");
  EXPECT_TRUE(got.decode_errors.empty() && got.decode_warnings.empty());
  ASSERT_TRUE(old_reader.Next(&e));
  EXPECT_EQ(e.ToMessage().payload, "y");
  EXPECT_FALSE(old_reader.Next(&e));
  EXPECT_TRUE(old_reader.status().ok());
}

class DecodeNotesStoreTest : public testing::StoreTest {
 protected:
  std::vector<RawMessage> Messages() {
    MessageQuery q;
    q.device_id = 7;
    q.limit = 100;
    auto r = store_->QueryMessages(q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::vector<RawMessage>{};
  }
};

// A database as it was before migration 15: a format 1 raw_log row, a raw_decode row without
// notes, a decoder version without a contract and a downlink without an object.
TEST_F(DecodeNotesStoreTest, ADatabaseFromBeforeMigration15StillReads) {
  Organization org;
  org.name = "o";
  auto o = store_->CreateOrganization(org);
  ASSERT_TRUE(o.ok()) << o.status().message();
  StoredDecoder d;
  d.org_id = o->id;
  d.name = "d";
  d.code = "function decode(p){return {}}";
  auto made = store_->decoders().CreateDecoder(d, 0, kT0);
  ASSERT_TRUE(made.ok()) << made.status().message();
  store_->Close();
  store_.reset();
  {
    auto db = sqlite::Db::Open(dir_.path() + "/bysans.db", 1024);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->Exec(R"sql(
ALTER TABLE raw_decode DROP COLUMN notes;
ALTER TABLE decoder_versions DROP COLUMN contract;
ALTER TABLE downlinks DROP COLUMN object;
DELETE FROM schema_version WHERE version = 15;
INSERT INTO raw_decode(id, status, error) VALUES (2, 1, '');
)sql")
                    .ok());
    auto st =
        (*db)->Prepare("INSERT INTO raw_log(id, n, t_min, t_max, data) VALUES(1, 2, ?, ?, ?)");
    ASSERT_TRUE(st.ok());
    const std::string row = FormatOneRow({"old 1", "old 2"}, kT0);
    (*st)->Bind(1, kT0).Bind(2, kT0).BindBlob(3, row.data(), row.size());
    ASSERT_TRUE((*st)->Run().ok());
  }
  Open();
  auto got = Messages();  // newest first
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].payload, "old 1");
  EXPECT_EQ(got[1].decode_status, DecodeStatus::kError);
  EXPECT_EQ(got[1].decode_error, "old error");
  EXPECT_EQ(got[0].payload, "old 2");
  EXPECT_EQ(got[0].decode_status, DecodeStatus::kOk);  // the old re-decode row applies
  for (const RawMessage& m : got) EXPECT_TRUE(m.decode_errors.empty() && m.decode_warnings.empty());

  // New messages go on after the old row, with notes.
  IngestBatch b;
  b.messages.push_back(testing::JsonMessage(7, kT0 + 1000, "new"));
  b.messages[0].decode_warnings = {"w"};
  ASSERT_TRUE(store_->Append(std::move(b)).ok());
  got = Messages();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].id, 3);
  EXPECT_EQ(got[0].decode_warnings, Strings{"w"});

  auto old = store_->decoders().GetDecoder(made->id);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->contract, "auto");
  auto versions = store_->decoders().ListVersions(made->id);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ(versions->at(0).contract, "auto");
}

}  // namespace
}  // namespace bysans

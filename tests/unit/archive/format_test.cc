// The archive's building blocks: tar, gzip members with SHA-256, record lines, the manifest.
#include "archive/format.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "archive/member.h"
#include "archive/records.h"
#include "archive/tar.h"
#include "unit/store/temp_store.h"

namespace bysans::archive {
namespace {

using bysans::testing::TempDir;

TEST(TarTest, WritesWhatTarReadsAndListsIt) {
  TempDir dir;
  const std::string path = dir.path() + "/a.tar";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  TarWriter w(f, 1'700'000'000);
  ASSERT_TRUE(w.AddBytes("README.md", "hello\n").ok());
  ASSERT_TRUE(w.AddBytes("empty.json", "").ok());
  ASSERT_TRUE(w.AddBytes("big.txt", std::string(1000, 'x')).ok());
  ASSERT_TRUE(w.Finish().ok());
  std::fclose(f);
  // The system's tar agrees.
  const std::string cmd = "tar tf " + path + " > " + dir.path() + "/list.txt";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  f = std::fopen(path.c_str(), "rb");
  auto entries = ListTar(f);
  ASSERT_TRUE(entries.ok()) << entries.status().message();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].name, "README.md");
  EXPECT_EQ((*entries)[0].size, 6);
  EXPECT_EQ((*entries)[2].size, 1000);
  std::string sha;
  auto bytes = ReadMember(f, (*entries)[0].offset, (*entries)[0].size, sha);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, "hello\n");
  EXPECT_EQ(sha, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
  std::fclose(f);
}

TEST(TarTest, TruncatedOrDamagedArchivesAreRefusedByName) {
  TempDir dir;
  const std::string path = dir.path() + "/a.tar";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  TarWriter w(f, 0);
  ASSERT_TRUE(w.AddBytes("data.jsonl", std::string(5000, 'y')).ok());
  ASSERT_TRUE(w.Finish().ok());
  std::fclose(f);
  std::filesystem::resize_file(path, 3000);
  f = std::fopen(path.c_str(), "rb");
  auto entries = ListTar(f);
  std::fclose(f);
  ASSERT_FALSE(entries.ok());
  EXPECT_NE(entries.status().message().find("truncated inside data.jsonl"), std::string::npos)
      << entries.status().message();

  f = std::fopen(path.c_str(), "r+b");
  std::fseek(f, 10, SEEK_SET);
  std::fputc('Z', f);  // in the name: the header checksum no longer matches
  std::fclose(f);
  f = std::fopen(path.c_str(), "rb");
  entries = ListTar(f);
  std::fclose(f);
  ASSERT_FALSE(entries.ok());
  EXPECT_NE(entries.status().message().find("bad header checksum"), std::string::npos);
}

TEST(MemberTest, GzipLinesRoundTripWithTheirHash) {
  TempDir dir;
  const std::string path = dir.path() + "/m.gz";
  MemberWriter w;
  ASSERT_TRUE(w.Open(path, true).ok());
  std::string text;
  for (int i = 0; i < 100'000; ++i) text += "line " + std::to_string(i) + "\n";
  ASSERT_TRUE(w.Append(text, 100'000).ok());
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(w.records(), 100'000);
  EXPECT_EQ(w.raw_bytes(), static_cast<int64_t>(text.size()));
  EXPECT_LT(w.stored_bytes(), w.raw_bytes() / 3);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  LineReader r(f, 0, w.stored_bytes(), true, "m.gz");
  std::string_view line;
  int n = 0;
  while (r.Next(line)) {
    ASSERT_EQ(line, "line " + std::to_string(n));
    ++n;
  }
  EXPECT_TRUE(r.status().ok()) << r.status().message();
  EXPECT_EQ(n, 100'000);
  EXPECT_EQ(r.HexDigest(), w.sha256());
  // The same member cut short: a truncated gzip stream.
  LineReader cut(f, 0, w.stored_bytes() - 10, true, "m.gz");
  while (cut.Next(line)) {
  }
  EXPECT_FALSE(cut.status().ok());
  std::fclose(f);
}

TEST(RecordsTest, ReadingsRoundTripEveryValueType) {
  std::vector<Reading> in = {
      {7, "air.no2", 1'700'000'000'123, 21.13, "ug/m3", Quality::kOk},
      {7, "door", 1'700'000'000'124, true, "", Quality::kLate},
      {8, "text \"q\" \\ \n æøå", -5, std::string("é\x01\"end"), "°C", Quality::kSpike},
      {8, "big", 0, 1.0000000000000002e300, "", Quality::kOutOfRange},
      {8, "neg", 1, -0.1, "", Quality::kStuck}};
  for (const auto& r : in) {
    std::string line;
    AppendReadingLine(line, r);
    ASSERT_EQ(line.back(), '\n');
    line.pop_back();
    Reading out;
    Status st = ParseReadingLine(line, out);
    ASSERT_TRUE(st.ok()) << st.message() << " in " << line;
    EXPECT_EQ(out.device_id, r.device_id);
    EXPECT_EQ(out.key, r.key);
    EXPECT_EQ(out.ts, r.ts);
    EXPECT_EQ(out.value, r.value) << line;
    EXPECT_EQ(out.unit, r.unit);
    EXPECT_EQ(out.quality, r.quality);
  }
}

TEST(RecordsTest, WrongTypesNameTheField) {
  Reading r;
  auto err = [&](std::string_view line) { return ParseReadingLine(line, r).message(); };
  EXPECT_NE(
      err(R"({"device":"7","key":"a","time":"2026-01-01T00:00:00Z","value":1})").find("\"device\""),
      std::string::npos);
  EXPECT_NE(err(R"({"device":7,"key":"a","time":"yesterday","value":1})").find("\"time\""),
            std::string::npos);
  EXPECT_NE(
      err(R"({"device":7,"key":"a","time":"2026-01-01T00:00:00Z","value":[1]})").find("\"value\""),
      std::string::npos);
  EXPECT_NE(err(R"({"device":7,"key":"a","time":"2026-01-01T00:00:00Z"})").find("missing"),
            std::string::npos);
  EXPECT_NE(err(R"({"device":7,"key":"a","time":"2026-01-01T00:00:00Z","value":1,"x":2})")
                .find("unknown field"),
            std::string::npos);
  const std::string great =
      R"({"device":7,"key":"a","time":"2026-01-01T00:00:00Z","value":1,"quality":"great"})";
  EXPECT_NE(err(great).find("\"quality\""), std::string::npos);
  EXPECT_FALSE(ParseReadingLine("not json", r).ok());
}

TEST(RecordsTest, RawMessagesRoundTripBinaryPayloads) {
  RawMessage m;
  m.id = 9;
  m.device_id = 3;
  m.received_ms = 1'700'000'000'000;
  m.transport = Transport::kLorawan;
  m.content_type = "application/octet-stream";
  m.payload = std::string("\x00\xff\x10 binary", 10);
  m.decode_status = DecodeStatus::kError;
  m.decode_error = "bad byte";
  m.decode_errors = {"e1"};
  m.decode_warnings = {"w1", "w2"};
  std::string line;
  AppendRawMessageLine(line, m);
  line.pop_back();
  RawMessage out;
  ASSERT_TRUE(ParseRawMessageLine(line, out).ok());
  EXPECT_EQ(out.payload, m.payload);
  EXPECT_EQ(out.transport, m.transport);
  EXPECT_EQ(out.decode_status, m.decode_status);
  EXPECT_EQ(out.decode_warnings, m.decode_warnings);
  EXPECT_NE(ParseRawMessageLine(R"({"id":1})", out).message().find("\"device\""),
            std::string::npos);
}

TEST(ManifestTest, UnknownVersionIsNamed) {
  Manifest m;
  m.bysans_version = "1.0";
  m.org_id = 1;
  m.org_name = "Kommune";
  m.files.push_back({"devices.json", 2, 10, 10, std::string(64, 'a')});
  auto back = ParseManifest(ManifestToJson(m));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->files.size(), 1u);
  m.format_version = 7;
  auto bad = ParseManifest(ManifestToJson(m));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown format version 7"), std::string::npos);
  EXPECT_FALSE(ParseManifest("{}").ok());
}

}  // namespace
}  // namespace bysans::archive

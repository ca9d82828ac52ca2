#include "ingest/flatten.h"

#include <gtest/gtest.h>

#include <string>

namespace bysans::ingest {
namespace {

std::vector<Reading> Flat(std::string_view json, const FlattenOptions& opts = {}) {
  std::vector<Reading> out;
  JsonFlattener f;
  Status st = f.Flatten(json, 7, 1000, out, opts);
  EXPECT_TRUE(st.ok()) << st.message();
  return out;
}

const Reading* Find(const std::vector<Reading>& rs, const std::string& key) {
  for (const auto& r : rs)
    if (r.key == key) return &r;
  return nullptr;
}

TEST(FlattenTest, NestedObjectsBecomeDottedKeys) {
  auto rs = Flat(R"({"air":{"no2":12.5,"pm":{"p10":3}},"temp":21})");
  ASSERT_EQ(rs.size(), 3u);
  EXPECT_EQ(rs[0].key, "air.no2");
  EXPECT_EQ(std::get<double>(rs[0].value), 12.5);
  EXPECT_EQ(rs[1].key, "air.pm.p10");
  EXPECT_EQ(std::get<double>(rs[1].value), 3.0);
  EXPECT_EQ(rs[2].key, "temp");
  for (const auto& r : rs) {
    EXPECT_EQ(r.device_id, 7);
    EXPECT_EQ(r.ts, 1000);
    EXPECT_EQ(r.quality, Quality::kOk);
  }
}

TEST(FlattenTest, ArraysUseIndexes) {
  auto rs = Flat(R"({"v":[1,[2,3],{"x":4}]})");
  ASSERT_EQ(rs.size(), 4u);
  EXPECT_EQ(rs[0].key, "v.0");
  EXPECT_EQ(rs[1].key, "v.1.0");
  EXPECT_EQ(rs[2].key, "v.1.1");
  EXPECT_EQ(rs[3].key, "v.2.x");
  auto top = Flat("[5,6]");
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].key, "0");
}

TEST(FlattenTest, TypesAndNull) {
  auto rs = Flat(R"({"b":true,"s":"open","n":null,"i":-3,"big":18446744073709551615,"e":1e3})");
  ASSERT_EQ(rs.size(), 5u);
  EXPECT_EQ(std::get<bool>(Find(rs, "b")->value), true);
  EXPECT_EQ(std::get<std::string>(Find(rs, "s")->value), "open");
  EXPECT_EQ(Find(rs, "n"), nullptr);
  EXPECT_EQ(std::get<double>(Find(rs, "i")->value), -3.0);
  EXPECT_DOUBLE_EQ(std::get<double>(Find(rs, "big")->value), 18446744073709551615.0);
  EXPECT_EQ(std::get<double>(Find(rs, "e")->value), 1000.0);
}

TEST(FlattenTest, TopLevelScalarIsValue) {
  auto rs = Flat("42");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].key, "value");
  EXPECT_TRUE(Flat("{}").empty());
  EXPECT_TRUE(Flat("null").empty());
}

TEST(FlattenTest, IntegerBeyond64BitsStillParses) {
  auto rs = Flat(R"({"huge":123456789012345678901234567890})");
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_NEAR(std::get<double>(rs[0].value), 1.2345678901234568e29, 1e15);
}

TEST(FlattenTest, MalformedReportsBytePosition) {
  std::vector<Reading> out;
  Status st = FlattenJson(R"({"a": 1, "b": x})", 1, 0, out);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("at byte 15"), std::string::npos) << st.message();
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(FlattenJson("", 1, 0, out).code(), Code::kInvalidArgument);
  EXPECT_EQ(FlattenJson("{\"a\":1} trailing", 1, 0, out).code(), Code::kInvalidArgument);
  EXPECT_EQ(FlattenJson("{\"a\":\"\xff\"}", 1, 0, out).code(), Code::kInvalidArgument);
  Status inf = FlattenJson(R"({"a":1e999})", 1, 0, out);
  EXPECT_EQ(inf.code(), Code::kInvalidArgument);
  EXPECT_NE(inf.message().find("finite"), std::string::npos) << inf.message();
}

TEST(FlattenTest, DepthLimit) {
  std::string ok, deep;
  for (int i = 0; i < kMaxFlattenDepth; ++i) ok += "[";
  ok += "1";
  for (int i = 0; i < kMaxFlattenDepth; ++i) ok += "]";
  EXPECT_EQ(Flat(ok).size(), 1u);
  deep = "[" + ok + "]";
  std::vector<Reading> out;
  Status st = FlattenJson(deep, 1, 0, out);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("32"), std::string::npos) << st.message();
  // Far deeper than simdjson's own limit: still a clean error.
  std::string very(5000, '[');
  very += std::string(5000, ']');
  EXPECT_EQ(FlattenJson(very, 1, 0, out).code(), Code::kInvalidArgument);
}

TEST(FlattenTest, ReadingCountLimit) {
  std::string json = "[";
  for (size_t i = 0; i < kMaxReadingsPerMessage; ++i) json += (i ? ",1" : "1");
  std::string over = json + ",1]";
  json += "]";
  EXPECT_EQ(Flat(json).size(), kMaxReadingsPerMessage);
  std::vector<Reading> out(2);
  Status st = FlattenJson(over, 1, 0, out);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("1000"), std::string::npos) << st.message();
  EXPECT_EQ(out.size(), 2u) << "nothing appended on error";
}

TEST(FlattenTest, KeyLengthLimit) {
  std::string k200(kMaxKeyLength, 'k');
  EXPECT_EQ(Flat("{\"" + k200 + "\":1}").size(), 1u);
  std::vector<Reading> out;
  Status st = FlattenJson("{\"" + k200 + "\":{\"x\":1}}", 1, 0, out);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("200"), std::string::npos) << st.message();
}

TEST(FlattenTest, TopLevelTimeMember) {
  FlattenOptions opts;
  opts.take_top_level_time = true;
  auto rs = Flat(R"({"timestamp":"2026-01-02T03:04:05Z","t":1})", opts);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].key, "t");
  EXPECT_EQ(rs[0].ts, 1767323045000);
  rs = Flat(R"({"x":1,"ts":1767323045123})", opts);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].ts, 1767323045123);
  // Not a time: stays a reading, default time.
  rs = Flat(R"({"time":"noon","x":1})", opts);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].ts, 1000);
  // Without the option, it is just a value.
  rs = Flat(R"({"ts":5,"x":1})");
  EXPECT_EQ(rs.size(), 2u);
  // Nested time members are ordinary values.
  rs = Flat(R"({"a":{"ts":5}})", opts);
  ASSERT_EQ(rs.size(), 1u);
  EXPECT_EQ(rs[0].key, "a.ts");
  EXPECT_EQ(rs[0].ts, 1000);
}

}  // namespace
}  // namespace bysans::ingest

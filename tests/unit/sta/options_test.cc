#include <gtest/gtest.h>

#include <string>

#include "sta/query/query.h"

namespace bysans::sta {
namespace {

QueryOptions Parse(std::string_view q) {
  auto r = ParseQueryOptions(q);
  EXPECT_TRUE(r.ok()) << q << ": " << r.status().message();
  return r.ok() ? std::move(r).value() : QueryOptions{};
}

std::string ErrorOf(std::string_view q) {
  auto r = ParseQueryOptions(q);
  EXPECT_FALSE(r.ok()) << q;
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  return r.status().message();
}

TEST(StaOptions, SimpleOptions) {
  QueryOptions o = Parse("$top=10&$skip=20&$count=true&$resultFormat=dataArray&other=x");
  EXPECT_EQ(o.top, 10);
  EXPECT_EQ(o.skip, 20);
  EXPECT_TRUE(o.count);
  EXPECT_TRUE(o.data_array);
  EXPECT_EQ(o.filter, nullptr);
  QueryOptions none = Parse("");
  EXPECT_FALSE(none.top.has_value());
  EXPECT_FALSE(none.count);
  EXPECT_FALSE(Parse("?$count=false").count);
}

TEST(StaOptions, SelectAndOrderBy) {
  QueryOptions o = Parse("$select=id,name,%20properties/owner&$orderby=phenomenonTime%20desc,id");
  EXPECT_EQ(o.select, (std::vector<std::string>{"@iot.id", "name", "properties/owner"}));
  ASSERT_EQ(o.orderby.size(), 2u);
  EXPECT_EQ(o.orderby[0].path, (std::vector<std::string>{"phenomenonTime"}));
  EXPECT_TRUE(o.orderby[0].descending);
  EXPECT_EQ(o.orderby[1].path, (std::vector<std::string>{"@iot.id"}));
  EXPECT_FALSE(o.orderby[1].descending);
  QueryOptions plus = Parse("$orderby=Datastream/name+asc");
  EXPECT_EQ(plus.orderby[0].path, (std::vector<std::string>{"Datastream", "name"}));
}

TEST(StaOptions, FilterIsDecoded) {
  QueryOptions o = Parse("$filter=result%20gt%205%20and%20name%20eq%20'a%26b'");
  ASSERT_NE(o.filter, nullptr);
  EXPECT_EQ(o.filter->op, Op::kAnd);
}

TEST(StaOptions, NestedExpand) {
  QueryOptions o = Parse(
      "$expand=Datastreams($select=name;$expand=Observations($top=1;$orderby=phenomenonTime "
      "desc;$filter=result gt 1)),Locations,Datastreams/Sensor");
  ASSERT_EQ(o.expand.size(), 3u);
  const Expand& ds = o.expand[0];
  EXPECT_EQ(ds.path, (std::vector<std::string>{"Datastreams"}));
  ASSERT_NE(ds.options, nullptr);
  EXPECT_EQ(ds.options->select, (std::vector<std::string>{"name"}));
  ASSERT_EQ(ds.options->expand.size(), 1u);
  const QueryOptions& obs = *ds.options->expand[0].options;
  EXPECT_EQ(obs.top, 1);
  EXPECT_TRUE(obs.orderby.at(0).descending);
  ASSERT_NE(obs.filter, nullptr);
  EXPECT_EQ(obs.filter->op, Op::kGt);
  EXPECT_EQ(o.expand[1].options, nullptr);
  EXPECT_EQ(o.expand[2].path, (std::vector<std::string>{"Datastreams", "Sensor"}));
}

TEST(StaOptions, Errors) {
  EXPECT_NE(ErrorOf("$foo=1").find("unknown query option '$foo'"), std::string::npos);
  EXPECT_NE(ErrorOf("$top=-1").find("$top"), std::string::npos);
  EXPECT_NE(ErrorOf("$top=abc").find("non-negative integer"), std::string::npos);
  EXPECT_NE(ErrorOf("$count=yes").find("$count"), std::string::npos);
  EXPECT_NE(ErrorOf("$top=1&$top=2").find("repeated"), std::string::npos);
  EXPECT_NE(ErrorOf("$resultFormat=csv").find("resultFormat"), std::string::npos);
  EXPECT_NE(ErrorOf("$orderby=name%20sideways").find("'asc' or 'desc'"), std::string::npos);
  EXPECT_NE(ErrorOf("$filter=a%zz").find("bad percent escape at position 1"), std::string::npos);
  EXPECT_NE(ErrorOf("$select=name,,id").find("empty name"), std::string::npos);
}

TEST(StaOptions, ExpandErrorsNamePositionInTheWholeOption) {
  std::string e = ErrorOf("$expand=Datastreams($filter=result%20gt)");
  // "Datastreams($filter=result gt)": the missing operand is at 29
  EXPECT_EQ(e, "$expand: unexpected end of the expression at position 29");
  EXPECT_NE(ErrorOf("$expand=Datastreams($top=1").find("unbalanced '(' at position 11"),
            std::string::npos);
  EXPECT_NE(ErrorOf("$expand=Datastreams($top=1))").find("unbalanced ')'"), std::string::npos);
  EXPECT_NE(ErrorOf("$expand=Datastreams($bogus=1)").find("$bogus"), std::string::npos);
  EXPECT_NE(ErrorOf("$expand=Datastreams($top=1;$top=2)").find("repeated"), std::string::npos);
}

TEST(StaOptions, ExpandDepthLimit) {
  std::string deep = "$expand=";
  for (int i = 0; i < 100; ++i) deep += "Datastreams($expand=";
  deep += "Thing";
  for (int i = 0; i < 100; ++i) deep += ")";
  EXPECT_NE(ErrorOf(deep).find("nested deeper than 64"), std::string::npos);
  std::string ok = "$expand=";
  for (int i = 0; i < 10; ++i) ok += "Datastreams($expand=Thing($expand=";
  ok += "Locations";
  for (int i = 0; i < 20; ++i) ok += ")";
  Parse(ok);
}

TEST(StaOptions, EchoedInputIsEscapedAndShort) {
  EXPECT_EQ(ErrorOf("$filter=name%20eq%20%01"),
            "$filter: unexpected character '\\x01' at position 8");
  EXPECT_EQ(ErrorOf("$fo%FFo=1"), "unknown query option '$fo\\xffo'");
  std::string long_name(500, 'x');
  std::string e = ErrorOf("$filter=" + long_name + "(1)");
  EXPECT_EQ(e, "$filter: unknown function '" + std::string(60, 'x') + "...' at position 0");
}

TEST(StaOptions, TooLong) {
  std::string q = "$filter=" + std::string(100 * 1024, ' ') + "true";
  std::string e = ErrorOf(q);
  EXPECT_NE(e.find("too long"), std::string::npos) << e;
}

}  // namespace
}  // namespace bysans::sta

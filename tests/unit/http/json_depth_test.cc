#include "core/json_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace bysans {
namespace {

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(CheckJsonDepth, CountsContainersUpToTheLimit) {
  EXPECT_TRUE(CheckJsonDepth(Nested(64)).ok());
  Status st = CheckJsonDepth(Nested(65));
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(st.message(), "JSON nested deeper than 64 levels");
  EXPECT_FALSE(CheckJsonDepth(Nested(120'000)).ok());
  EXPECT_TRUE(CheckJsonDepth(R"({"a":{"b":[1,{"c":2}]},"d":[]})", 4).ok());
  EXPECT_FALSE(CheckJsonDepth(R"({"a":{"b":[1,{"c":2}]}})", 3).ok());
}

TEST(CheckJsonDepth, BracketsInsideStringsDoNotCount) {
  std::string s = "{\"k\":\"" + std::string(100, '[') + "\\\"" + std::string(100, '{') + "\"}";
  EXPECT_TRUE(CheckJsonDepth(s).ok());
  // An escaped backslash ends the escape: the quote after it closes the string.
  EXPECT_FALSE(CheckJsonDepth("[\"\\\\\"" + Nested(70) + "]").ok());
}

TEST(CheckJsonDepth, SiblingsDoNotAddUp) {
  std::string many;
  for (int i = 0; i < 1000; ++i) many += Nested(10) + ",";
  EXPECT_TRUE(CheckJsonDepth("[" + many + "1]").ok());
}

}  // namespace
}  // namespace bysans

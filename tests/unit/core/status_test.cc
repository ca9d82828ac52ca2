#include "core/status.h"

#include <gtest/gtest.h>

namespace bysans {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  BYSANS_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

}  // namespace

TEST(Status, ResultCarriesValueOrError) {
  EXPECT_EQ(Quarter(8).value(), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "odd");
  EXPECT_STREQ(CodeName(Code::kNotFound), "not_found");
}

}  // namespace bysans

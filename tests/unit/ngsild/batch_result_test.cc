#include "ngsild/batch_result.h"

#include <gtest/gtest.h>

namespace bysans::ngsild {
namespace {

TEST(BatchResultTest, ParsesSuccessesAndErrors) {
  auto r =
      ParseBatchResult(R"({"success":["urn:ngsi-ld:A:1"],"errors":[{"entityId":"urn:ngsi-ld:A:2",
      "error":{"type":"https://uri.etsi.org/ngsi-ld/errors/BadRequestData","title":"Bad request",
      "detail":"location is not GeoJSON"}}]})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->success.size(), 1u);
  EXPECT_EQ(r->success[0], "urn:ngsi-ld:A:1");
  ASSERT_EQ(r->errors.size(), 1u);
  EXPECT_EQ(r->errors[0].entity_id, "urn:ngsi-ld:A:2");
  EXPECT_EQ(r->errors[0].title, "Bad request");
  EXPECT_EQ(r->errors[0].detail, "location is not GeoJSON");
}

TEST(BatchResultTest, RefusesWhatIsNotOne) {
  EXPECT_FALSE(ParseBatchResult("not json").ok());
  EXPECT_FALSE(ParseBatchResult("[]").ok());
  EXPECT_FALSE(ParseBatchResult(R"({"x":1})").ok());
  EXPECT_FALSE(ParseBatchResult(std::string(100, '[') + std::string(100, ']')).ok());
}

TEST(BatchResultTest, CutsLongTexts) {
  auto r = ParseBatchResult(R"({"errors":[{"entityId":"x","error":{"title":")" +
                            std::string(5000, 'a') + R"("}}]})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->errors[0].title.size(), 500u);
}

TEST(BatchResultTest, ProblemSummary) {
  EXPECT_EQ(ProblemSummary(R"({"type":"x","title":"Bad","detail":"why"})"), "Bad: why");
  EXPECT_EQ(ProblemSummary(R"({"title":"Bad"})"), "Bad");
  EXPECT_EQ(ProblemSummary("<html>"), "");
}

}  // namespace
}  // namespace bysans::ngsild

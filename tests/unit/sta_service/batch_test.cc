// The $batch body (sta/batch.h): requests in order, their checks, "$<id>" urls. Pure: no store.
#include "sta/batch.h"

#include <gtest/gtest.h>

namespace bysans::sta {
namespace {

using json = nlohmann::json;

TEST(BatchTest, ParsesRequestsInOrder) {
  auto got =
      ParseBatch({{"requests",
                   {{{"id", "a"}, {"method", "post"}, {"url", "Things"}, {"body", {{"x", 1}}}},
                    {{"id", "b"},
                     {"method", "GET"},
                     {"url", "$a/Locations?$top=1"},
                     {"headers", {{"Accept", "application/json"}}},
                     {"dependsOn", {"a"}}}}}});
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].method, "POST");
  EXPECT_EQ((*got)[0].body, (json{{"x", 1}}));
  EXPECT_TRUE((*got)[1].body.is_null());
  EXPECT_EQ((*got)[1].depends_on, std::vector<std::string>{"a"});
}

TEST(BatchTest, RefusesWhatItCannotRunSafely) {
  auto req = [](json r) { return json{{"requests", json::array({std::move(r)})}}; };
  json ok = {{"id", "1"}, {"method", "GET"}, {"url", "Things"}};
  EXPECT_TRUE(ParseBatch(req(ok)).ok());
  for (const char* url : {"/api/v1/users", "../api", "Things/../../api", "http://x/y", "$batch",
                          "Things%2F..%2F..", "Th\\\\ings"}) {
    json r = ok;
    r["url"] = url;
    EXPECT_FALSE(ParseBatch(req(r)).ok()) << url;
  }
  json g = ok;
  g["atomicityGroup"] = "g";
  EXPECT_FALSE(ParseBatch(req(g)).ok());
  json m = ok;
  m["method"] = "PUT";
  EXPECT_FALSE(ParseBatch(req(m)).ok());
  json d = ok;
  d["dependsOn"] = {"later"};
  EXPECT_FALSE(ParseBatch(req(d)).ok());
  EXPECT_FALSE(ParseBatch({{"requests", {ok, ok}}}).ok());  // id repeated
  json many = json::array();
  for (size_t i = 0; i <= kMaxBatchRequests; ++i) {
    json r = ok;
    r["id"] = std::to_string(i);
    many.push_back(r);
  }
  EXPECT_FALSE(ParseBatch({{"requests", many}}).ok());
  EXPECT_FALSE(ParseBatch(json::array()).ok());
}

TEST(BatchTest, ResolvesCreatedEntities) {
  std::map<std::string, std::string> created = {{"t", "Things(7)"}};
  EXPECT_EQ(ResolveBatchUrl("$t", created).value(), "Things(7)");
  EXPECT_EQ(ResolveBatchUrl("$t/Locations?$top=1", created).value(), "Things(7)/Locations?$top=1");
  EXPECT_EQ(ResolveBatchUrl("Things", created).value(), "Things");
  EXPECT_FALSE(ResolveBatchUrl("$u/Locations", created).ok());
}

}  // namespace
}  // namespace bysans::sta

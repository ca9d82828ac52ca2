#include "http/message.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace bysans::http {
namespace {

std::string MessageOf(const Response& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.body;  // nlohmann refuses invalid UTF-8
  return j.is_discarded() ? std::string() : j["error"]["message"].get<std::string>();
}

TEST(ErrorResponse, InvalidUtf8BecomesReplacementCharacters) {
  std::string bad = std::string("id '") + "\xff\xfe" + "' \xc3\x28 \xed\xa0\x80 \xf0\x9f\x98";
  EXPECT_EQ(MessageOf(ErrorResponse(NotFound(bad))),
            "id '\xEF\xBF\xBD\xEF\xBF\xBD' \xEF\xBF\xBD( \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD "
            "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(ErrorResponse, ValidUtf8AndControlCharactersSurvive) {
  std::string text = "Bål \"1\"\n\t\x01 \xF0\x9F\x98\x80";
  EXPECT_EQ(MessageOf(ErrorResponse(InvalidArgument(text))), text);
}

TEST(ErrorResponse, InternalDetailIsNotShown) {
  Response r = ErrorResponse(Internal("step: no such table: devices"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(MessageOf(r), "internal error");
  EXPECT_EQ(r.body.find("devices"), std::string::npos);
}

}  // namespace
}  // namespace bysans::http

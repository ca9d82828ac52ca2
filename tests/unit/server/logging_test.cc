// The JSON log format (server/logging.h): every line is one JSON object, whatever the message.
#include "server/logging.h"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <nlohmann/json.hpp>
#include <string>

namespace bysans {
namespace {

std::string FormatLine(const std::string& format, const std::string& message) {
  auto f = MakeLogFormatter(format);
  spdlog::details::log_msg msg("bysans", spdlog::level::warn, message);
  spdlog::memory_buf_t out;
  f->format(msg, out);
  return std::string(out.data(), out.size());
}

TEST(JsonLog, MessagesWithQuotesBackslashesAndControlCharactersStayOneJsonLine) {
  const std::string message = "demo of \"Demo Kommune\" in C:\\data\n\tnext\x01 line";
  std::string line = FormatLine("json", message);
  ASSERT_EQ(line.back(), '\n');
  line.pop_back();
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << line;
  EXPECT_EQ(j.value("msg", ""), message);
  EXPECT_EQ(j.value("level", ""), "warning");
  EXPECT_EQ(j.value("logger", ""), "bysans");
  EXPECT_EQ(j.value("ts", "").size(), 24u);  // 2026-12-03T12:00:00.000Z
}

TEST(JsonLog, InvalidUtf8BecomesReplacementCharacters) {
  std::string line = FormatLine("json", "device \"\xff\xfe\" sent bytes");
  auto j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << line;
  EXPECT_EQ(j.value("msg", ""), "device \"\xEF\xBF\xBD\xEF\xBF\xBD\" sent bytes");
}

TEST(JsonLog, TextFormatKeepsTheMessageAsIs) {
  std::string line = FormatLine("text", "a \"quoted\" word");
  EXPECT_NE(line.find("a \"quoted\" word"), std::string::npos) << line;
}

}  // namespace
}  // namespace bysans

// Logging of `bysans serve`: the default spdlog logger on stderr, as text or as one JSON object
// per line (setting log.format). In JSON the message is escaped as a JSON string (quotes,
// backslashes, control characters; invalid UTF-8 becomes U+FFFD), so every line parses.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>

namespace bysans {

// The formatter of `format` ("json", else text). Exposed for tests.
std::unique_ptr<spdlog::formatter> MakeLogFormatter(const std::string& format);

// Makes a stderr logger named "bysans" with MakeLogFormatter(format) and `level` ("info",
// "debug", ...) the default logger.
void SetUpLogging(const std::string& format, const std::string& level);

}  // namespace bysans

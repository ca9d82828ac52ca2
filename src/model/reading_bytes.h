// About what a reading costs in an API answer (JSON or CSV): its key, unit and value as text and
// a row's fixed fields (device, name, time, quality). The byte budgets of answers that could
// otherwise be as large as the data (a text value can be a whole message body) count with it:
// the public open-data history and latest values, the API's latest values (api/latest_pages.h).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "model/model.h"

namespace bysans {

inline constexpr size_t kReadingRowOverheadBytes = 160;

// A reading of `key` and `unit` whose value is a text of `text_bytes` (nullopt: a number or a
// boolean); a store may know a text's size before it reads the text.
inline size_t ReadingBytes(std::string_view key, std::string_view unit,
                           std::optional<size_t> text_bytes) {
  const size_t value = text_bytes.value_or(24);  // a number or a boolean as text
  return kReadingRowOverheadBytes + key.size() + unit.size() + value;
}

inline size_t ReadingBytes(const Reading& r) {
  const auto* text = std::get_if<std::string>(&r.value);
  return ReadingBytes(r.key, r.unit, text ? std::optional<size_t>(text->size()) : std::nullopt);
}

}  // namespace bysans

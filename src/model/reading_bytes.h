// About what a reading costs in an API answer (JSON or CSV): its key, unit and value as text and
// a row's fixed fields (device, name, time, quality). The byte budgets of answers that could
// otherwise be as large as the data (a text value can be a whole message body) count with it:
// the public open-data history and latest values, the API's latest values (api/latest_pages.h).
#pragma once

#include <cstddef>
#include <string>
#include <variant>

#include "model/model.h"

namespace bysans {

inline constexpr size_t kReadingRowOverheadBytes = 160;

inline size_t ReadingBytes(const Reading& r) {
  const auto* text = std::get_if<std::string>(&r.value);
  const size_t value = text ? text->size() : 24;  // a number or a boolean as text
  return kReadingRowOverheadBytes + r.key.size() + r.unit.size() + value;
}

}  // namespace bysans

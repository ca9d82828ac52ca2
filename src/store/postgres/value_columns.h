// A reading's value as the columns `readings` stores it in (kind, num, txt), which a device's
// latest-value row (latest_row.h) uses too: kind 0 a number in num, 1 a text in txt, 2 a bool in
// num as 0 or 1. Pure code, no libpq.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "model/model.h"

namespace bysans::pg {

struct ValueColumns {
  int kind = 0;
  double num = 0;
  std::string txt;
};

inline ValueColumns ColumnsOf(const Value& v) {
  if (const double* d = std::get_if<double>(&v)) return {0, *d, {}};
  if (const bool* b = std::get_if<bool>(&v)) return {2, *b ? 1.0 : 0.0, {}};
  return {1, 0, std::get<std::string>(v)};
}

inline Value ValueOfColumns(int kind, double num, std::string_view txt) {
  if (kind == 1) return std::string(txt);
  if (kind == 2) return num != 0;
  return num;
}

}  // namespace bysans::pg

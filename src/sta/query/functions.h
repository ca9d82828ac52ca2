// The $filter's built-in functions (OGC 18-088 table "built-in query
// functions"): their arity for the parser and their implementation for the
// evaluator. Unknown or mistyped arguments yield null, never an error.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "sta/query/value.h"

namespace bysans::sta {

struct FunctionInfo {
  std::string_view name;
  int min_args = 0, max_args = 0;
  Value (*call)(const std::vector<Value>& args, int64_t now_ms) = nullptr;
};

// The function named `name` (lower-case, "geo.distance"); null when unknown.
const FunctionInfo* FindFunction(std::string_view name);

}  // namespace bysans::sta

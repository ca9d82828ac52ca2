// The $filter parser: OData operator precedence (primary, unary, mul,
// add, relational, equality, and, or) by precedence climbing, with the
// recursion depth checked before each step down (kMaxNesting).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sta/query/expr.h"

namespace bysans::sta {

// Parses `text`; positions in error messages are `base` + the offset in
// `text` (so nested options report positions in the whole option value).
Result<std::unique_ptr<Expr>> ParseFilterAt(std::string_view text, size_t base);

// Splits a path "Datastreams/Observations/result" into navigation segments
// and the property ("id" -> "@iot.id"); false when a segment is empty or has
// a character no name has.
bool SplitPath(std::string_view path, std::vector<std::string>* nav, std::string* property);

}  // namespace bysans::sta

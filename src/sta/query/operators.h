// The $filter's comparison and arithmetic operators on values.
#pragma once

#include "sta/query/expr.h"
#include "sta/query/value.h"

namespace bysans::sta {

// eq ne gt ge lt le: a boolean, false when the types do not compare (null
// only equals null). Time intervals ("start/end" strings, as phenomenonTime
// may be) compare as ranges with instants and with each other: a gt b when
// a starts after b ends, a ge b when a starts at or after b's end, lt / le
// alike, eq when both ends are equal.
Value Compare(Op op, const Value& a, const Value& b);

// add sub mul div mod: int64 stays int64 (overflow continues in double; div
// truncates; division by zero is null), numbers mix as double, time ±
// duration, time - time, duration ± duration; anything else null.
Value Arithmetic(Op op, const Value& a, const Value& b);

}  // namespace bysans::sta

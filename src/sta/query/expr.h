// The $filter abstract syntax tree. Built by the parser (filter_parser.h),
// read by the evaluator, Validate and BoundsOn. Immutable once built; its
// depth is bounded by the parser (kMaxNesting), so recursive walks are safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "sta/query/value.h"

namespace bysans::sta {

struct FunctionInfo;  // functions.h

enum class Op {
  // logical (n-ary and/or: a chain "a and b and c" is one node)
  kAnd,
  kOr,
  kNot,
  // comparison
  kEq,
  kNe,
  kGt,
  kGe,
  kLt,
  kLe,
  // arithmetic
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kNegate,
};

// "eq", "add", ..., "-" for kNegate.
const char* OpName(Op op);

struct Expr {
  enum class Kind { kLiteral, kProperty, kOperator, kFunction };
  Kind kind = Kind::kLiteral;
  size_t pos = 0;  // 0-based position in the $filter text
  int height = 1;  // levels of this subtree (the parser keeps it <= kMaxNesting)

  Value literal;  // kLiteral

  // kProperty: "Datastreams/Observations/result" is nav {"Datastreams",
  // "Observations"} and property "result"; "properties/owner" is property
  // "properties/owner". The id is always "@iot.id" (also when written "id").
  // A path of navigation only (no property) has an empty property.
  std::vector<std::string> nav;
  std::string property;

  Op op = Op::kAnd;                         // kOperator
  std::string function;                     // kFunction: lower-case name, "geo.distance"
  const FunctionInfo* fn = nullptr;         // kFunction: its implementation (set by the parser)
  std::vector<std::unique_ptr<Expr>> args;  // operands or function arguments
};

}  // namespace bysans::sta

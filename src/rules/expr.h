// Rule condition expressions: a small, side-effect-free language evaluated
// against a device's latest reading values. Hand-written lexer and
// recursive-descent parser with position-accurate errors.
//
// Grammar (keywords are case-insensitive, keys are case-sensitive):
//   condition  := or
//   or         := and ( 'or' and )*
//   and        := not ( 'and' not )*
//   not        := 'not' not | comparison
//   comparison := sum [ ( '>' | '>=' | '<' | '<=' | '==' | '!=' ) sum
//                     | 'between' sum 'and' sum ]            (inclusive)
//   sum        := product ( ( '+' | '-' ) product )*
//   product    := unary ( ( '*' | '/' ) unary )*
//   unary      := '-' unary | primary
//   primary    := number | "string" | true | false | key | '(' condition ')'
//   key        := name ( '.' segment )*      e.g. co2, air.no2
//               | `any text`                 e.g. `pm2.5`, `flow-rate`
//               | key("any text")
// Numbers: 1000, -3.5, 1e3. Strings: "open" with escapes \" \\ \n \t.
//
// Evaluation is three-valued: true, false or unknown. A comparison whose key
// has no value yet, or whose operands have mismatched types (a string compared
// with a number, `>` on strings), is unknown; division by zero is unknown.
// `and`/`or`/`not` follow Kleene logic. A rule fires only on true.
//
// Limits: 4096 bytes of text, 64 levels of nesting.
//
// Device health arrives as ordinary keys from the pipeline: battery (%),
// rssi (dBm), snr (dB), decode_errors_in_row, quality ("ok", "out_of_range",
// "stuck", "spike", "late"); see src/rules/README.md.
//
// Thread-compatible: a parsed Expr is immutable; const methods may be called
// from several threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans::rules {

inline constexpr size_t kMaxExpressionBytes = 4096;
inline constexpr int kMaxExpressionDepth = 64;

// Where a parse error is. offset is 0-based in bytes (== text size for "end of
// input"); line and column are 1-based. The Status message starts with
// "at <column>: " (single-line text) or "at line <l>, column <c>: ".
struct ParseError {
  size_t offset = 0;
  int line = 1;
  int column = 1;
  std::string message;  // without the position prefix, e.g. "expected a value after '>'"
};

enum class Truth : uint8_t { kFalse = 0, kTrue = 1, kUnknown = 2 };
const char* TruthName(Truth t);

class Expr {
 public:
  // Looks a key up in the device's latest values; nullptr when absent.
  using Lookup = std::function<const Value*(std::string_view key)>;

  // Parses `text`. On failure returns InvalidArgument with a positioned
  // message and, when `error` is not null, fills it.
  static Result<Expr> Parse(std::string_view text, ParseError* error = nullptr);

  Expr();
  ~Expr();
  Expr(const Expr&);
  Expr& operator=(const Expr&);
  Expr(Expr&&) noexcept;
  Expr& operator=(Expr&&) noexcept;

  // Evaluates against the values returned by `lookup` (called once per key).
  Truth Evaluate(const Lookup& lookup) const;

  // Fast path: slots[i] is the value of Keys()[i] (or nullptr). slots.size()
  // must equal Keys().size().
  Truth EvaluateSlots(std::span<const Value* const> slots) const;

  // Distinct keys referenced, in order of first appearance.
  const std::vector<std::string>& Keys() const;

  // The source text as given to Parse.
  const std::string& text() const;

  // A fully parenthesised canonical form, for tests and debugging.
  std::string ToString() const;

  struct Program;

 private:
  explicit Expr(std::unique_ptr<Program> p);
  std::unique_ptr<Program> p_;
};

}  // namespace bysans::rules

#include "expr_fuzz_check.h"

#include "rules/expr.h"

namespace bysans::rules::fuzz {

std::string CheckExpression(std::string_view input) {
  ParseError pe;
  auto parsed = Expr::Parse(input, &pe);
  if (!parsed.ok()) {
    if (pe.offset > input.size()) return "error offset outside the input";
    if (pe.line < 1 || pe.column < 1) return "bad line/column";
    if (parsed.status().message().rfind("at ", 0) != 0) return "message without position";
    if (pe.message.empty()) return "empty message";
    return "";
  }
  const Expr& e = *parsed;
  Value num = 1.5, str = std::string("open"), boolean = true;
  int n = 0;
  auto lookup = [&](std::string_view) -> const Value* {
    switch (n++ % 4) {
      case 0:
        return &num;
      case 1:
        return &str;
      case 2:
        return &boolean;
      default:
        return nullptr;
    }
  };
  (void)e.Evaluate(lookup);
  std::string canonical = e.ToString();
  auto again = Expr::Parse(canonical);
  if (!again.ok()) {
    const std::string& m = again.status().message();
    if (m.find("nested deeper") != std::string::npos ||
        m.find("longer than") != std::string::npos) {
      return "";
    }
    return "canonical form does not parse: " + m + " in " + canonical;
  }
  if (again->ToString() != canonical) return "canonical form is not stable: " + canonical;
  if (again->Keys() != e.Keys()) return "keys differ after round trip";
  return "";
}

}  // namespace bysans::rules::fuzz

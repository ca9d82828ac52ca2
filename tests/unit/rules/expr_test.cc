#include "rules/expr.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace bysans::rules {
namespace {

struct ParseCase {
  const char* text;
  const char* canonical;
};

TEST(ExprParse, PrecedenceAndForms) {
  const ParseCase cases[] = {
      {"co2 > 1000", "(co2 > 1000)"},
      {"co2 >= 1000", "(co2 >= 1000)"},
      {"co2<900", "(co2 < 900)"},
      {"co2 <= 900", "(co2 <= 900)"},
      {"door == \"open\"", "(door == \"open\")"},
      {"door != \"open\"", "(door != \"open\")"},
      {"alarm == true", "(alarm == true)"},
      {"alarm", "alarm"},
      {"a > 1 and b > 2 or c > 3", "(((a > 1) and (b > 2)) or (c > 3))"},
      {"a > 1 or b > 2 and c > 3", "((a > 1) or ((b > 2) and (c > 3)))"},
      {"not a > 1 and b > 2", "((not (a > 1)) and (b > 2))"},
      {"not not alarm", "(not (not alarm))"},
      {"(a > 1 or b > 2) and c > 3", "(((a > 1) or (b > 2)) and (c > 3))"},
      {"temperature between 18 and 24", "(temperature between 18 and 24)"},
      {"t between 18 and 24 and co2 > 1000", "((t between 18 and 24) and (co2 > 1000))"},
      {"t between -5 and 2.5", "(t between -5 and 2.5)"},
      {"air.no2 > 40", "(air.no2 > 40)"},
      {"a.b.c1 > 0", "(a.b.c1 > 0)"},
      {"`pm2.5` > 25", "(pm2.5 > 25)"},
      {"pm2.5 > 25", "(pm2.5 > 25)"},
      {"`and` > 1 or `x-y` > 2", "((`and` > 1) or (`x-y` > 2))"},
      {"key(\"flow-rate\") > 3", "(`flow-rate` > 3)"},
      {"key( \"x y\" ) == 1", "(`x y` == 1)"},
      {"t > -3.5", "(t > -3.5)"},
      {"t > - 3", "(t > -3)"},
      {"t > -(a)", "(t > (-a))"},
      {"a + b * 2 > 10", "((a + (b * 2)) > 10)"},
      {"(a + b) * 2 > 10", "(((a + b) * 2) > 10)"},
      {"a - b - c > 0", "(((a - b) - c) > 0)"},
      {"a / 2 > 1e3", "((a / 2) > 1000)"},
      {"x > 1.5E-2", "(x > 0.015)"},
      {"A > 1 AND B > 2 Or NOT c", "(((A > 1) and (B > 2)) or (not c))"},
      {"TRUE == alarm", "(true == alarm)"},
      {"(((co2 > 1)))", "(co2 > 1)"},
      {"co2\n  > 1000", "(co2 > 1000)"},
      {"s == \"a\\\"b\\\\c\"", "(s == \"a\\\"b\\\\c\")"},
      {"battery < 20 or rssi < -120", "((battery < 20) or (rssi < -120))"},
      {"quality != \"ok\"", "(quality != \"ok\")"},
      {"key > 1", "(key > 1)"},
      {"key(\"a`b\") > 1", "(key(\"a`b\") > 1)"},
  };
  for (const auto& c : cases) {
    auto e = Expr::Parse(c.text);
    ASSERT_TRUE(e.ok()) << c.text << ": " << e.status().message();
    EXPECT_EQ(e->ToString(), c.canonical) << c.text;
    // The canonical form parses to itself.
    auto again = Expr::Parse(e->ToString());
    ASSERT_TRUE(again.ok()) << e->ToString() << ": " << again.status().message();
    EXPECT_EQ(again->ToString(), c.canonical);
  }
}

TEST(ExprParse, KeysInOrderOfFirstUse) {
  auto e = Expr::Parse("co2 > 1000 and (temperature > 24 or co2 > 2000) and `pm2.5` > 1");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->Keys(), (std::vector<std::string>{"co2", "temperature", "pm2.5"}));
  EXPECT_EQ(e->text(), "co2 > 1000 and (temperature > 24 or co2 > 2000) and `pm2.5` > 1");
}

struct ErrorCase {
  std::string text;
  std::string message;  // full Status message
  size_t offset;
};

TEST(ExprParse, ErrorsNamePosition) {
  const ErrorCase cases[] = {
      {"", "at 1: expected a condition, got end of input", 0},
      {"   ", "at 4: expected a condition, got end of input", 3},
      {"co2 >", "at 6: expected a number after '>', got end of input", 5},
      {"co2 > and", "at 7: expected a number after '>', got 'and'", 6},
      {"co2 == ", "at 8: expected a value after '==', got end of input", 7},
      {"co2 > 1000 and", "at 15: expected a condition after 'and', got end of input", 14},
      {"not", "at 4: expected a condition after 'not', got end of input", 3},
      {"and co2 > 1", "at 1: expected a condition, got 'and'", 0},
      {"co2 > \"high\"", "at 7: expected a number after '>', got a string", 6},
      {"\"x\" < co2", "at 1: expected a number before '<', got a string", 0},
      {"co2 > 1000 1", "at 12: unexpected '1' after a complete condition", 11},
      {"co2 > 1000)", "at 11: unexpected ')' with no matching '('", 10},
      {"(co2 > 1000", "at 12: expected ')' to close the '(' at 1, got end of input", 11},
      {"co2 > 10 # x", "at 10: unexpected character '#'", 9},
      {"co2 = 5", "at 5: unexpected '='; use '==' to compare", 4},
      {"!alarm", "at 1: unexpected '!'; use '!=' or 'not'", 0},
      {"a > 1 && b > 2", "at 7: unexpected '&'; use 'and'", 6},
      {"a > 1 || b > 2", "at 7: unexpected '|'; use 'or'", 6},
      {"door == 'open'", "at 9: unexpected \"'\"; strings use double quotes", 8},
      {"door == \"open", "at 9: unterminated string (missing '\"')", 8},
      {"door == \"a\\qb\"", "at 11: unknown escape '\\q' in string (use \\\" \\\\ \\n or \\t)", 10},
      {"`pm2.5 > 1", "at 1: unterminated quoted key (missing '`')", 0},
      {"`` > 1", "at 1: empty quoted key", 0},
      {"key(pm) > 1", "at 5: expected a quoted key name after 'key('", 4},
      {"key(\"pm\" > 1", "at 10: expected ')' after the key name", 9},
      {"co2 > 1.", "at 9: expected a digit after '.'", 8},
      {"co2 > 1e", "at 9: expected a digit in the exponent", 8},
      {"co2 > 1000ppm", "at 11: unexpected 'p' after a number", 10},
      {"co2 > .5", "at 7: a number must start with a digit (write 0.5, not .5)", 6},
      {"co2 > 1e999", "at 7: number out of range", 6},
      {"air. > 1", "at 5: expected a key segment after '.'", 4},
      {"t between 1 or 2", "at 13: expected 'and' in 'between ... and ...', got 'or'", 12},
      {"t between \"a\" and 2", "at 11: expected a number after 'between', got a string", 10},
      {"t between 1 and true", "at 17: expected a number after 'and', got a condition", 16},
      {"5", "at 1: expected a condition, got a number", 0},
      {"co2 + 1", "at 1: expected a condition, got a number", 0},
      {"\"open\"", "at 1: expected a condition, got a string", 0},
      {"co2 > 1 and 5", "at 13: expected a condition after 'and', got a number", 12},
      {"5 or co2 > 1", "at 1: expected a condition before 'or', got a number", 0},
      {"not 5", "at 5: expected a condition after 'not', got a number", 4},
      {"\"a\" == 5", "at 5: cannot compare a string with a number", 4},
      {"true != 1", "at 6: cannot compare a condition with a number", 5},
      {"a + \"b\" > 1", "at 5: expected a number after '+', got a string", 4},
      {"-\"b\" > 1", "at 2: expected a number after '-', got a string", 1},
      {"a * true > 1", "at 5: expected a number after '*', got a condition", 4},
      {"co2 >\n  \"x\"", "at line 2, column 3: expected a number after '>', got a string", 8},
      {"a >\x01 1", "at 4: unexpected character byte 0x01", 3},
  };
  for (const auto& c : cases) {
    ParseError pe;
    auto e = Expr::Parse(c.text, &pe);
    ASSERT_FALSE(e.ok()) << c.text;
    EXPECT_EQ(e.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(e.status().message(), c.message) << "input: " << c.text;
    EXPECT_EQ(pe.offset, c.offset) << "input: " << c.text;
    EXPECT_LE(pe.offset, c.text.size());
  }
}

TEST(ExprParse, LineAndColumn) {
  ParseError pe;
  auto e = Expr::Parse("co2 > 1000\nand\n  temp >", &pe);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(pe.line, 3);
  EXPECT_EQ(pe.column, 9);
  EXPECT_EQ(pe.offset, 23u);
  EXPECT_EQ(pe.message, "expected a number after '>', got end of input");
}

TEST(ExprParse, Limits) {
  std::string deep(kMaxExpressionDepth, '(');
  deep += "a > 1";
  deep += std::string(kMaxExpressionDepth, ')');
  EXPECT_TRUE(Expr::Parse(deep).ok());

  std::string too_deep(kMaxExpressionDepth + 1, '(');
  too_deep += "a > 1";
  too_deep += std::string(kMaxExpressionDepth + 1, ')');
  ParseError pe;
  auto e = Expr::Parse(too_deep, &pe);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "at 65: expression is nested deeper than 64 levels");

  std::string nots;
  for (int i = 0; i < 100; ++i) nots += "not ";
  nots += "a";
  EXPECT_FALSE(Expr::Parse(nots).ok());
  EXPECT_FALSE(Expr::Parse(std::string(200, '-') + "a > 1").ok());

  std::string longest = "a > 1";
  while (longest.size() + 10 <= kMaxExpressionBytes) longest += " or a > 1";
  EXPECT_TRUE(Expr::Parse(longest).ok());
  std::string too_long = "a > 1" + std::string(kMaxExpressionBytes, ' ');
  auto l = Expr::Parse(too_long, &pe);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.status().message(), "at 4097: expression is longer than 4096 bytes");
}

class Values {
 public:
  Values& Set(std::string k, Value v) {
    m_[std::move(k)] = std::move(v);
    return *this;
  }
  Expr::Lookup lookup() const {
    return [this](std::string_view k) -> const Value* {
      auto it = m_.find(std::string(k));
      return it == m_.end() ? nullptr : &it->second;
    };
  }

 private:
  std::map<std::string, Value> m_;
};

Truth Eval(const std::string& text, const Values& v) {
  auto e = Expr::Parse(text);
  EXPECT_TRUE(e.ok()) << text << ": " << e.status().message();
  if (!e.ok()) return Truth::kUnknown;
  return e->Evaluate(v.lookup());
}

constexpr Truth T = Truth::kTrue;
constexpr Truth F = Truth::kFalse;
constexpr Truth U = Truth::kUnknown;

TEST(ExprEval, Comparisons) {
  Values v;
  v.Set("co2", 1001.0).Set("t", 18.0).Set("door", std::string("open")).Set("alarm", true);
  v.Set("air.no2", 41.0).Set("pm2.5", 30.0).Set("rssi", -121.0);
  EXPECT_EQ(Eval("co2 > 1000", v), T);
  EXPECT_EQ(Eval("co2 > 1001", v), F);
  EXPECT_EQ(Eval("co2 >= 1001", v), T);
  EXPECT_EQ(Eval("co2 < 1001", v), F);
  EXPECT_EQ(Eval("co2 <= 1001", v), T);
  EXPECT_EQ(Eval("co2 == 1001", v), T);
  EXPECT_EQ(Eval("co2 != 1001", v), F);
  EXPECT_EQ(Eval("t between 18 and 24", v), T);
  EXPECT_EQ(Eval("t between 18.5 and 24", v), F);
  EXPECT_EQ(Eval("door == \"open\"", v), T);
  EXPECT_EQ(Eval("door != \"open\"", v), F);
  EXPECT_EQ(Eval("alarm == true", v), T);
  EXPECT_EQ(Eval("alarm", v), T);
  EXPECT_EQ(Eval("not alarm", v), F);
  EXPECT_EQ(Eval("air.no2 > 40", v), T);
  EXPECT_EQ(Eval("`pm2.5` > 25", v), T);
  EXPECT_EQ(Eval("key(\"pm2.5\") > 35", v), F);
  EXPECT_EQ(Eval("rssi < -120", v), T);
  EXPECT_EQ(Eval("co2 - 1 == 1000", v), T);
  EXPECT_EQ(Eval("co2 / 0 > 1", v), U);
  EXPECT_EQ(Eval("(co2 > 1000) == true", v), T);
}

TEST(ExprEval, ThreeValuedLogic) {
  Values v;
  v.Set("a", 1.0).Set("s", std::string("x"));
  // "missing" has no value: every comparison on it is unknown.
  EXPECT_EQ(Eval("missing > 1", v), U);
  EXPECT_EQ(Eval("not missing > 1", v), U);
  EXPECT_EQ(Eval("missing > 1 and a > 0", v), U);
  EXPECT_EQ(Eval("missing > 1 and a > 5", v), F);
  EXPECT_EQ(Eval("missing > 1 or a > 0", v), T);
  EXPECT_EQ(Eval("missing > 1 or a > 5", v), U);
  EXPECT_EQ(Eval("missing between 1 and 2", v), U);
  // Type mismatches at run time are unknown, not false.
  EXPECT_EQ(Eval("s > 1", v), U);
  EXPECT_EQ(Eval("s == 1", v), U);
  EXPECT_EQ(Eval("a == \"x\"", v), U);
  EXPECT_EQ(Eval("a", v), U);  // a number is not a condition
  EXPECT_EQ(Eval("s + 1 > 0", v), U);
}

TEST(ExprEval, EvaluateSlotsMatchesLookup) {
  auto e = Expr::Parse("a > 1 and b == \"x\"");
  ASSERT_TRUE(e.ok());
  Value a = 2.0, b = std::string("x");
  const Value* slots[] = {&a, &b};
  EXPECT_EQ(e->EvaluateSlots(slots), T);
  const Value* missing[] = {&a, nullptr};
  EXPECT_EQ(e->EvaluateSlots(missing), U);
  const Value* wrong_size[] = {&a};
  EXPECT_EQ(e->EvaluateSlots(wrong_size), U);
}

TEST(ExprEval, CopyKeepsProgram) {
  auto e = Expr::Parse("a > 1");
  ASSERT_TRUE(e.ok());
  Expr copy = *e;
  Expr moved = std::move(copy);
  Values v;
  v.Set("a", 2.0);
  EXPECT_EQ(moved.Evaluate(v.lookup()), T);
  Expr empty;
  EXPECT_EQ(empty.Evaluate(v.lookup()), U);
  EXPECT_TRUE(empty.Keys().empty());
}

}  // namespace
}  // namespace bysans::rules

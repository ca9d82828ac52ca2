#include "rules/expr.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <utility>

namespace bysans::rules {

const char* TruthName(Truth t) {
  switch (t) {
    case Truth::kFalse:
      return "false";
    case Truth::kTrue:
      return "true";
    case Truth::kUnknown:
      return "unknown";
  }
  return "unknown";
}

namespace {

enum class Tok : uint8_t {
  kEnd,
  kError,
  kNumber,
  kString,
  kKey,
  kTrue,
  kFalse,
  kAnd,
  kOr,
  kNot,
  kBetween,
  kLParen,
  kRParen,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kGt,
  kGe,
  kLt,
  kLe,
  kEq,
  kNe,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t pos = 0;
  size_t len = 0;
  double num = 0;
  std::string str;  // string literal / key name / error message
};

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != b[i]) return false;
  }
  return true;
}

std::string DescribeChar(char c) {
  auto u = static_cast<unsigned char>(c);
  char buf[32];
  if (u >= 0x21 && u < 0x7f) {
    std::snprintf(buf, sizeof buf, "'%c'", c);
  } else {
    std::snprintf(buf, sizeof buf, "byte 0x%02x", u);
  }
  return buf;
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Token Next() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
    Token t;
    t.pos = i_;
    if (i_ >= s_.size()) return Finish(t, Tok::kEnd);
    char c = s_[i_];
    if (IsDigit(c)) return Number(t);
    if (IsAlpha(c)) return Word(t);
    if (c == '"') {
      ++i_;
      if (!StringBody('"', &t.str, t.pos)) return err_;
      return Finish(t, Tok::kString);
    }
    if (c == '`') {
      ++i_;
      size_t start = i_;
      while (i_ < s_.size() && s_[i_] != '`') ++i_;
      if (i_ >= s_.size()) return Error(t.pos, "unterminated quoted key (missing '`')");
      t.str.assign(s_.substr(start, i_ - start));
      ++i_;
      if (t.str.empty()) return Error(t.pos, "empty quoted key");
      return Finish(t, Tok::kKey);
    }
    ++i_;
    auto two = [&](char next, Tok yes, Tok no) {
      if (i_ < s_.size() && s_[i_] == next) {
        ++i_;
        return Finish(t, yes);
      }
      return Finish(t, no);
    };
    switch (c) {
      case '(':
        return Finish(t, Tok::kLParen);
      case ')':
        return Finish(t, Tok::kRParen);
      case '+':
        return Finish(t, Tok::kPlus);
      case '-':
        return Finish(t, Tok::kMinus);
      case '*':
        return Finish(t, Tok::kStar);
      case '/':
        return Finish(t, Tok::kSlash);
      case '>':
        return two('=', Tok::kGe, Tok::kGt);
      case '<':
        return two('=', Tok::kLe, Tok::kLt);
      case '=':
        if (i_ < s_.size() && s_[i_] == '=') {
          ++i_;
          return Finish(t, Tok::kEq);
        }
        return Error(t.pos, "unexpected '='; use '==' to compare");
      case '!':
        if (i_ < s_.size() && s_[i_] == '=') {
          ++i_;
          return Finish(t, Tok::kNe);
        }
        return Error(t.pos, "unexpected '!'; use '!=' or 'not'");
      case '&':
        return Error(t.pos, "unexpected '&'; use 'and'");
      case '|':
        return Error(t.pos, "unexpected '|'; use 'or'");
      case '\'':
        return Error(t.pos, "unexpected \"'\"; strings use double quotes");
      case '.':
        return Error(t.pos, "a number must start with a digit (write 0.5, not .5)");
      default:
        return Error(t.pos, "unexpected character " + DescribeChar(c));
    }
  }

  std::string_view Slice(const Token& t) const { return s_.substr(t.pos, t.len); }

 private:
  Token Finish(Token& t, Tok kind) {
    t.kind = kind;
    t.len = i_ - t.pos;
    return std::move(t);
  }

  Token Error(size_t pos, std::string msg) {
    Token t;
    t.kind = Tok::kError;
    t.pos = pos;
    t.len = 0;
    t.str = std::move(msg);
    i_ = s_.size();  // stop lexing
    return t;
  }

  Token Number(Token& t) {
    size_t start = i_;
    while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (i_ >= s_.size() || !IsDigit(s_[i_])) return Error(i_, "expected a digit after '.'");
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= s_.size() || !IsDigit(s_[i_])) {
        return Error(i_, "expected a digit in the exponent");
      }
      while (i_ < s_.size() && IsDigit(s_[i_])) ++i_;
    }
    if (i_ < s_.size() && (IsAlpha(s_[i_]) || s_[i_] == '.')) {
      return Error(i_, "unexpected " + DescribeChar(s_[i_]) + " after a number");
    }
    double v = 0;
    auto r = std::from_chars(s_.data() + start, s_.data() + i_, v);
    if (r.ec != std::errc() || !std::isfinite(v)) {
      return Error(start, "number out of range");
    }
    t.num = v;
    return Finish(t, Tok::kNumber);
  }

  Token Word(Token& t) {
    size_t start = i_;
    while (i_ < s_.size() && IsAlnum(s_[i_])) ++i_;
    std::string_view first = s_.substr(start, i_ - start);
    bool dotted = false;
    while (i_ < s_.size() && s_[i_] == '.') {
      dotted = true;
      ++i_;
      if (i_ >= s_.size() || !IsAlnum(s_[i_])) {
        return Error(i_, "expected a key segment after '.'");
      }
      while (i_ < s_.size() && IsAlnum(s_[i_])) ++i_;
    }
    if (!dotted) {
      if (EqualsNoCase(first, "and")) return Finish(t, Tok::kAnd);
      if (EqualsNoCase(first, "or")) return Finish(t, Tok::kOr);
      if (EqualsNoCase(first, "not")) return Finish(t, Tok::kNot);
      if (EqualsNoCase(first, "between")) return Finish(t, Tok::kBetween);
      if (EqualsNoCase(first, "true")) return Finish(t, Tok::kTrue);
      if (EqualsNoCase(first, "false")) return Finish(t, Tok::kFalse);
      if (first == "key" && i_ < s_.size() && s_[i_] == '(') {
        ++i_;
        while (i_ < s_.size() && s_[i_] == ' ') ++i_;
        if (i_ >= s_.size() || s_[i_] != '"') {
          return Error(i_, "expected a quoted key name after 'key('");
        }
        size_t qpos = i_;
        ++i_;
        if (!StringBody('"', &t.str, qpos)) return err_;
        while (i_ < s_.size() && s_[i_] == ' ') ++i_;
        if (i_ >= s_.size() || s_[i_] != ')') return Error(i_, "expected ')' after the key name");
        ++i_;
        if (t.str.empty()) return Error(qpos, "empty quoted key");
        return Finish(t, Tok::kKey);
      }
    }
    t.str.assign(s_.substr(start, i_ - start));
    return Finish(t, Tok::kKey);
  }

  // Reads up to the closing quote (the opening one is consumed). On failure
  // stores the error token in err_ and returns false.
  bool StringBody(char quote, std::string* out, size_t open_pos) {
    while (i_ < s_.size() && s_[i_] != quote) {
      char c = s_[i_];
      if (c == '\\') {
        if (i_ + 1 >= s_.size()) break;
        char e = s_[i_ + 1];
        switch (e) {
          case '"':
            out->push_back('"');
            break;
          case '\\':
            out->push_back('\\');
            break;
          case 'n':
            out->push_back('\n');
            break;
          case 't':
            out->push_back('\t');
            break;
          default:
            err_ = Error(i_, "unknown escape '\\" + std::string(1, e) +
                                 R"(' in string (use \" \\ \n or \t))");
            return false;
        }
        i_ += 2;
        continue;
      }
      out->push_back(c);
      ++i_;
    }
    if (i_ >= s_.size()) {
      err_ = Error(open_pos, "unterminated string (missing '\"')");
      return false;
    }
    ++i_;  // closing quote
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
  Token err_;
};

enum class Op : uint8_t {
  kNum,
  kStr,
  kBool,
  kKey,
  kNeg,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kGt,
  kGe,
  kLt,
  kLe,
  kEq,
  kNe,
  kBetween,
  kNot,
  kAnd,
  kOr,
};

// Static type known at parse time; kAny for keys (known only at run time).
enum class SType : uint8_t { kNumber, kString, kBoolean, kAny };

const char* STypeName(SType t) {
  switch (t) {
    case SType::kNumber:
      return "a number";
    case SType::kString:
      return "a string";
    case SType::kBoolean:
      return "a condition";
    case SType::kAny:
      return "a key";
  }
  return "a value";
}

const char* OpText(Op op) {
  switch (op) {
    case Op::kAdd:
      return "+";
    case Op::kSub:
      return "-";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kEq:
      return "==";
    case Op::kNe:
      return "!=";
    case Op::kAnd:
      return "and";
    case Op::kOr:
      return "or";
    case Op::kNot:
      return "not";
    case Op::kNeg:
      return "-";
    case Op::kBetween:
      return "between";
    default:
      return "?";
  }
}

}  // namespace

struct Expr::Program {
  struct Node {
    Op op = Op::kNum;
    SType type = SType::kAny;
    int32_t a = -1, b = -1, c = -1;
    uint32_t slot = 0;
    bool boolean = false;
    double num = 0;
    size_t pos = 0;
    std::string str;
  };
  std::string text;
  std::vector<Node> nodes;
  std::vector<std::string> keys;
  int32_t root = -1;
};

namespace {

using Program = Expr::Program;
using Node = Program::Node;

class Parser {
 public:
  Parser(std::string_view text, Program* prog) : lex_(text), prog_(prog) {}

  bool Run(ParseError* err) {
    Advance();
    int32_t root = ParseOr();
    if (root >= 0 && cur_.kind != Tok::kEnd) {
      if (cur_.kind == Tok::kError) {
        Fail(cur_.pos, cur_.str);
      } else if (cur_.kind == Tok::kRParen) {
        Fail(cur_.pos, "unexpected ')' with no matching '('");
      } else {
        Fail(cur_.pos, "unexpected " + Quote(cur_) + " after a complete condition");
      }
    }
    if (root >= 0 && !failed_) RequireCondition(root, "expected a condition, got ");
    if (failed_) {
      *err = error_;
      return false;
    }
    prog_->root = root;
    return true;
  }

 private:
  void Advance() {
    prev_ = std::move(cur_);
    cur_ = lex_.Next();
  }

  std::string Quote(const Token& t) const {
    if (t.kind == Tok::kEnd) return "end of input";
    std::string_view s = lex_.Slice(t);
    if (s.size() > 24) return "'" + std::string(s.substr(0, 24)) + "...'";
    return "'" + std::string(s) + "'";
  }

  void Fail(size_t pos, std::string msg) {
    if (failed_) return;
    failed_ = true;
    error_.offset = pos;
    error_.message = std::move(msg);
  }

  int32_t Add(Node n) {
    prog_->nodes.push_back(std::move(n));
    return static_cast<int32_t>(prog_->nodes.size() - 1);
  }
  Node& At(int32_t i) { return prog_->nodes[static_cast<size_t>(i)]; }

  bool Enter() {
    if (++depth_ > kMaxExpressionDepth) {
      Fail(cur_.pos,
           "expression is nested deeper than " + std::to_string(kMaxExpressionDepth) + " levels");
      return false;
    }
    return true;
  }

  // Checks that node i can be used as a condition.
  bool RequireCondition(int32_t i, const std::string& prefix) {
    SType t = At(i).type;
    if (t == SType::kBoolean || t == SType::kAny) return true;
    Fail(At(i).pos, prefix + STypeName(t));
    return false;
  }
  bool RequireNumber(int32_t i, const std::string& prefix) {
    SType t = At(i).type;
    if (t == SType::kNumber || t == SType::kAny) return true;
    Fail(At(i).pos, prefix + STypeName(t));
    return false;
  }

  // The operator of a level that token kind `k` is, if it is one of `ops` (token, operator).
  static std::optional<Op> OneOf(Tok k, std::initializer_list<std::pair<Tok, Op>> ops) {
    for (const auto& [tok, op] : ops)
      if (tok == k) return op;
    return std::nullopt;
  }

  // One left-associative level of binary operators: operand (op operand)*, with the level's
  // operators `ops`; both sides conditions giving a condition (`logical`), or numbers giving a
  // number. The operands are parsed by `operand`, the next level down.
  int32_t ParseLevel(int32_t (Parser::*operand)(), std::initializer_list<std::pair<Tok, Op>> ops,
                     bool logical) {
    int32_t left = (this->*operand)();
    while (left >= 0) {
      const std::optional<Op> op = OneOf(cur_.kind, ops);
      if (!op) break;
      const size_t op_pos = cur_.pos;
      Advance();
      const int32_t right = (this->*operand)();
      if (right < 0) return -1;
      const std::string what = logical ? "expected a condition " : "expected a number ";
      const std::string text(OpText(*op));
      for (const auto& [side, where] : {std::pair{left, "before '"}, std::pair{right, "after '"}}) {
        const std::string prefix = what + where + text + "', got ";
        if (!(logical ? RequireCondition(side, prefix) : RequireNumber(side, prefix))) return -1;
      }
      left = MakeBinary(*op, logical ? SType::kBoolean : SType::kNumber, left, right, op_pos);
    }
    return left;
  }

  int32_t ParseOr() { return ParseLevel(&Parser::ParseAnd, {{Tok::kOr, Op::kOr}}, true); }
  int32_t ParseAnd() { return ParseLevel(&Parser::ParseNot, {{Tok::kAnd, Op::kAnd}}, true); }

  int32_t ParseNot() {
    if (cur_.kind != Tok::kNot) return ParseComparison();
    size_t pos = cur_.pos;
    if (!Enter()) return -1;
    Advance();
    int32_t operand = ParseNot();
    --depth_;
    if (operand < 0) return -1;
    if (!RequireCondition(operand, "expected a condition after 'not', got ")) return -1;
    Node n;
    n.op = Op::kNot;
    n.type = SType::kBoolean;
    n.a = operand;
    n.pos = pos;
    return Add(std::move(n));
  }

  static bool IsCompare(Tok k, Op* op) {
    switch (k) {
      case Tok::kGt:
        *op = Op::kGt;
        return true;
      case Tok::kGe:
        *op = Op::kGe;
        return true;
      case Tok::kLt:
        *op = Op::kLt;
        return true;
      case Tok::kLe:
        *op = Op::kLe;
        return true;
      case Tok::kEq:
        *op = Op::kEq;
        return true;
      case Tok::kNe:
        *op = Op::kNe;
        return true;
      default:
        return false;
    }
  }

  int32_t ParseComparison() {
    int32_t left = ParseSum();
    if (left < 0) return -1;
    Op op = Op::kEq;
    if (IsCompare(cur_.kind, &op)) {
      size_t op_pos = cur_.pos;
      std::string op_text(OpText(op));
      bool ordering = op != Op::kEq && op != Op::kNe;
      Advance();
      int32_t right = ParseSum();
      if (right < 0) return -1;
      if (ordering) {
        if (!RequireNumber(left, "expected a number before '" + op_text + "', got ")) return -1;
        if (!RequireNumber(right, "expected a number after '" + op_text + "', got ")) return -1;
      } else {
        SType lt = At(left).type, rt = At(right).type;
        if (lt != SType::kAny && rt != SType::kAny && lt != rt) {
          Fail(op_pos, std::string("cannot compare ") + STypeName(lt) + " with " + STypeName(rt));
          return -1;
        }
      }
      return MakeBinary(op, SType::kBoolean, left, right, op_pos);
    }
    if (cur_.kind == Tok::kBetween) {
      Advance();
      int32_t lo = ParseSum();
      if (lo < 0) return -1;
      if (cur_.kind != Tok::kAnd) {
        if (cur_.kind == Tok::kError) {
          Fail(cur_.pos, cur_.str);
        } else {
          Fail(cur_.pos, "expected 'and' in 'between ... and ...', got " + Quote(cur_));
        }
        return -1;
      }
      Advance();
      int32_t hi = ParseSum();
      if (hi < 0) return -1;
      if (!RequireNumber(left, "expected a number before 'between', got ")) return -1;
      if (!RequireNumber(lo, "expected a number after 'between', got ")) return -1;
      if (!RequireNumber(hi, "expected a number after 'and', got ")) return -1;
      Node n;
      n.op = Op::kBetween;
      n.type = SType::kBoolean;
      n.a = left;
      n.b = lo;
      n.c = hi;
      n.pos = At(left).pos;
      return Add(std::move(n));
    }
    return left;
  }

  int32_t MakeBinary(Op op, SType type, int32_t a, int32_t b, size_t op_pos) {
    (void)op_pos;
    Node n;
    n.op = op;
    n.type = type;
    n.a = a;
    n.b = b;
    n.pos = At(a).pos;
    return Add(std::move(n));
  }

  int32_t ParseSum() {
    return ParseLevel(&Parser::ParseProduct, {{Tok::kPlus, Op::kAdd}, {Tok::kMinus, Op::kSub}},
                      false);
  }
  int32_t ParseProduct() {
    return ParseLevel(&Parser::ParseUnary, {{Tok::kStar, Op::kMul}, {Tok::kSlash, Op::kDiv}},
                      false);
  }

  int32_t ParseUnary() {
    if (cur_.kind != Tok::kMinus) return ParsePrimary();
    size_t pos = cur_.pos;
    if (!Enter()) return -1;
    Advance();
    int32_t operand = ParseUnary();
    --depth_;
    if (operand < 0) return -1;
    if (!RequireNumber(operand, "expected a number after '-', got ")) return -1;
    Node& o = At(operand);
    if (o.op == Op::kNum) {  // fold -literal
      o.num = -o.num;
      o.pos = pos;
      return operand;
    }
    Node n;
    n.op = Op::kNeg;
    n.type = SType::kNumber;
    n.a = operand;
    n.pos = pos;
    return Add(std::move(n));
  }

  // What the previous token makes us expect, for "expected X after Y".
  std::string Expectation() const {
    switch (prev_.kind) {
      case Tok::kGt:
      case Tok::kGe:
      case Tok::kLt:
      case Tok::kLe:
      case Tok::kPlus:
      case Tok::kMinus:
      case Tok::kStar:
      case Tok::kSlash:
      case Tok::kBetween:
        return "expected a number after " + Quote(prev_);
      case Tok::kEq:
      case Tok::kNe:
        return "expected a value after " + Quote(prev_);
      case Tok::kAnd:
      case Tok::kOr:
      case Tok::kNot:
      case Tok::kLParen:
        return "expected a condition after " + Quote(prev_);
      default:
        return "expected a condition";
    }
  }

  int32_t ParsePrimary() {
    Node n;
    n.pos = cur_.pos;
    switch (cur_.kind) {
      case Tok::kError:
        Fail(cur_.pos, cur_.str);
        return -1;
      case Tok::kNumber:
        n.op = Op::kNum;
        n.type = SType::kNumber;
        n.num = cur_.num;
        Advance();
        return Add(std::move(n));
      case Tok::kString:
        n.op = Op::kStr;
        n.type = SType::kString;
        n.str = std::move(cur_.str);
        Advance();
        return Add(std::move(n));
      case Tok::kTrue:
      case Tok::kFalse:
        n.op = Op::kBool;
        n.type = SType::kBoolean;
        n.boolean = cur_.kind == Tok::kTrue;
        Advance();
        return Add(std::move(n));
      case Tok::kKey: {
        n.op = Op::kKey;
        n.type = SType::kAny;
        n.slot = SlotFor(cur_.str);
        n.str = std::move(cur_.str);
        Advance();
        return Add(std::move(n));
      }
      case Tok::kLParen: {
        size_t open = cur_.pos;
        if (!Enter()) return -1;
        Advance();
        int32_t inner = ParseOr();
        --depth_;
        if (inner < 0) return -1;
        if (cur_.kind != Tok::kRParen) {
          if (cur_.kind == Tok::kError) {
            Fail(cur_.pos, cur_.str);
          } else {
            Fail(cur_.pos, "expected ')' to close the '(' at " + std::to_string(open + 1) +
                               ", got " + Quote(cur_));
          }
          return -1;
        }
        Advance();
        return inner;
      }
      default:
        Fail(cur_.pos, Expectation() + ", got " + Quote(cur_));
        return -1;
    }
  }

  uint32_t SlotFor(const std::string& key) {
    auto& keys = prog_->keys;
    for (size_t i = 0; i < keys.size(); ++i) {
      if (keys[i] == key) return static_cast<uint32_t>(i);
    }
    keys.push_back(key);
    return static_cast<uint32_t>(keys.size() - 1);
  }

  Lexer lex_;
  Program* prog_;
  Token cur_;
  Token prev_;
  int depth_ = 0;
  bool failed_ = false;
  ParseError error_;
};

// Run-time value of a sub-expression.
struct Val {
  enum Kind : uint8_t { kNone, kNum, kStr, kBool } kind = kNone;
  bool b = false;
  double num = 0;
  const std::string* str = nullptr;
};

class Evaluator {
 public:
  Evaluator(const Program& p, std::span<const Value* const> slots) : p_(p), slots_(slots) {}

  Truth Truthy(int32_t i) const {
    const Node& n = p_.nodes[static_cast<size_t>(i)];
    switch (n.op) {
      case Op::kAnd: {
        Truth a = Truthy(n.a);
        if (a == Truth::kFalse) return Truth::kFalse;
        Truth b = Truthy(n.b);
        if (b == Truth::kFalse) return Truth::kFalse;
        return (a == Truth::kTrue && b == Truth::kTrue) ? Truth::kTrue : Truth::kUnknown;
      }
      case Op::kOr: {
        Truth a = Truthy(n.a);
        if (a == Truth::kTrue) return Truth::kTrue;
        Truth b = Truthy(n.b);
        if (b == Truth::kTrue) return Truth::kTrue;
        return (a == Truth::kFalse && b == Truth::kFalse) ? Truth::kFalse : Truth::kUnknown;
      }
      case Op::kNot: {
        Truth a = Truthy(n.a);
        if (a == Truth::kUnknown) return a;
        return a == Truth::kTrue ? Truth::kFalse : Truth::kTrue;
      }
      case Op::kBetween: {
        Val x = Value_(n.a), lo = Value_(n.b), hi = Value_(n.c);
        if (x.kind != Val::kNum || lo.kind != Val::kNum || hi.kind != Val::kNum) {
          return Truth::kUnknown;
        }
        if (std::isnan(x.num) || std::isnan(lo.num) || std::isnan(hi.num)) return Truth::kUnknown;
        return (x.num >= lo.num && x.num <= hi.num) ? Truth::kTrue : Truth::kFalse;
      }
      case Op::kGt:
      case Op::kGe:
      case Op::kLt:
      case Op::kLe:
      case Op::kEq:
      case Op::kNe:
        return Compare(n.op, Value_(n.a), Value_(n.b));
      case Op::kBool:
        return n.boolean ? Truth::kTrue : Truth::kFalse;
      case Op::kKey: {
        Val v = Value_(i);
        if (v.kind != Val::kBool) return Truth::kUnknown;
        return v.b ? Truth::kTrue : Truth::kFalse;
      }
      default:
        return Truth::kUnknown;
    }
  }

  Val Value_(int32_t i) const {
    const Node& n = p_.nodes[static_cast<size_t>(i)];
    Val v;
    switch (n.op) {
      case Op::kNum:
        v.kind = Val::kNum;
        v.num = n.num;
        return v;
      case Op::kStr:
        v.kind = Val::kStr;
        v.str = &n.str;
        return v;
      case Op::kBool:
        v.kind = Val::kBool;
        v.b = n.boolean;
        return v;
      case Op::kKey: {
        const Value* val = slots_[n.slot];
        if (val == nullptr) return v;
        if (const double* d = std::get_if<double>(val)) {
          v.kind = Val::kNum;
          v.num = *d;
        } else if (const std::string* s = std::get_if<std::string>(val)) {
          v.kind = Val::kStr;
          v.str = s;
        } else {
          v.kind = Val::kBool;
          v.b = std::get<bool>(*val);
        }
        return v;
      }
      case Op::kNeg: {
        Val a = Value_(n.a);
        if (a.kind != Val::kNum) return Val{};
        a.num = -a.num;
        return a;
      }
      case Op::kAdd:
      case Op::kSub:
      case Op::kMul:
      case Op::kDiv: {
        Val a = Value_(n.a), b = Value_(n.b);
        if (a.kind != Val::kNum || b.kind != Val::kNum) return Val{};
        v.kind = Val::kNum;
        switch (n.op) {
          case Op::kAdd:
            v.num = a.num + b.num;
            break;
          case Op::kSub:
            v.num = a.num - b.num;
            break;
          case Op::kMul:
            v.num = a.num * b.num;
            break;
          default:
            if (b.num == 0) return Val{};
            v.num = a.num / b.num;
        }
        if (!std::isfinite(v.num)) return Val{};
        return v;
      }
      default: {
        Truth t = Truthy(i);
        if (t == Truth::kUnknown) return v;
        v.kind = Val::kBool;
        v.b = t == Truth::kTrue;
        return v;
      }
    }
  }

  static Truth Of(bool b) { return b ? Truth::kTrue : Truth::kFalse; }

  static Truth Compare(Op op, const Val& a, const Val& b) {
    if (a.kind == Val::kNone || b.kind == Val::kNone || a.kind != b.kind) return Truth::kUnknown;
    if (a.kind == Val::kNum) {
      if (std::isnan(a.num) || std::isnan(b.num)) return Truth::kUnknown;
      switch (op) {
        case Op::kGt:
          return Of(a.num > b.num);
        case Op::kGe:
          return Of(a.num >= b.num);
        case Op::kLt:
          return Of(a.num < b.num);
        case Op::kLe:
          return Of(a.num <= b.num);
        case Op::kEq:
          return Of(a.num == b.num);
        default:
          return Of(a.num != b.num);
      }
    }
    bool eq = a.kind == Val::kStr ? *a.str == *b.str : a.b == b.b;
    if (op == Op::kEq) return Of(eq);
    if (op == Op::kNe) return Of(!eq);
    return Truth::kUnknown;  // ordering on strings or booleans
  }

 private:
  const Program& p_;
  std::span<const Value* const> slots_;
};

bool PlainKey(const std::string& k) {
  if (k.empty() || !IsAlpha(k[0])) return false;
  for (const char* kw : {"and", "or", "not", "between", "true", "false"}) {
    if (EqualsNoCase(k, kw)) return false;
  }
  bool after_dot = false;
  for (char c : k) {
    if (c == '.') {
      if (after_dot) return false;
      after_dot = true;
      continue;
    }
    if (!IsAlnum(c)) return false;
    after_dot = false;
  }
  return !after_dot;
}

void Print(const Program& p, int32_t i, std::string* out) {
  const Node& n = p.nodes[static_cast<size_t>(i)];
  switch (n.op) {
    case Op::kNum: {
      char buf[64];
      if (n.num == std::trunc(n.num) && std::fabs(n.num) < 1e15) {
        std::snprintf(buf, sizeof buf, "%.0f", n.num);
        out->append(buf);
        return;
      }
      std::snprintf(buf, sizeof buf, "%.17g", n.num);
      // Prefer the shortest representation that round-trips.
      for (int prec = 1; prec <= 17; ++prec) {
        char b2[64];
        std::snprintf(b2, sizeof b2, "%.*g", prec, n.num);
        if (std::strtod(b2, nullptr) == n.num) {
          out->append(b2);
          return;
        }
      }
      out->append(buf);
      return;
    }
    case Op::kStr:
      out->push_back('"');
      for (char c : n.str) {
        if (c == '"' || c == '\\') out->push_back('\\');
        if (c == '\n') {
          out->append("\\n");
          continue;
        }
        if (c == '\t') {
          out->append("\\t");
          continue;
        }
        out->push_back(c);
      }
      out->push_back('"');
      return;
    case Op::kBool:
      out->append(n.boolean ? "true" : "false");
      return;
    case Op::kKey:
      if (PlainKey(n.str)) {
        out->append(n.str);
      } else if (n.str.find('`') == std::string::npos) {
        out->append("`").append(n.str).append("`");
      } else {
        out->append("key(");
        Node as_string = n;
        as_string.op = Op::kStr;
        Program tmp;
        tmp.nodes.push_back(std::move(as_string));
        Print(tmp, 0, out);
        out->push_back(')');
      }
      return;
    case Op::kNeg:
    case Op::kNot:
      out->append(n.op == Op::kNot ? "(not " : "(-");
      Print(p, n.a, out);
      out->push_back(')');
      return;
    case Op::kBetween:
      out->push_back('(');
      Print(p, n.a, out);
      out->append(" between ");
      Print(p, n.b, out);
      out->append(" and ");
      Print(p, n.c, out);
      out->push_back(')');
      return;
    default:
      out->push_back('(');
      Print(p, n.a, out);
      out->append(" ").append(OpText(n.op)).append(" ");
      Print(p, n.b, out);
      out->push_back(')');
      return;
  }
}

void Locate(std::string_view text, ParseError* e) {
  size_t end = std::min(e->offset, text.size());
  e->line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++e->line;
      line_start = i + 1;
    }
  }
  e->column = static_cast<int>(e->offset - line_start) + 1;
}

}  // namespace

Expr::Expr() = default;
Expr::~Expr() = default;
Expr::Expr(std::unique_ptr<Program> p) : p_(std::move(p)) {}
Expr::Expr(const Expr& o) : p_(o.p_ ? std::make_unique<Program>(*o.p_) : nullptr) {}
Expr& Expr::operator=(const Expr& o) {
  if (this != &o) p_ = o.p_ ? std::make_unique<Program>(*o.p_) : nullptr;
  return *this;
}
Expr::Expr(Expr&&) noexcept = default;
Expr& Expr::operator=(Expr&&) noexcept = default;

Result<Expr> Expr::Parse(std::string_view text, ParseError* error) {
  ParseError local;
  ParseError* e = error != nullptr ? error : &local;
  auto prog = std::make_unique<Program>();
  bool ok = false;
  if (text.size() > kMaxExpressionBytes) {
    e->offset = kMaxExpressionBytes;
    e->message = "expression is longer than " + std::to_string(kMaxExpressionBytes) + " bytes";
  } else {
    Parser parser(text, prog.get());
    ok = parser.Run(e);
  }
  if (!ok) {
    Locate(text, e);
    bool multiline = text.find('\n') != std::string_view::npos;
    std::string where =
        multiline ? "at line " + std::to_string(e->line) + ", column " + std::to_string(e->column)
                  : "at " + std::to_string(e->column);
    return InvalidArgument(where + ": " + e->message);
  }
  prog->text.assign(text);
  return Expr(std::move(prog));
}

Truth Expr::Evaluate(const Lookup& lookup) const {
  if (!p_) return Truth::kUnknown;
  constexpr size_t kInline = 16;
  const Value* inline_slots[kInline];
  std::vector<const Value*> heap;
  std::span<const Value*> slots;
  if (p_->keys.size() <= kInline) {
    slots = std::span<const Value*>(inline_slots, p_->keys.size());
  } else {
    heap.resize(p_->keys.size());
    slots = heap;
  }
  for (size_t i = 0; i < p_->keys.size(); ++i) slots[i] = lookup(p_->keys[i]);
  return EvaluateSlots(slots);
}

Truth Expr::EvaluateSlots(std::span<const Value* const> slots) const {
  if (!p_ || p_->root < 0 || slots.size() != p_->keys.size()) return Truth::kUnknown;
  return Evaluator(*p_, slots).Truthy(p_->root);
}

const std::vector<std::string>& Expr::Keys() const {
  static const std::vector<std::string> kEmpty;  // NOLINT: immutable constant
  return p_ ? p_->keys : kEmpty;
}

const std::string& Expr::text() const {
  static const std::string kEmpty;  // NOLINT: immutable constant
  return p_ ? p_->text : kEmpty;
}

std::string Expr::ToString() const {
  std::string out;
  if (p_ && p_->root >= 0) Print(*p_, p_->root, &out);
  return out;
}

}  // namespace bysans::rules

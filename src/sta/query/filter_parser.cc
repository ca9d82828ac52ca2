#include "sta/query/filter_parser.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include "core/time_format.h"
#include "sta/query/functions.h"
#include "sta/query/geometry.h"
#include "sta/query/query.h"
#include "sta/query/schema.h"
#include "sta/query/text.h"
#include "sta/query/time_values.h"

namespace bysans::sta {
namespace {

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '@';
}
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@' || c == '.' ||
         c == '/';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

enum class Tok { kEnd, kIdent, kLiteral, kLParen, kRParen, kComma, kMinus };

struct Token {
  Tok kind = Tok::kEnd;
  size_t pos = 0;  // offset in the text
  std::string text;
  Value value;  // kLiteral
};

class Parser {
 public:
  Parser(std::string_view text, size_t base) : text_(text), base_(base) {}

  Result<std::unique_ptr<Expr>> Parse() {
    BYSANS_RETURN_IF_ERROR(Advance());
    if (tok_.kind == Tok::kEnd) return Error("empty filter", 0);
    BYSANS_ASSIGN_OR_RETURN(auto e, ParseOr());
    if (tok_.kind != Tok::kEnd) {
      if (tok_.kind == Tok::kRParen) return Error("unbalanced ')'", tok_.pos);
      return Error("unexpected " + Quoted(tok_.text) + " after the end of the expression",
                   tok_.pos);
    }
    return e;
  }

 private:
  Status Error(const std::string& what, size_t pos) const { return ErrorAt(what, base_ + pos); }

  // ---- lexer ----
  Status Advance() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
    tok_ = Token{};
    tok_.pos = at_;
    if (at_ >= text_.size()) return Status::Ok();
    char c = text_[at_];
    if (c == '(' || c == ')' || c == ',') {
      tok_.kind = c == '(' ? Tok::kLParen : c == ')' ? Tok::kRParen : Tok::kComma;
      tok_.text = std::string(1, c);
      ++at_;
      return Status::Ok();
    }
    if (c == '\'') return LexString();
    if (IsDigit(c)) return LexNumberOrTime();
    if (c == '-') {
      tok_.kind = Tok::kMinus;
      tok_.text = "-";
      ++at_;
      return Status::Ok();
    }
    if (IsIdentStart(c)) {
      size_t start = at_;
      while (at_ < text_.size() && IsIdentChar(text_[at_])) ++at_;
      tok_.text = std::string(text_.substr(start, at_ - start));
      if (at_ < text_.size() && text_[at_] == '\'') return LexTypedLiteral();
      tok_.kind = Tok::kIdent;
      return Status::Ok();
    }
    return Error("unexpected character " + Quoted(std::string_view(&c, 1)), at_);
  }

  // 'it''s' -> it's
  Result<std::string> ReadQuoted() {
    size_t start = at_;
    std::string out;
    for (++at_; at_ < text_.size(); ++at_) {
      if (text_[at_] == '\'') {
        if (at_ + 1 < text_.size() && text_[at_ + 1] == '\'') {
          out.push_back('\'');
          ++at_;
        } else {
          ++at_;
          return out;
        }
      } else {
        out.push_back(text_[at_]);
      }
    }
    return Error("unterminated string", start);
  }

  Status LexString() {
    BYSANS_ASSIGN_OR_RETURN(std::string s, ReadQuoted());
    tok_.kind = Tok::kLiteral;
    tok_.text = "'" + s + "'";
    tok_.value = Value(std::move(s));
    return Status::Ok();
  }

  // geography'POINT(1 2)', geometry'...', duration'P1D'.
  Status LexTypedLiteral() {
    std::string prefix = tok_.text;
    size_t quote = at_;
    BYSANS_ASSIGN_OR_RETURN(std::string body, ReadQuoted());
    tok_.kind = Tok::kLiteral;
    tok_.text = prefix + "'" + body + "'";
    if (prefix == "geography" || prefix == "geometry") {
      auto g = ParseWkt(body);
      if (!g.ok()) return Error("bad " + prefix + " literal: " + g.status().message(), quote);
      tok_.value = Value(std::move(*g));
      return Status::Ok();
    }
    if (prefix == "duration") {
      auto d = ParseIsoDuration(body);
      if (!d) return Error("bad duration " + Quoted(body), quote);
      tok_.value = Value(DurationValue{*d});
      return Status::Ok();
    }
    return Error("unknown literal type " + Quoted(prefix), tok_.pos);
  }

  // 42, 4.2, 1e3, 2020-01-01T00:00:00Z, 2020-01-01, 07:16:23
  Status LexNumberOrTime() {
    size_t start = at_;
    auto digits_at = [&](size_t i, size_t n) {
      for (size_t k = 0; k < n; ++k) {
        if (i + k >= text_.size() || !IsDigit(text_[i + k])) return false;
      }
      return true;
    };
    bool date = digits_at(start, 4) && start + 4 < text_.size() && text_[start + 4] == '-';
    bool time_of_day =
        !date && digits_at(start, 2) && start + 2 < text_.size() && text_[start + 2] == ':';
    if (date || time_of_day) {
      auto time_chars = [&] {
        while (at_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[at_])) || text_[at_] == ':' ||
                text_[at_] == '.' || text_[at_] == '-' || text_[at_] == '+')) {
          ++at_;
        }
      };
      time_chars();
      // start/end: a time interval, kept as its text
      bool interval =
          date && at_ + 1 < text_.size() && text_[at_] == '/' && IsDigit(text_[at_ + 1]);
      if (interval) {
        ++at_;
        time_chars();
      }
      tok_.text = std::string(text_.substr(start, at_ - start));
      tok_.kind = Tok::kLiteral;
      if (interval) {
        if (!ParseIsoInterval(tok_.text))
          return Error("bad time interval " + Quoted(tok_.text), start);
        tok_.value = Value(tok_.text);
      } else if (date) {
        auto t = ParseIsoTime(tok_.text);
        if (!t) return Error("bad date-time " + Quoted(tok_.text), start);
        tok_.value = Value(*t);
      } else {
        auto d = ParseTimeOfDay(tok_.text);
        if (!d) return Error("bad time of day " + Quoted(tok_.text), start);
        tok_.value = Value(DurationValue{*d});
      }
      return Status::Ok();
    }
    bool is_double = false;
    while (at_ < text_.size() && IsDigit(text_[at_])) ++at_;
    if (at_ < text_.size() && text_[at_] == '.') {
      is_double = true;
      ++at_;
      while (at_ < text_.size() && IsDigit(text_[at_])) ++at_;
    }
    if (at_ < text_.size() && (text_[at_] == 'e' || text_[at_] == 'E')) {
      size_t e = at_ + 1;
      if (e < text_.size() && (text_[e] == '+' || text_[e] == '-')) ++e;
      if (e < text_.size() && IsDigit(text_[e])) {
        is_double = true;
        at_ = e;
        while (at_ < text_.size() && IsDigit(text_[at_])) ++at_;
      }
    }
    // OData's type suffixes: 1.5d, 2f, 3M (decimal) make a double, 4L a long.
    if (at_ < text_.size() &&
        std::string_view("dDfFmMlL").find(text_[at_]) != std::string_view::npos &&
        (at_ + 1 >= text_.size() || !IsIdentChar(text_[at_ + 1]))) {
      is_double = is_double || (text_[at_] != 'l' && text_[at_] != 'L');
      ++at_;
    }
    tok_.text = std::string(text_.substr(start, at_ - start));
    if (at_ < text_.size() && IsIdentChar(text_[at_])) {
      return Error("bad number " + Quoted(tok_.text + text_[at_]), start);
    }
    tok_.kind = Tok::kLiteral;
    std::string_view num = text_.substr(start, at_ - start);
    if (!num.empty() && !IsDigit(num.back())) num.remove_suffix(1);
    if (!is_double) {
      int64_t i = 0;
      auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), i);
      if (ec == std::errc() && p == num.data() + num.size()) {
        tok_.value = Value(i);
        return Status::Ok();
      }
    }
    double d = std::strtod(std::string(num).c_str(), nullptr);
    if (!std::isfinite(d)) return Error("number out of range " + Quoted(tok_.text), start);
    tok_.value = Value(d);
    return Status::Ok();
  }

  // ---- parser ----
  // Guards one level of recursion: parentheses, function arguments, not, -.
  struct Depth {
    explicit Depth(int* d) : d_(d) { ++*d_; }
    ~Depth() { --*d_; }
    Depth(const Depth&) = delete;
    Depth& operator=(const Depth&) = delete;
    int* d_;
  };
  Status CheckDepth(size_t pos) const {
    if (depth_ >= kMaxNesting) {
      return Error("expression nested deeper than " + std::to_string(kMaxNesting) + " levels", pos);
    }
    return Status::Ok();
  }

  bool IsKeyword(std::string_view k) const { return tok_.kind == Tok::kIdent && tok_.text == k; }

  static int Height(const Expr& e) { return e.height; }

  Result<std::unique_ptr<Expr>> MakeOp(Op op, size_t pos, std::unique_ptr<Expr> a,
                                       std::unique_ptr<Expr> b) {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kOperator;
    e->op = op;
    e->pos = pos;
    e->height = 1 + std::max(a->height, b ? b->height : 0);
    if (e->height > kMaxNesting) {
      return Error("expression nested deeper than " + std::to_string(kMaxNesting) + " levels", pos);
    }
    e->args.push_back(std::move(a));
    if (b) e->args.push_back(std::move(b));
    return e;
  }

  // and/or chains become one n-ary node.
  Result<std::unique_ptr<Expr>> ParseLogical(Op op, std::string_view keyword,
                                             Result<std::unique_ptr<Expr>> (Parser::*next)()) {
    BYSANS_ASSIGN_OR_RETURN(auto first, (this->*next)());
    if (!IsKeyword(keyword)) return first;
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kOperator;
    e->op = op;
    e->pos = tok_.pos;
    e->height = first->height;
    e->args.push_back(std::move(first));
    while (IsKeyword(keyword)) {
      BYSANS_RETURN_IF_ERROR(Advance());
      BYSANS_ASSIGN_OR_RETURN(auto rhs, (this->*next)());
      e->height = std::max(e->height, rhs->height);
      e->args.push_back(std::move(rhs));
    }
    ++e->height;
    if (e->height > kMaxNesting) return Error("expression nested too deeply", e->pos);
    return e;
  }

  Result<std::unique_ptr<Expr>> ParseOr() { return ParseLogical(Op::kOr, "or", &Parser::ParseAnd); }
  Result<std::unique_ptr<Expr>> ParseAnd() {
    return ParseLogical(Op::kAnd, "and", &Parser::ParseEquality);
  }

  struct Level {
    std::string_view keyword;
    Op op;
  };
  Result<std::unique_ptr<Expr>> ParseBinary(std::initializer_list<Level> ops,
                                            Result<std::unique_ptr<Expr>> (Parser::*next)()) {
    BYSANS_ASSIGN_OR_RETURN(auto lhs, (this->*next)());
    for (;;) {
      const Level* found = nullptr;
      for (const Level& l : ops) {
        if (IsKeyword(l.keyword)) found = &l;
      }
      if (!found) return lhs;
      size_t pos = tok_.pos;
      BYSANS_RETURN_IF_ERROR(Advance());
      BYSANS_ASSIGN_OR_RETURN(auto rhs, (this->*next)());
      BYSANS_ASSIGN_OR_RETURN(lhs, MakeOp(found->op, pos, std::move(lhs), std::move(rhs)));
    }
  }
  Result<std::unique_ptr<Expr>> ParseEquality() {
    return ParseBinary({{"eq", Op::kEq}, {"ne", Op::kNe}}, &Parser::ParseRelational);
  }
  Result<std::unique_ptr<Expr>> ParseRelational() {
    return ParseBinary({{"gt", Op::kGt}, {"ge", Op::kGe}, {"lt", Op::kLt}, {"le", Op::kLe}},
                       &Parser::ParseAdditive);
  }
  Result<std::unique_ptr<Expr>> ParseAdditive() {
    return ParseBinary({{"add", Op::kAdd}, {"sub", Op::kSub}}, &Parser::ParseMultiplicative);
  }
  Result<std::unique_ptr<Expr>> ParseMultiplicative() {
    return ParseBinary({{"mul", Op::kMul}, {"div", Op::kDiv}, {"mod", Op::kMod}},
                       &Parser::ParseUnary);
  }

  Result<std::unique_ptr<Expr>> ParseUnary() {
    bool is_not = IsKeyword("not");
    if (!is_not && tok_.kind != Tok::kMinus) return ParsePrimary();
    size_t pos = tok_.pos;
    BYSANS_RETURN_IF_ERROR(CheckDepth(pos));
    Depth guard(&depth_);
    BYSANS_RETURN_IF_ERROR(Advance());
    if (!is_not && tok_.kind == Tok::kLiteral && tok_.value.is_number() && tok_.pos == pos + 1) {
      // -5 is a literal
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kLiteral;
      e->pos = pos;
      if (const auto* i = tok_.value.get<int64_t>()) {
        e->literal = *i == INT64_MIN ? Value(-static_cast<double>(*i)) : Value(-*i);
      } else {
        e->literal = Value(-tok_.value.AsDouble());
      }
      BYSANS_RETURN_IF_ERROR(Advance());
      return e;
    }
    BYSANS_ASSIGN_OR_RETURN(auto operand, ParseUnary());
    return MakeOp(is_not ? Op::kNot : Op::kNegate, pos, std::move(operand), nullptr);
  }

  Result<std::unique_ptr<Expr>> ParsePrimary() {
    size_t pos = tok_.pos;
    switch (tok_.kind) {
      case Tok::kEnd:
        return Error("unexpected end of the expression", pos);
      case Tok::kRParen:
        return Error("unbalanced ')'", pos);
      case Tok::kComma:
        return Error("unexpected ','", pos);
      case Tok::kMinus:
        return Error("unexpected '-'", pos);
      case Tok::kLiteral: {
        auto e = std::make_unique<Expr>();
        e->kind = Expr::Kind::kLiteral;
        e->pos = pos;
        e->literal = std::move(tok_.value);
        BYSANS_RETURN_IF_ERROR(Advance());
        return e;
      }
      case Tok::kLParen: {
        BYSANS_RETURN_IF_ERROR(CheckDepth(pos));
        Depth guard(&depth_);
        BYSANS_RETURN_IF_ERROR(Advance());
        BYSANS_ASSIGN_OR_RETURN(auto inner, ParseOr());
        if (tok_.kind != Tok::kRParen) {
          if (tok_.kind == Tok::kEnd) return Error("unbalanced '(': no matching ')'", pos);
          return Error("expected ')' but found " + Quoted(tok_.text), tok_.pos);
        }
        BYSANS_RETURN_IF_ERROR(Advance());
        return inner;
      }
      case Tok::kIdent:
        break;
    }
    std::string name = tok_.text;
    if (name == "true" || name == "false" || name == "null") {
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kLiteral;
      e->pos = pos;
      if (name != "null") e->literal = Value(name == "true");
      BYSANS_RETURN_IF_ERROR(Advance());
      return e;
    }
    static constexpr std::string_view kReserved[] = {
        "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "add", "sub", "mul", "div", "mod"};
    for (std::string_view r : kReserved) {
      if (name == r) return Error("unexpected operator '" + name + "'", pos);
    }
    BYSANS_RETURN_IF_ERROR(Advance());
    if (tok_.kind == Tok::kLParen) return ParseCall(name, pos);
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kProperty;
    e->pos = pos;
    if (!SplitPath(name, &e->nav, &e->property)) return Error("bad path " + Quoted(name), pos);
    if (e->nav.size() + 1 > static_cast<size_t>(kMaxNesting)) {
      return Error("path longer than " + std::to_string(kMaxNesting) + " segments", pos);
    }
    return e;
  }

  Result<std::unique_ptr<Expr>> ParseCall(const std::string& name, size_t pos) {
    std::string lower;
    for (char c : name)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    const FunctionInfo* fn = FindFunction(lower);
    if (!fn) return Error("unknown function " + Quoted(name), pos);
    BYSANS_RETURN_IF_ERROR(CheckDepth(pos));
    Depth guard(&depth_);
    size_t open = tok_.pos;
    BYSANS_RETURN_IF_ERROR(Advance());  // '('
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kFunction;
    e->function = lower;
    e->fn = fn;
    e->pos = pos;
    if (tok_.kind != Tok::kRParen) {
      for (;;) {
        BYSANS_ASSIGN_OR_RETURN(auto arg, ParseOr());
        e->height = std::max(e->height, arg->height + 1);
        e->args.push_back(std::move(arg));
        if (tok_.kind == Tok::kComma) {
          BYSANS_RETURN_IF_ERROR(Advance());
          continue;
        }
        if (tok_.kind == Tok::kRParen) break;
        if (tok_.kind == Tok::kEnd) return Error("unbalanced '(': no matching ')'", open);
        return Error("expected ',' or ')' but found " + Quoted(tok_.text), tok_.pos);
      }
    }
    BYSANS_RETURN_IF_ERROR(Advance());  // ')'
    int n = static_cast<int>(e->args.size());
    if (n < fn->min_args || n > fn->max_args) {
      std::string want = fn->min_args == fn->max_args
                             ? std::to_string(fn->min_args)
                             : std::to_string(fn->min_args) + " or " + std::to_string(fn->max_args);
      return Error("function '" + lower + "' takes " + want + " argument" +
                       (fn->max_args == 1 ? "" : "s") + ", got " + std::to_string(n),
                   pos);
    }
    if (e->height > kMaxNesting) return Error("expression nested too deeply", pos);
    return e;
  }

  std::string_view text_;
  size_t base_;
  size_t at_ = 0;
  Token tok_;
  int depth_ = 0;
};

}  // namespace

bool SplitPath(std::string_view path, std::vector<std::string>* nav, std::string* property) {
  nav->clear();
  property->clear();
  size_t start = 0;
  bool in_property = false;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') continue;
    std::string_view seg = path.substr(start, i - start);
    start = i + 1;
    if (seg.empty()) return false;
    if (!in_property && IsNavigationName(seg)) {
      nav->emplace_back(seg);
      continue;
    }
    if (!in_property && seg == "id") seg = "@iot.id";
    if (in_property) property->push_back('/');
    property->append(seg);
    in_property = true;
  }
  return true;
}

namespace {
// Node positions count from the start of the whole option value.
void Rebase(Expr* e, size_t base) {
  e->pos += base;
  for (auto& a : e->args) Rebase(a.get(), base);  // depth <= kMaxNesting
}
}  // namespace

Result<std::unique_ptr<Expr>> ParseFilterAt(std::string_view text, size_t base) {
  BYSANS_ASSIGN_OR_RETURN(auto e, Parser(text, base).Parse());
  if (base != 0) Rebase(e.get(), base);
  return e;
}

Result<std::shared_ptr<const Expr>> ParseFilter(std::string_view text) {
  if (text.size() > kMaxQueryBytes) {
    return InvalidArgument("filter too long: " + std::to_string(text.size()) + " bytes, at most " +
                           std::to_string(kMaxQueryBytes));
  }
  BYSANS_ASSIGN_OR_RETURN(auto e, ParseFilterAt(text, 0));
  return std::shared_ptr<const Expr>(std::move(e));
}

const char* OpName(Op op) {
  // in the order of enum class Op
  static constexpr const char* kNames[] = {"and", "or",  "not", "eq",  "ne",  "gt",  "ge", "lt",
                                           "le",  "add", "sub", "mul", "div", "mod", "-"};
  return kNames[static_cast<size_t>(op)];
}

}  // namespace bysans::sta

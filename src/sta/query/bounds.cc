// BoundsOn / EqualityOn: what a filter's top-level conjunction pins down,
// for pushing Observation filters into the store.
#include <string>

#include "sta/query/query.h"

namespace bysans::sta {
namespace {

bool IsPath(const Expr& e, std::string_view path) {
  if (e.kind != Expr::Kind::kProperty) return false;
  std::string full;
  for (const auto& n : e.nav) full += n + "/";
  full += e.property;
  return full == path;
}

// Calls fn(op, literal) for each "path op literal" (or "literal op path",
// the operator mirrored) in the top-level conjunction of e.
template <typename Fn>
void ForEachConjunct(const Expr& e, std::string_view path, Fn&& fn) {
  if (e.kind == Expr::Kind::kOperator && e.op == Op::kAnd) {
    for (const auto& a : e.args) ForEachConjunct(*a, path, fn);
    return;
  }
  if (e.kind != Expr::Kind::kOperator || e.args.size() != 2) return;
  const Expr &l = *e.args[0], &r = *e.args[1];
  if (IsPath(l, path) && r.kind == Expr::Kind::kLiteral) {
    fn(e.op, r.literal);
  } else if (IsPath(r, path) && l.kind == Expr::Kind::kLiteral) {
    Op mirrored = e.op;
    if (e.op == Op::kGt) mirrored = Op::kLt;
    if (e.op == Op::kGe) mirrored = Op::kLe;
    if (e.op == Op::kLt) mirrored = Op::kGt;
    if (e.op == Op::kLe) mirrored = Op::kGe;
    fn(mirrored, l.literal);
  }
}

std::string Normalise(std::string_view path) {
  std::string p(path);
  if (p == "id") return "@iot.id";
  if (p.size() >= 3 && p.compare(p.size() - 3, 3, "/id") == 0)
    p.replace(p.size() - 2, 2, "@iot.id");
  return p;
}

}  // namespace

TimeBounds BoundsOn(const Expr& filter, std::string_view time_property) {
  TimeBounds b;
  auto lower = [&](int64_t t, bool inclusive) {
    if (!b.from_ms || t > *b.from_ms || (t == *b.from_ms && !inclusive)) {
      b.from_ms = t;
      b.from_inclusive = inclusive;
    }
  };
  auto upper = [&](int64_t t, bool inclusive) {
    if (!b.to_ms || t < *b.to_ms || (t == *b.to_ms && !inclusive)) {
      b.to_ms = t;
      b.to_inclusive = inclusive;
    }
  };
  ForEachConjunct(filter, time_property, [&](Op op, const Value& v) {
    const auto* t = v.get<TimeValue>();
    if (!t) return;
    switch (op) {
      case Op::kGt:
        lower(t->ms, false);
        break;
      case Op::kGe:
        lower(t->ms, true);
        break;
      case Op::kLt:
        upper(t->ms, false);
        break;
      case Op::kLe:
        upper(t->ms, true);
        break;
      case Op::kEq:
        lower(t->ms, true);
        upper(t->ms, true);
        break;
      default:
        break;
    }
  });
  return b;
}

std::optional<Value> EqualityOn(const Expr& filter, std::string_view path) {
  std::optional<Value> out;
  std::string p = Normalise(path);
  ForEachConjunct(filter, p, [&](Op op, const Value& v) {
    if (op == Op::kEq && !out) out = v;
  });
  return out;
}

}  // namespace bysans::sta

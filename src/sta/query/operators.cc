#include "sta/query/operators.h"

#include <climits>
#include <cmath>
#include <optional>

#include "sta/query/time_values.h"

namespace bysans::sta {
namespace {

// An interval string, or (when the other side is one) an instant as [t, t].
std::optional<TimeInterval> AsRange(const Value& v) {
  if (const auto* t = v.get<TimeValue>()) return TimeInterval{t->ms, t->ms};
  if (const auto* s = v.get<std::string>()) {
    if (auto i = ParseIsoInterval(*s)) return i;
    if (auto t = ParseIsoTime(*s)) return TimeInterval{t->ms, t->ms};
  }
  return std::nullopt;
}

bool IsInterval(const Value& v) {
  const auto* s = v.get<std::string>();
  return s && s->find('/') != std::string::npos && ParseIsoInterval(*s).has_value();
}

Value CompareRanges(Op op, const TimeInterval& a, const TimeInterval& b) {
  switch (op) {
    case Op::kEq:
      return Value(a.start == b.start && a.end == b.end);
    case Op::kNe:
      return Value(!(a.start == b.start && a.end == b.end));
    case Op::kGt:
      return Value(a.start > b.end);
    case Op::kGe:
      return Value(a.start >= b.end);
    case Op::kLt:
      return Value(a.end < b.start);
    case Op::kLe:
      return Value(a.end <= b.start);
    default:
      return {};
  }
}

Value TimeArithmetic(Op op, const Value& a, const Value& b) {
  const auto *ta = a.get<TimeValue>(), *tb = b.get<TimeValue>();
  const auto *da = a.get<DurationValue>(), *db = b.get<DurationValue>();
  bool additive = op == Op::kAdd || op == Op::kSub;
  if (ta && db && additive) {
    return Value(TimeValue{op == Op::kAdd ? ta->ms + db->ms : ta->ms - db->ms, ta->offset_minutes});
  }
  if (da && tb && op == Op::kAdd) return Value(TimeValue{tb->ms + da->ms, tb->offset_minutes});
  if (ta && tb && op == Op::kSub) return Value(DurationValue{ta->ms - tb->ms});
  if (da && db && additive) {
    return Value(DurationValue{op == Op::kAdd ? da->ms + db->ms : da->ms - db->ms});
  }
  return {};
}

}  // namespace

Value Compare(Op op, const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) {
    bool both = a.is_null() && b.is_null();
    if (op == Op::kEq) return Value(both);
    if (op == Op::kNe) return Value(!both);
    return Value(false);
  }
  if (IsInterval(a) || IsInterval(b)) {
    auto ra = AsRange(a), rb = AsRange(b);
    if (!ra || !rb) return Value(false);
    return CompareRanges(op, *ra, *rb);
  }
  int c = CompareValues(a, b);
  if (c == kIncomparable) return Value(false);
  switch (op) {
    case Op::kEq:
      return Value(c == 0);
    case Op::kNe:
      return Value(c != 0);
    case Op::kGt:
      return Value(c > 0);
    case Op::kGe:
      return Value(c >= 0);
    case Op::kLt:
      return Value(c < 0);
    case Op::kLe:
      return Value(c <= 0);
    default:
      return {};
  }
}

Value Arithmetic(Op op, const Value& a, const Value& b) {
  const auto *ia = a.get<int64_t>(), *ib = b.get<int64_t>();
  if (ia && ib) {
    int64_t r = 0;
    switch (op) {
      case Op::kAdd:
        if (!__builtin_add_overflow(*ia, *ib, &r)) return Value(r);
        break;
      case Op::kSub:
        if (!__builtin_sub_overflow(*ia, *ib, &r)) return Value(r);
        break;
      case Op::kMul:
        if (!__builtin_mul_overflow(*ia, *ib, &r)) return Value(r);
        break;
      case Op::kDiv:
        if (*ib == 0 || (*ia == INT64_MIN && *ib == -1)) return {};
        return Value(*ia / *ib);
      case Op::kMod:
        if (*ib == 0 || (*ia == INT64_MIN && *ib == -1)) return {};
        return Value(*ia % *ib);
      default:
        return {};
    }
    // overflow: carry on in double
  }
  if (a.is_number() && b.is_number()) {
    double x = a.AsDouble(), y = b.AsDouble(), r = 0;
    switch (op) {
      case Op::kAdd:
        r = x + y;
        break;
      case Op::kSub:
        r = x - y;
        break;
      case Op::kMul:
        r = x * y;
        break;
      case Op::kDiv:
        r = x / y;
        break;
      case Op::kMod:
        r = std::fmod(x, y);
        break;
      default:
        return {};
    }
    if (!std::isfinite(r)) return {};
    return Value(r);
  }
  return TimeArithmetic(op, a, b);
}

}  // namespace bysans::sta

// Evaluation of a $filter for one entity, with "any" semantics over
// navigation paths, and the $orderby comparator.
#include <algorithm>
#include <climits>
#include <cmath>
#include <string>

#include "sta/query/functions.h"
#include "sta/query/operators.h"
#include "sta/query/query.h"

namespace bysans::sta {
namespace {

// An entity bound to a navigation prefix ({"Datastreams"}, {"Datastreams",
// "Observations"}) while one predicate is evaluated.
struct Binding {
  const std::vector<std::string>* prefix;
  const EntityAccessor* entity;
};

// The property of the first entity reached by following nav[i..] from
// `from` (null when there is none). Related accessors are only valid inside
// the callback, so the value is read there.
Value FollowFirst(const EntityAccessor& from, const std::vector<std::string>& nav, size_t i,
                  const std::string& property) {
  if (i == nav.size()) return from.Get(property);
  Value out;
  from.ForEachRelated(nav[i], [&](const EntityAccessor& next) {
    out = FollowFirst(next, nav, i + 1, property);
    return false;
  });
  return out;
}

class Evaluator {
 public:
  Evaluator(const EntityAccessor& root, int64_t now_ms, EvalBudget* budget)
      : root_(root), now_ms_(now_ms), budget_(budget ? *budget : own_budget_) {}

  Value Eval(const Expr& e) {
    if (--budget_.evaluations < 0) {
      over_budget_ = true;
      return {};
    }
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        return e.literal;
      case Expr::Kind::kProperty:
        return Property(e);
      case Expr::Kind::kFunction: {
        std::vector<Value> args;
        args.reserve(e.args.size());
        for (const auto& a : e.args) args.push_back(Eval(*a));
        const FunctionInfo* fn = e.fn ? e.fn : FindFunction(e.function);
        return fn ? fn->call(args, now_ms_) : Value();
      }
      case Expr::Kind::kOperator:
        return Operator(e);
    }
    return {};
  }

  // A boolean context: and/or/not combine; every other node is a predicate
  // evaluated once per combination of the entities its navigation paths reach.
  Result<bool> Test(const Expr& e) {
    if (e.kind == Expr::Kind::kOperator && (e.op == Op::kAnd || e.op == Op::kOr)) {
      bool is_and = e.op == Op::kAnd;
      for (const auto& a : e.args) {
        BYSANS_ASSIGN_OR_RETURN(bool v, Test(*a));
        if (v != is_and) return v;
      }
      return is_and;
    }
    if (e.kind == Expr::Kind::kOperator && e.op == Op::kNot) {
      BYSANS_ASSIGN_OR_RETURN(bool v, Test(*e.args[0]));
      return !v;
    }
    std::vector<std::vector<std::string>> prefixes;  // distinct, shorter first
    CollectPrefixes(e, &prefixes);
    if (prefixes.empty()) {
      bool v = IsTrue(Eval(e));
      if (over_budget_) return TooExpensive();
      return v;
    }
    if (prefixes.size() > static_cast<size_t>(kMaxNesting)) {
      return InvalidArgument("filter: too many navigation paths in one comparison");
    }
    std::stable_sort(prefixes.begin(), prefixes.end(),
                     [](const auto& a, const auto& b) { return a.size() < b.size(); });
    bool found = false;
    Bind(e, prefixes, 0, &found);
    if (over_budget_) return TooExpensive();
    return found;
  }

 private:
  static bool IsTrue(const Value& v) {
    const bool* b = v.get<bool>();
    return b && *b;
  }

  static void CollectPrefixes(const Expr& e, std::vector<std::vector<std::string>>* out) {
    if (e.kind == Expr::Kind::kProperty) {
      for (size_t n = 1; n <= e.nav.size(); ++n) {
        std::vector<std::string> p(e.nav.begin(), e.nav.begin() + static_cast<ptrdiff_t>(n));
        if (std::find(out->begin(), out->end(), p) == out->end()) out->push_back(std::move(p));
      }
    }
    for (const auto& a : e.args) CollectPrefixes(*a, out);
  }

  static Status TooExpensive() {
    return InvalidArgument("filter: too expensive to evaluate (navigation paths reach more than " +
                           std::to_string(kMaxBindings) + " related entities, or more than " +
                           std::to_string(kMaxEvaluations) + " evaluation steps)");
  }

  // The entity bound to nav[0..n), or null.
  const EntityAccessor* Bound(const std::vector<std::string>& nav, size_t n) const {
    for (const Binding& b : bindings_) {
      if (b.prefix->size() == n &&
          std::equal(nav.begin(), nav.begin() + static_cast<ptrdiff_t>(n), b.prefix->begin())) {
        return b.entity;
      }
    }
    return nullptr;
  }

  // Binds prefixes[i..] in turn (each one's parent is bound already, since
  // shorter prefixes come first) and evaluates the predicate on each
  // complete binding until one is true.
  void Bind(const Expr& e, const std::vector<std::vector<std::string>>& prefixes, size_t i,
            bool* found) {
    if (i == prefixes.size()) {
      *found = IsTrue(Eval(e));
      return;
    }
    const auto& p = prefixes[i];
    const EntityAccessor* parent = p.size() == 1 ? &root_ : Bound(p, p.size() - 1);
    if (!parent) return;
    parent->ForEachRelated(p.back(), [&](const EntityAccessor& related) {
      if (--budget_.bindings < 0) {
        over_budget_ = true;
        return false;
      }
      bindings_.push_back({&p, &related});
      Bind(e, prefixes, i + 1, found);
      bindings_.pop_back();
      return !*found && !over_budget_;
    });
  }

  Value Property(const Expr& e) {
    if (e.nav.empty()) return root_.Get(e.property);
    if (const EntityAccessor* bound = Bound(e.nav, e.nav.size())) {
      return bound->Get(e.property);
    }
    return FollowFirst(root_, e.nav, 0, e.property);
  }

  Value Operator(const Expr& e) {
    switch (e.op) {
      case Op::kAnd:
      case Op::kOr: {
        bool is_and = e.op == Op::kAnd;
        for (const auto& a : e.args) {
          if (IsTrue(Eval(*a)) != is_and) return Value(!is_and);
        }
        return Value(is_and);
      }
      case Op::kNot: {
        Value v = Eval(*e.args[0]);
        const bool* b = v.get<bool>();
        return b ? Value(!*b) : Value();
      }
      case Op::kNegate: {
        Value v = Eval(*e.args[0]);
        if (const auto* i = v.get<int64_t>()) return *i == INT64_MIN ? Value() : Value(-*i);
        if (const auto* d = v.get<double>()) return Value(-*d);
        if (const auto* d = v.get<DurationValue>()) return Value(DurationValue{-d->ms});
        return {};
      }
      default:
        break;
    }
    Value a = Eval(*e.args[0]), b = Eval(*e.args[1]);
    switch (e.op) {
      case Op::kEq:
      case Op::kNe:
      case Op::kGt:
      case Op::kGe:
      case Op::kLt:
      case Op::kLe:
        return Compare(e.op, a, b);
      default:
        return Arithmetic(e.op, a, b);
    }
  }

  const EntityAccessor& root_;
  int64_t now_ms_;
  std::vector<Binding> bindings_;
  EvalBudget own_budget_;  // when the caller gives none: one per Matches() call
  EvalBudget& budget_;
  bool over_budget_ = false;
};

}  // namespace

Result<bool> Matches(const Expr& filter, const EntityAccessor& entity, int64_t now_ms,
                     EvalBudget* budget) {
  return Evaluator(entity, now_ms, budget).Test(filter);
}

Value Evaluate(const Expr& expr, const EntityAccessor& entity, int64_t now_ms) {
  return Evaluator(entity, now_ms, nullptr).Eval(expr);
}

Value OrderValue(const OrderBy& order, const EntityAccessor& entity) {
  std::vector<std::string> nav;
  std::string property;
  for (const std::string& seg : order.path) {
    if (property.empty() && IsNavigationName(seg)) {
      nav.push_back(seg);
    } else {
      property +=
          (property.empty() ? "" : "/") + (property.empty() && seg == "id" ? "@iot.id" : seg);
    }
  }
  return FollowFirst(entity, nav, 0, property);
}

bool OrderLess(const std::vector<OrderBy>& orderby, const EntityAccessor& a,
               const EntityAccessor& b) {
  for (const OrderBy& o : orderby) {
    int c = OrderValues(OrderValue(o, a), OrderValue(o, b));
    if (c != 0) return o.descending ? c > 0 : c < 0;
  }
  return false;
}

}  // namespace bysans::sta

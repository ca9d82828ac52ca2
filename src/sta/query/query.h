// The SensorThings API query language (OGC 18-088, 9.3): system query options
// ($filter, $expand, $select, $orderby, $top, $skip, $count, $resultFormat),
// resource paths, and evaluation of a $filter against one entity. Pure and
// store-free: the service gives it the request text and an EntityAccessor per
// entity. Every function here is thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sta/query/expr.h"
#include "sta/query/schema.h"
#include "sta/query/value.h"

namespace bysans::sta {

// Limits on untrusted input.
inline constexpr size_t kMaxQueryBytes = 16 * 1024;  // the whole raw query string
inline constexpr int kMaxNesting = 64;  // parentheses, function calls, not/-, $expand levels
// Related entities one Matches() call may visit through navigation paths,
// and expression nodes it may evaluate (about 0.1-0.3 s at most).
inline constexpr int64_t kMaxBindings = 1'000'000;
inline constexpr int64_t kMaxEvaluations = 10'000'000;

struct OrderBy {
  std::vector<std::string> path;  // {"phenomenonTime"}, {"Datastream", "name"}; id is "@iot.id"
  bool descending = false;
  size_t pos = 0;  // where the path starts in the top-level option's value (for messages)
};

struct QueryOptions;
struct Expand {
  std::vector<std::string> path;  // "Datastreams/Observations" -> {"Datastreams", "Observations"}
  // The nested (...) options of the last segment; may be null.
  std::unique_ptr<QueryOptions> options;
  size_t pos = 0;  // where the path starts in the top-level $expand value (for messages)
};

struct QueryOptions {
  std::optional<int64_t> top, skip;
  bool count = false;
  std::vector<std::string> select;  // empty = all; "properties/owner" kept whole; id is "@iot.id"
  std::vector<size_t> select_pos;   // where each select item starts (for messages)
  std::shared_ptr<const Expr> filter;  // null = none
  std::vector<OrderBy> orderby;
  std::vector<Expand> expand;
  bool data_array = false;  // $resultFormat=dataArray
};

// Parses a raw (still percent-encoded, '+' = space) query string
// "a=b&$filter=...". Parameters without '$' are ignored; an unknown $option,
// a repeated one, a bad value or a syntax error is kInvalidArgument naming the
// option and the 0-based position in its decoded value
// ("$filter: unknown function 'foo' at position 12"). A query longer than
// kMaxQueryBytes is kInvalidArgument "query too long ...".
Result<QueryOptions> ParseQueryOptions(std::string_view raw_query);

// Parses one $filter expression (already decoded). Errors as above, without
// the option name.
Result<std::shared_ptr<const Expr>> ParseFilter(std::string_view text);

// Checks every property and navigation name in `options` ($filter, $select,
// $orderby, $expand and the nested options, each against the entity set it
// applies to) against the schema for `set`: an unknown one is
// kInvalidArgument naming the option, the name, the entity set and the
// position ("$filter: unknown property 'colour' of Things at position 0").
Status Validate(const QueryOptions& options, EntitySet set);

// A resource path after the version root: "Things(1)/Datastreams",
// "Datastreams(5)/Thing/name", ".../name/$value", "Things/$ref",
// "Things(1)/Datastreams/$ref", "Things(1)/properties/owner".
struct PathSegment {
  std::string name;               // "Things", "Datastreams", "Thing"
  std::optional<std::string> id;  // as written, quotes removed ('a''b' -> a'b)
};
struct ResourcePath {
  std::vector<PathSegment> segments;  // the first an entity set, then navigation properties
  std::string property;               // "name", "properties/owner"; empty = the entity(s)
  bool ref = false;                   // .../$ref
  bool value = false;                 // .../property/$value
};
// Percent-decodes and parses `path` (a leading '/' is ignored), checking the
// names against the schema: an unknown entity set, navigation or property is
// kNotFound naming it; bad syntax (unbalanced parentheses, an empty id, an id
// on a to-one navigation, $value without a property, anything after $ref or
// $value) is kInvalidArgument.
Result<ResourcePath> ParseResourcePath(std::string_view path);
// The entity set the last segment of `path` addresses, and whether it is a
// single entity (an id, or a to-one navigation) rather than a collection.
struct PathTarget {
  EntitySet set;
  bool single = false;
};
PathTarget TargetOf(const ResourcePath& path);

// One entity, as the service exposes it to the evaluator.
class EntityAccessor {
 public:
  virtual ~EntityAccessor() = default;
  // A property by name: "@iot.id", "name", "result", "phenomenonTime", or a
  // path into a JSON property: "properties/owner", "unitOfMeasurement/symbol".
  // Times should be TimeValue (or ISO 8601 strings), locations Geometry (see
  // ValueFromJson); unknown or absent -> null.
  virtual Value Get(std::string_view property) const = 0;
  // Calls fn for each entity related through the navigation property `nav`
  // ("Datastreams", "Thing", ...); stops when fn returns false.
  virtual void ForEachRelated(std::string_view nav,
                              const std::function<bool(const EntityAccessor&)>& fn) const = 0;
};

// Evaluates `filter` for `entity`. True only when the filter yields true;
// null, mismatched types and non-boolean results are false. A property path
// through navigation is true when ANY related entity (any combination, for
// several paths in one comparison) satisfies the comparison or function it
// is in. kInvalidArgument "too expensive" when the evaluation would visit
// more than kMaxBindings related entities or evaluate more than
// kMaxEvaluations expression nodes.
//
// `budget`, when given, is drawn from instead of a fresh one per call: one
// EvalBudget per request bounds the work of the whole request (every
// candidate entity's Matches together); once spent, Matches fails.
struct EvalBudget {
  int64_t bindings = kMaxBindings;        // related entities still to visit
  int64_t evaluations = kMaxEvaluations;  // expression nodes still to evaluate
};
Result<bool> Matches(const Expr& filter, const EntityAccessor& entity, int64_t now_ms,
                     EvalBudget* budget = nullptr);

// Evaluates an expression to a value for one entity (no navigation fan-out:
// a navigation path yields the value of the first related entity).
Value Evaluate(const Expr& expr, const EntityAccessor& entity, int64_t now_ms);

// $orderby: true when a sorts before b. Navigation paths in an OrderBy
// ("Datastream/name") follow the first related entity.
bool OrderLess(const std::vector<OrderBy>& orderby, const EntityAccessor& a,
               const EntityAccessor& b);
// The value an OrderBy path yields for one entity.
Value OrderValue(const OrderBy& order, const EntityAccessor& entity);

// Bounds a filter puts on a time property (phenomenonTime / resultTime) in
// its top-level conjunction: "phenomenonTime ge T1 and phenomenonTime lt T2"
// -> from T1 inclusive, to T2 exclusive; eq gives both. Comparisons under
// or/not, on other properties or against non-literals give no bound, so an
// Observation filter can be pushed into the store as a range and the rest
// evaluated with Matches on what the range returns.
struct TimeBounds {
  std::optional<int64_t> from_ms, to_ms;
  bool from_inclusive = true, to_inclusive = true;
  bool empty() const { return !from_ms && !to_ms; }
};
TimeBounds BoundsOn(const Expr& filter, std::string_view time_property);

// The literal a filter's top-level conjunction requires `path` to equal:
// EqualityOn(f, "Datastream/@iot.id") is 5 for "Datastream/@iot.id eq 5 and
// result gt 1" (also for "Datastream/id" and "5 eq Datastream/@iot.id");
// nullopt when there is no such equality.
std::optional<Value> EqualityOn(const Expr& filter, std::string_view path);

}  // namespace bysans::sta

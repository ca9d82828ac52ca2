// Validate: every name in the options against the schema.
#include <string>

#include "sta/query/query.h"

namespace bysans::sta {
namespace {

Status Unknown(std::string_view what, std::string_view name, EntitySet set) {
  return InvalidArgument("unknown " + std::string(what) + " '" + std::string(name) + "' of " +
                         std::string(NameOf(set)));
}

// Walks `nav` from `set`; the set reached, or an error naming the bad segment.
Result<EntitySet> WalkNavigation(EntitySet set, const std::vector<std::string>& nav) {
  for (const std::string& seg : nav) {
    auto target = Navigation(set, seg);
    if (!target) return Unknown("navigation property", seg, set);
    set = target->target;
  }
  return set;
}

// "properties/owner" is fine when "properties" is a complex property.
Status CheckProperty(EntitySet set, std::string_view property) {
  size_t slash = property.find('/');
  std::string_view head = property.substr(0, slash);
  if (!IsProperty(set, head)) return Unknown("property", head, set);
  if (slash != std::string_view::npos && !IsComplexProperty(set, head)) {
    return InvalidArgument("property '" + std::string(head) + "' of " + std::string(NameOf(set)) +
                           " has no members ('" + std::string(property) + "')");
  }
  return Status::Ok();
}

// A path of segments: navigation first, then a property (optional when
// `allow_nav_end`, e.g. $select of a navigation property).
Status CheckPath(EntitySet set, const std::vector<std::string>& path, bool allow_nav_end) {
  size_t i = 0;
  while (i < path.size() && !IsProperty(set, path[i])) {
    auto target = Navigation(set, path[i]);
    if (!target) return Unknown("property", path[i], set);
    set = target->target;
    ++i;
  }
  if (i == path.size()) {
    if (allow_nav_end) return Status::Ok();
    return InvalidArgument("path '" + path.back() + "' names no property");
  }
  std::string property;
  for (size_t k = i; k < path.size(); ++k) property += (k > i ? "/" : "") + path[k];
  return CheckProperty(set, property);
}

Status CheckExpr(const Expr& e, EntitySet set) {
  if (e.kind == Expr::Kind::kProperty) {
    BYSANS_ASSIGN_OR_RETURN(EntitySet target, WalkNavigation(set, e.nav));
    if (e.property.empty()) {
      return InvalidArgument("'" + e.nav.back() + "' is a navigation property, not a value");
    }
    return CheckProperty(target, e.property);
  }
  for (const auto& a : e.args) BYSANS_RETURN_IF_ERROR(CheckExpr(*a, set));
  return Status::Ok();
}

std::vector<std::string> SplitSlash(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '/') {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

Status ValidateAt(const QueryOptions& o, EntitySet set) {
  if (o.filter) BYSANS_RETURN_IF_ERROR(CheckExpr(*o.filter, set));
  for (const std::string& s : o.select) {
    BYSANS_RETURN_IF_ERROR(CheckPath(set, SplitSlash(s), /*allow_nav_end=*/true));
  }
  for (const OrderBy& ob : o.orderby) {
    BYSANS_RETURN_IF_ERROR(CheckPath(set, ob.path, /*allow_nav_end=*/false));
  }
  for (const Expand& ex : o.expand) {
    BYSANS_ASSIGN_OR_RETURN(EntitySet target, WalkNavigation(set, ex.path));
    if (ex.options) BYSANS_RETURN_IF_ERROR(ValidateAt(*ex.options, target));
  }
  return Status::Ok();
}

}  // namespace

Status Validate(const QueryOptions& options, EntitySet set) { return ValidateAt(options, set); }

}  // namespace bysans::sta

// Validate: every name in the options against the schema.
#include <string>

#include "sta/query/query.h"
#include "sta/query/text.h"

namespace bysans::sta {
namespace {

std::string Unknown(std::string_view what, std::string_view name, EntitySet set) {
  return "unknown " + std::string(what) + " '" + std::string(name) + "' of " +
         std::string(NameOf(set));
}

// Walks `nav` from `set`; the set reached, or what is wrong.
bool WalkNavigation(EntitySet* set, const std::vector<std::string>& nav, std::string* error) {
  for (const std::string& seg : nav) {
    auto target = Navigation(*set, seg);
    if (!target) {
      *error = Unknown("navigation property", seg, *set);
      return false;
    }
    *set = target->target;
  }
  return true;
}

// "properties/owner" is fine when "properties" is a complex property.
std::string CheckProperty(EntitySet set, std::string_view property) {
  size_t slash = property.find('/');
  std::string_view head = property.substr(0, slash);
  if (!IsProperty(set, head)) return Unknown("property", head, set);
  if (slash != std::string_view::npos && !IsComplexProperty(set, head)) {
    return "property '" + std::string(head) + "' of " + std::string(NameOf(set)) +
           " has no members ('" + std::string(property) + "')";
  }
  return "";
}

// A path of segments: navigation first, then a property (optional when
// `allow_nav_end`, e.g. $select of a navigation property).
std::string CheckPath(EntitySet set, const std::vector<std::string>& path, bool allow_nav_end) {
  size_t i = 0;
  while (i < path.size() && !IsProperty(set, path[i])) {
    auto target = Navigation(set, path[i]);
    if (!target) return Unknown("property", path[i], set);
    set = target->target;
    ++i;
  }
  if (i == path.size()) {
    return allow_nav_end || path.empty() ? "" : "path '" + path.back() + "' names no property";
  }
  std::string property;
  for (size_t k = i; k < path.size(); ++k) property += (k > i ? "/" : "") + path[k];
  return CheckProperty(set, property);
}

// The first bad name in a $filter tree, and where it is.
std::string CheckExpr(const Expr& e, EntitySet set, size_t* pos) {
  if (e.kind == Expr::Kind::kProperty) {
    *pos = e.pos;
    std::string error;
    if (!WalkNavigation(&set, e.nav, &error)) return error;
    if (e.property.empty()) return "'" + e.nav.back() + "' is a navigation property, not a value";
    return CheckProperty(set, e.property);
  }
  for (const auto& a : e.args) {
    if (std::string error = CheckExpr(*a, set, pos); !error.empty()) return error;
  }
  return "";
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

// Options nested in $expand report positions in the top-level $expand value.
Status ValidateAt(const QueryOptions& o, EntitySet set, bool nested) {
  auto fail = [&](const char* option, const std::string& error, size_t pos) {
    return ErrorAt((nested ? "$expand" : option) + std::string(": ") + error, pos);
  };
  if (o.filter) {
    size_t pos = 0;
    if (std::string e = CheckExpr(*o.filter, set, &pos); !e.empty()) {
      return fail("$filter", e, pos);
    }
  }
  for (size_t i = 0; i < o.select.size(); ++i) {
    size_t pos = i < o.select_pos.size() ? o.select_pos[i] : 0;
    if (std::string e = CheckPath(set, SplitSlash(o.select[i]), true); !e.empty()) {
      return fail("$select", e, pos);
    }
  }
  for (const OrderBy& ob : o.orderby) {
    if (std::string e = CheckPath(set, ob.path, false); !e.empty()) {
      return fail("$orderby", e, ob.pos);
    }
  }
  for (const Expand& ex : o.expand) {
    EntitySet target = set;
    std::string error;
    if (!WalkNavigation(&target, ex.path, &error)) return fail("$expand", error, ex.pos);
    if (ex.options) BYSANS_RETURN_IF_ERROR(ValidateAt(*ex.options, target, true));
  }
  return Status::Ok();
}

}  // namespace

Status Validate(const QueryOptions& options, EntitySet set) {
  return ValidateAt(options, set, false);
}

}  // namespace bysans::sta

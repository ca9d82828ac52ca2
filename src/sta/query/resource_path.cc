// ParseResourcePath: "Things(1)/Datastreams/$ref" and friends.
#include <string>

#include "sta/query/query.h"
#include "sta/query/text.h"

namespace bysans::sta {
namespace {

// "Things(1)" -> name "Things", id "1"; "Things('a''b')" -> id a'b.
Status SplitSegment(std::string_view seg, size_t pos, PathSegment* out) {
  size_t paren = seg.find('(');
  out->name = std::string(seg.substr(0, paren));
  if (paren == std::string_view::npos) return Status::Ok();
  if (seg.back() != ')') return ErrorAt("expected ')' after the id", pos + seg.size());
  std::string_view id = seg.substr(paren + 1, seg.size() - paren - 2);
  if (id.empty()) return ErrorAt("empty id", pos + paren + 1);
  if (id.front() == '\'') {
    if (id.size() < 2 || id.back() != '\'')
      return ErrorAt("unterminated string id", pos + paren + 1);
    std::string s;
    for (size_t i = 1; i + 1 < id.size(); ++i) {
      s.push_back(id[i]);
      if (id[i] == '\'') {
        if (i + 2 < id.size() && id[i + 1] == '\'') {
          ++i;
        } else {
          return ErrorAt("a quote in a string id must be doubled", pos + paren + 1 + i);
        }
      }
    }
    out->id = std::move(s);
    return Status::Ok();
  }
  for (size_t i = 0; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') {
      if (!(i == 0 && id[i] == '-' && id.size() > 1)) {
        return ErrorAt("an id is an integer or a 'quoted string'", pos + paren + 1 + i);
      }
    }
  }
  out->id = std::string(id);
  return Status::Ok();
}

}  // namespace

Result<ResourcePath> ParseResourcePath(std::string_view raw) {
  if (raw.size() > kMaxQueryBytes) return InvalidArgument("path too long");
  auto decoded = PercentDecode(raw, false);
  if (!decoded.ok()) return decoded.status();
  const std::string& path = *decoded;
  size_t base = path.starts_with('/') ? 1 : 0;
  size_t end = path.size();
  if (end > base && path.ends_with('/')) --end;
  if (end <= base) return InvalidArgument("empty resource path");
  std::string_view p = std::string_view(path).substr(base, end - base);
  BYSANS_ASSIGN_OR_RETURN(auto parts, SplitTopLevel(p, '/'));
  ResourcePath out;
  EntitySet set = EntitySet::kThings;
  bool single = false;
  for (size_t k = 0; k < parts.size(); ++k) {
    std::string_view seg = p.substr(parts[k].begin, parts[k].end - parts[k].begin);
    size_t pos = base + parts[k].begin;
    if (seg.empty()) return ErrorAt("empty path segment", pos);
    if (out.ref || out.value) return ErrorAt("nothing may follow $ref or $value", pos);
    if (seg == "$ref") {
      if (!out.property.empty()) return ErrorAt("$ref follows an entity or a collection", pos);
      out.ref = true;
      continue;
    }
    if (seg == "$value") {
      if (out.property.empty()) return ErrorAt("$value follows a property", pos);
      out.value = true;
      continue;
    }
    if (!out.property.empty()) {  // a member of a JSON property
      std::string head = out.property.substr(0, out.property.find('/'));
      if (!IsComplexProperty(set, head)) {
        return NotFound("property '" + head + "' of " + std::string(NameOf(set)) +
                        " has no member " + Quoted(seg));
      }
      out.property += "/" + std::string(seg);
      continue;
    }
    PathSegment s;
    BYSANS_RETURN_IF_ERROR(SplitSegment(seg, pos, &s));
    if (k == 0) {
      auto first = EntitySetByName(s.name);
      if (!first) return NotFound("no entity set " + Quoted(s.name));
      set = *first;
      single = s.id.has_value();
      out.segments.push_back(std::move(s));
      continue;
    }
    auto nav = Navigation(set, s.name);
    if (nav && !single) {
      return ErrorAt(Quoted(s.name) + " must follow a single entity (add an id)", pos);
    }
    if (nav) {
      if (s.id && !nav->to_many) return ErrorAt(Quoted(s.name) + " takes no id", pos);
      set = nav->target;
      single = !nav->to_many || s.id.has_value();
      out.segments.push_back(std::move(s));
      continue;
    }
    std::string name = s.name == "id" ? "@iot.id" : s.name;
    if (s.id || !IsProperty(set, name)) {
      return NotFound("no property or navigation " + Quoted(s.name) + " of " +
                      std::string(NameOf(set)));
    }
    if (!single) return ErrorAt("a property follows a single entity (add an id)", pos);
    out.property = name;
  }
  return out;
}

PathTarget TargetOf(const ResourcePath& path) {
  PathTarget t{EntitySet::kThings, false};
  for (size_t i = 0; i < path.segments.size(); ++i) {
    const PathSegment& s = path.segments[i];
    if (i == 0) {
      t.set = EntitySetByName(s.name).value_or(EntitySet::kThings);
      t.single = s.id.has_value();
      continue;
    }
    if (auto nav = Navigation(t.set, s.name)) {
      t.set = nav->target;
      t.single = !nav->to_many || s.id.has_value();
    }
  }
  return t;
}

}  // namespace bysans::sta

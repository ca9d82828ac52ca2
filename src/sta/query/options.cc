// ParseQueryOptions: the system query options, $expand's nested options.
#include <charconv>
#include <set>
#include <string>

#include "sta/query/filter_parser.h"
#include "sta/query/query.h"
#include "sta/query/text.h"

namespace bysans::sta {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '@' || c == '.';
}

// "a/b/c" -> {"a","b","c"}; "id" as a last segment -> "@iot.id".
Status ParsePath(std::string_view text, size_t base, std::vector<std::string>* out) {
  out->clear();
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '/') {
      if (i == start) return ErrorAt("empty name in path " + Quoted(text), base + i);
      out->emplace_back(text.substr(start, i - start));
      start = i + 1;
    } else if (!IsNameChar(text[i])) {
      return ErrorAt("unexpected character " + Quoted(text.substr(i, 1)), base + i);
    }
  }
  if (out->size() > static_cast<size_t>(kMaxNesting)) {
    return ErrorAt("path longer than " + std::to_string(kMaxNesting) + " segments", base);
  }
  if (out->back() == "id") out->back() = "@iot.id";
  return Status::Ok();
}

Result<int64_t> ParseCount(std::string_view text, size_t base) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v < 0) {
    return ErrorAt("expected a non-negative integer, got " + Quoted(text), base);
  }
  return v;
}

// Calls fn(item, position) for each trimmed top-level item of `text`
// separated by `sep`; stops at the first error.
template <typename Fn>
Status ForEachItem(std::string_view text, size_t base, char sep, Fn&& fn) {
  BYSANS_ASSIGN_OR_RETURN(auto items, SplitTopLevel(text, sep));
  for (const Range& r : items) {
    size_t at = base + r.begin;
    std::string_view item = Trim(text.substr(r.begin, r.end - r.begin), &at);
    BYSANS_RETURN_IF_ERROR(fn(item, at));
  }
  return Status::Ok();
}

Status ParseSelect(std::string_view text, size_t base, QueryOptions* opts) {
  return ForEachItem(text, base, ',', [&](std::string_view item, size_t at) -> Status {
    std::vector<std::string> path;
    BYSANS_RETURN_IF_ERROR(ParsePath(item, at, &path));
    std::string joined;
    for (const auto& seg : path) joined += (joined.empty() ? "" : "/") + seg;
    opts->select.push_back(std::move(joined));
    opts->select_pos.push_back(at);
    return Status::Ok();
  });
}

Status ParseOrderBy(std::string_view text, size_t base, QueryOptions* opts) {
  return ForEachItem(text, base, ',', [&](std::string_view item, size_t at) -> Status {
    OrderBy order;
    order.pos = at;
    size_t space = item.find_first_of(" \t");
    if (space != std::string_view::npos) {
      size_t dir_at = at + space;
      std::string_view dir = Trim(item.substr(space), &dir_at);
      if (dir == "desc") {
        order.descending = true;
      } else if (dir != "asc") {
        return ErrorAt("expected 'asc' or 'desc', got " + Quoted(dir), dir_at);
      }
      item = item.substr(0, space);
    }
    BYSANS_RETURN_IF_ERROR(ParsePath(item, at, &order.path));
    opts->orderby.push_back(std::move(order));
    return Status::Ok();
  });
}

Status ParseOptionList(std::string_view text, size_t base, char sep, int depth, QueryOptions* opts);

Status ParseExpand(std::string_view text, size_t base, int depth, QueryOptions* opts) {
  return ForEachItem(text, base, ',', [&](std::string_view item, size_t at) -> Status {
    Expand expand;
    expand.pos = at;
    size_t paren = item.find('(');
    std::string_view path = item.substr(0, paren);
    BYSANS_RETURN_IF_ERROR(ParsePath(path, at, &expand.path));
    if (paren != std::string_view::npos) {
      if (item.back() != ')') return ErrorAt("expected ')' to end the options", at + item.size());
      if (depth + 1 > kMaxNesting) {
        return ErrorAt("$expand nested deeper than " + std::to_string(kMaxNesting) + " levels",
                       at + paren);
      }
      expand.options = std::make_unique<QueryOptions>();
      std::string_view inner = item.substr(paren + 1, item.size() - paren - 2);
      BYSANS_RETURN_IF_ERROR(
          ParseOptionList(inner, at + paren + 1, ';', depth + 1, expand.options.get()));
    }
    opts->expand.push_back(std::move(expand));
    return Status::Ok();
  });
}

bool IsKnownOption(std::string_view name) {
  for (std::string_view known :
       {"$top", "$skip", "$count", "$select", "$orderby", "$expand", "$filter", "$resultFormat"}) {
    if (name == known) return true;
  }
  return false;
}

// One option (already decoded) into opts.
Status ApplyOption(std::string_view name, std::string_view value, size_t base, int depth,
                   QueryOptions* opts) {
  if (name == "$top") {
    BYSANS_ASSIGN_OR_RETURN(opts->top, ParseCount(value, base));
  } else if (name == "$skip") {
    BYSANS_ASSIGN_OR_RETURN(opts->skip, ParseCount(value, base));
  } else if (name == "$count") {
    if (value != "true" && value != "false") {
      return ErrorAt("expected true or false, got " + Quoted(value), base);
    }
    opts->count = value == "true";
  } else if (name == "$select") {
    return ParseSelect(value, base, opts);
  } else if (name == "$orderby") {
    return ParseOrderBy(value, base, opts);
  } else if (name == "$expand") {
    return ParseExpand(value, base, depth, opts);
  } else if (name == "$filter") {
    BYSANS_ASSIGN_OR_RETURN(auto expr, ParseFilterAt(value, base));
    opts->filter = std::move(expr);
  } else if (name == "$resultFormat") {
    if (value != "dataArray") {
      return ErrorAt("unsupported $resultFormat " + Quoted(value), base);
    }
    opts->data_array = true;
  } else {
    return InvalidArgument("unknown query option " + Quoted(name));
  }
  return Status::Ok();
}

// "$top=1;$filter=..." inside $expand(...).
Status ParseOptionList(std::string_view text, size_t base, char sep, int depth,
                       QueryOptions* opts) {
  std::set<std::string, std::less<>> seen;
  return ForEachItem(text, base, sep, [&](std::string_view item, size_t at) -> Status {
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) return ErrorAt("expected $option=value", at);
    std::string_view name = item.substr(0, eq);
    if (!seen.insert(std::string(name)).second) {
      return ErrorAt("repeated option " + Quoted(name), at);
    }
    return ApplyOption(name, item.substr(eq + 1), at + eq + 1, depth, opts);
  });
}

}  // namespace

Result<QueryOptions> ParseQueryOptions(std::string_view raw_query) {
  if (raw_query.size() > kMaxQueryBytes) {
    return InvalidArgument("query too long: " + std::to_string(raw_query.size()) +
                           " bytes, at most " + std::to_string(kMaxQueryBytes));
  }
  if (!raw_query.empty() && raw_query.front() == '?') raw_query.remove_prefix(1);
  QueryOptions opts;
  std::set<std::string, std::less<>> seen;
  size_t start = 0;
  while (start <= raw_query.size()) {
    size_t amp = raw_query.find('&', start);
    if (amp == std::string_view::npos) amp = raw_query.size();
    std::string_view param = raw_query.substr(start, amp - start);
    start = amp + 1;
    if (param.empty()) continue;
    size_t eq = param.find('=');
    auto decoded_name = PercentDecode(param.substr(0, eq), true);
    if (!decoded_name.ok()) {
      if (param.front() != '$') continue;  // not ours to judge
      return InvalidArgument("query option name: " + decoded_name.status().message());
    }
    const std::string& name = *decoded_name;
    if (name.empty() || name[0] != '$') continue;  // not a system query option
    if (!IsKnownOption(name)) return InvalidArgument("unknown query option " + Quoted(name));
    if (!seen.insert(name).second) return InvalidArgument("repeated query option " + Quoted(name));
    std::string_view raw_value = eq == std::string_view::npos ? "" : param.substr(eq + 1);
    auto value = PercentDecode(raw_value, true);
    if (!value.ok()) return InvalidArgument(name + ": " + value.status().message());
    Status st = ApplyOption(name, *value, 0, 0, &opts);
    if (!st.ok()) return InvalidArgument(name + ": " + st.message());
  }
  return opts;
}

}  // namespace bysans::sta

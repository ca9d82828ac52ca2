#include "act/template.h"

namespace bysans::act {
namespace {

const nlohmann::json* Lookup(const nlohmann::json& ctx, const std::string& path) {
  const nlohmann::json* cur = &ctx;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string part =
        path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object() || !cur->contains(part)) return nullptr;
    cur = &(*cur)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return cur;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

}  // namespace

std::string Render(const std::string& tmpl, const nlohmann::json& ctx, bool json_escape) {
  std::string out;
  size_t pos = 0;
  while (pos < tmpl.size()) {
    size_t open = tmpl.find("{{", pos);
    if (open == std::string::npos) break;
    size_t close = tmpl.find("}}", open + 2);
    if (close == std::string::npos) break;
    out.append(tmpl, pos, open - pos);
    const nlohmann::json* v = Lookup(ctx, Trim(tmpl.substr(open + 2, close - open - 2)));
    if (v && v->is_string()) {
      if (json_escape) {
        std::string d = nlohmann::json(v->get<std::string>()).dump();
        out.append(d, 1, d.size() - 2);
      } else {
        out += v->get<std::string>();
      }
    } else if (v && !v->is_null()) {
      out += v->dump();
    }
    pos = close + 2;
  }
  out.append(tmpl, pos, std::string::npos);
  return out;
}

}  // namespace bysans::act

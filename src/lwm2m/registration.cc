#include "lwm2m/registration.h"

#include <charconv>

namespace bysans::lwm2m {
namespace {

constexpr int64_t kMaxLifetime = 10LL * 365 * 86400;

// "name=value" → {name, value}; "Q" → {"Q", ""}.
std::pair<std::string_view, std::string_view> Split(std::string_view p) {
  size_t eq = p.find('=');
  if (eq == std::string_view::npos) return {p, {}};
  return {p.substr(0, eq), p.substr(eq + 1)};
}

Result<int64_t> Lifetime(std::string_view v) {
  int64_t lt = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), lt);
  if (ec != std::errc() || end != v.data() + v.size() || lt < 1 || lt > kMaxLifetime)
    return InvalidArgument("lt must be a lifetime in seconds, 1 to " +
                           std::to_string(kMaxLifetime));
  return lt;
}

// b: U with optional Q (1.0 "UQ"); 1.1 letters M, H, T, S, N are not served.
Status Binding(std::string_view v, std::string& binding, bool& queue) {
  bool udp = false;
  queue = false;
  for (char c : v) {
    if (c == 'U') {
      udp = true;
    } else if (c == 'Q') {
      queue = true;
    } else if (c == 'S' || c == 'T' || c == 'N' || c == 'M' || c == 'H') {
      continue;  // other transports the client also has: unused here
    } else {
      return InvalidArgument("b=" + std::string(v) + ": unknown binding letter '" +
                             std::string(1, c) + "'");
    }
  }
  if (!udp) return InvalidArgument("b=" + std::string(v) + ": bysans serves the U (UDP) binding");
  binding = "U";
  return Status::Ok();
}

Result<int> Number(std::string_view v) {
  int n = -1;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 0 || n > 65535)
    return InvalidArgument("");
  return n;
}

}  // namespace

Result<RegisterParams> ParseRegisterQuery(const std::vector<std::string>& query) {
  RegisterParams r;
  bool has_ep = false;
  for (const std::string& part : query) {
    auto [name, value] = Split(part);
    if (name == "ep") {
      if (value.empty() || value.size() > 128)
        return InvalidArgument("ep must be an endpoint name of 1 to 128 bytes");
      r.endpoint = std::string(value);
      has_ep = true;
    } else if (name == "lt") {
      BYSANS_ASSIGN_OR_RETURN(r.lifetime_s, Lifetime(value));
    } else if (name == "lwm2m") {
      if (value.size() < 3 || value.substr(0, 2) != "1." || value.size() > 8)
        return InvalidArgument("lwm2m=" + std::string(value) + ": bysans speaks LwM2M 1.x");
      r.version = std::string(value);
    } else if (name == "b") {
      bool q = false;
      BYSANS_RETURN_IF_ERROR(Binding(value, r.binding, q));
      r.queue_mode = r.queue_mode || q;
    } else if (name == "Q" && value.empty()) {
      r.queue_mode = true;
    }
  }
  if (!has_ep) return InvalidArgument("missing ep (the endpoint client name): POST /rd?ep=NAME");
  return r;
}

Result<UpdateParams> ParseUpdateQuery(const std::vector<std::string>& query) {
  UpdateParams u;
  for (const std::string& part : query) {
    auto [name, value] = Split(part);
    if (name == "lt") {
      BYSANS_ASSIGN_OR_RETURN(u.lifetime_s, Lifetime(value));
    } else if (name == "b") {
      std::string binding;
      bool q = false;
      BYSANS_RETURN_IF_ERROR(Binding(value, binding, q));
      u.binding = binding;
      u.queue_mode = q || (u.queue_mode && *u.queue_mode);
    } else if (name == "Q" && value.empty()) {
      u.queue_mode = true;
    } else if (name == "ep") {
      return InvalidArgument("an Update cannot change the endpoint name: register again");
    }
  }
  return u;
}

Result<std::vector<ObjectLink>> ParseLinkFormat(std::string_view payload) {
  std::vector<ObjectLink> out;
  std::string root;  // an alternate root path (rt="oma.lwm2m"), e.g. "/lwm2m"
  size_t i = 0;
  int entries = 0;
  auto bad = [&](size_t at, const std::string& what) {
    return InvalidArgument("link-format at byte " + std::to_string(at) + ": " + what);
  };
  while (i < payload.size()) {
    while (i < payload.size() && (payload[i] == ' ' || payload[i] == '\n' || payload[i] == '\r'))
      ++i;
    if (i >= payload.size()) break;
    if (++entries > 1000) return bad(i, "more than 1,000 links");
    if (payload[i] != '<') return bad(i, "expected '<'");
    size_t close = payload.find('>', i);
    if (close == std::string_view::npos) return bad(i, "'<' without '>'");
    std::string_view path = payload.substr(i + 1, close - i - 1);
    // Parameters up to the next comma outside quotes.
    size_t j = close + 1;
    bool quoted = false;
    while (j < payload.size() && (quoted || payload[j] != ',')) {
      if (payload[j] == '"') quoted = !quoted;
      ++j;
    }
    if (quoted) return bad(close + 1, "unterminated quoted parameter");
    std::string_view params = payload.substr(close + 1, j - close - 1);
    if (!params.empty() && params[0] != ';') return bad(close + 1, "expected ';' or ','");
    const size_t at = i;
    i = j + 1;
    if (params.find("rt=\"oma.lwm2m\"") != std::string_view::npos) {
      root = std::string(path == "/" ? "" : path);
      continue;
    }
    if (path == "/") continue;
    if (!root.empty() && path.substr(0, root.size()) == root) path.remove_prefix(root.size());
    if (path.empty() || path[0] != '/') return bad(at, "a path must start with '/'");
    path.remove_prefix(1);
    size_t slash = path.find('/');
    auto object = Number(path.substr(0, slash));
    if (!object.ok()) return bad(at, "the object id must be an integer 0..65535");
    ObjectLink link{*object, -1};
    if (slash != std::string_view::npos) {
      std::string_view rest = path.substr(slash + 1);
      auto instance = Number(rest);
      if (!instance.ok())
        return bad(at, "a link names an object or an object instance: </object/instance>");
      link.instance = *instance;
    }
    out.push_back(link);
  }
  return out;
}

std::string ObjectsText(const std::vector<ObjectLink>& links) {
  std::string out;
  for (const ObjectLink& l : links) {
    if (!out.empty()) out += ',';
    out += '/' + std::to_string(l.object);
    if (l.instance >= 0) out += '/' + std::to_string(l.instance);
  }
  return out;
}

}  // namespace bysans::lwm2m

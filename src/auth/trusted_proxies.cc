#include "auth/trusted_proxies.h"

#include <optional>

namespace bysans::auth {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// An address as X-Forwarded-For writers put it: "a.b.c.d", "v6", and also
// "[v6]", "[v6]:port" and "v4:port".
std::optional<IpAddress> ParseHop(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    text = text.substr(1, close - 1);
  } else if (text.find(':') != std::string_view::npos && text.find(':') == text.rfind(':') &&
             text.find('.') != std::string_view::npos) {
    text = text.substr(0, text.find(':'));  // v4:port
  }
  return IpAddress::Parse(text);
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(std::string_view list) {
  TrustedProxies t;
  BYSANS_ASSIGN_OR_RETURN(t.nets_, ParseCidrList(list));
  return t;
}

bool TrustedProxies::Contains(std::string_view address) const {
  auto a = ParseHop(address);
  return a && InAnyBlock(nets_, *a);
}

std::string TrustedProxies::ClientAddress(std::string_view peer,
                                          std::string_view forwarded_for) const {
  if (nets_.empty() || !Contains(peer)) return std::string(peer);
  std::vector<std::string_view> hops;
  size_t i = 0;
  while (i <= forwarded_for.size()) {
    size_t end = forwarded_for.find(',', i);
    if (end == std::string_view::npos) end = forwarded_for.size();
    hops.push_back(Trim(forwarded_for.substr(i, end - i)));
    i = end + 1;
  }
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    auto a = ParseHop(*it);
    if (!a) break;  // garbage: believe no further
    if (InAnyBlock(nets_, *a)) continue;
    return a->Unwrapped().ToString();
  }
  return std::string(peer);
}

}  // namespace bysans::auth

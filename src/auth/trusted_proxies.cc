#include "auth/trusted_proxies.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>
#include <optional>

namespace bysans::auth {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// An address as 16 bytes (IPv4 mapped into IPv6), or nullopt. Accepts "[v6]",
// "[v6]:port" and "v4:port" as X-Forwarded-For writers sometimes add them.
std::optional<std::array<uint8_t, 16>> ParseAddress(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    text = text.substr(1, close - 1);
  } else if (text.find(':') != std::string_view::npos && text.find(':') == text.rfind(':') &&
             text.find('.') != std::string_view::npos) {
    text = text.substr(0, text.find(':'));  // v4:port
  }
  std::string s(text);
  std::array<uint8_t, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

bool IsMappedV4(const std::array<uint8_t, 16>& a) {
  for (int i = 0; i < 10; ++i)
    if (a[static_cast<size_t>(i)] != 0) return false;
  return a[10] == 0xff && a[11] == 0xff;
}

// Splits on commas and blanks.
std::vector<std::string_view> Split(std::string_view list) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < list.size()) {
    size_t end = list.find_first_of(", \t", i);
    if (end == std::string_view::npos) end = list.size();
    if (end > i) out.push_back(list.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(std::string_view list) {
  TrustedProxies t;
  for (std::string_view entry : Split(list)) {
    std::string_view addr = entry;
    std::optional<int> prefix;
    if (size_t slash = entry.find('/'); slash != std::string_view::npos) {
      addr = entry.substr(0, slash);
      std::string_view bits = entry.substr(slash + 1);
      int n = -1;
      auto [p, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), n);
      if (ec != std::errc() || p != bits.data() + bits.size() || n < 0)
        return InvalidArgument("'" + std::string(entry) + "' is not an address or CIDR block");
      prefix = n;
    }
    auto bytes = ParseAddress(addr);
    if (!bytes || addr.front() == '[')
      return InvalidArgument("'" + std::string(entry) + "' is not an address or CIDR block");
    Net net;
    net.bytes = *bytes;
    const bool v4 = addr.find(':') == std::string_view::npos;
    const int max = v4 ? 32 : 128;
    if (prefix && *prefix > max)
      return InvalidArgument("'" + std::string(entry) + "': the prefix is longer than " +
                             std::to_string(max) + " bits");
    net.prefix = prefix ? (v4 ? *prefix + 96 : *prefix) : 128;
    t.nets_.push_back(net);
  }
  return t;
}

bool TrustedProxies::Contains(std::string_view address) const {
  auto a = ParseAddress(address);
  if (!a) return false;
  for (const Net& n : nets_) {
    bool match = true;
    for (int bit = 0; bit < n.prefix && match; ++bit) {
      const auto byte = static_cast<size_t>(bit / 8);
      const auto mask = static_cast<uint8_t>(0x80 >> (bit % 8));
      match = (((*a)[byte] ^ n.bytes[byte]) & mask) == 0;
    }
    if (match) return true;
  }
  return false;
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
    auto a = ParseAddress(*it);
    if (!a) break;  // garbage: believe no further
    if (Contains(*it)) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (IsMappedV4(*a)) {
      inet_ntop(AF_INET, a->data() + 12, text, sizeof text);
    } else {
      inet_ntop(AF_INET6, a->data(), text, sizeof text);
    }
    return text;
  }
  return std::string(peer);
}

}  // namespace bysans::auth

#include "core/ip_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace bysans {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool AllZero(const std::array<uint8_t, 16>& b, size_t from, size_t to) {
  return std::all_of(b.begin() + static_cast<std::ptrdiff_t>(from),
                     b.begin() + static_cast<std::ptrdiff_t>(to), [](uint8_t x) { return x == 0; });
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::FromSockaddr(const sockaddr* sa, size_t len) {
  if (sa == nullptr) return std::nullopt;
  IpAddress a;
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in in{};
    std::memcpy(&in, sa, sizeof in);
    std::memcpy(a.bytes.data(), &in.sin_addr, 4);
    return a;
  }
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, sa, sizeof in6);
    std::memcpy(a.bytes.data(), &in6.sin6_addr, 16);
    a.v6 = true;
    return a;
  }
  return std::nullopt;
}

IpAddress IpAddress::Unwrapped() const {
  if (!v6) return *this;
  const auto& b = bytes;
  bool mapped = AllZero(b, 0, 10) && b[10] == 0xff && b[11] == 0xff;
  bool compatible = AllZero(b, 0, 12) && !AllZero(b, 12, 15);  // not :: or ::1 (or ::0.0.0.x)
  bool nat64 = b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && AllZero(b, 4, 12);
  if (!mapped && !compatible && !nat64) return *this;
  IpAddress v4;
  std::copy(b.begin() + 12, b.end(), v4.bytes.begin());
  return v4;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  text = Trim(text);
  size_t slash = text.find('/');
  auto addr = IpAddress::Parse(text.substr(0, slash));
  if (!addr) return InvalidArgument("'" + std::string(text) + "' is not an address or CIDR block");
  Cidr c;
  c.base = *addr;
  const int max = addr->v6 ? 128 : 32;
  c.prefix = max;
  if (slash != std::string_view::npos) {
    std::string_view p = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), c.prefix);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || c.prefix < 0 ||
        c.prefix > max) {
      return InvalidArgument("'" + std::string(text) + "' has a bad prefix length (0.." +
                             std::to_string(max) + ")");
    }
  }
  return c;
}

bool Cidr::Contains(const IpAddress& a) const {
  if (a.v6 != base.v6) return false;
  int full = prefix / 8, rest = prefix % 8;
  if (!std::equal(a.bytes.begin(), a.bytes.begin() + full, base.bytes.begin())) return false;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.bytes[full] & mask) == (base.bytes[full] & mask);
}

std::string Cidr::ToString() const { return base.ToString() + "/" + std::to_string(prefix); }

Result<std::vector<Cidr>> ParseCidrList(std::string_view list) {
  std::vector<Cidr> out;
  size_t i = 0;
  while (i < list.size()) {
    size_t end = list.find_first_of(", \t", i);
    if (end == std::string_view::npos) end = list.size();
    if (end > i) {
      BYSANS_ASSIGN_OR_RETURN(Cidr c, Cidr::Parse(list.substr(i, end - i)));
      out.push_back(c);
    }
    i = end + 1;
  }
  return out;
}

bool InAnyBlock(const std::vector<Cidr>& blocks, const IpAddress& address) {
  const IpAddress unwrapped = address.Unwrapped();
  return std::any_of(blocks.begin(), blocks.end(),
                     [&](const Cidr& c) { return c.Contains(address) || c.Contains(unwrapped); });
}

}  // namespace bysans

// IPv4/IPv6 addresses and CIDR blocks, for the settings that name networks
// (outbound.allow, http.trusted_proxies). Plain value types.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

struct sockaddr;

namespace bysans {

// An IPv4 or IPv6 address.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4: the first 4 bytes

  // "192.0.2.1", "2001:db8::1" (no brackets, no zone); nullopt if not an address.
  static std::optional<IpAddress> Parse(std::string_view text);
  // From a sockaddr_in / sockaddr_in6; nullopt for other families.
  static std::optional<IpAddress> FromSockaddr(const sockaddr* sa, size_t len);
  // The IPv4 address carried by a mapped, compatible or NAT64 IPv6 address; itself otherwise.
  IpAddress Unwrapped() const;
  std::string ToString() const;
  bool operator==(const IpAddress&) const = default;
};

// An address block, e.g. 10.0.0.0/8 or fd00::/8.
struct Cidr {
  IpAddress base;
  int prefix = 0;

  // "10.0.0.0/8", "::1/128", or a bare address (a /32 or /128). InvalidArgument otherwise.
  static Result<Cidr> Parse(std::string_view text);
  bool Contains(const IpAddress& a) const;  // same family only
  std::string ToString() const;
};

// A list of CIDR blocks or bare addresses separated by commas and/or blanks
// ("10.0.0.0/8, 192.0.2.7 ::1"); empty entries are ignored. InvalidArgument naming the bad
// entry.
Result<std::vector<Cidr>> ParseCidrList(std::string_view list);

// True if `address`, or the IPv4 address a mapped/compatible/NAT64 IPv6 address carries, is in
// one of the blocks.
bool InAnyBlock(const std::vector<Cidr>& blocks, const IpAddress& address);

}  // namespace bysans

// The outbound-address policy: which addresses bysans may open a connection to on behalf of a
// user (webhooks, e-mail, third-party MQTT brokers, data targets). It is checked on the
// resolved address right before connecting, so a name cannot smuggle an address past it.
//
//   - never, whatever is allowed: 0.0.0.0/8, 169.254.0.0/16 (link-local, cloud metadata),
//     224.0.0.0/4 (multicast), 240.0.0.0/4 and 255.255.255.255 (reserved, broadcast), ::/128,
//     fe80::/10 (link-local), ff00::/8 (multicast), fd00:ec2::254/128 (a cloud metadata
//     address);
//   - public addresses: allowed;
//   - every other address (loopback, private, CGNAT, documentation, ULA, ...): only when an
//     `outbound.allow` CIDR contains it.
// IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d)
// addresses are judged as the IPv4 address they carry. Plain value type, thread-compatible.
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

class OutboundPolicy {
 public:
  OutboundPolicy() = default;  // public addresses only
  explicit OutboundPolicy(std::vector<Cidr> allow) : allow_(std::move(allow)) {}
  // A comma-separated CIDR list ("127.0.0.0/8, ::1/128"); empty entries are ignored.
  // InvalidArgument naming the bad entry.
  static Result<OutboundPolicy> Parse(std::string_view list);

  // Ok, or PermissionDenied saying why (for the server log: it names the address).
  Status Check(const IpAddress& address) const;
  Status Check(const sockaddr* sa, size_t len) const;

  static bool IsNeverReached(const IpAddress& address);  // after unwrapping
  static bool IsPublic(const IpAddress& address);        // after unwrapping

  const std::vector<Cidr>& allow() const { return allow_; }

 private:
  std::vector<Cidr> allow_;
};

// The one message users see for any failure to reach an outbound target (refused by the
// policy, name not resolved, port closed or filtered, timeout), so the delivery log and
// integration status cannot serve as a port scanner. The detail goes to the server log.
std::string CouldNotConnectMessage(std::string_view host);

}  // namespace bysans

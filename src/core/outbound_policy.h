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

#include "core/ip_address.h"
#include "core/status.h"

namespace bysans {

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

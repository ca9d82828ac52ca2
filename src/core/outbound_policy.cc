#include "core/outbound_policy.h"

#include <algorithm>
#include <initializer_list>

namespace bysans {
namespace {

// Fixed blocks, parsed once per call site; the lists are tiny.
bool InAny(const IpAddress& a, std::initializer_list<const char*> blocks) {
  return std::any_of(blocks.begin(), blocks.end(), [&a](const char* b) {
    auto c = Cidr::Parse(b);
    return c.ok() && c->Contains(a);
  });
}

}  // namespace

Result<OutboundPolicy> OutboundPolicy::Parse(std::string_view list) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<Cidr> allow, ParseCidrList(list));
  return OutboundPolicy(std::move(allow));
}

bool OutboundPolicy::IsNeverReached(const IpAddress& address) {
  IpAddress a = address.Unwrapped();
  if (!a.v6) return InAny(a, {"0.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4"});
  return InAny(a, {"::/128", "fe80::/10", "ff00::/8", "fd00:ec2::254/128"});
}

bool OutboundPolicy::IsPublic(const IpAddress& address) {
  IpAddress a = address.Unwrapped();
  if (IsNeverReached(a)) return false;
  if (!a.v6) {
    return !InAny(a, {"10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "172.16.0.0/12", "192.0.0.0/24",
                      "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
                      "198.51.100.0/24", "203.0.113.0/24"});
  }
  // Global unicast only, without documentation, Teredo, ORCHID and 6to4 blocks.
  return InAny(a, {"2000::/3"}) && !InAny(a, {"2001::/32", "2001:10::/28", "2001:20::/28",
                                              "2001:db8::/32", "2002::/16", "3fff::/20"});
}

Status OutboundPolicy::Check(const IpAddress& address) const {
  IpAddress a = address.Unwrapped();
  if (IsNeverReached(a)) {
    return PermissionDenied("address " + address.ToString() +
                            " is never reached (link-local, metadata, multicast or reserved)");
  }
  if (IsPublic(a)) return Status::Ok();
  if (InAnyBlock(allow_, address)) return Status::Ok();
  return PermissionDenied("address " + address.ToString() +
                          " is not public and not admitted by the setting outbound.allow");
}

Status OutboundPolicy::Check(const sockaddr* sa, size_t len) const {
  auto a = IpAddress::FromSockaddr(sa, len);
  if (!a) return PermissionDenied("not an IPv4 or IPv6 address");
  return Check(*a);
}

std::string CouldNotConnectMessage(std::string_view host) {
  return "could not connect to " + std::string(host);
}

}  // namespace bysans

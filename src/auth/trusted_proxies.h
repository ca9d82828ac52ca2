// Which peers may name the client's address in X-Forwarded-For (setting
// http.trusted_proxies). Without trusted proxies the header is ignored: the
// client's address is the TCP peer's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.h"
#include "core/status.h"

namespace bysans::auth {

class TrustedProxies {
 public:
  TrustedProxies() = default;
  // A comma- or space-separated list of CIDR blocks or single addresses, IPv4
  // or IPv6 ("10.0.0.0/8, 192.0.2.7, ::1"). kInvalidArgument naming a bad entry.
  static Result<TrustedProxies> Parse(std::string_view list);

  bool empty() const { return nets_.empty(); }
  // True if `address` (IPv4, IPv6 or IPv4-mapped IPv6) is in one of the blocks.
  bool Contains(std::string_view address) const;

  // The client's address: `peer` itself unless the peer is a trusted proxy;
  // then the right-most address of `forwarded_for` (the X-Forwarded-For values,
  // comma-separated, oldest first) that is not a trusted proxy. Entries to the
  // left of it were written by the client and are never believed.
  std::string ClientAddress(std::string_view peer, std::string_view forwarded_for) const;

 private:
  std::vector<Cidr> nets_;
};

}  // namespace bysans::auth

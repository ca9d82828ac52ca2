// Data targets of applications (issue 16; api/data_targets.cc): viewers read, admins write;
// every route checks that the target's application belongs to the caller's organisation
// (another organisation's target answers 404). Header values are write-only.
#pragma once

#include "api/context.h"
#include "core/outbound_policy.h"
#include "share/service.h"

namespace bysans::api {

// `outbound`: a URL whose host is an address the policy refuses is refused at once (400); a
// name is checked on every connection (share/http_push.h).
void RegisterDataTargetRoutes(http::Router& router, ApiContext& ctx, share::TargetService& service,
                              const OutboundPolicy& outbound);

}  // namespace bysans::api

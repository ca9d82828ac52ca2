// The SMS gateway of an organisation (issue 20; api/sms_gateway.cc): admins only read, set,
// delete and test it. The secret is write-only (sealed at rest, core/secret_box.h; answers say
// "hasSecret"); a test sends one SMS now through the outbound-address policy.
#pragma once

#include "api/context.h"
#include "core/outbound_policy.h"

namespace bysans::api {

// `outbound`: the policy test messages obey (the outbox's for rule actions).
void RegisterSmsGatewayRoutes(http::Router& router, ApiContext& ctx,
                              const OutboundPolicy& outbound);

}  // namespace bysans::api

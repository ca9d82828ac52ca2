// POST /sta/v1.1/$batch (api/sta_batch.cc): runs its requests through `router`, which must
// outlive the server.
#pragma once

#include "api/context.h"
#include "http/router.h"

namespace bysans::api {

void RegisterStaBatchRoute(http::Router& router, ApiContext& ctx);

}  // namespace bysans::api

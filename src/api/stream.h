// Live updates: GET /api/v1/organizations/{orgId}/stream (server-sent
// events). The stream is fed by a pipeline commit
// listener; each subscriber has a bounded queue (the oldest events are
// dropped when a slow client falls behind), so the listener never blocks.
#pragma once

#include <string>

#include "api/context.h"
#include "http/router.h"

namespace bysans::api {

// Registers the SSE route, adds a commit listener to ctx.pipeline (call
// before the first Submit) and a change listener to ctx.store.rules() (alarm
// raised / acknowledged / cleared / updated → "alarm" events of the alarm's
// organisation).
void RegisterStreamRoutes(http::Router& router, ApiContext& ctx);

}  // namespace bysans::api

// What every API handler may use. Built once by server/ and passed by
// reference; handlers stay thin: parse, check auth, call a module, answer.
#pragma once

#include <cstddef>
#include <functional>

#include "auth/auth.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/random.h"
#include "http/router.h"
#include "store/store.h"

namespace bysans::api {

struct ApiContext {
  Store& store;
  auth::Authenticator& auth;
  const Clock& clock;
  Random& random;
  Metrics& metrics;
};

// Each file under api/ registers its own routes.
void RegisterAllRoutes(http::Router& router, ApiContext& ctx);

}  // namespace bysans::api

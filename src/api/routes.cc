#include "api/context.h"

namespace bysans::api {

void RegisterAllRoutes(http::Router& router, ApiContext& ctx) {
  RegisterSystemRoutes(router, ctx);
  RegisterAuthRoutes(router, ctx);
  RegisterOrganizationRoutes(router, ctx);
  RegisterApplicationRoutes(router, ctx);
  RegisterDeviceRoutes(router, ctx);
  RegisterDeviceModelRoutes(router, ctx);
  RegisterUserRoutes(router, ctx);
  RegisterApiKeyRoutes(router, ctx);
  RegisterAuditRoutes(router, ctx);
  RegisterIngestRoutes(router, ctx);
  RegisterReadingRoutes(router, ctx);
}

}  // namespace bysans::api

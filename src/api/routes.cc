#include "api/context.h"
#include "api/stream.h"

namespace bysans::api {

// api/integrations.cc: LoRaWAN gateways and unknown DevEUIs.
void RegisterLorawanRoutes(http::Router& router, ApiContext& ctx);

void RegisterAllRoutes(http::Router& router, ApiContext& ctx) {
  RegisterSystemRoutes(router, ctx);
  RegisterAuthRoutes(router, ctx);
  RegisterOrganizationRoutes(router, ctx);
  RegisterInvitationRoutes(router, ctx);  // api/invitations.cc
  RegisterApplicationRoutes(router, ctx);
  RegisterDeviceRoutes(router, ctx);
  RegisterCoapCredentialRoutes(router, ctx);
  RegisterLwm2mRoutes(router, ctx);
  RegisterDeviceModelRoutes(router, ctx);
  RegisterUserRoutes(router, ctx);
  RegisterApiKeyRoutes(router, ctx);
  RegisterAuditRoutes(router, ctx);
  RegisterAuditExportRoutes(router, ctx);         // api/audit_export.cc
  RegisterRecordOfProcessingRoutes(router, ctx);  // api/record_of_processing.cc
  RegisterIngestRoutes(router, ctx);
  RegisterReadingRoutes(router, ctx);
  RegisterDecoderRoutes(router, ctx);  // api/decoders.cc: decoders, test, re-decode, jobs
  RegisterStreamRoutes(router, ctx);
  RegisterRuleRoutes(router, ctx);             // api/rules.cc: rules, dry run, silences
  RegisterAlarmRoutes(router, ctx);            // api/alarms.cc
  RegisterActionRoutes(router, ctx);           // api/actions.cc: delivery log
  RegisterLorawanRoutes(router, ctx);          // api/integrations.cc
  RegisterOpenDataRoutes(router, ctx);         // api/open_data.cc
  RegisterOpenDataPublicRoutes(router, ctx);   // api/open_data_public.cc
  RegisterStaRoutes(router, ctx);              // api/sta.cc: SensorThings API
  RegisterStaWriteRoutes(router, ctx);         // api/sta_write.cc: its writes
  RegisterOrgExportRoutes(router, ctx);        // api/org_export.cc: export, import
  RegisterSubjectErasureRoutes(router, ctx);   // api/subject_erasure_routes.cc
  RegisterDashboardRoutes(router, ctx);        // api/dashboards.cc
  RegisterDashboardPublicRoutes(router, ctx);  // api/dashboard_public.cc
  RegisterContactRoutes(router, ctx);          // api/contacts.cc
  RegisterGatewayRoutes(router, ctx);          // api/gateways.cc
}

}  // namespace bysans::api

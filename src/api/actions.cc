// The action delivery log of an organisation: every attempt and its error.
#include "api/common.h"
#include "core/time_format.h"
#include "store/rule_store.h"

namespace bysans::api {
namespace {

Result<http::Response> Log(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  BYSANS_ASSIGN_OR_RETURN(auto log, ctx.store.rules().ListDeliveryLog(o.id, page));
  json items = json::array();
  for (const auto& l : log.items) {
    items.push_back({{"id", l.id},
                     {"outboxId", l.outbox_id},
                     {"ruleId", l.rule_id},
                     {"alarmId", l.alarm_id},
                     {"target", l.target_key},
                     {"type", l.action_type},
                     {"attempt", l.attempt},
                     {"at", FormatRfc3339(l.ts)},
                     {"ok", l.ok},
                     {"error", l.error}});
  }
  return PagedJson(items, log.total, page);
}

}  // namespace

void RegisterActionRoutes(http::Router& router, ApiContext& ctx) {
  AddAuthed(router, ctx, "GET", "/api/v1/organizations/{orgId}/actions/log",
            "Delivery attempts of alarm actions",
            [&ctx](http::Request& req, const auth::Principal& p) { return Log(ctx, req, p); });
}

}  // namespace bysans::api

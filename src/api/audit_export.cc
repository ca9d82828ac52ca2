// GET /api/v1/organizations/{orgId}/audit/export?format=csv|json&from=&to=: an organisation's
// audit log for its admins (issue 18), oldest first, as CSV or JSON; the export is itself
// audited. Read from the store a page at a time (newest first) and stopped at `from`.
#include "api/common.h"
#include "api/csv.h"
#include "api/objects.h"
#include "core/time_format.h"

namespace bysans::api {
namespace {

constexpr int64_t kPage = 5000;
constexpr size_t kMaxEntries = 1'000'000;  // one answer; narrow with from/to beyond

Result<http::Response> Export(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org_id, Role::kAdmin));
  std::string format = "json";
  if (const std::string* f = req.Query("format"); f && !f->empty()) format = *f;
  if (format != "json" && format != "csv")
    return InvalidArgument("format must be csv or json, not '" + format + "'");
  BYSANS_ASSIGN_OR_RETURN(TimeMs from, TimeQuery(req, "from", INT64_MIN));
  BYSANS_ASSIGN_OR_RETURN(TimeMs to, TimeQuery(req, "to", INT64_MAX));
  if (from > to) return InvalidArgument("'from' must not be after 'to'");
  std::vector<AuditEntry> picked;
  bool done = false;
  for (Page page{kPage, 0}; !done; page.offset += kPage) {
    BYSANS_ASSIGN_OR_RETURN(auto got, ctx.store.ListAudit(o.id, page));
    for (AuditEntry& e : got.items) {
      if (e.ts < from) {  // newest first: nothing older is wanted
        done = true;
        break;
      }
      if (e.ts <= to) picked.push_back(std::move(e));
    }
    if (picked.size() > kMaxEntries) {
      return InvalidArgument("more than " + std::to_string(kMaxEntries) +
                             " audit entries; narrow the export with from and to");
    }
    if (static_cast<int64_t>(got.items.size()) < kPage) done = true;
  }
  std::reverse(picked.begin(), picked.end());
  json detail = {{"format", format}, {"rows", picked.size()}};
  for (const char* q : {"from", "to"})
    if (const std::string* v = req.Query(q); v && !v->empty()) detail[q] = *v;
  Audit(ctx, p, req, o.id, "export", "audit", std::to_string(o.id), detail.dump());
  const std::string name = "audit-organization-" + std::to_string(o.id);
  if (format == "csv") {
    std::string out =
        "id,ts,user_id,api_key_id,action,object_type,object_id,remote_addr,detail\r\n";
    auto opt = [](const std::optional<Id>& v) { return v ? std::to_string(*v) : std::string(); };
    for (const AuditEntry& e : picked) {
      CsvRow(out, {std::to_string(e.id), FormatRfc3339(e.ts), opt(e.user_id), opt(e.api_key_id),
                   e.action, e.object_type, e.object_id, e.remote_addr, e.detail});
    }
    return CsvResponse(std::move(out), name + ".csv");
  }
  http::Response r = Json(200, json{{"orgId", o.id}, {"items", ToJsonArray(picked)}});
  r.headers.Set("Content-Disposition", "attachment; filename=\"" + name + ".json\"");
  return r;
}

}  // namespace

void RegisterAuditExportRoutes(http::Router& router, ApiContext& ctx) {
  AddAuthed(router, ctx, "GET", "/api/v1/organizations/{orgId}/audit/export",
            "An organisation's audit log, oldest first, as CSV or JSON (?format=&from=&to=; "
            "organisation admins; audited)",
            [&ctx](http::Request& req, const auth::Principal& p) { return Export(ctx, req, p); });
}

}  // namespace bysans::api

// GET /api/v1/organizations/{orgId}/record-of-processing (organisation admins): the GDPR record
// of processing (art. 30) of an organisation, per application: what it collects (the keys its
// devices have sent), why (purpose), on which legal basis, the categories of data, recipients,
// data class and the retention in force. JSON, or with Accept: text/html or ?format=html a
// printable page in Danish or English (?lang=da|en, else Accept-Language).
#include <set>

#include "api/common.h"
#include "api/objects.h"
#include "core/time_format.h"
#include "model/retention.h"

namespace bysans::api {
namespace {

struct AppRecord {
  Application app;
  std::set<std::string> keys;
  RetentionDays retention;
};

Result<std::vector<AppRecord>> Collect(ApiContext& ctx, const Organization& o) {
  std::vector<AppRecord> out;
  for (Page page{1000, 0};; page.offset += page.limit) {
    BYSANS_ASSIGN_OR_RETURN(auto apps, ctx.store.ListApplications(o.id, page));
    for (Application& a : apps.items) {
      AppRecord r{std::move(a), {}, {}};
      r.retention = EffectiveRetention(r.app, ctx.retention_defaults);
      BYSANS_ASSIGN_OR_RETURN(std::vector<Device> devices, DevicesOfApplication(ctx, r.app));
      for (const Device& d : devices) {
        BYSANS_ASSIGN_OR_RETURN(std::vector<std::string> keys, ctx.store.Keys(d.id));
        r.keys.insert(keys.begin(), keys.end());
      }
      out.push_back(std::move(r));
    }
    if (apps.items.empty() || page.offset + page.limit >= apps.total) break;
  }
  return out;
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

struct Words {
  const char *lang, *title, *generated, *collects, *purpose, *basis, *categories, *recipients,
      *data_class, *retention, *raw, *readings, *aggregates, *days, *forever, *none_given;
};
constexpr Words kDanish = {"da",
                           "Fortegnelse over behandlingsaktiviteter",
                           "Udskrevet",
                           "Indsamler (nøgler)",
                           "Formål",
                           "Retsgrundlag",
                           "Kategorier af data",
                           "Modtagere",
                           "Dataklasse",
                           "Opbevaring",
                           "rå beskeder",
                           "målinger",
                           "timeaggregater",
                           "dage",
                           "uden tidsgrænse",
                           "ikke angivet"};
constexpr Words kEnglish = {"en",
                            "Record of processing activities",
                            "Printed",
                            "Collects (keys)",
                            "Purpose",
                            "Legal basis",
                            "Categories of data",
                            "Recipients",
                            "Data class",
                            "Retention",
                            "raw messages",
                            "readings",
                            "hourly aggregates",
                            "days",
                            "no time limit",
                            "not given"};

std::string Html(const Organization& o, const std::vector<AppRecord>& apps, const Words& w,
                 TimeMs now) {
  auto text = [&](const std::string& s) {
    return s.empty() ? std::string(w.none_given) : Escape(s);
  };
  auto days = [&](const std::optional<int>& d) {
    return d ? std::to_string(*d) + " " + w.days : std::string(w.forever);
  };
  std::string h = std::string("<!DOCTYPE html><html lang=\"") + w.lang +
                  "\"><head><meta charset=\"utf-8\"><title>" + w.title + " – " + Escape(o.name) +
                  "</title><style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
                  "table{border-collapse:collapse;width:100%;margin-bottom:2em}"
                  "th,td{border:1px solid #999;padding:.3em;text-align:left;vertical-align:top}"
                  "th{width:14em}@media print{h2{break-before:auto}}</style></head><body><h1>" +
                  w.title + ": " + Escape(o.name) + "</h1><p>" + w.generated + ": " +
                  FormatRfc3339(now) + "</p>";
  for (const AppRecord& r : apps) {
    std::string keys;
    for (const std::string& k : r.keys) keys += (keys.empty() ? "" : ", ") + Escape(k);
    h += "<h2>" + Escape(r.app.name) + "</h2><table>";
    auto row = [&](const char* th, const std::string& td) {
      h += std::string("<tr><th>") + th + "</th><td>" + td + "</td></tr>";
    };
    row(w.data_class, DataClassName(r.app.data_class));
    row(w.purpose, text(r.app.purpose));
    row(w.basis, text(r.app.legal_basis));
    row(w.categories, text(r.app.data_categories));
    row(w.collects, keys.empty() ? std::string(w.none_given) : keys);
    row(w.recipients, text(r.app.recipients));
    row(w.retention, std::string(w.raw) + ": " + days(r.retention.raw_messages_days) + "; " +
                         w.readings + ": " + days(r.retention.readings_days) + "; " + w.aggregates +
                         ": " + days(r.retention.aggregates_days));
    h += "</table>";
  }
  return h + "</body></html>";
}

Result<http::Response> Record(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(Organization o, LoadOrganization(ctx, p, org_id, Role::kAdmin));
  bool html = req.headers.Get("accept").find("text/html") != std::string::npos;
  if (const std::string* f = req.Query("format"); f && !f->empty()) {
    if (*f != "json" && *f != "html")
      return InvalidArgument("format must be json or html, not '" + *f + "'");
    html = *f == "html";
  }
  BYSANS_ASSIGN_OR_RETURN(std::vector<AppRecord> apps, Collect(ctx, o));
  Audit(ctx, p, req, o.id, "read", "record_of_processing", std::to_string(o.id));
  if (html) {
    // ?lang= (the UI's language) wins over the browser's Accept-Language.
    const std::string* asked = req.Query("lang");
    const std::string lang = asked && !asked->empty() ? *asked : req.headers.Get("accept-language");
    const bool danish = lang.rfind("da", 0) == 0;
    http::Response r;
    r.status = 200;
    r.headers.Set("Content-Type", "text/html; charset=utf-8");
    r.headers.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
    r.body = Html(o, apps, danish ? kDanish : kEnglish, ctx.clock.NowMs());
    return r;
  }
  json items = json::array();
  for (const AppRecord& r : apps) {
    items.push_back({{"applicationId", r.app.id},
                     {"name", r.app.name},
                     {"dataClass", DataClassName(r.app.data_class)},
                     {"purpose", r.app.purpose},
                     {"legalBasis", r.app.legal_basis},
                     {"dataCategories", r.app.data_categories},
                     {"recipients", r.app.recipients},
                     {"keys", r.keys},
                     {"retention", ToJson(r.retention)}});
  }
  return Json(200, json{{"orgId", o.id},
                        {"organization", o.name},
                        {"generatedAt", FormatRfc3339(ctx.clock.NowMs())},
                        {"applications", std::move(items)}});
}

}  // namespace

void RegisterRecordOfProcessingRoutes(http::Router& router, ApiContext& ctx) {
  AddAuthed(router, ctx, "GET", "/api/v1/organizations/{orgId}/record-of-processing",
            "The GDPR record of processing per application (organisation admins); JSON, or a "
            "printable page with Accept: text/html or ?format=html (da/en by Accept-Language)",
            [&ctx](http::Request& req, const auth::Principal& p) { return Record(ctx, req, p); });
}

}  // namespace bysans::api

#include "opendata/dcat.h"

#include <string>

#include "core/time_format.h"

namespace bysans::opendata {
namespace {

using json = nlohmann::json;

constexpr const char* kSchema = "https://project-open-data.cio.gov/v1.1/schema";

json Distribution(const OpenDataset& d, const char* title, const char* description,
                  const char* format, const char* media_type, const std::string& url) {
  json j = {{"@type", "dcat:Distribution"},
            {"title", title},
            {"description", description},
            {"format", format},
            {"mediaType", media_type},
            {"accessURL", url},
            {"downloadURL", url}};
  if (!d.license.empty()) j["license"] = d.license;
  return j;
}

}  // namespace

DatasetUrls UrlsOf(std::string_view base_url, Id org_id, Id dataset_id) {
  const std::string root = std::string(base_url) + "/api/v1/open-data-dk-sharing/" +
                           std::to_string(org_id) + "/datasets/" + std::to_string(dataset_id);
  return {root, root + "/latest", root + "/history.csv", root + "/history.json"};
}

json DatasetJson(const Organization& org, const OpenDataset& d, std::string_view base_url) {
  const DatasetUrls urls = UrlsOf(base_url, org.id, d.id);
  json j = {{"@type", "dcat:Dataset"},
            {"identifier", urls.identifier},
            {"title", d.title},
            {"description", d.description},
            {"keyword", d.keywords},
            {"issued", FormatRfc3339(d.issued_ms.value_or(d.created_ms))},
            {"modified", FormatRfc3339(d.updated_ms)},
            {"publisher", {{"@type", "org:Organization"}, {"name", org.name}}},
            {"contactPoint",
             {{"@type", "vcard:Contact"},
              {"fn", d.contact_name},
              {"hasEmail", "mailto:" + d.contact_email}}},
            {"accessLevel", "public"},
            {"license", d.license},
            {"theme", d.themes},
            {"accrualPeriodicity", d.accrual_periodicity},
            {"distribution",
             json::array(
                 {Distribution(d, "Latest values", "The latest value of every key of every device",
                               "JSON", "application/json", urls.latest),
                  Distribution(d, "History (CSV)",
                               "Readings with unit and quality flag for a time range (?from=&to=), "
                               "newest first, paged (?limit=, Link rel=next)",
                               "CSV", "text/csv", urls.history_csv),
                  Distribution(d, "History (JSON)",
                               "Readings with unit and quality flag for a time range (?from=&to=), "
                               "newest first, paged (?limit=, next)",
                               "JSON", "application/json", urls.history_json)})}};
  if (!d.documentation_url.empty()) {
    j["landingPage"] = d.documentation_url;
    j["references"] = json::array({d.documentation_url});
  }
  if (!d.spatial.empty()) j["spatial"] = d.spatial;
  return j;
}

json CatalogJson(const Organization& org, const std::vector<OpenDataset>& datasets,
                 std::string_view base_url) {
  json list = json::array();
  for (const OpenDataset& d : datasets) list.push_back(DatasetJson(org, d, base_url));
  return {{"@context", std::string(kSchema) + "/catalog.jsonld"},
          {"@type", "dcat:Catalog"},
          {"conformsTo", kSchema},
          {"describedBy", std::string(kSchema) + "/catalog.json"},
          {"dataset", std::move(list)}};
}

}  // namespace bysans::opendata

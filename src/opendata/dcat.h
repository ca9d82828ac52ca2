// The public DCAT catalogue of an organisation in the data.json shape of Project Open Data
// v1.1, the shape Open Data DK harvests and OS2iot serves at /api/v1/open-data-dk-sharing/{orgId}.
// Pure mapping: no store, no HTTP.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model/model.h"
#include "store/open_data_store.h"

namespace bysans::opendata {

// Where a published dataset's public resources are, under `base_url` (scheme://host[:port],
// no trailing slash; "" gives paths only).
struct DatasetUrls {
  std::string identifier;    // .../open-data-dk-sharing/{org}/datasets/{id}
  std::string latest;        // .../latest
  std::string history_csv;   // .../history.csv
  std::string history_json;  // .../history.json
};
DatasetUrls UrlsOf(std::string_view base_url, Id org_id, Id dataset_id);

// One dcat:Dataset of the catalogue: the POD v1.1 required fields (title, description, keyword,
// modified, publisher, contactPoint, identifier, accessLevel) and the DCAT-AP-DK ones (issued,
// license, theme, accrualPeriodicity, landingPage/references as the documentation link,
// spatial), with three distributions: the latest values (JSON) and the history (CSV, JSON).
nlohmann::json DatasetJson(const Organization& org, const OpenDataset& d,
                           std::string_view base_url);

// The dcat:Catalog with `datasets` (the caller passes only published ones), in their order.
nlohmann::json CatalogJson(const Organization& org, const std::vector<OpenDataset>& datasets,
                           std::string_view base_url);

}  // namespace bysans::opendata

// Open Data DK datasets (issue 16): what an organisation admin chose to publish in the public
// DCAT catalogue (api/open_data*.cc, opendata/). Same contracts as store.h: thread-safe, Status
// errors, store-assigned ids.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans {

// One dataset: an application (every device of it) or a selection of devices, optionally
// narrowed to some keys, with the DCAT-AP-DK metadata the catalogue shows. The store keeps
// what it is given; the API checks that the application and devices belong to `org_id` and
// hold no personal data, and the public side checks again when it serves them.
struct OpenDataset {
  Id id = 0;
  Id org_id = 0;
  std::optional<Id> app_id;       // set: every device of the application
  std::vector<Id> device_ids;     // without app_id: these devices
  std::vector<std::string> keys;  // empty = every key
  bool published = false;
  std::string title;
  std::string description;
  std::vector<std::string> keywords;
  std::vector<std::string> themes;  // EU data-theme codes: ENVI, TRAN, ...
  std::string license;              // a URL
  std::string accrual_periodicity;  // ISO 8601 repeating duration ("R/PT1H") or "irregular"
  std::string contact_name;
  std::string contact_email;
  std::string documentation_url;  // landing page / documentation; may be empty
  std::string spatial;            // place name or bounding box; may be empty
  TimeMs created_ms = 0;
  TimeMs updated_ms = 0;
  std::optional<TimeMs> issued_ms;  // first published
};

class OpenDataStore {
 public:
  virtual ~OpenDataStore() = default;

  // Assigns the id. kNotFound when the organisation, application or a device does not exist.
  virtual Result<OpenDataset> CreateDataset(OpenDataset d) = 0;
  virtual Result<OpenDataset> GetDataset(Id id) = 0;
  // Every dataset of the organisation, by id; `published_only` for the public catalogue.
  virtual Result<std::vector<OpenDataset>> ListDatasets(Id org_id, bool published_only) = 0;
  // Replaces everything but id, org_id and created_ms. kNotFound for an unknown id.
  virtual Status UpdateDataset(const OpenDataset& d) = 0;
  virtual Status DeleteDataset(Id id) = 0;
};

}  // namespace bysans

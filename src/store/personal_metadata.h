// A device as it may leave bysans' own API (issue 18, Application::personal_metadata_keys):
// without the metadata keys its application marks personal. For decoders, data targets,
// NGSI-LD, open data and the live stream; members still see every key in the device API.
#pragma once

#include <utility>

#include "model/model.h"
#include "store/store.h"

namespace bysans {

// `d` without its application's personal metadata keys (unchanged when the application cannot
// be read: it was deleted, and so is the device).
inline Device WithoutPersonalMetadata(MetaStore& meta, Device d) {
  if (d.metadata.empty()) return d;
  if (auto app = meta.GetApplication(d.app_id); app.ok())
    StripPersonalMetadata(app->personal_metadata_keys, &d);
  return d;
}

}  // namespace bysans

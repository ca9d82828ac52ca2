// The JSON text in which every store backend keeps a few objects whole in one column: an open
// dataset's DCAT metadata and an SMS gateway's configuration. One codec, so the backends read and
// write the same form (an archive or a migration between backends sees one format). Reading is
// lenient: a member missing or of another type keeps its default (the store wrote the text, so
// this only guards against a damaged row).
#pragma once

#include <string>

#include "store/contact_store.h"
#include "store/open_data_store.h"

namespace bysans {

// title, description, keywords, themes, license, accrualPeriodicity, contactName, contactEmail,
// documentationUrl, spatial and keys (the other fields have their own columns).
std::string OpenDatasetMetaJson(const OpenDataset& d);
void ReadOpenDatasetMeta(const std::string& text, OpenDataset& d);

// url, method, headers, bodyFormat and body (org_id, the sealed secret and updated_ms have their
// own columns).
std::string SmsGatewayConfigJson(const SmsGateway& g);
void ReadSmsGatewayConfig(const std::string& text, SmsGateway& g);

}  // namespace bysans

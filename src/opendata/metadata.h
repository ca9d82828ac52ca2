// The rules a dataset's DCAT metadata must follow before it is stored (api/open_data.cc).
#pragma once

#include <string_view>

#include "core/status.h"
#include "store/open_data_store.h"

namespace bysans::opendata {

// The EU data-theme vocabulary (publications.europa.eu/resource/authority/data-theme) that
// DCAT-AP-DK uses for `theme`: AGRI, ECON, EDUC, ENER, ENVI, GOVE, HEAL, INTR, JUST, OP_DATPRO,
// REGI, SOCI, TECH, TRAN.
bool IsThemeCode(std::string_view code);

// "irregular" or an ISO 8601 repeating duration as Project Open Data v1.1 writes the update
// frequency: "R/P1D", "R/PT1H", "R/P0.5M", ...
bool IsAccrualPeriodicity(std::string_view s);

// kInvalidArgument naming the field (API names: title, description, keywords, themes, license,
// accrualPeriodicity, contactName, contactEmail, documentationUrl, spatial, keys) when:
// title, license, contactName or contactEmail is empty; a text is too long; the license or
// documentation link is not an http(s) URL; the e-mail has no '@'; a theme is not an EU code;
// the periodicity is neither; there are more than 50 keywords, themes or keys.
Status ValidateMetadata(const OpenDataset& d);

}  // namespace bysans::opendata

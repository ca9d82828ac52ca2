// The columns of a data target (store/target_store.h) that both backends keep as text: the header
// values sealed with the SecretBox as one JSON object (name → SealText of the value; the names stay
// readable) and the device filter as a JSON array of ids. One form, so that a target's row means
// the same on SQLite and PostgreSQL.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret_box.h"
#include "core/status.h"
#include "model/model.h"

namespace bysans {

// {"name": "<sealed value>", ...}.
Result<std::string> SealTargetHeaders(const SecretBox& box,
                                      const std::map<std::string, std::string>& headers);
// The header names of SealTargetHeaders' text, sorted (none when it is not a JSON object).
std::vector<std::string> TargetHeaderNames(std::string_view sealed_json);
// The opened values; kInternal when one cannot be opened (another key, a damaged box).
Result<std::map<std::string, std::string>> OpenTargetHeaders(const SecretBox& box,
                                                             std::string_view sealed_json);
// The names of `headers`, sorted (a created or updated target's header_names).
std::vector<std::string> HeaderNamesOf(const std::map<std::string, std::string>& headers);

std::string TargetDeviceIdsJson(const std::vector<Id>& ids);  // [4,2]
std::vector<Id> ParseTargetDeviceIds(std::string_view json);  // none for anything else

}  // namespace bysans

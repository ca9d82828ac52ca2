#include "store/target_columns.h"

#include <nlohmann/json.hpp>

namespace bysans {

using json = nlohmann::json;

Result<std::string> SealTargetHeaders(const SecretBox& box,
                                      const std::map<std::string, std::string>& headers) {
  json sealed = json::object();
  for (const auto& [name, value] : headers) {
    BYSANS_ASSIGN_OR_RETURN(std::string text, box.SealText(value));
    sealed[name] = std::move(text);
  }
  return sealed.dump();
}

std::vector<std::string> TargetHeaderNames(std::string_view sealed_json) {
  std::vector<std::string> names;
  const json sealed = json::parse(sealed_json, nullptr, false);
  if (sealed.is_object())
    for (const auto& [name, value] : sealed.items()) names.push_back(name);
  return names;
}

Result<std::map<std::string, std::string>> OpenTargetHeaders(const SecretBox& box,
                                                             std::string_view sealed_json) {
  std::map<std::string, std::string> out;
  const json sealed = json::parse(sealed_json, nullptr, false);
  if (!sealed.is_object()) return out;
  for (const auto& [name, text] : sealed.items()) {
    if (!text.is_string()) continue;
    BYSANS_ASSIGN_OR_RETURN(out[name], box.UnsealText(text.get<std::string>()));
  }
  return out;
}

std::vector<std::string> HeaderNamesOf(const std::map<std::string, std::string>& headers) {
  std::vector<std::string> names;
  for (const auto& [name, value] : headers) names.push_back(name);
  return names;
}

std::string TargetDeviceIdsJson(const std::vector<Id>& ids) { return json(ids).dump(); }

std::vector<Id> ParseTargetDeviceIds(std::string_view text) {
  std::vector<Id> ids;
  const json parsed = json::parse(text, nullptr, false);
  if (parsed.is_array())
    for (const auto& i : parsed)
      if (i.is_number_integer()) ids.push_back(i.get<Id>());
  return ids;
}

}  // namespace bysans

#include "store/row_json.h"

#include <nlohmann/json.hpp>

namespace bysans {
namespace {

using json = nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void ReadString(const json& j, const char* key, std::string& out) {
  if (auto it = j.find(key); it != j.end() && it->is_string()) out = it->get<std::string>();
}

void ReadStrings(const json& j, const char* key, std::vector<std::string>& out) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return;
  for (const json& v : *it) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
}

}  // namespace

std::string OpenDatasetMetaJson(const OpenDataset& d) {
  return Dump({{"title", d.title},
               {"description", d.description},
               {"keywords", d.keywords},
               {"themes", d.themes},
               {"license", d.license},
               {"accrualPeriodicity", d.accrual_periodicity},
               {"contactName", d.contact_name},
               {"contactEmail", d.contact_email},
               {"documentationUrl", d.documentation_url},
               {"spatial", d.spatial},
               {"keys", d.keys}});
}

void ReadOpenDatasetMeta(const std::string& text, OpenDataset& d) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return;
  ReadString(j, "title", d.title);
  ReadString(j, "description", d.description);
  ReadStrings(j, "keywords", d.keywords);
  ReadStrings(j, "themes", d.themes);
  ReadString(j, "license", d.license);
  ReadString(j, "accrualPeriodicity", d.accrual_periodicity);
  ReadString(j, "contactName", d.contact_name);
  ReadString(j, "contactEmail", d.contact_email);
  ReadString(j, "documentationUrl", d.documentation_url);
  ReadString(j, "spatial", d.spatial);
  ReadStrings(j, "keys", d.keys);
}

std::string SmsGatewayConfigJson(const SmsGateway& g) {
  return Dump({{"url", g.url},
               {"method", g.method},
               {"headers", g.headers},
               {"bodyFormat", g.body_format},
               {"body", g.body}});
}

void ReadSmsGatewayConfig(const std::string& text, SmsGateway& g) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return;
  ReadString(j, "url", g.url);
  ReadString(j, "method", g.method);
  ReadString(j, "bodyFormat", g.body_format);
  ReadString(j, "body", g.body);
  if (auto it = j.find("headers"); it != j.end() && it->is_object()) {
    for (const auto& [name, value] : it->items()) {
      if (value.is_string()) g.headers[name] = value.get<std::string>();
    }
  }
}

}  // namespace bysans

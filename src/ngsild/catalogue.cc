#include "ngsild/catalogue.h"

#include <algorithm>
#include <cctype>

#include "ngsild/embedded.h"

namespace bysans::ngsild {
namespace {

using nlohmann::json;

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::vector<std::string> Strings(const json& doc, const char* member) {
  std::vector<std::string> out;
  if (!doc.contains(member) || !doc[member].is_array()) return out;
  for (const auto& s : doc[member])
    if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

Result<KeyRule> ParseKey(const json& k, const UnitTable& units) {
  KeyRule rule;
  if (k.is_string()) {
    rule.key = k.get<std::string>();
    return rule;
  }
  if (!k.is_object() || !k.contains("key") || !k["key"].is_string()) {
    return InvalidArgument("a key is a string or {\"key\": ...}");
  }
  rule.key = k["key"].get<std::string>();
  rule.unit = k.value("unit", "");
  if (k.contains("fillFromDistance")) {
    const json& f = k["fillFromDistance"];
    if (!f.is_object()) return InvalidArgument("fillFromDistance of " + rule.key);
    rule.fill_from_distance = true;
    rule.depth_names = Strings(f, "depth");
    rule.depth_unit = f.value("unit", "");
    if (rule.depth_names.empty() || !units.Find(rule.depth_unit) || !units.Find(rule.unit)) {
      return InvalidArgument("fillFromDistance of " + rule.key + " needs depth names and units");
    }
  }
  if (!rule.unit.empty() && !units.Find(rule.unit)) {
    return InvalidArgument("unknown unit '" + rule.unit + "' of key " + rule.key);
  }
  return rule;
}

Result<ModelSpec> ParseModel(std::string_view text, const UnitTable& units) {
  json doc = json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.contains("type") || !doc["type"].is_string() ||
      !doc.contains("context") || !doc["context"].is_string()) {
    return InvalidArgument("a model file needs a type and a context");
  }
  ModelSpec m;
  m.type = doc["type"].get<std::string>();
  m.context = doc["context"].get<std::string>();
  m.required = Strings(doc, "required");
  if (doc.contains("dateAttribute") && doc["dateAttribute"].is_string()) {
    m.date_attribute = doc["dateAttribute"].get<std::string>();
  }
  m.priority = doc.value("priority", 0);
  m.fallback = doc.value("fallback", false);
  m.controlled_property = Strings(doc, "controlledProperty");
  for (const auto& a : doc.value("attributes", json::array())) {
    if (!a.is_object() || !a.contains("name") || !a["name"].is_string()) {
      return InvalidArgument(m.type + ": an attribute needs a name");
    }
    AttributeRule attr;
    attr.name = a["name"].get<std::string>();
    attr.unit = a.value("unit", "");
    if (!attr.unit.empty() && !units.Find(attr.unit)) {
      return InvalidArgument(m.type + ": unknown unit '" + attr.unit + "' of " + attr.name);
    }
    if (a.contains("min") && a["min"].is_number()) attr.min = a["min"].get<double>();
    if (a.contains("max") && a["max"].is_number()) attr.max = a["max"].get<double>();
    attr.indicative = a.value("indicative", false);
    for (const auto& k : a.value("keys", json::array())) {
      auto rule = ParseKey(k, units);
      if (!rule.ok()) return InvalidArgument(m.type + ": " + rule.status().message());
      attr.keys.push_back(std::move(rule).value());
    }
    m.attributes.push_back(std::move(attr));
  }
  return m;
}

}  // namespace

bool KeyMatches(std::string_view rule, std::string_view key) {
  if (EqualsNoCase(rule, key)) return true;
  size_t dot = key.rfind('.');
  return dot != std::string_view::npos && EqualsNoCase(rule, key.substr(dot + 1));
}

const AttributeRule* ModelSpec::AttributeOf(std::string_view key) const {
  for (const auto& a : attributes) {
    if (KeyMatches(a.name, key)) return &a;
    for (const auto& k : a.keys)
      if (KeyMatches(k.key, key)) return &a;
  }
  return nullptr;
}

Result<Catalogue> Catalogue::FromTexts(const std::vector<std::string_view>& models,
                                       std::string_view units) {
  Catalogue c;
  json units_doc = json::parse(units, nullptr, false);
  auto table = UnitTable::FromJson(units_doc);
  if (!table.ok()) return table.status();
  c.units_ = std::move(table).value();
  bool have_fallback = false;
  for (std::string_view text : models) {
    auto m = ParseModel(text, c.units_);
    if (!m.ok()) return m.status();
    if (c.Find(m->type)) return InvalidArgument("model " + m->type + " given twice");
    if (m->fallback) {
      if (have_fallback) return InvalidArgument("more than one fallback model");
      have_fallback = true;
      c.fallback_ = c.models_.size();
    }
    c.models_.push_back(std::move(m).value());
  }
  if (!have_fallback) return InvalidArgument("no fallback model (DeviceMeasurement)");
  return c;
}

Result<Catalogue> Catalogue::Embedded() {
  std::vector<std::string_view> texts;
  for (const auto& f : EmbeddedModelFiles()) texts.push_back(f.text);
  return FromTexts(texts, EmbeddedUnitsFile());
}

const ModelSpec* Catalogue::Find(std::string_view type) const {
  for (const auto& m : models_)
    if (m.type == type) return &m;
  return nullptr;
}

}  // namespace bysans::ngsild

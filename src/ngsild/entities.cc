#include "ngsild/entities.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <tuple>

#include "core/time_format.h"

namespace bysans::ngsild {
namespace {

using nlohmann::json;

constexpr size_t kMaxEntities = 1000;
constexpr size_t kMaxIdLength = 1024;

// The latest reading of each key, in the order keys first appear.
std::vector<const Reading*> LatestPerKey(const std::vector<Reading>& readings) {
  std::vector<const Reading*> out;
  std::map<std::string_view, size_t> index;
  for (const auto& r : readings) {
    auto [it, fresh] = index.emplace(r.key, out.size());
    if (fresh) {
      out.push_back(&r);
    } else if (r.ts >= out[it->second]->ts) {
      out[it->second] = &r;
    }
  }
  return out;
}

json ParseDoc(const std::string& text) {
  if (text.empty()) return nullptr;
  json doc = json::parse(text, nullptr, false);
  return doc.is_object() ? doc : json(nullptr);
}

// Rounds away binary noise of a conversion (41 % -> 0.41, not 0.41000000000000003).
double Tidy(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return std::strtod(buf, nullptr);
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

struct Scores {
  int indicative = 0;
  int covered = 0;
};

Scores Score(const ModelSpec& m, const std::vector<std::string>& signals) {
  Scores s;
  for (const auto& sig : signals) {
    bool word = std::any_of(m.controlled_property.begin(), m.controlled_property.end(),
                            [&](const std::string& w) { return KeyMatches(w, sig); });
    const AttributeRule* a = m.AttributeOf(sig);
    if (word || a) ++s.covered;
    if (word || (a && a->indicative)) ++s.indicative;
  }
  return s;
}

// The best model for `signals`, nullptr when none is eligible (README.md: "Choosing").
const ModelSpec* Best(const Catalogue& catalogue, const std::vector<std::string>& signals,
                      bool have_location) {
  const ModelSpec* best = nullptr;
  Scores best_s;
  for (const auto& m : catalogue.models()) {
    if (m.fallback) continue;
    bool needs_location =
        std::find(m.required.begin(), m.required.end(), "location") != m.required.end();
    if (needs_location && !have_location) continue;
    Scores s = Score(m, signals);
    if (s.indicative < 1 && s.covered < 2) continue;
    if (!best || std::tie(s.indicative, s.covered, best->priority) >
                     std::tie(best_s.indicative, best_s.covered, m.priority)) {
      best = &m;
      best_s = s;
    }
  }
  return best;
}

std::optional<double> NumberIn(const std::map<std::string, std::string>& metadata, const json& doc,
                               const std::string& name) {
  if (auto it = metadata.find(name); it != metadata.end()) {
    char* end = nullptr;
    double v = std::strtod(it->second.c_str(), &end);
    if (end != it->second.c_str() && *end == '\0' && std::isfinite(v)) return v;
  }
  if (doc.is_object() && doc.contains(name) && doc[name].is_number())
    return doc[name].get<double>();
  return std::nullopt;
}

class Builder {
 public:
  Builder(const BuildInput& in, const Catalogue& catalogue)
      : in_(in), catalogue_(catalogue), doc_(ParseDoc(in.device.model_doc_json)) {}

  // The model's entity, or nullopt when it maps nothing or misses a required attribute.
  // `used` marks the readings it took.
  std::optional<json> ModelEntity(const ModelSpec& m, const std::vector<const Reading*>& latest,
                                  std::vector<bool>& used) {
    json e = Base(m, EntityId(m.type, in_.device.org_id, in_.device.id));
    std::optional<TimeMs> newest;
    std::vector<bool> took(latest.size(), false);
    for (const auto& attr : m.attributes) {
      for (const auto& rule : attr.keys) {
        auto mapped = MapAttribute(attr, rule, latest, took);
        if (!mapped) continue;
        e[attr.name] = std::move(mapped->first);
        newest = std::max(newest.value_or(mapped->second), mapped->second);
        break;
      }
    }
    if (!newest) return std::nullopt;  // the model took no reading
    if (!m.date_attribute.empty()) e[m.date_attribute] = DateProperty(*newest);
    for (const auto& r : m.required)
      if (!e.contains(r)) return std::nullopt;
    for (size_t i = 0; i < took.size(); ++i) used[i] = used[i] || took[i];
    return e;
  }

  json Measurement(const Reading& r) {
    const ModelSpec& m = catalogue_.fallback();
    json e =
        Base(m, EntityId(m.type, in_.device.org_id, in_.device.id) + "-" + PercentEncode(r.key));
    json value;
    if (const double* d = std::get_if<double>(&r.value)) {
      value = Property(*d, r);
      if (const Unit* u = catalogue_.units().Find(r.unit)) {
        value["unitCode"] = u->code;
        e["unit"] = Property(u->code, r);
      }
      e["numValue"] = std::move(value);
    } else if (const bool* b = std::get_if<bool>(&r.value)) {
      e["textValue"] = Property(*b ? "true" : "false", r);
    } else {
      e["textValue"] = Property(std::get<std::string>(r.value), r);
    }
    e["controlledProperty"] = Property(r.key, r);
    if (r.quality != Quality::kOk) e["outlier"] = Property(true, r);
    if (!m.date_attribute.empty()) e[m.date_attribute] = DateProperty(r.ts);
    return e;
  }

  const json& doc() const { return doc_; }

 private:
  json Base(const ModelSpec& m, std::string id) const {
    json e = {{"id", std::move(id)}, {"type", m.type}};
    if (in_.device.location) {
      e["location"] = {{"type", "GeoProperty"},
                       {"value",
                        {{"type", "Point"},
                         {"coordinates", {in_.device.location->lon, in_.device.location->lat}}}}};
    }
    e["refDevice"] = {{"type", "Relationship"},
                      {"object", "urn:ngsi-ld:Device:bysans-" + std::to_string(in_.device.org_id) +
                                     "-" + std::to_string(in_.device.id)}};
    e["@context"] = {m.context, kCoreContext};
    return e;
  }

  static json Property(json value, const Reading& r) {
    json p = {
        {"type", "Property"}, {"value", std::move(value)}, {"observedAt", FormatRfc3339(r.ts)}};
    if (r.quality != Quality::kOk)
      p["quality"] = {{"type", "Property"}, {"value", QualityName(r.quality)}};
    return p;
  }

  static json DateProperty(TimeMs ts) {
    return {{"type", "Property"}, {"value", FormatRfc3339(ts)}, {"observedAt", FormatRfc3339(ts)}};
  }

  // The attribute's property from the first unused reading matching `rule`, with its time.
  std::optional<std::pair<json, TimeMs>> MapAttribute(const AttributeRule& attr,
                                                      const KeyRule& rule,
                                                      const std::vector<const Reading*>& latest,
                                                      std::vector<bool>& took) {
    for (size_t i = 0; i < latest.size(); ++i) {
      const Reading& r = *latest[i];
      const double* v = std::get_if<double>(&r.value);
      if (took[i] || !v || !std::isfinite(*v) || !KeyMatches(rule.key, r.key)) continue;
      auto value = Convert(attr, rule, r, *v);
      if (!value) continue;
      took[i] = true;
      json p = Property(value->first == *v ? *v : Tidy(value->first), r);
      if (!value->second.empty()) p["unitCode"] = value->second;
      bool outside =
          (attr.min && value->first < *attr.min) || (attr.max && value->first > *attr.max);
      if (outside && r.quality == Quality::kOk) {
        p["quality"] = {{"type", "Property"}, {"value", QualityName(Quality::kOutOfRange)}};
      }
      return std::make_pair(std::move(p), r.ts);
    }
    return std::nullopt;
  }

  // The value in the attribute's unit and the unit code to send; nullopt when it cannot be had.
  std::optional<std::pair<double, std::string>> Convert(const AttributeRule& attr,
                                                        const KeyRule& rule, const Reading& r,
                                                        double v) {
    const UnitTable& units = catalogue_.units();
    const Unit* target = units.Find(attr.unit);
    const std::string& given = !r.unit.empty() ? r.unit : rule.unit;
    const Unit* source = given.empty() ? target : units.Find(given);
    if (rule.fill_from_distance) {
      std::optional<double> depth;
      for (const auto& name : rule.depth_names) {
        depth = NumberIn(in_.device.metadata, doc_, name);
        if (depth) break;
      }
      const Unit* depth_unit = units.Find(rule.depth_unit);
      if (!depth || *depth <= 0 || !source || !depth_unit) return std::nullopt;
      auto d = UnitTable::Convert(v, *source, *depth_unit);
      if (!d) return std::nullopt;
      v = std::clamp(1.0 - *d / *depth, 0.0, 1.0);
      source = units.Find("1");
    }
    if (!source) return std::make_pair(v, std::string());  // a unit we do not know: as it is
    if (target) {
      if (auto c = UnitTable::Convert(v, *source, *target)) return std::make_pair(*c, target->code);
    }
    return std::make_pair(v, source->code);  // another quantity: keep the value and its unit
  }

  const BuildInput& in_;
  const Catalogue& catalogue_;
  json doc_;
};

std::vector<std::string> DocSignals(const json& doc) {
  std::vector<std::string> out;
  for (const char* member : {"controlledProperty", "category"}) {
    if (!doc.is_object() || !doc.contains(member)) continue;
    const json& v = doc[member];
    if (v.is_string()) out.push_back(v.get<std::string>());
    if (v.is_array())
      for (const auto& s : v)
        if (s.is_string()) out.push_back(s.get<std::string>());
  }
  return out;
}

bool IsUri(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == 0 || colon == std::string_view::npos || s.size() > kMaxIdLength) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = s[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  return colon + 1 < s.size() && std::none_of(s.begin(), s.end(), [](char c) {
           return static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == '"';
         });
}

// NGSI-LD forbids these in attribute names and types (and control characters, blanks).
bool IsName(std::string_view s) {
  if (s.empty() || s.size() > 256) return false;
  return std::none_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == '<' || c == '>' || c == '"' || c == '\'' ||
           c == '=' || c == ';' || c == '(' || c == ')';
  });
}

Status CheckAttribute(const std::string& where, const json& a) {
  if (a.is_array()) {  // several instances (datasetId)
    if (a.empty()) return InvalidArgument(where + " is an empty array");
    for (const auto& one : a) {
      if (one.is_array()) return InvalidArgument(where + " nests arrays");
      if (Status s = CheckAttribute(where, one); !s.ok()) return s;
    }
    return Status::Ok();
  }
  if (!a.is_object() || !a.contains("type") || !a["type"].is_string()) {
    return InvalidArgument(where + " is not an NGSI-LD attribute (object with a type)");
  }
  static const std::map<std::string, const char*, std::less<>> kMember = {
      {"Property", "value"},         {"GeoProperty", "value"},
      {"Relationship", "object"},    {"LanguageProperty", "languageMap"},
      {"VocabProperty", "vocab"},    {"JsonProperty", "json"},
      {"ListProperty", "valueList"}, {"ListRelationship", "objectList"}};
  const std::string type = a["type"].get<std::string>();
  auto it = kMember.find(type);
  if (it == kMember.end()) return InvalidArgument(where + " has an unknown type '" + type + "'");
  if (!a.contains(it->second) || a[it->second].is_null()) {
    return InvalidArgument(where + " (" + type + ") has no " + it->second);
  }
  if (type == "Relationship" &&
      (!a["object"].is_string() || !IsUri(a["object"].get<std::string>()))) {
    return InvalidArgument(where + ": the object of a Relationship is a URI");
  }
  if (type == "GeoProperty") {
    const json& g = a["value"];
    if (!g.is_object() || !g.contains("type") || !g["type"].is_string() ||
        !g.contains("coordinates") || !g["coordinates"].is_array()) {
      return InvalidArgument(where + ": a GeoProperty's value is GeoJSON");
    }
  }
  return Status::Ok();
}

}  // namespace

DeviceInfo DeviceInfoOf(const Device& device, const DeviceModel* model) {
  return {device.id,      device.org_id,   device.name,
          device.dev_eui, device.location, model ? model->doc_json : std::string(),
          device.tags,    device.metadata};
}

std::string EntityId(std::string_view type, Id org_id, Id device_id) {
  return "urn:ngsi-ld:" + std::string(type) + ":bysans-" + std::to_string(org_id) + "-" +
         std::to_string(device_id);
}

bool LooksLikeEntities(const json& doc) {
  auto entity = [](const json& e) {
    return e.is_object() && e.contains("id") && e.contains("type");
  };
  if (doc.is_object()) return entity(doc);
  return doc.is_array() && !doc.empty() && std::any_of(doc.begin(), doc.end(), entity);
}

Status CheckEntities(const json& doc) {
  const json one = doc.is_object() ? json::array({doc}) : json();
  const json& list = doc.is_object() ? one : doc;
  if (!list.is_array() || list.empty()) return InvalidArgument("no entities");
  if (list.size() > kMaxEntities) {
    return InvalidArgument("more than " + std::to_string(kMaxEntities) + " entities");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const json& e = list[i];
    const std::string where = "entity " + std::to_string(i + 1);
    if (!e.is_object()) return InvalidArgument(where + " is not an object");
    if (!e.contains("id") || !e["id"].is_string() || !IsUri(e["id"].get<std::string>())) {
      return InvalidArgument(where + ": id must be a URI (urn:ngsi-ld:...)");
    }
    if (!e.contains("type") || !e["type"].is_string() || !IsName(e["type"].get<std::string>())) {
      return InvalidArgument(where + ": type must be a name");
    }
    for (const auto& [name, value] : e.items()) {
      if (name == "id" || name == "type" || name == "@context") continue;
      std::string attribute = where;
      attribute += ": attribute '";
      attribute += name;
      attribute += "'";
      if (!IsName(name)) return InvalidArgument(attribute + " has a forbidden name");
      if (Status s = CheckAttribute(attribute, value); !s.ok()) return s;
    }
  }
  return Status::Ok();
}

const ModelSpec& ChooseModel(const BuildInput& input, const Catalogue& catalogue) {
  const json doc = ParseDoc(input.device.model_doc_json);
  const bool have_location = input.device.location.has_value();
  if (doc.is_object() && doc.contains("x-ngsi-ld-type") && doc["x-ngsi-ld-type"].is_string()) {
    if (const ModelSpec* m = catalogue.Find(doc["x-ngsi-ld-type"].get<std::string>())) return *m;
  }
  if (const ModelSpec* m = Best(catalogue, DocSignals(doc), have_location)) return *m;
  std::vector<std::string> keys;
  for (const Reading* r : LatestPerKey(input.readings)) keys.push_back(r->key);
  if (const ModelSpec* m = Best(catalogue, keys, have_location)) return *m;
  return catalogue.fallback();
}

Result<json> BuildEntities(const BuildInput& input, const Catalogue& catalogue,
                           const BuildOptions& options) {
  if (LooksLikeEntities(input.decoded)) {
    if (Status s = CheckEntities(input.decoded); !s.ok()) {
      return InvalidArgument("decoded NGSI-LD entities refused: " + s.message());
    }
    return input.decoded.is_array() ? input.decoded : json::array({input.decoded});
  }
  const std::vector<const Reading*> latest = LatestPerKey(input.readings);
  std::vector<bool> used(latest.size(), false);
  Builder builder(input, catalogue);
  json out = json::array();
  const ModelSpec& model = ChooseModel(input, catalogue);
  if (!model.fallback) {
    if (auto e = builder.ModelEntity(model, latest, used)) out.push_back(std::move(*e));
  }
  // Everything the model did not take (all of it for the fallback or a model that could not be
  // filled) as DeviceMeasurement entities.
  const bool all = out.empty();
  if (!all && !options.unmapped_as_measurements) return out;
  for (size_t i = 0; i < latest.size(); ++i) {
    if (used[i]) continue;
    if (const double* d = std::get_if<double>(&latest[i]->value); d && !std::isfinite(*d)) continue;
    out.push_back(builder.Measurement(*latest[i]));
  }
  return out;
}

}  // namespace bysans::ngsild

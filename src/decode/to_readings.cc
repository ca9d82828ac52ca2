#include "decode/to_readings.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <utility>

#include "core/padded_copy.h"
#include "core/time_format.h"

namespace bysans::decode {

namespace dom = simdjson::dom;

struct ReadingsConverter::Impl {
  ToReadingsOptions options;
  dom::parser parser;
  std::string buffer;  // reused padded copy of the input
};

namespace {

// JSON.stringify writes integers below 1e21 in full, but simdjson rejects integers beyond 64
// bits. Appends ".0" to each such integer (outside strings) so that it parses as a double, and
// returns how many were found. `text` is known to fail parsing, so this slow path is rare.
size_t MarkHugeIntegersAsDoubles(std::string& text, std::string* first) {
  std::string out;
  out.reserve(text.size() + 16);
  size_t count = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) out += text[++i];
      if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') in_string = true;
    if (c != '-' && (c < '0' || c > '9')) {
      out += c;
      ++i;
      continue;
    }
    size_t end = i + 1;
    bool integer = true;
    for (; end < text.size(); ++end) {
      char d = text[end];
      if (d == '.' || d == 'e' || d == 'E' || d == '+' || d == '-') {
        integer = false;
      } else if (d < '0' || d > '9') {
        break;
      }
    }
    std::string_view token(text.data() + i, end - i);
    out += token;
    if (integer) {
      int64_t s = 0;
      uint64_t u = 0;
      const char* b = token.data();
      const char* e = b + token.size();
      bool fits = std::from_chars(b, e, s).ec == std::errc() ||
                  (token[0] != '-' && std::from_chars(b, e, u).ec == std::errc());
      if (!fits && token.size() > 1) {
        if (count++ == 0) *first = std::string(token);
        out += ".0";
      }
    }
    i = end;
  }
  text = std::move(out);
  return count;
}

struct Walker {
  const ToReadingsOptions& options;
  Id device_id;
  TimeMs default_ts;
  ConvertedReadings out;
  bool truncated = false;

  void Add(const std::string& key, Value value, TimeMs ts, std::string unit) {
    if (key.empty()) return;
    if (key.size() > options.max_key_length) {
      out.warnings.push_back("reading key too long, dropped: " + key.substr(0, 40) + "...");
      return;
    }
    if (out.readings.size() >= options.max_readings) {
      if (!truncated) {
        out.warnings.push_back("more than " + std::to_string(options.max_readings) +
                               " readings in the output; the rest were dropped");
        truncated = true;
      }
      return;
    }
    Reading r;
    r.device_id = device_id;
    r.key = key;
    r.ts = ts;
    r.value = std::move(value);
    r.unit = std::move(unit);
    out.readings.push_back(std::move(r));
  }

  static bool ScalarValue(dom::element e, Value* v) {
    switch (e.type()) {
      case dom::element_type::INT64:
        *v = static_cast<double>(int64_t(e));
        return true;
      case dom::element_type::UINT64:
        *v = static_cast<double>(uint64_t(e));
        return true;
      case dom::element_type::DOUBLE:
        *v = double(e);
        return true;
      case dom::element_type::BOOL:
        *v = bool(e);
        return true;
      case dom::element_type::STRING:
        *v = std::string(std::string_view(e));
        return true;
      default:
        return false;
    }
  }

  static std::string Join(const std::string& prefix, std::string_view key) {
    if (prefix.empty()) return std::string(key);
    std::string k = prefix;
    k += '.';
    k += key;
    return k;
  }

  // {"value": scalar, "unit": "..."} with only descriptive siblings -> one reading with a unit.
  bool TryValueWithUnit(dom::object obj, const std::string& key) {
    dom::element value;
    if (obj["value"].get(value) != simdjson::SUCCESS) return false;
    Value v;
    if (!ScalarValue(value, &v)) return false;
    std::string unit;
    for (auto field : obj) {
      std::string_view k = field.key;
      if (k == "value") continue;
      if (k == "unit" || k == "unitCode") {
        if (!field.value.is_string()) return false;
        unit = std::string(std::string_view(field.value));
      } else if (k != "displayName" && k != "name" && k != "description") {
        return false;
      }
    }
    Add(key, std::move(v), default_ts, std::move(unit));
    return true;
  }

  void Walk(dom::element e, const std::string& key, size_t depth) {
    if (depth > options.max_depth) {
      out.warnings.push_back("output nested too deeply at " + key.substr(0, 40));
      return;
    }
    switch (e.type()) {
      case dom::element_type::OBJECT: {
        dom::object obj(e);
        if (!key.empty() && TryValueWithUnit(obj, key)) return;
        for (auto field : obj) Walk(field.value, Join(key, field.key), depth + 1);
        return;
      }
      case dom::element_type::ARRAY: {
        size_t i = 0;
        for (auto item : dom::array(e)) Walk(item, Join(key, std::to_string(i++)), depth + 1);
        return;
      }
      case dom::element_type::NULL_VALUE:
        return;
      default: {
        Value v;
        if (ScalarValue(e, &v)) Add(key, std::move(v), default_ts, "");
      }
    }
  }

  static bool IsNgsiEntity(dom::element e) {
    if (!e.is_object()) return false;
    dom::object obj(e);
    dom::element id, type;
    if (obj["id"].get(id) != simdjson::SUCCESS || !id.is_string()) return false;
    if (obj["type"].get(type) != simdjson::SUCCESS || !type.is_string()) return false;
    for (auto field : obj) {
      if (!field.value.is_object()) continue;
      std::string_view t;
      if (dom::object(field.value)["type"].get(t) == simdjson::SUCCESS &&
          (t == "Property" || t == "GeoProperty" || t == "Relationship")) {
        return true;
      }
    }
    return false;
  }

  void WalkEntity(dom::object entity) {
    for (auto field : entity) {
      std::string_view name = field.key;
      if (name == "id" || name == "type" || name == "@context" || name == "location") continue;
      if (!field.value.is_object()) continue;  // NGSI-LD normalised form only
      dom::object prop(field.value);
      std::string_view type;
      if (prop["type"].get(type) != simdjson::SUCCESS || type != "Property") continue;
      TimeMs ts = default_ts;
      std::string_view observed;
      if (prop["observedAt"].get(observed) == simdjson::SUCCESS) {
        if (auto t = ParseTime(observed)) {
          ts = *t;
        } else {
          out.warnings.push_back("bad observedAt on " + std::string(name));
        }
      }
      std::string unit;
      std::string_view unit_code;
      if (prop["unitCode"].get(unit_code) == simdjson::SUCCESS) unit = std::string(unit_code);
      dom::element value;
      if (prop["value"].get(value) != simdjson::SUCCESS) continue;
      Value v;
      if (ScalarValue(value, &v)) {
        Add(std::string(name), std::move(v), ts, std::move(unit));
      } else {
        // Structured value: flatten under the property name with the property's timestamp.
        TimeMs saved = default_ts;
        default_ts = ts;
        Walk(value, std::string(name), 1);
        default_ts = saved;
      }
    }
  }

  void Run(dom::element root) {
    if (IsNgsiEntity(root)) {
      WalkEntity(dom::object(root));
      return;
    }
    if (root.is_array()) {
      dom::array arr(root);
      bool all_entities = arr.size() > 0;
      for (auto item : arr) {
        if (!IsNgsiEntity(item)) {
          all_entities = false;
          break;
        }
      }
      if (all_entities) {
        for (auto item : arr) WalkEntity(dom::object(item));
        return;
      }
    }
    if (!root.is_object() && !root.is_array()) {
      Value v;
      if (ScalarValue(root, &v)) Add("value", std::move(v), default_ts, "");
      return;
    }
    Walk(root, "", 0);
  }
};

}  // namespace

ReadingsConverter::ReadingsConverter(ToReadingsOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}
ReadingsConverter::~ReadingsConverter() = default;

Result<ConvertedReadings> ReadingsConverter::Convert(std::string_view json, Id device_id,
                                                     TimeMs default_ts) {
  dom::element root;
  const char* padded = PaddedCopy(json, simdjson::SIMDJSON_PADDING, impl_->buffer);
  auto err = impl_->parser.parse(padded, json.size(), /*realloc_if_needed=*/false).get(root);
  std::string huge_warning;
  if (err == simdjson::NUMBER_ERROR) {
    // One odd value never fails the decode: integers beyond 64 bits become doubles.
    std::string text(json), first;
    if (size_t n = MarkHugeIntegersAsDoubles(text, &first); n > 0) {
      huge_warning = "integer " + first.substr(0, 40) +
                     (n > 1 ? " and " + std::to_string(n - 1) + " more" : std::string()) +
                     " beyond 64 bits stored as a double (precision lost)";
      err = impl_->parser
                .parse(PaddedCopy(text, simdjson::SIMDJSON_PADDING, impl_->buffer), text.size(),
                       false)
                .get(root);
    }
  }
  if (err != simdjson::SUCCESS) {
    return InvalidArgument(std::string("decoder output is not valid JSON: ") +
                           simdjson::error_message(err));
  }
  Walker w{impl_->options, device_id, default_ts, {}};
  // Typical outputs have a handful to a few dozen readings: skip the first regrowths.
  w.out.readings.reserve(std::min<size_t>(impl_->options.max_readings, 16));
  if (!huge_warning.empty()) w.out.warnings.push_back(std::move(huge_warning));
  w.Run(root);
  return std::move(w.out);
}

Result<ConvertedReadings> ToReadings(std::string_view json, Id device_id, TimeMs default_ts,
                                     const ToReadingsOptions& options) {
  ReadingsConverter c(options);
  return c.Convert(json, device_id, default_ts);
}

}  // namespace bysans::decode

#include "ingest/senml.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/json_depth.h"
#include "ingest/flatten.h"

namespace bysans::ingest {
namespace {

using njson = nlohmann::json;

constexpr double kRelativeTimeLimit = 268435456.0;  // 2^28 seconds
constexpr double kMaxAbsSeconds = 9.0e12;           // keeps ms well inside int64

// Base values in force while walking the pack.
struct Base {
  std::string name;
  double time = 0;
  std::string unit;
  double value = 0;
  double sum = 0;
};

Status FieldError(size_t index, const char* field, const char* expected) {
  return InvalidArgument("SenML record " + std::to_string(index) + ": field '" + field +
                         "' must be " + expected);
}

// Reads an optional field; false + error when present with the wrong type.
Result<std::optional<double>> Number(const njson& rec, size_t i, const char* field) {
  auto it = rec.find(field);
  if (it == rec.end()) return std::optional<double>();
  if (!it->is_number()) return FieldError(i, field, "a number");
  double d = it->get<double>();
  if (!std::isfinite(d)) return FieldError(i, field, "a finite number");
  return std::optional<double>(d);
}

Result<std::optional<std::string>> String(const njson& rec, size_t i, const char* field) {
  auto it = rec.find(field);
  if (it == rec.end()) return std::optional<std::string>();
  if (!it->is_string()) return FieldError(i, field, "a string");
  return std::optional<std::string>(it->get<std::string>());
}

bool IsBaseField(const std::string& k) {
  return k == "bn" || k == "bt" || k == "bu" || k == "bv" || k == "bs" || k == "bver";
}

}  // namespace

Result<std::vector<Reading>> ParseSenml(std::string_view json, Id device_id, TimeMs now) {
  // The payload is stored and may reach decoders: no deeper than the API allows.
  BYSANS_RETURN_IF_ERROR(CheckJsonDepth(json));
  njson doc;
  try {
    doc = njson::parse(json);
  } catch (const njson::parse_error& e) {
    std::string what = e.what();
    size_t colon = what.find(": ", what.find("column"));
    return InvalidArgument("malformed SenML JSON at byte " + std::to_string(e.byte) + ": " +
                           (colon == std::string::npos ? what : what.substr(colon + 2)));
  } catch (const njson::out_of_range& e) {
    return InvalidArgument(std::string("SenML JSON holds a number that is not finite: ") +
                           e.what());
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("malformed SenML JSON: ") + e.what());
  }
  if (!doc.is_array()) return InvalidArgument("SenML JSON must be an array of records");

  std::vector<Reading> out;
  Base base;
  for (size_t i = 0; i < doc.size(); ++i) {
    const njson& rec = doc[i];
    if (!rec.is_object()) {
      return InvalidArgument("SenML record " + std::to_string(i) + " is not a JSON object");
    }
    bool only_base = true;
    for (const auto& [k, v] : rec.items()) {
      if (!k.empty() && k.back() == '_') {
        return InvalidArgument("SenML record " + std::to_string(i) +
                               ": unsupported must-understand field '" + k + "'");
      }
      if (!IsBaseField(k)) only_base = false;
    }

    // Base fields first: they apply to this record and the ones after it.
    BYSANS_ASSIGN_OR_RETURN(auto bver, Number(rec, i, "bver"));
    if (bver && (*bver > 10 || *bver < 1 || *bver != std::floor(*bver))) {
      return InvalidArgument("SenML record " + std::to_string(i) + ": unsupported bver " +
                             njson(*bver).dump() + " (this server understands up to 10)");
    }
    BYSANS_ASSIGN_OR_RETURN(auto bn, String(rec, i, "bn"));
    if (bn) base.name = *bn;
    BYSANS_ASSIGN_OR_RETURN(auto bt, Number(rec, i, "bt"));
    if (bt) base.time = *bt;
    BYSANS_ASSIGN_OR_RETURN(auto bu, String(rec, i, "bu"));
    if (bu) base.unit = *bu;
    BYSANS_ASSIGN_OR_RETURN(auto bv, Number(rec, i, "bv"));
    if (bv) base.value = *bv;
    BYSANS_ASSIGN_OR_RETURN(auto bs, Number(rec, i, "bs"));
    if (bs) base.sum = *bs;
    if (only_base) continue;

    BYSANS_ASSIGN_OR_RETURN(auto n, String(rec, i, "n"));
    BYSANS_ASSIGN_OR_RETURN(auto u, String(rec, i, "u"));
    BYSANS_ASSIGN_OR_RETURN(auto t, Number(rec, i, "t"));
    BYSANS_ASSIGN_OR_RETURN(auto v, Number(rec, i, "v"));
    BYSANS_ASSIGN_OR_RETURN(auto vs, String(rec, i, "vs"));
    BYSANS_ASSIGN_OR_RETURN(auto vd, String(rec, i, "vd"));
    BYSANS_ASSIGN_OR_RETURN(auto s, Number(rec, i, "s"));
    std::optional<bool> vb;
    if (auto it = rec.find("vb"); it != rec.end()) {
      if (!it->is_boolean()) return FieldError(i, "vb", "a boolean");
      vb = it->get<bool>();
    }

    std::string name = base.name + n.value_or("");
    if (name.empty()) {
      return InvalidArgument("SenML record " + std::to_string(i) + " has no name (bn + n)");
    }
    if (name.size() > kMaxKeyLength) {
      return InvalidArgument("SenML record " + std::to_string(i) + ": name is " +
                             std::to_string(name.size()) + " bytes long (limit " +
                             std::to_string(kMaxKeyLength) + ")");
    }
    int values = (v ? 1 : 0) + (vs ? 1 : 0) + (vb ? 1 : 0) + (vd ? 1 : 0);
    if (values > 1) {
      return InvalidArgument("SenML record " + std::to_string(i) +
                             " has more than one of v, vs, vb, vd");
    }
    if (values == 0 && !s) {
      return InvalidArgument("SenML record " + std::to_string(i) + " ('" + name +
                             "') has no value (v, vs, vb, vd) or sum (s)");
    }

    double secs = base.time + t.value_or(0);
    if (!std::isfinite(secs) || std::fabs(secs) > kMaxAbsSeconds) {
      return InvalidArgument("SenML record " + std::to_string(i) + ": time out of range");
    }
    TimeMs ts = secs < kRelativeTimeLimit ? now + static_cast<TimeMs>(std::llround(secs * 1000.0))
                                          : static_cast<TimeMs>(std::llround(secs * 1000.0));
    std::string unit = u ? *u : base.unit;

    auto emit = [&](std::string key, Value value) -> Status {
      if (out.size() >= kMaxReadingsPerMessage) {
        return InvalidArgument("the SenML pack has more than " +
                               std::to_string(kMaxReadingsPerMessage) + " values (limit)");
      }
      Reading& r = out.emplace_back();
      r.device_id = device_id;
      r.key = std::move(key);
      r.ts = ts;
      r.value = std::move(value);
      r.unit = unit;
      return Status::Ok();
    };

    if (v) {
      double val = base.value + *v;
      if (!std::isfinite(val)) {
        return InvalidArgument("SenML record " + std::to_string(i) + ": value out of range");
      }
      BYSANS_RETURN_IF_ERROR(emit(name, val));
    } else if (vs) {
      BYSANS_RETURN_IF_ERROR(emit(name, *vs));
    } else if (vb) {
      BYSANS_RETURN_IF_ERROR(emit(name, *vb));
    } else if (vd) {
      BYSANS_RETURN_IF_ERROR(emit(name, *vd));
    }
    if (s) {
      double sum = base.sum + *s;
      if (!std::isfinite(sum)) {
        return InvalidArgument("SenML record " + std::to_string(i) + ": sum out of range");
      }
      BYSANS_RETURN_IF_ERROR(emit(values ? name + ".sum" : name, sum));
    }
  }
  return out;
}

}  // namespace bysans::ingest

#include "sta/write_observations.h"

#include <string_view>

#include "core/time_format.h"

namespace bysans::sta {
namespace {

using json = nlohmann::json;

// A datastream link {"@iot.id": N}; `where` names it in the error.
Result<int64_t> DatastreamLink(const json& link, const std::string& where) {
  if (!link.is_object() || !link.contains("@iot.id"))
    return InvalidArgument(where + " must be a link {\"@iot.id\": <Datastream id>}");
  const json& id = link["@iot.id"];
  if (!id.is_number_integer() || id.get<int64_t>() <= 0)
    return InvalidArgument(where + "/@iot.id must be a positive integer (a Datastream id)");
  if (link.size() != 1)
    return InvalidArgument(where + " must hold only @iot.id: Datastreams are not created here");
  return id.get<int64_t>();
}

// An instant: RFC 3339 text (or ms); intervals are not kept by bysans.
Result<TimeMs> Instant(const json& v, std::string_view name) {
  if (!v.is_string()) return InvalidArgument(std::string(name) + " must be an RFC 3339 time");
  const std::string& s = v.get_ref<const std::string&>();
  if (s.find('/') != std::string::npos)
    return InvalidArgument(std::string(name) +
                           " is an interval: bysans keeps one instant per Observation");
  auto t = ParseTime(s);
  if (!t)
    return InvalidArgument(std::string(name) + " is not an RFC 3339 time: '" + s.substr(0, 64) +
                           "'");
  return *t;
}

Result<Value> Scalar(const json& v) {
  if (v.is_boolean()) return Value(v.get<bool>());
  if (v.is_number()) return Value(v.get<double>());
  if (v.is_string()) return Value(v.get<std::string>());
  return InvalidArgument("result must be a number, a boolean or a string");
}

enum class Component { kPhenomenonTime, kResult, kResultTime };

Result<std::vector<Component>> Components(const json& c, const std::string& where) {
  if (!c.is_array() || c.empty())
    return InvalidArgument(where + "/components must be a non-empty array of names");
  std::vector<Component> out;
  bool result = false, time = false;
  for (const json& name : c) {
    if (!name.is_string()) return InvalidArgument(where + "/components must hold strings");
    const std::string& n = name.get_ref<const std::string&>();
    Component k;
    if (n == "phenomenonTime") {
      k = Component::kPhenomenonTime;
      if (time) return InvalidArgument(where + "/components names phenomenonTime twice");
      time = true;
    } else if (n == "result") {
      k = Component::kResult;
      if (result) return InvalidArgument(where + "/components names result twice");
      result = true;
    } else if (n == "resultTime") {
      k = Component::kResultTime;
    } else {
      return InvalidArgument(where + "/components: '" + n.substr(0, 64) +
                             "' is not supported (phenomenonTime, result, resultTime)");
    }
    out.push_back(k);
  }
  if (!result) return InvalidArgument(where + "/components must include result");
  return out;
}

ObservationRow Row(const json& row, const std::vector<Component>& comps, TimeMs now) {
  ObservationRow out;
  if (!row.is_array() || row.size() != comps.size()) {
    out.error = "a row must be an array of " + std::to_string(comps.size()) + " values";
    return out;
  }
  NewObservation obs;
  obs.ts = now;
  for (size_t i = 0; i < comps.size(); ++i) {
    const json& v = row[i];
    switch (comps[i]) {
      case Component::kPhenomenonTime: {
        if (v.is_null()) break;
        auto t = Instant(v, "phenomenonTime");
        if (!t.ok()) {
          out.error = t.status().message();
          return out;
        }
        obs.ts = *t;
        break;
      }
      case Component::kResult: {
        auto r = Scalar(v);
        if (!r.ok()) {
          out.error = r.status().message();
          return out;
        }
        obs.value = std::move(*r);
        break;
      }
      case Component::kResultTime:
        if (!v.is_null() && !Instant(v, "resultTime").ok()) {
          out.error = "resultTime must be an RFC 3339 time or null";
          return out;
        }
        break;
    }
  }
  out.obs = std::move(obs);
  return out;
}

}  // namespace

Result<std::vector<ObservationGroup>> ParseCreateObservations(const json& body, TimeMs now) {
  if (!body.is_array())
    return InvalidArgument(
        "the body must be a JSON array of {Datastream, components, dataArray} objects");
  std::vector<ObservationGroup> out;
  size_t total = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    const json& el = body[i];
    const std::string where = "element " + std::to_string(i);
    if (!el.is_object()) return InvalidArgument(where + " must be an object");
    for (const auto& [name, _] : el.items())
      if (name != "Datastream" && name != "components" && name != "dataArray" &&
          name != "dataArray@iot.count")
        return InvalidArgument(where + ": unknown member '" + name.substr(0, 64) + "'");
    if (!el.contains("Datastream")) return InvalidArgument(where + ": Datastream is required");
    ObservationGroup g;
    BYSANS_ASSIGN_OR_RETURN(g.datastream_id,
                            DatastreamLink(el["Datastream"], where + "/Datastream"));
    if (!el.contains("components")) return InvalidArgument(where + ": components is required");
    BYSANS_ASSIGN_OR_RETURN(std::vector<Component> comps, Components(el["components"], where));
    if (!el.contains("dataArray") || !el["dataArray"].is_array())
      return InvalidArgument(where + ": dataArray must be an array of rows");
    const json& rows = el["dataArray"];
    if (el.contains("dataArray@iot.count")) {
      const json& n = el["dataArray@iot.count"];
      if (!n.is_number_integer() || n.get<int64_t>() != static_cast<int64_t>(rows.size()))
        return InvalidArgument(where + ": dataArray@iot.count is not the number of rows (" +
                               std::to_string(rows.size()) + ")");
    }
    total += rows.size();
    if (total > kMaxObservationsPerRequest)
      return InvalidArgument("more than " + std::to_string(kMaxObservationsPerRequest) +
                             " Observations in one request: send them in several");
    g.rows.reserve(rows.size());
    for (const json& row : rows) g.rows.push_back(Row(row, comps, now));
    out.push_back(std::move(g));
  }
  return out;
}

Result<ObservationPost> ParseObservationPost(const json& body, TimeMs now) {
  if (!body.is_object()) return InvalidArgument("the body must be a JSON object");
  ObservationPost out;
  out.obs.ts = now;
  bool has_result = false;
  for (const auto& [name, v] : body.items()) {
    if (name == "result") {
      auto r = Scalar(v);
      if (!r.ok()) return r.status();
      out.obs.value = std::move(*r);
      has_result = true;
    } else if (name == "phenomenonTime") {
      if (!v.is_null()) {
        BYSANS_ASSIGN_OR_RETURN(out.obs.ts, Instant(v, "phenomenonTime"));
      }
    } else if (name == "resultTime") {
      if (!v.is_null() && !Instant(v, "resultTime").ok())
        return InvalidArgument("resultTime must be an RFC 3339 time or null");
    } else if (name == "Datastream") {
      BYSANS_ASSIGN_OR_RETURN(out.datastream_id, DatastreamLink(v, "Datastream"));
    } else if (name == "resultQuality") {
      return InvalidArgument("resultQuality is assigned by bysans' quality checks, not given");
    } else {
      return InvalidArgument("'" + name.substr(0, 64) +
                             "' is not kept by bysans (an Observation is phenomenonTime, result "
                             "and its Datastream)");
    }
  }
  if (!has_result) return InvalidArgument("result is required");
  return out;
}

std::string ResultTypeError(const SeriesRef& series, const Value& v) {
  if (!series.latest || series.latest->value.index() == v.index()) return {};
  switch (series.latest->value.index()) {
    case 0:
      return "result must be a number (the Datastream's observationType is OM_Measurement)";
    case 1:
      return "result must be a string (the Datastream's observationType is "
             "OM_CategoryObservation)";
    default:
      return "result must be a boolean (the Datastream's observationType is "
             "OM_TruthObservation)";
  }
}

}  // namespace bysans::sta

#include "act/geocode.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "act/curl_gate.h"
#include "act/outbox.h"
#include "core/encoding.h"
#include "core/json_depth.h"

namespace bysans::act {
namespace {

using json = nlohmann::json;

// A number, or a number written as text (Nominatim writes "55.67").
std::optional<double> NumberOf(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number()) return it->get<double>();
  if (!it->is_string()) return std::nullopt;
  const std::string& s = it->get_ref<const std::string&>();
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

std::string TextOf(const json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = j.find(k);
    if (it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
      return it->get<std::string>();
  }
  return "";
}

void Add(std::vector<Place>& out, std::string label, std::optional<double> lat,
         std::optional<double> lon) {
  if (out.size() >= kMaxPlaces || label.empty() || !lat || !lon) return;
  if (!std::isfinite(*lat) || !std::isfinite(*lon) || std::fabs(*lat) > 90 || std::fabs(*lon) > 180)
    return;
  if (label.size() > 300) label.resize(300);
  out.push_back({std::move(label), *lat, *lon});
}

// One DAWA or Nominatim entry.
void AddListEntry(std::vector<Place>& out, const json& e) {
  if (!e.is_object()) return;
  const std::string label = TextOf(e, {"betegnelse", "tekst", "display_name", "label", "name"});
  if (e.contains("lat") && e.contains("lon"))
    return Add(out, label, NumberOf(e, "lat"), NumberOf(e, "lon"));
  // DAWA: x is the longitude and y the latitude (ETRS89 ≈ WGS 84), at the top or nested.
  const json* where = &e;
  for (const char* nested : {"adresse", "adgangsadresse"}) {
    auto it = e.find(nested);
    if (!e.contains("x") && it != e.end() && it->is_object()) where = &*it;
  }
  Add(out, label.empty() ? TextOf(*where, {"betegnelse"}) : label, NumberOf(*where, "y"),
      NumberOf(*where, "x"));
}

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * n > kMaxGeocodeAnswer) return 0;  // too large: abort the transfer
  body->append(data, size * n);
  return size * n;
}

}  // namespace

std::string GeocodeUrl(std::string_view url_template, std::string_view query) {
  std::string url(url_template);
  const size_t at = url.find("{q}");
  if (at != std::string::npos) url.replace(at, 3, PercentEncode(query));
  return url;
}

Result<std::vector<Place>> ParseGeocodeAnswer(std::string_view body) {
  BYSANS_RETURN_IF_ERROR(CheckJsonDepth(body));
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return InvalidArgument("the geocoder's answer is not JSON");
  std::vector<Place> out;
  if (j.is_array()) {
    for (const json& e : j) AddListEntry(out, e);
    return out;
  }
  if (j.is_object() && j.value("type", "") == "FeatureCollection" && j.contains("features") &&
      j["features"].is_array()) {
    for (const json& f : j["features"]) {
      if (!f.is_object() || !f.contains("geometry") || !f["geometry"].is_object()) continue;
      const json& g = f["geometry"];
      const json& c = g.value("coordinates", json());
      if (g.value("type", "") != "Point" || !c.is_array() || c.size() < 2 || !c[0].is_number() ||
          !c[1].is_number())
        continue;
      const json props = f.value("properties", json::object());
      Add(out,
          props.is_object() ? TextOf(props, {"betegnelse", "name", "label", "display_name"}) : "",
          c[1].get<double>(), c[0].get<double>());
    }
    return out;
  }
  return InvalidArgument("the geocoder's answer is neither a list of places nor GeoJSON");
}

Result<std::vector<Place>> Geocode(std::string_view url_template, std::string_view query,
                                   const OutboundPolicy& policy, long timeout_ms) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> c(curl_easy_init(), curl_easy_cleanup);
  if (!c) return Internal("curl_easy_init failed");
  const std::string url = GeocodeUrl(url_template, query);
  const std::string target = TargetKeyOf(url);
  CurlGate gate{&policy, {}};
  std::string body;
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  ApplyCurlGate(c.get(), &gate, nullptr);  // the outbound-address policy
  curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c.get(), CURLOPT_USERAGENT, "bysans");
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &body);
  const CURLcode rc = curl_easy_perform(c.get());
  if (rc != CURLE_OK) {
    std::string detail = curl_easy_strerror(rc);
    if (!gate.refused.empty()) detail += " (" + gate.refused + ")";
    spdlog::warn("geocoder {}: {}", target, detail);
    return Unavailable("the address search could not reach " + target);
  }
  long status = 0;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300)
    return Status(Code::kUnavailable,
                  "the address search " + target + " answered HTTP " + std::to_string(status));
  auto places = ParseGeocodeAnswer(body);
  if (!places.ok()) {
    spdlog::warn("geocoder {}: {}", target, places.status().message());
    return Status(Code::kUnavailable,
                  "the address search " + target + " gave an answer bysans does not understand");
  }
  return places;
}

}  // namespace bysans::act

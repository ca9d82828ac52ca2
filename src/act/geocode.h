// Address search (issue 21 §2, the device form's location): a text such as "Rådhuspladsen 1" is
// sent to the configured geocoder (web.geocoder_url; by default DAWA, the Danish address web
// API at api.dataforsyningen.dk) and its answer turned into places with coordinates. The request
// obeys the outbound-address policy (curl_gate.h), has a time limit and an answer size limit, and
// carries nothing but the text (no cookie, no key, no user).
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "core/outbound_policy.h"
#include "core/status.h"

namespace bysans::act {

struct Place {
  std::string label;  // "Rådhuspladsen 1, 1550 København V"
  double lat = 0;     // WGS 84
  double lon = 0;
};

inline constexpr size_t kMaxPlaces = 10;
inline constexpr size_t kMaxGeocodeAnswer = 512 * 1024;

// The geocoder's URL for `query`: `url_template`'s "{q}" replaced by the percent-encoded text.
std::string GeocodeUrl(std::string_view url_template, std::string_view query);

// The places in a geocoder's answer, at most kMaxPlaces, those with coordinates outside WGS 84
// left out. Understands DAWA (a list of {betegnelse | tekst, x, y}, the coordinates possibly in
// a nested "adresse" or "adgangsadresse"), Nominatim (a list of {display_name, lat, lon}) and
// GeoJSON (a FeatureCollection of Points with properties betegnelse, name, label or
// display_name). kInvalidArgument for anything else.
Result<std::vector<Place>> ParseGeocodeAnswer(std::string_view body);

// Asks the geocoder. Errors say nothing of addresses: "the address search could not reach
// <host>" (the detail goes to the server log), or "… answered HTTP n" / "… gave an answer bysans
// does not understand".
Result<std::vector<Place>> Geocode(std::string_view url_template, std::string_view query,
                                   const OutboundPolicy& policy, long timeout_ms);

}  // namespace bysans::act

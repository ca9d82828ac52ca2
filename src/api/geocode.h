// GET /api/v1/geocode?q=<text> (issue 21 §2): places for an address text, from the geocoder of
// the setting web.geocoder_url (act/geocode.h), for the device form's location. Only for members
// who may place a device (editor or admin somewhere; a global admin); limited per caller; the
// geocoder is asked through the outbound-address policy and sees only the text. 404 when the
// setting is empty (address search off).
#pragma once

#include <string>

#include "api/context.h"
#include "core/outbound_policy.h"

namespace bysans::api {

void RegisterGeocodeRoutes(http::Router& router, ApiContext& ctx, std::string url_template,
                           const OutboundPolicy& outbound);

}  // namespace bysans::api

// The REST API's device writes (api/devices.cc), shared with the SensorThings Things
// (api/sta_write.cc) so that both validate, store, issue keys and audit alike.
#pragma once

#include "api/common.h"

namespace bysans::api {

// Creates a device in application `app_id` (editor there) from a REST device body (name,
// transport, location, tags, metadata, ...) unless its organisation has reached its limit of
// devices (org_limits.h): the device's JSON with its new apiKey (http) or broker credentials
// (mqtt). Audited.
Result<json> CreateDeviceFromBody(ApiContext& ctx, const http::Request& req,
                                  const auth::Principal& p, Id app_id, const json& body);
// Applies a REST device PATCH body to `d` (already loaded with the editor role) and stores it.
// Audited.
Result<Device> PatchDeviceFromBody(ApiContext& ctx, const http::Request& req,
                                   const auth::Principal& p, Device d, const json& body);
// Deletes `d` (already loaded with the editor role) and its broker credentials. Audited.
Status DeleteLoadedDevice(ApiContext& ctx, const http::Request& req, const auth::Principal& p,
                          const Device& d);

}  // namespace bysans::api

// SensorThings API 1.1 Create-Update-Delete beyond Observations and Things (api/sta_write.cc
// routes to these): Datastreams created (POST Datastreams, POST Things(N)/Datastreams, deep
// insert in POST Things), patched (their unit) and deleted, Observations deleted, Locations
// created, patched and deleted (api/sta_datastreams.cc, api/sta_delete.cc, api/sta_locations.cc).
// sta/README.md "Writes".
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/context.h"
#include "auth/auth.h"
#include "http/router.h"
#include "sta/write_datastreams.h"

namespace bysans::api {

// The root every SensorThings write path is under.
inline constexpr std::string_view kStaRoot = "/sta/v1.1";

// The body as JSON (depth-checked before parsing); 415 for a content type other than JSON.
Result<nlohmann::json> StaJsonBody(const http::Request& req);

// `path` ("Things(3)", "Datastreams(5)") answered as a GET of it in organisation `org_id`, with
// `status` and a Location header naming it.
Result<http::Response> StaEntityAnswer(ApiContext& ctx, const http::Request& req, Id org_id,
                                       const std::string& path, int status);

// A series the caller may act on with role `min`, and its device: another organisation's (or
// an unknown) Datastream is kNotFound, a role below `min` kPermissionDenied.
struct StaDatastream {
  SeriesRef series;
  Device device;
};
Result<StaDatastream> LoadStaDatastream(ApiContext& ctx, const auth::Principal& p, int64_t id,
                                        Role min);

// The id in "<set>(<id>)<tail>" ("Datastreams(5)", "Things(3)/Datastreams"), else nullopt.
std::optional<int64_t> StaIdOfPath(std::string_view path, std::string_view set,
                                   std::string_view tail = {});

// POST Datastreams (Thing by link) or Things(N)/Datastreams: 201 with Location.
Result<http::Response> CreateStaDatastream(ApiContext& ctx, const http::Request& req,
                                           const auth::Principal& p,
                                           std::optional<Id> thing_in_path);
// Before a Thing with deep-inserted Datastreams is created: their Sensors must be the unknown
// Sensor (a new Thing has no device model).
Status CheckNewThingDatastreams(const std::vector<sta::DatastreamWrite>& datastreams);
// The deep-inserted Datastreams of a Thing just created as device `d`.
Status CreateThingDatastreams(ApiContext& ctx, const http::Request& req, const auth::Principal& p,
                              const Device& d,
                              const std::vector<sta::DatastreamWrite>& datastreams);
// PATCH Datastreams(N): its unitOfMeasurement; 200 with the Datastream.
Result<http::Response> PatchStaDatastream(ApiContext& ctx, const http::Request& req,
                                          const auth::Principal& p, int64_t id);

// DELETE Datastreams(N): the series and every reading of it, erased (SeriesStore::DeleteSeries).
Result<http::Response> DeleteStaDatastream(ApiContext& ctx, const http::Request& req,
                                           const auth::Principal& p, int64_t id);
// DELETE Observations('<series>-<ms>'): the reading, erased (SeriesStore::DeleteReadings).
Result<http::Response> DeleteStaObservation(ApiContext& ctx, const http::Request& req,
                                            const auth::Principal& p, std::string_view id);
// POST Locations (one Things link) or Things(N)/Locations: the device's location, 201.
Result<http::Response> CreateStaLocation(ApiContext& ctx, const http::Request& req,
                                         const auth::Principal& p, std::optional<Id> thing_in_path);
// PATCH Locations(N) (200 with it) or DELETE Locations(N) (the device has no location, 204).
Result<http::Response> ChangeStaLocation(ApiContext& ctx, const http::Request& req,
                                         const auth::Principal& p, Id id);
// After a device was deleted: its series and their readings, erased.
Status EraseSeriesOfDevice(ApiContext& ctx, Id device_id);

}  // namespace bysans::api

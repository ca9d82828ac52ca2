// Devices: created under an application, listed per application or per
// organisation (with filters), then addressed by id. HTTP devices get an
// ingest key shown once (only its SHA-256 is stored).
#include "api/devices.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "api/common.h"
#include "api/objects.h"
#include "api/org_limits.h"
#include "mqtt/broker.h"
#include "store/mqtt_store.h"

namespace bysans::api {
namespace {

// Waits (bounded) until the supervised MQTT broker has taken up the credentials as they are
// now, so that an answer about them is true when it arrives.
void AwaitBroker(ApiContext& ctx, Id device) {
  constexpr int kBrokerReloadWaitMs = 10000;
  if (!ctx.store.mqtt().WaitCredentialsApplied(ctx.store.mqtt().credentials_generation(),
                                               kBrokerReloadWaitMs)) {
    spdlog::warn("device {}: the MQTT broker has not taken up its credentials yet", device);
  }
}

Status BadField(const char* field, const std::string& why) {
  return InvalidArgument(std::string("field '") + field + "' " + why);
}

Result<std::string> NormalizeDevEui(const std::string& s) {
  if (s.size() != 16 ||
      !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; }))
    return BadField("devEui", "must be 16 hexadecimal characters");
  std::string out = s;
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<std::optional<Location>> ParseLocation(const json& v) {
  if (v.is_null()) return std::optional<Location>();
  if (!v.is_object()) return BadField("location", R"(must be an object {"lat", "lon"} or null)");
  for (const auto& [k, x] : v.items())
    if (k != "lat" && k != "lon") return InvalidArgument("unknown field 'location." + k + "'");
  auto lat = v.find("lat");
  auto lon = v.find("lon");
  if (lat == v.end() || !lat->is_number()) return BadField("location.lat", "must be a number");
  if (lon == v.end() || !lon->is_number()) return BadField("location.lon", "must be a number");
  Location l{lat->get<double>(), lon->get<double>()};
  if (!(l.lat >= -90 && l.lat <= 90)) return BadField("location.lat", "must be from -90 to 90");
  if (!(l.lon >= -180 && l.lon <= 180)) return BadField("location.lon", "must be from -180 to 180");
  return std::optional<Location>(l);
}

// Applies the body's fields to `d`. On create, `d.transport` is set from the
// body; on update, changing it is refused.
Status Apply(ApiContext& ctx, const json& body, Device& d, bool create) {
  BYSANS_RETURN_IF_ERROR(
      RejectUnknownFields(body, {"name", "transport", "devEui", "location", "tags", "metadata",
                                 "deviceModelId", "expectedIntervalS", "inMaintenance"}));
  BYSANS_ASSIGN_OR_RETURN(auto name, OptString(body, "name"));
  if (name) {
    if (name->empty()) return BadField("name", "must not be empty");
    d.name = *name;
  }
  BYSANS_ASSIGN_OR_RETURN(auto transport, OptString(body, "transport"));
  if (transport) {
    auto t = ParseTransport(*transport);
    if (!t) return BadField("transport", "must be http, mqtt or lorawan, not '" + *transport + "'");
    if (!create && *t != d.transport)
      return BadField("transport", "cannot be changed; create a new device instead");
    d.transport = *t;
  }
  BYSANS_ASSIGN_OR_RETURN(auto dev_eui, OptString(body, "devEui"));
  if (dev_eui) {
    if (d.transport != Transport::kLorawan)
      return BadField("devEui", "is only for lorawan devices");
    BYSANS_ASSIGN_OR_RETURN(d.dev_eui, NormalizeDevEui(*dev_eui));
  }
  if (d.transport == Transport::kLorawan && d.dev_eui.empty())
    return BadField("devEui", "is required for lorawan devices");
  if (auto it = body.find("location"); it != body.end()) {
    BYSANS_ASSIGN_OR_RETURN(d.location, ParseLocation(*it));
  }
  if (auto it = body.find("tags"); it != body.end()) {
    if (!it->is_array()) return BadField("tags", "must be an array of strings");
    d.tags.clear();
    for (const auto& t : *it) {
      if (!t.is_string()) return BadField("tags", "must be an array of strings");
      d.tags.push_back(t.get<std::string>());
    }
  }
  if (auto it = body.find("metadata"); it != body.end()) {
    if (!it->is_object()) return BadField("metadata", "must be an object of strings");
    d.metadata.clear();
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return BadField("metadata", "value of '" + k + "' must be a string");
      d.metadata[k] = v.get<std::string>();
    }
  }
  if (auto it = body.find("deviceModelId"); it != body.end()) {
    if (it->is_null()) {
      d.device_model_id.reset();
    } else {
      if (!it->is_number_integer()) return BadField("deviceModelId", "must be an integer or null");
      Id mid = it->get<Id>();
      auto m = ctx.store.GetDeviceModel(mid);
      if (!m.ok() && m.status().code() != Code::kNotFound) return m.status();
      if (!m.ok() || m->org_id != d.org_id)
        return BadField("deviceModelId", "does not name a device model of this organisation: " +
                                             std::to_string(mid));
      d.device_model_id = mid;
    }
  }
  BYSANS_ASSIGN_OR_RETURN(auto interval, OptInt(body, "expectedIntervalS"));
  if (interval) {
    if (*interval < 0) return BadField("expectedIntervalS", "must not be negative");
    d.expected_interval_s = *interval;
  }
  BYSANS_ASSIGN_OR_RETURN(auto maint, OptBool(body, "inMaintenance"));
  if (maint) d.in_maintenance = *maint;
  return Status::Ok();
}

// New broker credentials for an MQTT device (user name device-<id>, a fresh password), shown
// once: only the Mosquitto hash is stored. Answered once the broker accepts them.
Result<json> IssueMqttCredentials(ApiContext& ctx, const Device& d) {
  std::string password = ctx.random.Token(24);
  BYSANS_ASSIGN_OR_RETURN(std::string hash, mqtt::HashBrokerPassword(password, ctx.random));
  MqttCredential cred{d.id, "device-" + std::to_string(d.id), hash, ctx.clock.NowMs()};
  BYSANS_RETURN_IF_ERROR(ctx.store.mqtt().PutCredential(cred));
  AwaitBroker(ctx, d.id);
  auto [host, port] = ctx.store.mqtt().broker_endpoint();
  std::string id = std::to_string(d.id);
  return json{{"username", cred.username},
              {"password", password},
              {"host", host},
              {"port", port},
              {"upTopic", "devices/" + id + "/up"},
              {"downTopic", "devices/" + id + "/down"}};
}

// The id of the device's newest location history entry, read right after the change that made
// it (0 when unreadable: the notification then falls back to the current entry).
int64_t NewestLocationId(ApiContext& ctx, Id device_id) {
  auto history = ctx.store.ListDeviceLocations({device_id});
  return history.ok() && !history->empty() ? history->back().id : 0;
}

Result<http::Response> Create(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id app_id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_ASSIGN_OR_RETURN(json out, CreateDeviceFromBody(ctx, req, p, app_id, body));
  return Json(201, out);
}

Result<http::Response> ListOfApp(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id app_id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(Application app, LoadApplication(ctx, p, app_id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  DeviceFilter f;
  f.org_id = app.org_id;
  f.app_id = app.id;
  BYSANS_ASSIGN_OR_RETURN(auto devices, ctx.store.ListDevices(f, page));
  return PagedJson(ToJsonArray(devices.items), devices.total, page);
}

Result<std::optional<Id>> IdQuery(const http::Request& req, const char* name) {
  const std::string* s = req.Query(name);
  if (!s || s->empty()) return std::optional<Id>();
  char* end = nullptr;
  long long v = std::strtoll(s->c_str(), &end, 10);
  if (end != s->c_str() + s->size() || v <= 0)
    return InvalidArgument(std::string("parameter '") + name + "' must be a positive id");
  return std::optional<Id>(v);
}

Result<http::Response> ListOfOrg(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id org, IdParam(req, "orgId"));
  BYSANS_ASSIGN_OR_RETURN(OrgScope s, LoadOrganizationScope(ctx, p, org, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(Page page, PageFrom(req));
  DeviceFilter f;
  f.org_id = s.org.id;  // the filter always stays inside the caller's organisation
  f.app_ids = s.apps;   // and inside their applications, when restricted
  BYSANS_ASSIGN_OR_RETURN(f.app_id, IdQuery(req, "app"));
  BYSANS_ASSIGN_OR_RETURN(f.device_model_id, IdQuery(req, "model"));
  if (const std::string* tag = req.Query("tag")) f.tag = *tag;
  if (const std::string* search = req.Query("search")) f.search = *search;
  BYSANS_ASSIGN_OR_RETURN(auto devices, ctx.store.ListDevices(f, page));
  return PagedJson(ToJsonArray(devices.items), devices.total, page);
}

Result<http::Response> Get(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kViewer));
  return Json(200, ToJson(d));
}

Result<http::Response> Patch(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_ASSIGN_OR_RETURN(d, PatchDeviceFromBody(ctx, req, p, std::move(d), body));
  return Json(200, ToJson(d));
}

Result<http::Response> Delete(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kEditor));
  BYSANS_RETURN_IF_ERROR(DeleteLoadedDevice(ctx, req, p, d));
  return NoContent();
}

Result<http::Response> RotateKey(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kEditor));
  if (d.transport == Transport::kMqtt) {  // a new broker password; the old one stops working
    BYSANS_ASSIGN_OR_RETURN(json mqtt_out, IssueMqttCredentials(ctx, d));
    Audit(ctx, p, req, d.org_id, "rotate_key", "device", std::to_string(d.id));
    return Json(200, json{{"mqtt", mqtt_out}});
  }
  if (d.transport != Transport::kHttp)
    return FailedPrecondition("only HTTP and MQTT devices have credentials to rotate");
  std::string key = ctx.random.Token(32);
  BYSANS_RETURN_IF_ERROR(ctx.store.SetDeviceIngestKey(d.id, auth::Sha256Hex(key)));
  ctx.ingest_keys->ForgetDevice(d.id);  // the old key stops at once
  Audit(ctx, p, req, d.org_id, "rotate_key", "device", std::to_string(d.id));
  return Json(200, json{{"apiKey", key}});
}

}  // namespace

Result<json> CreateDeviceFromBody(ApiContext& ctx, const http::Request& req,
                                  const auth::Principal& p, Id app_id, const json& body) {
  BYSANS_ASSIGN_OR_RETURN(Application app, LoadApplication(ctx, p, app_id, Role::kEditor));
  Device d;
  d.org_id = app.org_id;
  d.app_id = app.id;
  BYSANS_RETURN_IF_ERROR(Apply(ctx, body, d, /*create=*/true));
  if (d.name.empty()) return BadField("name", "is required");
  BYSANS_ASSIGN_OR_RETURN(LimitHold limit_hold, CheckDeviceLimit(ctx, d.org_id));
  d.created_ms = ctx.clock.NowMs();
  std::string key;
  std::string key_hash;
  if (d.transport == Transport::kHttp) {
    key = ctx.random.Token(32);
    key_hash = auth::Sha256Hex(key);
  }
  BYSANS_ASSIGN_OR_RETURN(d, ctx.store.CreateDevice(d, key_hash));
  json mqtt_out;
  if (d.transport == Transport::kMqtt) {
    BYSANS_ASSIGN_OR_RETURN(mqtt_out, IssueMqttCredentials(ctx, d));
  }
  Audit(ctx, p, req, d.org_id, "create", "device", std::to_string(d.id));
  if (ctx.on_entity_change) {
    sta::EntityChange change{
        sta::EntityChange::Kind::kThingCreated, d.org_id, d.id, 0, {}, d.location.has_value()};
    if (change.location_changed) change.location_id = NewestLocationId(ctx, d.id);
    ctx.on_entity_change(change);
  }
  json out = ToJson(d);
  if (!key.empty()) out["apiKey"] = key;
  if (!mqtt_out.is_null()) out["mqtt"] = mqtt_out;
  return out;
}

Result<Device> PatchDeviceFromBody(ApiContext& ctx, const http::Request& req,
                                   const auth::Principal& p, Device d, const json& body) {
  const Device before = d;
  BYSANS_RETURN_IF_ERROR(Apply(ctx, body, d, /*create=*/false));
  BYSANS_RETURN_IF_ERROR(ctx.store.UpdateDevice(d));
  Audit(ctx, p, req, d.org_id, "update", "device", std::to_string(d.id), body.dump());
  if (ctx.on_entity_change) {
    sta::EntityChange change{sta::EntityChange::Kind::kThingChanged,
                             d.org_id,
                             d.id,
                             0,
                             sta::ChangedThingProperties(before, d),
                             sta::LocationChanged(before, d)};
    if (change.location_changed) change.location_id = NewestLocationId(ctx, d.id);
    if (!change.properties.empty() || change.location_changed) ctx.on_entity_change(change);
  }
  return d;
}

Status DeleteLoadedDevice(ApiContext& ctx, const http::Request& req, const auth::Principal& p,
                          const Device& d) {
  BYSANS_RETURN_IF_ERROR(ctx.store.DeleteDevice(d.id));
  ctx.ingest_keys->ForgetDevice(d.id);
  if (d.transport == Transport::kMqtt) {
    BYSANS_RETURN_IF_ERROR(ctx.store.mqtt().DeleteCredential(d.id));
    AwaitBroker(ctx, d.id);  // the broker refuses them before the answer
  }
  Audit(ctx, p, req, d.org_id, "delete", "device", std::to_string(d.id), d.name);
  return Status::Ok();
}

void RegisterDeviceRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string of_app = "/api/v1/applications/{appId}/devices";
  const std::string one = "/api/v1/devices/{id}";
  AddAuthed(router, ctx, "POST", of_app, "Create a device", bind(Create));
  AddAuthed(router, ctx, "GET", of_app, "Devices of an application", bind(ListOfApp));
  AddAuthed(router, ctx, "GET", "/api/v1/organizations/{orgId}/devices",
            "Devices of an organisation (?app=&model=&tag=&search=)", bind(ListOfOrg));
  AddAuthed(router, ctx, "GET", one, "One device", bind(Get));
  AddAuthed(router, ctx, "PATCH", one, "Change a device", bind(Patch));
  AddAuthed(router, ctx, "DELETE", one, "Delete a device", bind(Delete));
  AddAuthed(router, ctx, "POST", one + "/rotate-key",
            "New ingest key (HTTP device) or broker password (MQTT device)", bind(RotateKey));
}

}  // namespace bysans::api

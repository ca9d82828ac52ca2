#include "api/downlink.h"

#include "api/common.h"
#include "core/encoding.h"
#include "core/time_format.h"
#include "lorawan/chirpstack.h"
#include "store/mqtt_store.h"

namespace bysans::api {
namespace {

json DownlinkJson(const Downlink& d) {
  return {{"id", d.id},
          {"deviceId", d.device_id},
          {"createdAt", FormatRfc3339(d.created_ms)},
          {"fPort", d.fport},
          {"data", EncodeBase64(d.data)},
          {"confirmed", d.confirmed},
          {"topic", d.topic},
          {"status", d.status},
          {"error", d.error}};
}

Result<http::Response> Send(ApiContext& ctx, const RoutedPublisher& publish, http::Request& req,
                            const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device dev, LoadDevice(ctx, p, id, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_RETURN_IF_ERROR(RejectUnknownFields(body, {"fPort", "data", "hex", "confirmed"}));
  BYSANS_ASSIGN_OR_RETURN(auto fport, OptInt(body, "fPort"));
  BYSANS_ASSIGN_OR_RETURN(auto data, OptString(body, "data"));
  BYSANS_ASSIGN_OR_RETURN(auto hex, OptString(body, "hex"));
  BYSANS_ASSIGN_OR_RETURN(auto confirmed, OptBool(body, "confirmed"));
  if (data.has_value() == hex.has_value())
    return InvalidArgument("give exactly one of 'data' (base64) and 'hex'");
  std::string bytes;
  if (data) {
    auto decoded = DecodeBase64(*data);
    if (!decoded.ok()) return InvalidArgument("field 'data' must be base64");
    bytes = std::move(*decoded);
  } else {
    auto decoded = DecodeHex(*hex);
    if (!decoded.ok()) return InvalidArgument("field 'hex': " + decoded.status().message());
    bytes = std::move(*decoded);
  }
  BYSANS_ASSIGN_OR_RETURN(Downlink d,
                          SendDownlink(ctx.store, ctx.clock, dev, fport, std::move(bytes),
                                       confirmed.value_or(false), publish, nullptr));
  Audit(ctx, p, req, dev.org_id, "downlink", "device", std::to_string(dev.id));
  return Json(202, DownlinkJson(d));
}

Result<http::Response> History(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device dev, LoadDevice(ctx, p, id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto list, ctx.store.mqtt().ListDownlinks(dev.id, 1000));
  json items = json::array();
  for (const Downlink& d : list) items.push_back(DownlinkJson(d));
  return Json(200, json{{"deviceId", dev.id}, {"items", std::move(items)}});
}

}  // namespace

Result<Downlink> SendDownlink(Store& store, const Clock& clock, const Device& dev,
                              std::optional<int64_t> fport, std::string data, bool confirmed,
                              const RoutedPublisher& publish,
                              const std::function<void(const Status&)>& done) {
  Downlink d;
  d.device_id = dev.id;
  d.created_ms = clock.NowMs();
  d.confirmed = confirmed;
  d.data = std::move(data);
  std::string payload;
  Id via = 0;
  if (dev.transport == Transport::kLorawan) {
    if (!fport || *fport < 1 || *fport > 223)
      return InvalidArgument("field 'fPort' is required for LoRaWAN and must be 1..223");
    d.fport = static_cast<int>(*fport);
    BYSANS_ASSIGN_OR_RETURN(std::string app, store.mqtt().LorawanApplication(dev.id));
    BYSANS_ASSIGN_OR_RETURN(via, store.mqtt().LorawanIntegration(dev.id));
    d.topic = "application/" + app + "/device/" + dev.dev_eui + "/command/down";
    payload = json{{"devEui", dev.dev_eui},
                   {"confirmed", d.confirmed},
                   {"fPort", d.fport},
                   {"data", EncodeBase64(d.data)}}
                  .dump();
  } else if (dev.transport == Transport::kMqtt) {
    if (fport && (*fport < 0 || *fport > 255))
      return InvalidArgument("field 'fPort' must be 0..255");
    d.fport = static_cast<int>(fport.value_or(0));
    d.topic = "devices/" + std::to_string(dev.id) + "/down";
    payload = d.data;  // the bytes as they are
  } else {
    return FailedPrecondition("HTTP devices cannot receive downlinks");
  }
  d.status = "queued";
  BYSANS_ASSIGN_OR_RETURN(d, store.mqtt().AppendDownlink(d));
  Store* s = &store;
  Id downlink_id = d.id;
  Status st = publish(via, d.topic, payload, [s, downlink_id, done](const Status& result) {
    (void)s->mqtt().SetDownlinkStatus(downlink_id, result.ok() ? "published" : "failed",
                                      result.ok() ? std::string() : result.message());
    if (done) done(result);
  });
  if (!st.ok()) {
    (void)store.mqtt().SetDownlinkStatus(d.id, "failed", st.message());
    return st;
  }
  return d;
}

void RegisterDownlinkRoutes(http::Router& router, ApiContext& ctx, const RoutedPublisher& publish) {
  AddAuthed(router, ctx, "POST", "/api/v1/devices/{id}/downlink",
            "Send a downlink {fPort, data (base64) | hex, confirmed} to a LoRaWAN or MQTT device",
            [&ctx, publish](http::Request& req, const auth::Principal& p) {
              return Send(ctx, publish, req, p);
            });
  AddAuthed(router, ctx, "GET", "/api/v1/devices/{id}/downlink", "Downlink history of a device",
            [&ctx](http::Request& req, const auth::Principal& p) { return History(ctx, req, p); });
}

}  // namespace bysans::api

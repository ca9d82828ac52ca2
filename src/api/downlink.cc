#include "api/downlink.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>

#include "api/common.h"
#include "core/encoding.h"
#include "core/time_format.h"
#include "decode/redecode.h"
#include "lorawan/chirpstack.h"
#include "store/mqtt_store.h"
#include "store/personal_metadata.h"

namespace bysans::api {
namespace {

json DownlinkJson(const Downlink& d) {
  json object = nullptr;
  if (!d.object_json.empty()) {
    object = json::parse(d.object_json, nullptr, false);
    if (object.is_discarded()) object = nullptr;
  }
  return {{"id", d.id},
          {"deviceId", d.device_id},
          {"createdAt", FormatRfc3339(d.created_ms)},
          {"fPort", d.fport},
          {"data", EncodeBase64(d.data)},
          {"object", std::move(object)},
          {"confirmed", d.confirmed},
          {"topic", d.topic},
          {"status", d.status},
          {"error", d.error}};
}

// What the downlink routes share; lives as long as the router's handlers. Encodes run on
// `encoder` until Stop(), whose tasks may use *this.
struct DownlinkApi {
  DownlinkApi(ApiContext& c, RoutedPublisher p)
      : ctx(c),
        publish(std::move(p)),
        resolver(c.store.decoders()),
        encoder(std::make_unique<decode::DecodeThread>()) {}
  ~DownlinkApi() { Stop(); }

  // Posts an encode; false after Stop().
  bool Post(Id org_id, decode::DecodeThread::Task task) {
    std::lock_guard lock(mu);
    if (!encoder) return false;
    encoder->Post(org_id, std::move(task));
    return true;
  }
  // Finishes the encodes in flight (queued ones see stopping() and send nothing) and refuses
  // new ones: after it returns no task calls `publish` any more.
  void Stop() {
    std::unique_ptr<decode::DecodeThread> t;
    {
      std::lock_guard lock(mu);
      t = std::move(encoder);
    }
    t.reset();  // joins
  }
  bool stopping() {
    std::lock_guard lock(mu);
    return !encoder;
  }

  ApiContext& ctx;
  RoutedPublisher publish;
  decode::DecoderResolver resolver;
  std::mutex mu;
  std::unique_ptr<decode::DecodeThread> encoder;
};

// POST .../downlink's body: the bytes, or the object to encode.
struct DownlinkBody {
  std::optional<int64_t> fport;
  bool confirmed = false;
  std::string bytes;
  std::optional<json> object;
};

Result<DownlinkBody> ParseBody(const json& body) {
  BYSANS_RETURN_IF_ERROR(
      RejectUnknownFields(body, {"fPort", "data", "hex", "object", "confirmed"}));
  DownlinkBody b;
  BYSANS_ASSIGN_OR_RETURN(b.fport, OptInt(body, "fPort"));
  BYSANS_ASSIGN_OR_RETURN(auto data, OptString(body, "data"));
  BYSANS_ASSIGN_OR_RETURN(auto hex, OptString(body, "hex"));
  BYSANS_ASSIGN_OR_RETURN(auto confirmed, OptBool(body, "confirmed"));
  b.confirmed = confirmed.value_or(false);
  auto object = body.find("object");
  const int given = int{data.has_value()} + int{hex.has_value()} + int{object != body.end()};
  if (given != 1) return InvalidArgument("give exactly one of 'data' (base64), 'hex' and 'object'");
  if (object != body.end()) {
    if (!object->is_object()) return InvalidArgument("field 'object' must be a JSON object");
    b.object = *object;
  } else if (data) {
    auto decoded = DecodeBase64(*data);
    if (!decoded.ok()) return InvalidArgument("field 'data' must be base64");
    b.bytes = std::move(*decoded);
  } else {
    auto decoded = DecodeHex(*hex);
    if (!decoded.ok()) return InvalidArgument("field 'hex': " + decoded.status().message());
    b.bytes = std::move(*decoded);
  }
  return b;
}

// An object downlink waiting for its encode.
struct EncodeJob {
  auth::Principal principal;
  http::Request request;  // for the audit entry (without its body)
  Device device;
  std::shared_ptr<const StoredDecoder> decoder;
  DownlinkBody body;
  decode::EncodeInput input;
  int64_t time_ms = 0;
};

// 400 (409 when the decoder cannot encode at all) with the encoder's errors and warnings.
http::Response EncodeFailure(const decode::EncodeResult& r) {
  Code code = r.status.code() == Code::kFailedPrecondition ? Code::kFailedPrecondition
                                                           : Code::kInvalidArgument;
  std::string message = "encodeDownlink failed";
  if (!r.status.ok()) message += ": " + r.status.message();
  json err = {{"code", CodeName(code)},
              {"message", message},
              {"errors", r.errors},
              {"warnings", r.warnings}};
  return http::JsonResponse(
      http::HttpStatusFor(code),
      json{{"error", std::move(err)}}.dump(-1, ' ', false, json::error_handler_t::replace));
}

// Runs on the encode thread: encodes, then sends like a bytes downlink.
http::Response EncodeAndSend(DownlinkApi& api, decode::DecoderRunner& runner,
                             const EncodeJob& job) {
  decode::EncodeResult r = runner.Encode(*job.decoder, job.input, job.time_ms);
  if (!r.status.ok() || !r.errors.empty()) return EncodeFailure(r);
  std::optional<int64_t> fport = job.body.fport;
  if (r.fport > 0) fport = r.fport;
  auto sent = SendDownlink(api.ctx.store, api.ctx.clock, job.device, fport, std::move(r.bytes),
                           job.body.confirmed, api.publish, nullptr, job.input.data_json);
  if (!sent.ok()) return http::ErrorResponse(sent.status());
  json detail = {{"decoderId", job.decoder->id}, {"version", job.decoder->version}};
  Audit(api.ctx, job.principal, job.request, job.device.org_id, "downlink", "device",
        std::to_string(job.device.id), detail.dump());
  json out = DownlinkJson(*sent);
  out["warnings"] = r.warnings;
  return Json(202, out);
}

// Checks the caller and the body; a bytes downlink is sent at once (returned), an object
// downlink becomes *job for the encode thread.
Result<http::Response> Prepare(DownlinkApi& api, http::Request& req,
                               std::shared_ptr<EncodeJob>* job) {
  ApiContext& ctx = api.ctx;
  BYSANS_ASSIGN_OR_RETURN(auth::Principal p, AuthenticateRequest(ctx, req));
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device dev, LoadDevice(ctx, p, id, Role::kEditor));
  BYSANS_ASSIGN_OR_RETURN(json body, ParseJsonObject(req));
  BYSANS_ASSIGN_OR_RETURN(DownlinkBody b, ParseBody(body));
  if (!b.object) {
    BYSANS_ASSIGN_OR_RETURN(Downlink d,
                            SendDownlink(ctx.store, ctx.clock, dev, b.fport, std::move(b.bytes),
                                         b.confirmed, api.publish, nullptr));
    Audit(ctx, p, req, dev.org_id, "downlink", "device", std::to_string(dev.id));
    return Json(202, DownlinkJson(d));
  }
  if (b.fport && (*b.fport < 0 || *b.fport > 255))
    return InvalidArgument("field 'fPort' must be 0..255");
  auto decoder = api.resolver.EncoderFor(dev);
  if (!decoder.ok())
    return FailedPrecondition(decoder.status().message() + "; send 'data' or 'hex' instead");
  auto j = std::make_shared<EncodeJob>();
  j->input.data_json = b.object->dump(-1, ' ', false, json::error_handler_t::replace);
  j->input.fport = static_cast<int>(b.fport.value_or(0));
  j->input.variables = WithoutPersonalMetadata(ctx.store, dev).metadata;  // never to the engine
  auto org = ctx.store.GetOrganization(dev.org_id);
  j->time_ms = org.ok() ? org->decoder_timeout_ms : 0;
  j->principal = std::move(p);
  j->request = req;
  j->request.body.clear();
  j->device = std::move(dev);
  j->decoder = std::move(decoder).value();
  j->body = std::move(b);
  *job = std::move(j);
  return http::Response{};  // unused: the encode thread answers
}

void HandleSend(DownlinkApi& api, http::Request& req, const http::Responder& respond) {
  std::shared_ptr<EncodeJob> job;
  try {
    Result<http::Response> r = Prepare(api, req, &job);
    if (!r.ok()) return respond(http::ErrorResponse(r.status()));
    if (!job) return respond(std::move(r).value());
  } catch (const json::type_error& e) {
    return respond(
        http::ErrorResponse(InvalidArgument(std::string("wrong JSON type: ") + e.what())));
  } catch (const std::exception& e) {
    spdlog::error("downlink failed: {}", e.what());
    return respond(http::ErrorResponse(Internal("internal error")));
  }
  DownlinkApi* raw = &api;  // the encode thread belongs to *raw, which outlives its tasks
  bool posted = api.Post(job->device.org_id, [raw, job, respond](decode::DecoderRunner& runner) {
    try {
      if (raw->stopping()) return respond(http::ErrorResponse(Unavailable("shutting down")));
      respond(EncodeAndSend(*raw, runner, *job));
    } catch (const std::exception& e) {
      spdlog::error("downlink encode failed: {}", e.what());
      respond(http::ErrorResponse(Internal("internal error")));
    }
  });
  if (!posted) respond(http::ErrorResponse(Unavailable("shutting down")));
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
                              const std::function<void(const Status&)>& done,
                              std::string object_json) {
  Downlink d;
  d.device_id = dev.id;
  d.object_json = std::move(object_json);
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
    // HTTP devices: queued until the answer to the device's next CoAP uplink carries it
    // (coap/README.md); nothing to publish now.
    if (fport && (*fport < 0 || *fport > 255))
      return InvalidArgument("field 'fPort' must be 0..255");
    d.fport = static_cast<int>(fport.value_or(0));
    d.topic = kCoapDownlinkTopic;
    d.status = "queued";
    BYSANS_ASSIGN_OR_RETURN(d, store.mqtt().AppendDownlink(d));
    if (done) done(Status::Ok());
    return d;
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

std::function<void()> RegisterDownlinkRoutes(http::Router& router, ApiContext& ctx,
                                             const RoutedPublisher& publish) {
  auto api = std::make_shared<DownlinkApi>(ctx, publish);
  router.Add(
      "POST", "/api/v1/devices/{id}/downlink",
      [api](http::Request& req, const http::Responder& respond) { HandleSend(*api, req, respond); },
      "Send a downlink {fPort, data (base64) | hex | object (encoded by the device's decoder), "
      "confirmed} to a LoRaWAN or MQTT device, or queue it for an HTTP (CoAP) device's next "
      "uplink");
  AddAuthed(router, ctx, "GET", "/api/v1/devices/{id}/downlink", "Downlink history of a device",
            [&ctx](http::Request& req, const auth::Principal& p) { return History(ctx, req, p); });
  return [api] { api->Stop(); };
}

}  // namespace bysans::api

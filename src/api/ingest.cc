// POST /api/v1/receive-data?apiKey=KEY — OS2iot-compatible HTTP ingest. The
// device is found by the SHA-256 of its ingest key (query `apiKey`, or the
// `X-API-Key` header) through a 5-second cache (ingest/device_cache.h): a
// rotated or deleted key stops working within 5 s. JSON bodies are flattened
// into readings, application/senml+json bodies parsed as SenML. The answer
// (204) is sent only once the store has committed the message; 503 with
// Retry-After when the store pushes back.
#include <memory>
#include <mutex>
#include <vector>

#include "api/common.h"
#include "ingest/device_cache.h"
#include "ingest/flatten.h"
#include "ingest/receive.h"

namespace bysans::api {
namespace {

// Flatteners keep parser buffers; lend them out instead of one per request.
class FlattenerPool {
 public:
  std::unique_ptr<ingest::JsonFlattener> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return std::make_unique<ingest::JsonFlattener>();
    auto f = std::move(free_.back());
    free_.pop_back();
    return f;
  }
  void Give(std::unique_ptr<ingest::JsonFlattener> f) {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.size() < 16) free_.push_back(std::move(f));
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<ingest::JsonFlattener>> free_;
};

struct IngestState {
  explicit IngestState(ApiContext& ctx)
      : cache(ctx.ingest_keys),
        ok(Messages(ctx, "ok")),
        bad_request(Messages(ctx, "bad_request")),
        forbidden(Messages(ctx, "forbidden")),
        unsupported(Messages(ctx, "unsupported")),
        unavailable(Messages(ctx, "unavailable")),
        error(Messages(ctx, "error")),
        readings(ctx.metrics.Counter("bysans_ingest_readings_total",
                                     "Readings committed from ingested messages",
                                     {{"transport", "http"}})) {}

  static prometheus::Counter& Messages(ApiContext& ctx, const char* result) {
    return ctx.metrics.Counter("bysans_ingest_messages_total",
                               "Ingested messages by transport and result",
                               {{"transport", "http"}, {"result", result}});
  }

  std::shared_ptr<ingest::DeviceKeyCache> cache;  // ApiContext::ingest_keys
  FlattenerPool flatteners;
  prometheus::Counter& ok;
  prometheus::Counter& bad_request;
  prometheus::Counter& forbidden;
  prometheus::Counter& unsupported;
  prometheus::Counter& unavailable;
  prometheus::Counter& error;
  prometheus::Counter& readings;
};

void Receive(ApiContext& ctx, const std::shared_ptr<IngestState>& state, http::Request& req,
             const http::Responder& respond) {
  std::string key;
  if (const std::string* q = req.Query("apiKey")) key = *q;
  if (key.empty()) key = req.headers.Get("x-api-key");
  if (key.empty()) {
    state->forbidden.Increment();
    respond(http::ErrorResponse(
        PermissionDenied("missing device key: send ?apiKey=KEY or the X-API-Key header")));
    return;
  }
  auto device = state->cache->Find(auth::Sha256Hex(key));
  if (!device.ok()) {
    if (device.status().code() == Code::kNotFound) {
      state->forbidden.Increment();
      respond(http::ErrorResponse(PermissionDenied("unknown device key")));
    } else {
      state->error.Increment();
      respond(http::ErrorResponse(device.status()));
    }
    return;
  }

  auto flattener = state->flatteners.Take();
  auto batch = ingest::BuildHttpIngest(**device, req.headers.Get("content-type"),
                                       std::move(req.body), ctx.clock.NowMs(), flattener.get());
  state->flatteners.Give(std::move(flattener));
  if (!batch.ok()) {
    if (batch.status().code() == Code::kUnsupportedMedia) {
      state->unsupported.Increment();
    } else {
      state->bad_request.Increment();
    }
    respond(http::ErrorResponse(batch.status()));
    return;
  }

  auto n = static_cast<double>(batch->readings.size());
  pipeline::Uplink uplink;
  uplink.device = *device;
  uplink.raw = std::move(batch->messages.front());
  uplink.readings = std::move(batch->readings);
  ctx.pipeline.Submit(std::move(uplink), [state, respond, n](const Status& st) {
    if (st.ok()) {
      state->ok.Increment();
      state->readings.Increment(n);
      respond(NoContent());
      return;
    }
    http::Response r = http::ErrorResponse(st);
    if (st.code() == Code::kUnavailable || st.code() == Code::kRateLimited) {
      state->unavailable.Increment();  // the pipeline full (503), or the organisation's share (429)
      r.headers.Set("Retry-After", "1");
    } else {
      state->error.Increment();
    }
    respond(std::move(r));
  });
}

}  // namespace

void RegisterIngestRoutes(http::Router& router, ApiContext& ctx) {
  auto state = std::make_shared<IngestState>(ctx);
  router.Add(
      "POST", "/api/v1/receive-data",
      [&ctx, state](http::Request& req, const http::Responder& respond) {
        Receive(ctx, state, req, respond);
      },
      "Receive a device message (OS2iot-compatible; JSON or SenML; 204 after commit)");
}

}  // namespace bysans::api

#include "decode/pipeline_decoder.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "decode/cayenne_lpp.h"
#include "decode/senml_decoder.h"

namespace bysans::decode {
namespace {

// What names the message across a redelivery: its idempotency key (a ChirpStack
// deduplicationId, ~40 bytes) when it has one, else the whole payload (~1 KB to hash).
std::string_view MessageIdentity(const pipeline::Uplink& u) {
  return u.dedup_key.empty() ? std::string_view(u.raw.payload) : std::string_view(u.dedup_key);
}

using json = nlohmann::json;

bool LooksLikeJson(const RawMessage& raw) {
  if (raw.content_type.find("json") != std::string::npos) return true;
  for (char c : raw.payload) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    return c == '{' || c == '[';
  }
  return false;
}

// At most kMaxStoredNotes notes, each cut to kMaxStoredNoteBytes at a UTF-8 character boundary.
std::vector<std::string> StoredNotes(std::vector<std::string> notes) {
  if (notes.size() > kMaxStoredNotes) notes.resize(kMaxStoredNotes);
  for (std::string& n : notes) {
    if (n.size() <= kMaxStoredNoteBytes) continue;
    size_t cut = kMaxStoredNoteBytes;
    while (cut > 0 && (static_cast<unsigned char>(n[cut]) & 0xC0) == 0x80) --cut;
    n.resize(cut);
  }
  return notes;
}

}  // namespace

std::shared_ptr<const StoredDecoder> DecoderResolver::For(const Device& d) {
  ReloadIfStale();
  std::shared_lock lock(mu_);
  if (auto it = by_device_.find(d.id); it != by_device_.end()) return it->second;
  if (auto it = by_app_.find(d.app_id); it != by_app_.end()) return it->second;
  return nullptr;
}

Result<std::shared_ptr<const StoredDecoder>> DecoderResolver::EncoderFor(const Device& d) {
  auto dec = For(d);
  if (!dec || dec->org_id != d.org_id)
    return FailedPrecondition("device " + std::to_string(d.id) +
                              " has no decoder (its own or its application's) to encode a "
                              "downlink object");
  // Whether the code defines encodeDownlink is the engine's answer (Encode), not a text search.
  if (dec->kind != DecoderKind::kJs)
    return FailedPrecondition("the device's decoder '" + dec->name + "' (id " +
                              std::to_string(dec->id) +
                              ") is not JavaScript: it has no "
                              "encodeDownlink");
  return dec;
}

void DecoderResolver::ReloadIfStale() {
  uint64_t gen = decoders_.generation();
  {
    std::shared_lock lock(mu_);
    if (gen == loaded_generation_) return;
  }
  auto att = decoders_.ListAttachments();
  if (!att.ok()) return;  // keep the old view; retried on the next call
  std::unordered_map<Id, std::shared_ptr<const StoredDecoder>> decoders, by_app, by_device;
  auto load = [&](Id id) -> std::shared_ptr<const StoredDecoder> {
    if (auto it = decoders.find(id); it != decoders.end()) return it->second;
    auto d = decoders_.GetDecoder(id);
    std::shared_ptr<const StoredDecoder> p =
        d.ok() ? std::make_shared<const StoredDecoder>(std::move(d).value()) : nullptr;
    decoders[id] = p;
    return p;
  };
  for (const auto& [app, id] : att->by_app)
    if (auto p = load(id)) by_app[app] = p;
  for (const auto& [dev, id] : att->by_device)
    if (auto p = load(id)) by_device[dev] = p;
  std::unique_lock lock(mu_);
  by_app_ = std::move(by_app);
  by_device_ = std::move(by_device);
  loaded_generation_ = gen;
}

std::string Os2iotDeviceJson(const Device& d, const std::string& model_doc) {
  json meta = json::object();
  for (const auto& [k, v] : d.metadata) meta[k] = v;
  json j = {{"id", d.id}, {"name", d.name}, {"metadata", meta.dump()}};
  if (d.location) {
    j["location"] = {{"type", "Point"}, {"coordinates", {d.location->lon, d.location->lat}}};
  } else {
    j["location"] = nullptr;
  }
  json model = model_doc.empty() ? json(nullptr) : json::parse(model_doc, nullptr, false);
  j["deviceModel"] = model.is_discarded() ? json(nullptr) : model;
  if (d.transport == Transport::kLorawan) j["deviceEUI"] = d.dev_eui;
  return j.dump();
}

bool IsLorawan(const Device& d, const RawMessage& raw) {
  return d.transport == Transport::kLorawan || raw.transport == Transport::kLorawan;
}

DecodeInput MakeDecodeInput(const Device& d, const RawMessage& raw, int fport,
                            const std::string& frame, const std::string& model_doc) {
  return MakeDecodeInputWith(d, raw, fport, frame, Os2iotDeviceJson(d, model_doc));
}

DecodeInput MakeDecodeInputWith(const Device& d, const RawMessage& raw, int fport,
                                const std::string& frame, std::string device_json) {
  DecodeInput in;
  in.recv_time = raw.received_ms;
  in.variables = d.metadata;
  in.device_json = std::move(device_json);
  if (IsLorawan(d, raw)) {
    in.uplink_json = raw.payload;
    in.bytes = frame;
    in.fport = fport;
    if (frame.empty()) {
      json up = json::parse(raw.payload, nullptr, false);
      if (up.is_object()) {
        if (auto it = up.find("data"); it != up.end() && it->is_string()) {
          // Ingest refused uplinks whose `data` is not base64, so this decodes.
          auto bytes = DecodeBase64(it->get<std::string>());
          if (bytes.ok()) in.bytes = std::move(*bytes);
        }
        if (auto it = up.find("fPort"); it != up.end() && it->is_number_integer())
          in.fport = it->get<int>();
      }
    }
    return in;
  }
  in.bytes = raw.payload;
  in.fport = fport;
  if (LooksLikeJson(raw)) in.uplink_json = raw.payload;
  return in;
}

Result<JsEngine*> DecoderRunner::Js() {
  if (!js_) {
    BYSANS_ASSIGN_OR_RETURN(js_, JsEngine::Create(limits_));
  }
  return js_.get();
}

Limits DecoderRunner::CallLimits(int64_t time_ms) const {
  Limits call = limits_;
  if (time_ms > 0) call.time_ms = time_ms;
  return call;
}

JsDecoder DecoderRunner::ToJs(const StoredDecoder& d) {
  JsDecoder jd{d.org_id, d.id, d.version, d.code};
  auto contract = ParseContractName(d.contract);  // the API stores only valid names
  jd.contract = contract.ok() ? *contract : Contract::kUnknown;
  return jd;
}

DecodeResult DecoderRunner::Run(const StoredDecoder& d, const DecodeInput& in, Id device_id,
                                int64_t time_ms) {
  switch (d.kind) {
    case DecoderKind::kCayenneLpp:
      return DecodeCayenneLppToResult(in, device_id);
    case DecoderKind::kSenml:
      return DecodeSenmlToResult(in, device_id);
    case DecoderKind::kJs:
      break;
  }
  // This thread's engine is made at its first decode (a JS context: tens of ms): set-up that
  // later calls do not pay, so it counts as compile time, not as the decoder's (the decode
  // backlog's average leaves set-up out, and a slow first call made it shed a healthy
  // organisation's uplinks at start-up).
  const auto start = std::chrono::steady_clock::now();
  const bool fresh = js_ == nullptr;
  auto js = Js();
  if (!js.ok()) {
    DecodeResult r;
    r.status = js.status();
    return r;
  }
  const int64_t engine_us = fresh ? std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now() - start)
                                        .count()
                                  : 0;
  DecodeResult r = (*js)->Decode(ToJs(d), in, device_id, CallLimits(time_ms));
  r.compile_us += engine_us;
  r.duration_us += engine_us;
  return r;
}

EncodeResult DecoderRunner::Encode(const StoredDecoder& d, const EncodeInput& in, int64_t time_ms) {
  EncodeResult r;
  if (d.kind != DecoderKind::kJs) {
    r.status = FailedPrecondition(std::string("a ") + DecoderKindName(d.kind) +
                                  " decoder cannot encode downlinks");
    return r;
  }
  auto js = Js();
  if (!js.ok()) {
    r.status = js.status();
    return r;
  }
  return (*js)->Encode(ToJs(d), in, CallLimits(time_ms));
}

void ApplyDecodeResult(DecodeResult r, std::vector<Reading>& readings, RawMessage& raw) {
  raw.decode_errors = StoredNotes(std::move(r.errors));
  raw.decode_warnings = StoredNotes(std::move(r.warnings));
  if (r.status.ok() && raw.decode_errors.empty()) {
    readings = std::move(r.readings);
    raw.decode_status = DecodeStatus::kOk;
    raw.decode_error.clear();
  } else {
    readings.clear();
    raw.decode_status = DecodeStatus::kError;
    raw.decode_error = !r.status.ok() ? r.status.message() : "the decoder reported errors";
  }
}

std::string DeviceModelDoc(MetaStore& meta, const Device& d) {
  if (!d.device_model_id) return {};
  auto m = meta.GetDeviceModel(*d.device_model_id);
  return m.ok() ? m->doc_json : std::string();
}

bool PipelineDecoder::Applies(const Device& device) { return resolver_.For(device) != nullptr; }

void PipelineDecoder::Decode(pipeline::Uplink& u) {
  auto dec = resolver_.For(*u.device);
  if (!dec) return;  // detached between Applies and Decode: keep the parsed readings
  DecodeInput in = MakeDecodeInputWith(*u.device, u.raw, u.fport, u.frame, *DeviceJsonOf(u));
  for (const std::string& k : *PersonalKeys(u.device->app_id)) in.variables.erase(k);
  const bool lorawan = IsLorawan(*u.device, u.raw);
  // ChirpStack join/status/ack events and empty frames carry nothing for a payload decoder:
  // their readings stay as the transport parsed them.
  if (lorawan && in.bytes.empty()) return;
  // The transport's radio metadata (lorawan.rssi, .snr, .fcnt, .dr) stay next to the decoder's.
  std::vector<Reading> radio;
  if (lorawan) {
    radio.reserve(4);  // rssi, snr, fcnt, dr
    for (Reading& r : u.readings)
      if (r.key.rfind("lorawan.", 0) == 0) radio.push_back(std::move(r));
  }
  thread_local std::unique_ptr<DecoderRunner> runner;
  if (!runner) runner = std::make_unique<DecoderRunner>(limits_);
  // The decoder's output is kept for data targets (pipeline::Uplink::decoded_json).
  auto run = [&] {
    DecodeResult r = runner->Run(*dec, in, u.device->id, TimeLimitMs(u.device->org_id));
    u.decode_setup_us = r.compile_us;
    if (r.status.ok() && r.errors.empty()) u.decoded_json = std::move(r.output_json);
    ApplyDecodeResult(std::move(r), u.readings, u.raw);
  };
  if (!quarantine_) {
    run();
  } else if (Fingerprint fp = FingerprintOf(u.device->id, MessageIdentity(u), u.frame);
             quarantine_->Contains(fp)) {
    spdlog::warn("device {}: message stored without decoding: {}", u.device->id, kQuarantinedError);
    DecodeResult r;
    r.status = FailedPrecondition(kQuarantinedError);
    ApplyDecodeResult(std::move(r), u.readings, u.raw);
  } else {
    Quarantine::Guard in_flight(*quarantine_, fp);  // set until the decode has returned
    run();
  }
  u.readings.reserve(u.readings.size() + radio.size());
  for (Reading& r : radio) u.readings.push_back(std::move(r));
}

std::shared_ptr<const std::string> PipelineDecoder::DeviceJsonOf(const pipeline::Uplink& u) {
  const TimeMs now = u.raw.received_ms;
  const uint64_t gen = decoders_.generation();
  {
    std::lock_guard lock(device_json_mu_);
    auto it = device_json_.find(u.device->id);
    if (it != device_json_.end() && it->second.device == u.device && now >= it->second.built_ms &&
        now - it->second.built_ms < kDeviceJsonReuseMs && it->second.generation == gen)
      return it->second.json;
  }
  Device d = *u.device;
  StripPersonalMetadata(*PersonalKeys(d.app_id), &d);
  auto json = std::make_shared<const std::string>(Os2iotDeviceJson(d, DeviceModelDoc(meta_, d)));
  std::lock_guard lock(device_json_mu_);
  device_json_[u.device->id] = DeviceJson{u.device, now, json, gen};
  return json;
}

std::shared_ptr<const std::vector<std::string>> PipelineDecoder::PersonalKeys(Id app_id) {
  const uint64_t gen = decoders_.generation();
  {
    std::shared_lock lock(time_mu_);
    if (gen == personal_generation_)
      if (auto it = personal_keys_.find(app_id); it != personal_keys_.end()) return it->second;
  }
  auto app = meta_.GetApplication(app_id);
  auto keys = std::make_shared<const std::vector<std::string>>(
      app.ok() ? app->personal_metadata_keys : std::vector<std::string>());
  std::unique_lock lock(time_mu_);
  if (gen != personal_generation_) {
    personal_keys_.clear();
    personal_generation_ = gen;
  }
  if (app.ok()) personal_keys_[app_id] = keys;
  return keys;
}

int64_t PipelineDecoder::TimeLimitMs(Id org_id) {
  uint64_t gen = decoders_.generation();
  {
    std::shared_lock lock(time_mu_);
    if (gen == time_generation_)
      if (auto it = time_ms_.find(org_id); it != time_ms_.end()) return it->second;
  }
  auto org = meta_.GetOrganization(org_id);
  int64_t t = org.ok() ? org->decoder_timeout_ms : limits_.time_ms;
  std::unique_lock lock(time_mu_);
  if (gen != time_generation_) {
    time_ms_.clear();
    time_generation_ = gen;
  }
  if (org.ok()) time_ms_[org_id] = t;
  return t;
}

}  // namespace bysans::decode

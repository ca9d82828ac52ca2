// Wires the decoders into the ingest pipeline: which stored decoder applies to
// a device (DecoderResolver), how an uplink or a stored raw message becomes a
// DecodeInput (MakeDecodeInput), how a stored decoder runs (DecoderRunner) and
// the pipeline::UplinkDecoder that ties them together (PipelineDecoder).
#pragma once

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "decode/decoder.h"
#include "decode/js/js_engine.h"
#include "decode/quarantine.h"
#include "pipeline/pipeline.h"
#include "store/decoder_store.h"
#include "store/personal_metadata.h"
#include "store/store.h"

namespace bysans::decode {

// In-memory copy of the attachments and the decoders they name, reloaded when
// DecoderStore::generation() changes. Thread-safe.
class DecoderResolver {
 public:
  explicit DecoderResolver(DecoderStore& decoders) : decoders_(decoders) {}
  // The decoder that applies to `d` (its own, else its application's), or null.
  std::shared_ptr<const StoredDecoder> For(const Device& d);
  // The decoder that encodes `d`'s downlink objects: For(d) when it is a JS decoder of d's
  // organisation (the engine says whether it defines encodeDownlink); else kFailedPrecondition.
  Result<std::shared_ptr<const StoredDecoder>> EncoderFor(const Device& d);

 private:
  void ReloadIfStale();
  DecoderStore& decoders_;
  std::shared_mutex mu_;
  uint64_t loaded_generation_ = 0;
  std::unordered_map<Id, std::shared_ptr<const StoredDecoder>> by_app_, by_device_;
};

// The OS2iot-shaped device object (id, name, location GeoJSON Point [lon, lat], metadata as a
// JSON string, deviceModel, deviceEUI). `model_doc` is the DeviceModel JSON or empty.
std::string Os2iotDeviceJson(const Device& d, const std::string& model_doc);

// True for a LoRaWAN device or message (frame bytes come from the ChirpStack uplink).
bool IsLorawan(const Device& d, const RawMessage& raw);

// The decoder input for a message. LoRaWAN: `frame`/`fport` when given, else taken from the
// ChirpStack uplink JSON in raw.payload (base64 `data`, `fPort`); HTTP/MQTT: the payload bytes,
// and the payload as uplink JSON when it is JSON.
DecodeInput MakeDecodeInput(const Device& d, const RawMessage& raw, int fport,
                            const std::string& frame, const std::string& model_doc);
// The same with the device object already built (Os2iotDeviceJson of `d`).
DecodeInput MakeDecodeInputWith(const Device& d, const RawMessage& raw, int fport,
                                const std::string& frame, std::string device_json);

// Runs stored decoders of any kind; owns a JsEngine created on first use. Thread-compatible:
// create, use and destroy on one thread.
class DecoderRunner {
 public:
  explicit DecoderRunner(Limits limits = {}) : limits_(limits) {}
  // `time_ms` > 0 overrides the default time limit for this call (the organisation's setting).
  // A JS decoder runs with the contract stored with its version (StoredDecoder::contract).
  DecodeResult Run(const StoredDecoder& d, const DecodeInput& in, Id device_id,
                   int64_t time_ms = 0);
  // Encodes a downlink object with a JS decoder's encodeDownlink (JsEngine::Encode); other
  // kinds: kFailedPrecondition.
  EncodeResult Encode(const StoredDecoder& d, const EncodeInput& in, int64_t time_ms = 0);

 private:
  // The JsEngine, created on first use.
  Result<JsEngine*> Js();
  Limits CallLimits(int64_t time_ms) const;
  static JsDecoder ToJs(const StoredDecoder& d);

  Limits limits_;
  std::unique_ptr<JsEngine> js_;
};

// Sets readings and the raw message's decode status, error, errors and warnings from a result
// (TTN meaning: non-empty errors = failed, no readings). At most kMaxStoredNotes errors and
// warnings of at most kMaxStoredNoteBytes each are kept with the message.
void ApplyDecodeResult(DecodeResult r, std::vector<Reading>& readings, RawMessage& raw);
inline constexpr size_t kMaxStoredNotes = 20;
inline constexpr size_t kMaxStoredNoteBytes = 1000;

// The pipeline's decode step. Decode runs on pipeline worker threads, each with its own
// thread_local DecoderRunner (JsEngine).
class PipelineDecoder final : public pipeline::UplinkDecoder {
 public:
  PipelineDecoder(DecoderStore& decoders, MetaStore& meta, Limits limits = {})
      : decoders_(decoders), resolver_(decoders), meta_(meta), limits_(limits) {}
  // Before the first Decode: guard every decode with `q` (decode/quarantine.h) and store a
  // quarantined message raw with kQuarantinedError instead of decoding it.
  void SetQuarantine(std::shared_ptr<Quarantine> q) { quarantine_ = std::move(q); }
  bool Applies(const Device& device) override;
  void Decode(pipeline::Uplink& u) override;
  // The organisation's decoder time limit (Organization::decoder_timeout_ms), cached until
  // DecoderStore::generation() changes (the organisation PATCH invalidates it).
  int64_t TimeLimitMs(Id org_id);
  // The application's personal metadata keys (Application::personal_metadata_keys), never given
  // to a decoder; cached like TimeLimitMs (the application PATCH invalidates it).
  std::shared_ptr<const std::vector<std::string>> PersonalKeys(Id app_id);

  // How long a device's OS2iot object (its DeviceModel document included) is reused; a changed
  // device (a new Device from the device cache) builds it again at once.
  static constexpr TimeMs kDeviceJsonReuseMs = 5'000;

 private:
  struct DeviceJson {
    std::shared_ptr<const Device> device;  // the Device it was built from
    TimeMs built_ms = 0;                   // receive time of the uplink that built it
    std::shared_ptr<const std::string> json;
    uint64_t generation = 0;  // DecoderStore::generation() it was built at
  };
  // Os2iotDeviceJson of the uplink's device: built once per Device object and
  // kDeviceJsonReuseMs, not per uplink (a DeviceModel read and two JSON passes).
  std::shared_ptr<const std::string> DeviceJsonOf(const pipeline::Uplink& u);

  DecoderStore& decoders_;
  DecoderResolver resolver_;
  MetaStore& meta_;
  Limits limits_;
  std::shared_ptr<Quarantine> quarantine_;
  std::shared_mutex time_mu_;
  uint64_t time_generation_ = 0;
  std::unordered_map<Id, int64_t> time_ms_;
  uint64_t personal_generation_ = 0;  // guarded by time_mu_
  std::unordered_map<Id, std::shared_ptr<const std::vector<std::string>>> personal_keys_;
  std::mutex device_json_mu_;
  std::unordered_map<Id, DeviceJson> device_json_;  // by device id
};

// DeviceModel JSON of a device, or "" (no model or lookup failed).
std::string DeviceModelDoc(MetaStore& meta, const Device& d);

}  // namespace bysans::decode

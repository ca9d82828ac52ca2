// The spine: every uplink, whatever its transport, goes
//   Submit → decode (worker pool, when the device has a decoder) → quality
//   → store (group commit) → done(ok) → commit listeners (rules, live stream)
// `done` is how the transport acknowledges: HTTP answers 204, MQTT sends its
// PUBACK — only after the commit. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/status.h"
#include "model/model.h"
#include "store/store.h"

namespace bysans::pipeline {

// One message from a device, as the transport received it.
struct Uplink {
  std::shared_ptr<const Device> device;  // never null
  RawMessage raw;                        // device_id, received_ms, transport, content_type, payload
  // Readings the transport already parsed from the payload (JSON flattening,
  // SenML); used as they are when no decoder applies to the device.
  std::vector<Reading> readings;
  // LoRaWAN: the frame port and the decoded frame bytes (from ChirpStack's
  // base64 `data`); the whole ChirpStack uplink JSON is raw.payload.
  int fport = 0;
  std::string frame;
  // Optional idempotency key (ChirpStack deduplicationId, MQTT broker
  // redelivery): a message whose key was already committed is acknowledged
  // without being stored twice. Empty = none.
  std::string dedup_key;
  // The readings are final (SensorThings Observations): no decoder runs, even when the device
  // has one.
  bool skip_decode = false;
  // IngestBatch::paced: the transport streams on while this waits for its commit.
  bool paced = false;
  // The decoder's output as it returned it (JSON), set by the decode step; empty when no decoder
  // ran or it failed. Kept with the message in the share log (SetShareFilter).
  std::string decoded_json;
  // Set by the decode step: microseconds of the decode spent on set-up that the decoder's next
  // calls will not pay again (its compile). The decode backlog's average counts it only in part
  // (FairQueue::Done).
  int64_t decode_setup_us = 0;
  // Set by the pipeline before done(Ok): the store already had this message (dedup_key), so
  // it was acknowledged without being stored again and commit listeners did not see it.
  bool duplicate = false;
};

using Done = std::function<void(Status)>;

inline constexpr char kDecodeBacklogError[] =
    "not decoded: this organisation's decoders are too slow to keep up (decode backlog full); "
    "the raw message is kept and can be re-decoded";

// Turns an uplink's payload into readings, e.g. by running the device's JS
// decoder. Called on a pipeline worker thread (never two calls at once on
// one worker). Sets u.readings and u.raw.decode_status/decode_error; a
// decode error is not a pipeline error: the raw message is still stored.
class UplinkDecoder {
 public:
  virtual ~UplinkDecoder() = default;
  // False when no decoder applies to the device (readings stay as parsed).
  virtual bool Applies(const Device& device) = 0;
  virtual void Decode(Uplink& u) = 0;
};

// Assigns quality flags to readings before they are stored.
class QualityChecker {
 public:
  virtual ~QualityChecker() = default;
  virtual void Check(const Device& device, std::vector<Reading>& readings) = 0;
};

// Called after a batch is durable, on the store's writer thread: keep it fast
// (hand off work to your own thread for anything slow). `raw` and `readings` are
// the very batch the store committed (shared, not copied).
using CommitListener = std::function<void(const Device& device, const RawMessage& raw,
                                          const std::vector<Reading>& readings)>;

// As CommitListener, with the device and readings as the pipeline holds them:
// a listener that queues them keeps the pointers instead of copying.
using SharedCommitListener = std::function<void(
    std::shared_ptr<const Device> device, std::shared_ptr<const std::vector<Reading>> readings)>;

struct PipelineOptions {
  // Decode workers, shared fairly by organisations (core/fair_queue.h): per-organisation
  // queues served by least decode time used; one organisation runs at most decode_threads - 1
  // decodes at once (all of them when there is one worker); a device's messages are decoded and
  // handed to the store one at a time, in the order they were submitted.
  int decode_threads = 2;
  // An uplink whose organisation's decode backlog would keep it waiting longer than this (its
  // queued and running decodes × their recent average time) is not decoded: it is stored raw
  // at once with decode status error (kDecodeBacklogError), so that a slow decoder cannot fill
  // the in-flight window or the broker session's receive window that every tenant shares.
  int64_t max_decode_backlog_ms = 60'000;
  size_t max_in_flight = 65536;  // uplinks between Submit and commit; beyond → kUnavailable
  // One organisation's share of that window (org_window.h): beyond it, that organisation's
  // uplinks get kRateLimited while the others still find room. 0 = max_in_flight / 4.
  size_t max_in_flight_per_org = 0;
  // Keys one device may have (device_key_limit.h); readings of new keys beyond are not stored.
  size_t max_keys_per_device = 1000;
};

class Pipeline {
 public:
  Pipeline(SeriesStore& store, Metrics& metrics, PipelineOptions options);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Set up before the first Submit; not thread-safe against Submit.
  void SetDecoder(std::shared_ptr<UplinkDecoder> decoder);
  void SetQualityChecker(std::shared_ptr<QualityChecker> checker);
  void AddCommitListener(CommitListener listener);
  void AddSharedCommitListener(SharedCommitListener listener);
  // Data targets (store/target_store.h): true for an application whose messages go to its share
  // log, committed with them. Called once per message on a pipeline thread: keep it cheap.
  void SetShareFilter(std::function<bool(Id app_id)> shares);
  // Several nodes (store/rule_feed.h): the rule partition of a device whose readings go to the
  // rule feed, committed with them (-1: none). Called once per message: keep it cheap.
  void SetRuleFeed(std::function<int(const Device& device)> partition_of);

  // Takes the uplink through the pipeline and calls `done` exactly once: Ok
  // after the commit, kUnavailable when the pipeline is full (back-pressure),
  // kRateLimited when the uplink's organisation holds its share of it (back-pressure on that
  // organisation: retry later), another error if the store failed. May be called from any thread.
  void Submit(Uplink uplink, Done done);
  // As Submit, for a caller that retries without keeping a copy: when `done` gets an error
  // (kUnavailable, or the store refused the batch), *uplink holds the message again as it was
  // submitted (quality flags aside), ready to be submitted anew. The pipeline shares the uplink
  // until `done`.
  void Submit(std::shared_ptr<Uplink> uplink, Done done);

  // Uplinks accepted but not yet committed.
  size_t in_flight() const;

  // Stops the workers after finishing what was submitted, and waits until the store has called
  // back every commit and its listeners have run (so none runs after the pipeline is gone).
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bysans::pipeline

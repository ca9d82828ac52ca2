// Background work for the decoder API: a thread with its own DecoderRunner
// (test decodes, re-decode jobs), job progress, and the re-decode itself.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "decode/pipeline_decoder.h"
#include "store/decoder_store.h"
#include "store/store.h"

namespace bysans::decode {

// One thread running posted tasks in order, each given the thread's DecoderRunner (its own
// JsEngine, created and destroyed on that thread). The destructor finishes queued tasks after
// setting stopping() so long tasks can end early.
class DecodeThread {
 public:
  explicit DecodeThread(Limits limits = {});
  ~DecodeThread();
  DecodeThread(const DecodeThread&) = delete;
  DecodeThread& operator=(const DecodeThread&) = delete;

  using Task = std::function<void(DecoderRunner&)>;
  void Post(Task task);
  const std::atomic<bool>& stopping() const { return stopping_; }

 private:
  void Loop();
  Limits limits_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

struct JobStatus {
  Id id = 0;
  Id org_id = 0;
  std::string kind;              // "redecode"
  std::string state = "queued";  // queued, running, done, failed, cancelled
  int64_t done = 0;              // messages processed
  int64_t total = 0;             // messages found so far (final once state is done)
  int64_t errors = 0;            // messages whose decode failed
  std::string error;             // why the job failed
};

// Thread-safe table of jobs (kept in memory; an interrupted re-decode is simply run again).
class JobTable {
 public:
  Id Add(Id org_id, std::string kind);
  std::optional<JobStatus> Get(Id id);
  void Update(Id id, const std::function<void(JobStatus&)>& fn);

 private:
  std::mutex mu_;
  Id next_ = 1;
  std::map<Id, JobStatus> jobs_;
};

struct RedecodeRequest {
  Id decoder_id = 0;
  TimeMs from = INT64_MIN;
  TimeMs to = INT64_MAX;
  std::optional<Id> device_id;  // only this device (else every device the decoder applies to)
  int64_t page = 2000;          // messages read per query
};

// Progress callback: (done, total, errors).
using RedecodeProgress = std::function<void(int64_t, int64_t, int64_t)>;

// Re-decodes the stored raw messages of the devices the decoder applies to (its own
// attachments, and its applications' devices that have no decoder of their own) within
// [from, to] with the decoder's current version, appends the readings (last write wins per
// series and timestamp) and records each message's new decode status. Idempotent.
Status Redecode(Store& store, DecoderRunner& runner, const RedecodeRequest& req,
                const RedecodeProgress& progress, const std::atomic<bool>& cancel);

}  // namespace bysans::decode

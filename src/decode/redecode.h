// Background work for the decoder API: a thread with its own DecoderRunner
// (test decodes, re-decode jobs), job progress, and the re-decode itself.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/fair_queue.h"
#include "decode/pipeline_decoder.h"
#include "store/decoder_store.h"
#include "store/store.h"

namespace bysans::decode {

// A few threads running posted tasks, each task given its thread's DecoderRunner (its own
// JsEngine, created and destroyed on that thread). Organisations are served fairly
// (core/fair_queue.h): per-organisation queues taken in turn by the decode time each used,
// one organisation's tasks run one at a time and in order, so with two or more threads one
// organisation's slow tasks (a looping decoder, a long re-decode job) never hold them all.
// The destructor finishes queued tasks after setting stopping() so long tasks can end early.
class DecodeThread {
 public:
  explicit DecodeThread(Limits limits = {}, int threads = 2);
  ~DecodeThread();
  DecodeThread(const DecodeThread&) = delete;
  DecodeThread& operator=(const DecodeThread&) = delete;

  using Task = std::function<void(DecoderRunner&)>;
  // Runs `task` for organisation `org_id` after that organisation's earlier tasks.
  void Post(Id org_id, Task task);
  const std::atomic<bool>& stopping() const { return stopping_; }

 private:
  void Loop();
  Limits limits_;
  std::mutex mu_;
  std::condition_variable cv_;
  FairQueue<Task> queue_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

// A job's state as the API shows it (store/decoder_store.h StoredJob): queued, running, done,
// failed, cancelled (the server stopped it), interrupted (the process died while it ran).
using JobStatus = StoredJob;

// Thread-safe table of jobs, persisted in the DecoderStore so that a job's progress survives a
// restart (jobs found queued/running at startup are marked interrupted; a re-run is idempotent).
class JobTable {
 public:
  // `node`: this process's node lease holder, recorded with each job it adds
  // (DecoderStore::InterruptJobs).
  JobTable(DecoderStore& store, const Clock& clock, std::string node = {})
      : store_(store), clock_(clock), node_(std::move(node)) {}
  Result<Id> Add(Id org_id, std::string kind, std::string request);
  std::optional<JobStatus> Get(Id id);
  // Read-modify-write of one job, saved at once. Errors are logged (progress is best effort).
  void Update(Id id, const std::function<void(JobStatus&)>& fn);

 private:
  DecoderStore& store_;
  const Clock& clock_;
  const std::string node_;
  std::mutex mu_;
};

// Marks "interrupted" the unfinished jobs of every process that holds no running node lease
// (store/lease_store.h "node/…"): at a node's start its earlier process's, and a dead node's —
// never a job a live node runs.
Result<int64_t> InterruptJobsOfDeadNodes(Store& store, TimeMs now);

struct RedecodeRequest {
  Id decoder_id = 0;
  TimeMs from = INT64_MIN;
  TimeMs to = INT64_MAX;
  std::optional<Id> device_id;  // only this device (else every device the decoder applies to)
  int64_t page = 2000;          // messages read per query
  int64_t time_ms = 0;          // per decode call; 0 = the runner's default
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

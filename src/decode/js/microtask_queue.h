// MicrotaskQueue: the promise job queue of a JsEngine's context (Promise.then, await, async
// functions). SpiderMonkey crashes on the first promise reaction if the embedding installs no
// queue. Jobs only run when the engine drains the queue, inside a watchdog-timed call, so they
// fall under that call's time and memory limits; the engine clears the queue at the end of every
// call so no job outlives the call (and the decoder) that queued it.
#pragma once

#include <memory>

struct JSContext;

namespace bysans::decode::js {

class MicrotaskQueue {
 public:
  // Creates the queue and installs it on `cx`. Call Release() before destroying the context,
  // and destroy the queue after it.
  static std::unique_ptr<MicrotaskQueue> Install(JSContext* cx);
  ~MicrotaskQueue();
  MicrotaskQueue(const MicrotaskQueue&) = delete;
  MicrotaskQueue& operator=(const MicrotaskQueue&) = delete;

  // Runs queued jobs, including those they queue, until none is left. False if a job failed
  // (an exception is then pending, or the call was interrupted by a limit); the queue is then
  // cleared.
  bool Drain(JSContext* cx);
  // Drops all queued jobs without running them.
  void Clear();
  // Drops the queue's GC roots (before JS_DestroyContext).
  void Release();

 private:
  struct Impl;
  explicit MicrotaskQueue(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bysans::decode::js

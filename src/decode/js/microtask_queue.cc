// SpiderMonkey lives only in the engine's .cc files (and nowhere in a header).
#include "decode/js/microtask_queue.h"

#include <js/CallAndConstruct.h>
#include <js/GCAPI.h>
#include <js/GCVector.h>
#include <js/Interrupt.h>
#include <js/Promise.h>
#include <js/Realm.h>
#include <jsapi.h>

#include <optional>

namespace bysans::decode::js {

struct MicrotaskQueue::Impl final : public JS::JobQueue {
  explicit Impl(JSContext* cx) { jobs.emplace(cx); }

  JSObject* getIncumbentGlobal(JSContext* cx) override { return JS::CurrentGlobalOrNull(cx); }

  bool enqueuePromiseJob(JSContext* cx, JS::HandleObject, JS::HandleObject job, JS::HandleObject,
                         JS::HandleObject) override {
    if (!jobs || !jobs->append(job)) {
      JS_ReportOutOfMemory(cx);
      return false;
    }
    return true;
  }

  void runJobs(JSContext* cx) override {  // only used by the Debugger, which we do not expose
    if (!Drain(cx)) JS_ClearPendingException(cx);
  }

  bool empty() const override { return !jobs || jobs->empty(); }

  ::js::UniquePtr<SavedJobQueue> saveJobQueue(JSContext* cx) override {
    JS_ReportErrorASCII(cx, "saving the job queue is not supported");
    return nullptr;
  }

  bool Drain(JSContext* cx) {
    if (!jobs || jobs->empty()) return true;  // the usual case: no promises used
    // Jobs may queue more jobs while we run: walk by index, dropping the finished prefix now
    // and then so a long chain of reactions keeps the vector short.
    size_t next = 0;
    while (next < jobs->length()) {
      JS::RootedObject job(cx, (*jobs)[next++]);
      // Also between jobs: a chain of jobs that never enters script still sees the limits.
      bool ok = JS_CheckForInterrupt(cx);
      if (ok) {
        JSAutoRealm ar(cx, job);
        JS::RootedValue rval(cx);
        ok = JS::Call(cx, JS::UndefinedHandleValue, job, JS::HandleValueArray::empty(), &rval);
      }
      if (!ok) {
        Clear();
        return false;
      }
      if (next >= 1024 && next * 2 >= jobs->length()) {
        jobs->erase(jobs->begin(), jobs->begin() + next);
        next = 0;
      }
    }
    Clear();
    JS::ClearKeptObjects(cx);  // end of a microtask checkpoint: WeakRef targets may go
    return true;
  }

  void Clear() {
    if (jobs) jobs->clear();
  }

  std::optional<JS::PersistentRootedObjectVector> jobs;
};

MicrotaskQueue::MicrotaskQueue(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MicrotaskQueue::~MicrotaskQueue() = default;

std::unique_ptr<MicrotaskQueue> MicrotaskQueue::Install(JSContext* cx) {
  auto impl = std::make_unique<Impl>(cx);
  JS::SetJobQueue(cx, impl.get());
  return std::unique_ptr<MicrotaskQueue>(new MicrotaskQueue(std::move(impl)));
}

bool MicrotaskQueue::Drain(JSContext* cx) { return impl_->Drain(cx); }
void MicrotaskQueue::Clear() { impl_->Clear(); }
void MicrotaskQueue::Release() { impl_->jobs.reset(); }

}  // namespace bysans::decode::js

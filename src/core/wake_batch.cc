#include "core/wake_batch.h"

namespace bysans {
namespace {
thread_local WakeBatch* current = nullptr;
}  // namespace

WakeBatch::WakeBatch() : outer_(current) { current = this; }

WakeBatch::~WakeBatch() {
  current = outer_;
  // A function may defer again (to the outer batch, or run at once).
  for (auto& [owner, fn] : deferred_) fn();
}

void WakeBatch::Defer(const void* owner, std::function<void()> fn) {
  WakeBatch* b = current;
  if (b == nullptr) {
    fn();
    return;
  }
  for (const auto& d : b->deferred_) {
    if (d.first == owner) return;
  }
  b->deferred_.emplace_back(owner, std::move(fn));
}

}  // namespace bysans

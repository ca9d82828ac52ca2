// Deferred wake-ups for a thread that completes work in batches (Linux's
// block "plug", for threads): while a WakeBatch lives on a thread, Defer(owner,
// fn) keeps fn — once per owner — and the batch runs them when it ends; with
// no batch on the thread, fn runs at once.
//
// Used by the store's writer around a group commit's completion callbacks: an
// MQTT client hands its PUBACKs to its I/O thread with one wake-up per commit
// instead of one per message the I/O thread happened to drain in between.
#pragma once

#include <functional>
#include <utility>
#include <vector>

namespace bysans {

class WakeBatch {
 public:
  WakeBatch();
  ~WakeBatch();  // runs the deferred functions, in the order first deferred
  WakeBatch(const WakeBatch&) = delete;
  WakeBatch& operator=(const WakeBatch&) = delete;

  static void Defer(const void* owner, std::function<void()> fn);

 private:
  WakeBatch* outer_;
  std::vector<std::pair<const void*, std::function<void()>>> deferred_;
};

}  // namespace bysans

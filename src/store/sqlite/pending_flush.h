// The flush of a pending in-memory map (gateway_touches.h, lorawan_routes.h): what is pending is
// taken under the lock and written outside it; when the write fails it is put back, with what was
// added meanwhile folded in, for the next flush. Callers hold their own flush mutex so that an
// older batch never lands after a newer one.
#pragma once

#include <mutex>

#include "core/status.h"

namespace bysans::sqlite {

// `write(const Map&)` returns a Status; `fold_newer(Map& older, Map& newer)` merges the entries
// added during the failed write into the batch.
template <typename Map, typename Write, typename FoldNewer>
Status FlushPendingMap(std::mutex& mu, Map& pending, Write write, FoldNewer fold_newer) {
  Map batch;
  {
    std::lock_guard lk(mu);
    batch.swap(pending);
  }
  if (batch.empty()) return Status::Ok();
  Status st = write(batch);
  if (st.ok()) return st;
  std::lock_guard lk(mu);
  fold_newer(batch, pending);
  pending.swap(batch);
  return st;
}

}  // namespace bysans::sqlite

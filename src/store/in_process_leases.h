// LeaseStore kept in the process (store/lease_store.h): for a store only one process opens — the
// SQLite store, one server per data directory — every lease is decided here, by the injected
// clock; shared() is false (a lease held here cannot be taken by another process). Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "store/lease_store.h"

namespace bysans {

class InProcessLeases final : public LeaseStore {
 public:
  explicit InProcessLeases(const Clock& clock) : clock_(clock) {}

  Result<bool> AcquireLease(const std::string& name, const std::string& holder,
                            TimeMs ttl_ms) override;
  Status ReleaseLease(const std::string& name, const std::string& holder) override;
  Result<std::vector<Lease>> ListLeases(const std::string& prefix) override;
  bool shared() const override { return false; }

 private:
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::pair<std::string, TimeMs>> leases_;  // name → (holder, expires)
};

}  // namespace bysans

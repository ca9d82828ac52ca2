// Crash quarantine: a message whose decode was in flight when the process died is not decoded
// again. Defence in depth against a decoder that crashes the engine: the broker redelivers an
// unacknowledged QoS 1 message after a restart, and without this it would crash bysans again,
// for every tenant, after every restart.
//
// Each decode worker owns a slot in a small memory-mapped file (MAP_SHARED: its pages outlive
// the process, even a SIGKILL, without any fsync). Before decoding it writes the message's
// fingerprint (device + hash of the payload) there, and clears it afterwards: a few memory
// writes per decode. At startup the fingerprints left set are added to the quarantine table
// (a file next to it, with an expiry), and a matching message is stored raw with decode status
// error and kQuarantinedError instead of being decoded.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"

namespace bysans::decode {

inline constexpr char kQuarantinedError[] =
    "quarantined: the server stopped while decoding this message";

// What identifies a message across a redelivery.
struct Fingerprint {
  Id device_id = 0;
  uint64_t hash = 0;
  bool operator==(const Fingerprint&) const = default;
};

// A 64-bit hash of what identifies the message (its payload, or its idempotency key when it
// has one) and the frame (stable across builds and restarts; memcpy loads,
// so the same on any little-endian machine).
Fingerprint FingerprintOf(Id device_id, std::string_view identity, std::string_view frame);

struct QuarantineOptions {
  std::string dir;                      // the data directory
  int64_t ttl_ms = 7 * 86400 * 1000LL;  // how long a quarantined fingerprint is kept
  int slots = 64;                       // decodes that can be guarded at once (at most 64)
};

class Quarantine {
 public:
  // Opens (creates) <dir>/decode-inflight and <dir>/decode-quarantine, moves the fingerprints
  // the slots still hold into the table (saved before the slots are cleared), drops expired
  // entries and logs what it quarantined.
  static Result<std::unique_ptr<Quarantine>> Open(const QuarantineOptions& options,
                                                  const Clock& clock);
  ~Quarantine();
  Quarantine(const Quarantine&) = delete;
  Quarantine& operator=(const Quarantine&) = delete;

  // True when the message must not be decoded. Thread-safe; no lock (the table only changes in
  // Open).
  bool Contains(const Fingerprint& fp) const;
  size_t size() const { return table_.size(); }

  // Marks `fp` in flight on the calling thread's slot for the guard's lifetime.
  class Guard {
   public:
    Guard(Quarantine& q, const Fingerprint& fp);
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    Quarantine& q_;
    int index_ = -1;  // -1: every slot was taken, this decode is not guarded
  };

 private:
  struct Hash {
    size_t operator()(const Fingerprint& f) const {
      return static_cast<size_t>(f.hash ^
                                 (static_cast<uint64_t>(f.device_id) * 0x9E3779B97F4A7C15));
    }
  };
  explicit Quarantine(const Clock& clock) : clock_(clock) {}
  uint64_t* Slot(int i) const { return static_cast<uint64_t*>(map_) + 8 * i; }
  Status Save(const std::string& path) const;

  const Clock& clock_;
  void* map_ = nullptr;  // slots of 64 bytes: [0] kSet or 0, [1] device id, [2] hash
  size_t map_size_ = 0;
  int slots_ = 0;
  std::atomic<uint64_t> busy_{0};  // bit i: slot i belongs to a running decode
  std::unordered_map<Fingerprint, TimeMs, Hash> table_;  // fingerprint → expiry
};

}  // namespace bysans::decode

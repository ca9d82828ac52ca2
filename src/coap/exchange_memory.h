// The answers to CoAP requests, remembered by exchange — the endpoint and the message id — so
// that a retransmission gets the same answer and is stored once (RFC 7252 §4.5), for
// EXCHANGE_LIFETIME. Bounded so that nobody can push out what a device sent:
// - refusals (no device, wrong key) live in a small pool of their own: what strangers send never
//   pushes out a device's entries;
// - each device holds at most `per_device` entries (its oldest go first), and when all accepted
//   entries together reach `accepted`, the sender holding more than its fair share loses its own
//   oldest — only a broad load (many devices, none above its share) pushes out the oldest of all.
// CoAP thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <unordered_map>

#include "coap/answer.h"
#include "core/clock.h"
#include "model/model.h"

namespace bysans::coap {

struct ExchangeLimits {
  size_t accepted = 100'000;      // entries of accepted requests, all devices together
  size_t per_device = 5'000;      // of one device (20 requests a second over 247 s)
  size_t refused = 10'000;        // refusals
  int64_t lifetime_ms = 247'000;  // EXCHANGE_LIFETIME
};

class ExchangeMemory {
 public:
  explicit ExchangeMemory(ExchangeLimits limits) : limits_(limits) {}

  // The answer remembered for `key` (code 0: still in flight), or null when none is within the
  // lifetime.
  const Answer* Find(const std::string& key, TimeMs now);
  // Remembers the answer to a new exchange, or replaces the answer of a known one (in flight →
  // answered; its lifetime still counts from the first request). `device` 0 = a refusal.
  void Remember(const std::string& key, Id device, Answer answer, TimeMs now);

  size_t size() const { return entries_.size(); }
  size_t DeviceEntries(Id device) const;

 private:
  using Keys = std::list<std::string>;
  struct Entry {
    Answer answer;
    TimeMs at = 0;
    Id device = 0;
    Keys::iterator in_order;   // in accepted_ or refused_
    Keys::iterator in_device;  // in by_device_[device] (accepted only)
  };
  void Erase(const std::string& key);  // a remembered key
  void Expire(Keys& order, TimeMs now);

  ExchangeLimits limits_;
  std::unordered_map<std::string, Entry> entries_;
  Keys accepted_;  // oldest first
  Keys refused_;   // oldest first
  std::unordered_map<Id, Keys> by_device_;
};

}  // namespace bysans::coap

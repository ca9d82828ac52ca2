// What one reading may hold, whatever made it (a decoder, a device's JSON, SenML, LwM2M,
// SensorThings): a text value of at most kMaxReadingTextBytes. Every store keeps each key's latest
// reading for as long as the key exists (SQLite in memory, PostgreSQL in a row the device's every
// message rewrites), so a text of any size would let one organisation's devices grow the shared
// server without bound. A reading over the limit is dropped before the commit, with a warning on
// its message, which keeps the bytes as they were sent.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "model/model.h"

namespace bysans::pipeline {

inline constexpr size_t kMaxReadingTextBytes = 64 * 1024;

// The readings a limit dropped from a message, for its one warning: the first few keys named, the
// rest counted ("3 reading(s) not stored ('a', 'b', 'c'): why").
class DroppedReadings {
 public:
  void Add(const std::string& key);
  bool empty() const { return count_ == 0; }
  // "<count> reading(s) <what> (<keys>): <why>".
  std::string Warning(const std::string& what, const std::string& why) const;

 private:
  static constexpr size_t kNamed = 5;
  size_t count_ = 0;
  std::string named_;
};

// Removes the readings over the limits and adds one warning to `warnings` naming them (the
// first few keys and how many); the others keep their order.
void DropOversizedReadings(std::vector<Reading>& readings, std::vector<std::string>& warnings);

}  // namespace bysans::pipeline

// Fuzz target for the history cursor (opendata/history.h): DecodeCursor reads text anyone may
// send. It must never crash, and what it accepts must encode and decode to the same cursor.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "opendata/history.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = bysans::opendata::DecodeCursor(text);
  if (!c.ok()) return 0;
  auto again = bysans::opendata::DecodeCursor(bysans::opendata::EncodeCursor(c.value()));
  if (!again.ok() || again->device_id != c->device_id || again->to != c->to ||
      again->key != c->key) {
    std::abort();
  }
  return 0;
}

// libFuzzer entry point (clang only): fuzz the ChirpStack event parser.
#include <cstddef>
#include <cstdint>

#include "chirpstack_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bysans::lorawan::FuzzChirpstackEvent(data, size);
  return 0;
}

// libFuzzer entry point (clang only): fuzz src/ngsild's readers of untrusted text.
#include <cstddef>
#include <cstdint>

#include "ngsild_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bysans::ngsild::FuzzNgsiLd(data, size);
  return 0;
}

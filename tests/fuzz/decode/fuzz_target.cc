// libFuzzer entry point (clang only).
#include "fuzz/decode/decode_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bysans::decode::fuzz::FuzzOne(data, size);
  return 0;
}

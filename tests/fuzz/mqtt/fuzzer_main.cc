// libFuzzer entry point (clang only): fuzz the MQTT stream decoder.
#include <cstddef>
#include <cstdint>

#include "mqtt_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bysans::mqtt::FuzzStreamDecoder(data, size);
  return 0;
}

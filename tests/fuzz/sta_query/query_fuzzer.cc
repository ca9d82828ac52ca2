// libFuzzer entry point (clang only): see query_fuzz_check.h for the property.
#include <cstdio>
#include <cstdlib>

#include "query_fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string problem =
      bysans::sta::fuzz::CheckQuery(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!problem.empty()) {
    std::fprintf(stderr, "%s\n", problem.c_str());
    std::abort();
  }
  return 0;
}

// Fuzz target for SenmlCborToJson (ingest/senml_cbor.h) and the SenML step after it, as CoAP
// ingest runs them: any bytes → an error with a message, or JSON that ParseSenml accepts or
// refuses cleanly. Tight limits are tried too, so the depth and item checks are reached.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ingest/senml.h"
#include "ingest/senml_cbor.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bysans;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto json = ingest::SenmlCborToJson(bytes);
  if (json.ok()) {
    Check(!json->empty());
    auto readings = ingest::ParseSenml(*json, 5, 1'700'000'000'000);
    if (readings.ok()) {
      for (const auto& r : *readings) Check(r.device_id == 5 && !r.key.empty());
    } else {
      Check(!readings.status().message().empty());
    }
  } else {
    Check(!json.status().message().empty());
  }
  ingest::CborLimits tight;
  tight.max_depth = 3;
  tight.max_items = 16;
  tight.max_bytes = 256;
  auto small = ingest::SenmlCborToJson(bytes, tight);
  if (!small.ok()) Check(!small.status().message().empty());
  return 0;
}

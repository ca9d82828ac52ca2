// Fuzz target for the ingest parsers of untrusted bytes: FlattenJson (with
// and without the top-level time member) and ParseSenml. Built as a libFuzzer
// binary with clang and replayed by ingest_fuzz_replay with any compiler.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ingest/flatten.h"
#include "ingest/senml.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckReadings(const std::vector<bysans::Reading>& rs, size_t max_key) {
  Check(rs.size() <= bysans::ingest::kMaxReadingsPerMessage);
  for (const auto& r : rs) {
    Check(!r.key.empty());
    Check(r.key.size() <= max_key);
    Check(r.device_id == 5);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace bysans;
  {
    std::vector<Reading> out;
    Status st = ingest::FlattenJson(text, 5, 1000, out);
    if (st.ok()) {
      CheckReadings(out, ingest::kMaxKeyLength);
    } else {
      Check(out.empty());
      Check(!st.message().empty());
    }
  }
  {
    ingest::JsonFlattener f;
    ingest::FlattenOptions opts;
    opts.take_top_level_time = true;
    std::vector<Reading> out;
    if (f.Flatten(text, 5, 1000, out, opts).ok()) CheckReadings(out, ingest::kMaxKeyLength);
  }
  {
    auto r = ingest::ParseSenml(text, 5, 1'767'323'045'000);
    if (r.ok()) {
      CheckReadings(r.value(), ingest::kMaxKeyLength);
    } else {
      Check(!r.status().message().empty());
    }
  }
  return 0;
}

// Fuzz target for the archive reader's parsers of untrusted bytes (archive/, an import may come
// from anyone a global admin trusts too much): the reading line parser (oracle: what it accepts,
// written again and parsed again, is the same reading), the raw message line parser, the
// manifest, and the tar lister and gzip line reader over the bytes as a file. None may crash
// or hang. Built as a libFuzzer binary with clang and replayed by archive_fuzz_replay.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "archive/format.h"
#include "archive/member.h"
#include "archive/records.h"
#include "archive/tar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace bysans;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Reading r;
  if (archive::ParseReadingLine(text, r).ok()) {
    std::string again;
    archive::AppendReadingLine(again, r);
    again.pop_back();
    Reading back;
    if (!archive::ParseReadingLine(again, back).ok()) std::abort();
    if (back.device_id != r.device_id || back.key != r.key || back.ts != r.ts ||
        back.unit != r.unit || back.quality != r.quality)
      std::abort();
    // A number must come back bit for bit (NaN cannot be parsed from JSON, so == holds).
    if (!(back.value == r.value)) std::abort();
  }
  RawMessage m;
  (void)archive::ParseRawMessageLine(text, m);
  (void)archive::ParseManifest(std::string(text));
  std::string copy(text);
  if (std::FILE* f = fmemopen(copy.data(), copy.size() > 0 ? copy.size() : 1, "rb")) {
    auto entries = archive::ListTar(f);
    if (entries.ok()) {
      for (const auto& e : *entries) {
        archive::LineReader lines(f, e.offset, e.size, true, e.name);
        std::string_view line;
        int n = 0;
        while (lines.Next(line) && ++n < 10000) {
        }
      }
    }
    archive::LineReader whole(f, 0, static_cast<int64_t>(copy.size()), true, "input");
    std::string_view line;
    int n = 0;
    while (whole.Next(line) && ++n < 10000) {
    }
    std::fclose(f);
  }
  return 0;
}

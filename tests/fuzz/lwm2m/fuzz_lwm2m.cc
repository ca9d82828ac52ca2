// Fuzz target for what an LwM2M device sends the server (lwm2m/): the first byte picks the
// parser, the rest is its input — the TLV reader and its integer and float values, notification
// payloads in each Content-Format, a registration's link-format, and a Send. Any bytes → readings
// with a device and a name, or an error with a message; never a crash or a stall.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "lwm2m/observe.h"
#include "lwm2m/readings.h"
#include "lwm2m/registration.h"
#include "lwm2m/tlv.h"

namespace {

using namespace bysans;
using namespace bysans::lwm2m;

void Check(bool ok) {
  if (!ok) std::abort();
}

template <typename T>
void CheckError(const Result<T>& r) {
  if (!r.ok()) Check(!r.status().message().empty());
}

void CheckReadings(const Result<std::vector<Reading>>& r) {
  CheckError(r);
  if (r.ok())
    for (const Reading& x : *r) Check(x.device_id == 7 && !x.key.empty());
}

void WalkTlv(const std::vector<TlvEntry>& entries, int depth) {
  // object instance > multiple resource > resource instance, no deeper
  Check(entries.empty() || depth <= 3);
  for (const TlvEntry& e : entries) {
    CheckError(TlvInteger(e.value));
    CheckError(TlvFloat(e.value));
    WalkTlv(e.children, depth + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  constexpr TimeMs kNow = 1'700'000'000'000;
  switch (data[0] % 7) {
    case 0: {
      auto tlv = ParseTlv(in);
      CheckError(tlv);
      if (tlv.ok()) WalkTlv(*tlv, 1);
      break;
    }
    case 1:
      CheckReadings(ParseNotification(kTlv, in, "/3303/0", 7, kNow));
      break;
    case 2:
      CheckReadings(ParseNotification(kSenmlCbor, in, "/3303/0", 7, kNow));
      break;
    case 3:
      CheckReadings(ParseNotification(kTextPlain, in, "/3/0/9", 7, kNow));
      break;
    case 4:
      CheckReadings(ParseSend(kSenmlJson, in, 7, kNow));
      break;
    case 5:
      CheckReadings(ParseSend(kSenmlCbor, in, 7, kNow));
      break;
    default: {
      auto links = ParseLinkFormat(in);
      CheckError(links);
      if (links.ok()) (void)ObservedPaths(ObjectsText(*links));
      break;
    }
  }
  return 0;
}

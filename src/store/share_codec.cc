#include "store/share_codec.h"

#include <cstring>

namespace bysans {
namespace {

enum : uint8_t { kNumber = 0, kString = 1, kBool = 2 };

template <typename T>
void Put(std::string* out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out->append(b, sizeof(T));
}

void PutString(std::string* out, std::string_view s) {
  Put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

// Reads from a blob, failing (once) on a short read.
struct Reader {
  std::string_view data;
  size_t pos = 0;
  bool bad = false;
  template <typename T>
  T Get() {
    T v{};
    if (bad || data.size() - pos < sizeof(T)) {
      bad = true;
      return v;
    }
    std::memcpy(&v, data.data() + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::string GetString() {
    const auto n = Get<uint32_t>();
    if (bad || data.size() - pos < n) {
      bad = true;
      return {};
    }
    std::string s(data.substr(pos, n));
    pos += n;
    return s;
  }
};

}  // namespace

void EncodeShareRecord(Id device_id, TimeMs received_ms, Id message_id,
                       std::string_view decoded_json, std::span<const Reading> readings,
                       std::string* out) {
  Put<int64_t>(out, device_id);
  Put<int64_t>(out, received_ms);
  Put<int64_t>(out, message_id);
  PutString(out, decoded_json);
  Put<uint32_t>(out, static_cast<uint32_t>(readings.size()));
  for (const Reading& r : readings) {
    PutString(out, r.key);
    Put<int64_t>(out, r.ts);
    Put<uint8_t>(out, static_cast<uint8_t>(r.quality));
    PutString(out, r.unit);
    if (const double* d = std::get_if<double>(&r.value)) {
      Put<uint8_t>(out, kNumber);
      Put<double>(out, *d);
    } else if (const bool* b = std::get_if<bool>(&r.value)) {
      Put<uint8_t>(out, kBool);
      Put<uint8_t>(out, *b ? 1 : 0);
    } else {
      Put<uint8_t>(out, kString);
      PutString(out, std::get<std::string>(r.value));
    }
  }
}

Status DecodeShareRow(int64_t row, std::string_view data, int64_t after,
                      std::vector<ShareRecord>* out) {
  Reader in{data};
  for (int64_t index = 0; in.pos < data.size(); ++index) {
    ShareRecord rec;
    rec.position = SharePosition(row, index);
    rec.device_id = in.Get<int64_t>();
    rec.received_ms = in.Get<int64_t>();
    rec.message_id = in.Get<int64_t>();
    rec.decoded_json = in.GetString();
    const auto n = in.Get<uint32_t>();
    if (in.bad || n > data.size()) return Internal("corrupt share log row");
    rec.readings.reserve(n);
    for (uint32_t i = 0; i < n && !in.bad; ++i) {
      Reading r;
      r.device_id = rec.device_id;
      r.key = in.GetString();
      r.ts = in.Get<int64_t>();
      r.quality = static_cast<Quality>(in.Get<uint8_t>());
      r.unit = in.GetString();
      switch (in.Get<uint8_t>()) {
        case kNumber:
          r.value = in.Get<double>();
          break;
        case kBool:
          r.value = in.Get<uint8_t>() != 0;
          break;
        case kString:
          r.value = in.GetString();
          break;
        default:
          in.bad = true;
      }
      rec.readings.push_back(std::move(r));
    }
    if (in.bad) return Internal("corrupt share log row");
    if (rec.position > after) out->push_back(std::move(rec));
  }
  return Status::Ok();
}

}  // namespace bysans

#include "ingest/senml_cbor.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/encoding.h"

namespace bysans::ingest {
namespace {

using json = nlohmann::json;

const char* SenmlLabel(int64_t label) {
  switch (label) {
    case -1:
      return "bver";
    case -2:
      return "bn";
    case -3:
      return "bt";
    case -4:
      return "bu";
    case -5:
      return "bv";
    case -6:
      return "bs";
    case 0:
      return "n";
    case 1:
      return "u";
    case 2:
      return "v";
    case 3:
      return "vs";
    case 4:
      return "vb";
    case 5:
      return "s";
    case 6:
      return "t";
    case 7:
      return "ut";
    case 8:
      return "vd";
    default:
      return nullptr;
  }
}

double HalfToDouble(uint16_t h) {
  const int exp = (h >> 10) & 0x1f;
  const int mant = h & 0x3ff;
  double v;
  if (exp == 0) {
    v = std::ldexp(mant, -24);
  } else if (exp != 31) {
    v = std::ldexp(mant + 1024, exp - 25);
  } else {
    v = mant == 0 ? INFINITY : NAN;
  }
  return (h & 0x8000) ? -v : v;
}

class Reader {
 public:
  Reader(std::string_view in, const CborLimits& limits) : in_(in), limits_(limits) {}

  Status Read(json& out, int depth) {
    if (depth > limits_.max_depth)
      return Error("nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    if (++items_ > limits_.max_items)
      return Error("more than " + std::to_string(limits_.max_items) + " data items");
    uint8_t initial = 0;
    BYSANS_RETURN_IF_ERROR(Byte(initial));
    const int major = initial >> 5;
    const int info = initial & 0x1f;
    if (major == 7) return Simple(info, out);
    uint64_t arg = 0;
    BYSANS_RETURN_IF_ERROR(Argument(info, arg));
    switch (major) {
      case 0:
        out = arg;
        return Status::Ok();
      case 1:
        if (arg > static_cast<uint64_t>(INT64_MAX)) return Error("negative integer out of range");
        out = -1 - static_cast<int64_t>(arg);
        return Status::Ok();
      case 2:
      case 3: {
        if (arg > in_.size() - pos_) return Error("truncated string");
        std::string_view s = in_.substr(pos_, arg);
        pos_ += arg;
        out = major == 3 ? json(std::string(s)) : json(EncodeBase64(s));
        return Status::Ok();
      }
      case 4: {
        // Each element takes at least one byte: a bigger count is a truncated document.
        if (arg > in_.size() - pos_) return Error("truncated array");
        out = json::array();
        for (uint64_t i = 0; i < arg; ++i) {
          json item;
          BYSANS_RETURN_IF_ERROR(Read(item, depth + 1));
          out.push_back(std::move(item));
        }
        return Status::Ok();
      }
      case 5: {
        if (arg > (in_.size() - pos_) / 2) return Error("truncated map");
        out = json::object();
        for (uint64_t i = 0; i < arg; ++i) {
          json key;
          const size_t key_at = pos_;
          BYSANS_RETURN_IF_ERROR(Read(key, depth + 1));
          std::string name;
          if (key.is_string()) {
            name = key.get<std::string>();
          } else if (key.is_number_integer()) {
            const int64_t label = key.is_number_unsigned()
                                      ? static_cast<int64_t>(std::min<uint64_t>(
                                            key.get<uint64_t>(), uint64_t{INT64_MAX}))
                                      : key.get<int64_t>();
            const char* known = SenmlLabel(label);
            name = known ? known : std::to_string(label);
          } else {
            return Error("map key at byte " + std::to_string(key_at) +
                         " is neither an integer label nor text");
          }
          json value;
          BYSANS_RETURN_IF_ERROR(Read(value, depth + 1));
          out[name] = std::move(value);
        }
        return Status::Ok();
      }
      case 6:  // a tag: its content is the value
        --items_;
        return Read(out, depth + 1);
      default:
        return Error("unknown major type");
    }
  }

  bool AtEnd() const { return pos_ == in_.size(); }
  size_t pos() const { return pos_; }

 private:
  Status Error(const std::string& what) const {
    return InvalidArgument("invalid SenML CBOR at byte " + std::to_string(pos_) + ": " + what);
  }

  Status Byte(uint8_t& b) {
    if (pos_ >= in_.size()) return Error("truncated document");
    b = static_cast<uint8_t>(in_[pos_++]);
    return Status::Ok();
  }

  Status Bytes(int n, uint64_t& v) {
    if (static_cast<size_t>(n) > in_.size() - pos_) return Error("truncated document");
    v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(in_[pos_++]);
    return Status::Ok();
  }

  Status Argument(int info, uint64_t& arg) {
    if (info < 24) {
      arg = static_cast<uint64_t>(info);
      return Status::Ok();
    }
    switch (info) {
      case 24:
        return Bytes(1, arg);
      case 25:
        return Bytes(2, arg);
      case 26:
        return Bytes(4, arg);
      case 27:
        return Bytes(8, arg);
      case 31:
        return Error("indefinite lengths are not supported");
      default:
        return Error("reserved additional information " + std::to_string(info));
    }
  }

  Status Simple(int info, json& out) {
    uint64_t bits = 0;
    double d = 0;
    switch (info) {
      case 20:
        out = false;
        return Status::Ok();
      case 21:
        out = true;
        return Status::Ok();
      case 22:
        out = nullptr;
        return Status::Ok();
      case 25:
        BYSANS_RETURN_IF_ERROR(Bytes(2, bits));
        d = HalfToDouble(static_cast<uint16_t>(bits));
        break;
      case 26: {
        BYSANS_RETURN_IF_ERROR(Bytes(4, bits));
        const auto b32 = static_cast<uint32_t>(bits);
        float f;
        std::memcpy(&f, &b32, sizeof f);
        d = f;
        break;
      }
      case 27:
        BYSANS_RETURN_IF_ERROR(Bytes(8, bits));
        std::memcpy(&d, &bits, sizeof d);
        break;
      default:
        return Error("unsupported simple value " + std::to_string(info));
    }
    if (!std::isfinite(d)) return Error("non-finite number");
    out = d;
    return Status::Ok();
  }

  std::string_view in_;
  const CborLimits& limits_;
  size_t pos_ = 0;
  size_t items_ = 0;
};

}  // namespace

Result<std::string> SenmlCborToJson(std::string_view cbor, const CborLimits& limits) {
  if (cbor.size() > limits.max_bytes)
    return Status(Code::kTooLarge, "SenML CBOR document of " + std::to_string(cbor.size()) +
                                       " bytes exceeds the limit of " +
                                       std::to_string(limits.max_bytes));
  if (cbor.empty()) return InvalidArgument("empty SenML CBOR document");
  Reader reader(cbor, limits);
  json doc;
  BYSANS_RETURN_IF_ERROR(reader.Read(doc, 1));
  if (!reader.AtEnd())
    return InvalidArgument("invalid SenML CBOR: " + std::to_string(cbor.size() - reader.pos()) +
                           " bytes after the document");
  // Text strings must be UTF-8 (RFC 8949 §3.1); nlohmann checks while it writes.
  try {
    return doc.dump();
  } catch (const json::type_error&) {
    return InvalidArgument("invalid SenML CBOR: a text string is not valid UTF-8");
  }
}

}  // namespace bysans::ingest

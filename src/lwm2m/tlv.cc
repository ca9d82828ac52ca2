#include "lwm2m/tlv.h"

#include <bit>
#include <cstring>
#include <string>

namespace bysans::lwm2m {
namespace {

constexpr size_t kMaxEntries = 1000;

Status Bad(size_t pos, const std::string& what) {
  return InvalidArgument("TLV: " + what + " at byte " + std::to_string(pos));
}

uint64_t BigEndian(std::string_view bytes) {
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

// Reads entries of data[begin, end) at nesting `depth` (0 = top level).
Status ReadEntries(std::string_view data, size_t begin, size_t end, int depth, TlvType parent,
                   size_t& count, std::vector<TlvEntry>& out) {
  size_t pos = begin;
  while (pos < end) {
    const size_t start = pos;
    if (++count > kMaxEntries) return Bad(start, "more than 1000 entries");
    const auto type_byte = static_cast<uint8_t>(data[pos++]);
    TlvEntry e;
    e.type = static_cast<TlvType>(type_byte >> 6);
    const size_t id_len = (type_byte & 0x20) ? 2 : 1;
    const int length_type = (type_byte >> 3) & 0x03;
    const size_t len_len = static_cast<size_t>(length_type);
    if (end - pos < id_len + len_len) return Bad(start, "truncated header");
    e.id = static_cast<int>(BigEndian(data.substr(pos, id_len)));
    pos += id_len;
    size_t len = length_type == 0 ? (type_byte & 0x07) : BigEndian(data.substr(pos, len_len));
    pos += len_len;
    if (end - pos < len) return Bad(start, "value of " + std::to_string(len) + " bytes truncated");
    // Where each identifier type may stand (§7.4.3): instances at the top, resource instances
    // only inside a multiple resource, nothing deeper than instance → resource → instance.
    const bool nested = depth > 0;
    if (e.type == TlvType::kObjectInstance && nested)
      return Bad(start, "object instance inside another entry");
    if (e.type == TlvType::kResourceInstance && nested && parent != TlvType::kMultipleResource)
      return Bad(start, "resource instance outside a multiple resource");
    if ((e.type == TlvType::kResource || e.type == TlvType::kMultipleResource) &&
        parent == TlvType::kMultipleResource)
      return Bad(start, "resource inside a multiple resource");
    if (e.type == TlvType::kObjectInstance || e.type == TlvType::kMultipleResource) {
      if (depth >= 2) return Bad(start, "nested too deep");
      BYSANS_RETURN_IF_ERROR(
          ReadEntries(data, pos, pos + len, depth + 1, e.type, count, e.children));
    } else {
      e.value = data.substr(pos, len);
    }
    pos += len;
    out.push_back(std::move(e));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<TlvEntry>> ParseTlv(std::string_view data) {
  std::vector<TlvEntry> out;
  size_t count = 0;
  BYSANS_RETURN_IF_ERROR(
      ReadEntries(data, 0, data.size(), 0, TlvType::kObjectInstance, count, out));
  return out;
}

Result<int64_t> TlvInteger(std::string_view v) {
  if (v.size() != 1 && v.size() != 2 && v.size() != 4 && v.size() != 8)
    return InvalidArgument("TLV: an integer has 1, 2, 4 or 8 bytes, not " +
                           std::to_string(v.size()));
  uint64_t u = BigEndian(v);
  const unsigned bits = static_cast<unsigned>(v.size() * 8);
  if (bits < 64 && (u >> (bits - 1)) & 1) u |= ~uint64_t{0} << bits;  // sign-extend
  return static_cast<int64_t>(u);
}

Result<double> TlvFloat(std::string_view v) {
  if (v.size() == 4) {
    return static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(BigEndian(v))));
  }
  if (v.size() == 8) return std::bit_cast<double>(BigEndian(v));
  return InvalidArgument("TLV: a float has 4 or 8 bytes, not " + std::to_string(v.size()));
}

}  // namespace bysans::lwm2m

// LwM2M TLV (Content-Format 11542, OMA-TS-LightweightM2M_Core §7.4.3): a bounded reader of the
// binary format some devices answer a Read or an Observe with. Pure functions, no allocation
// beyond the entries; every length is checked against the input.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace bysans::lwm2m {

constexpr int kTlv = 11542;

// The identifier type (bits 7-6 of the type byte).
enum class TlvType : uint8_t {
  kObjectInstance = 0,
  kResourceInstance = 1,
  kMultipleResource = 2,
  kResource = 3,
};

struct TlvEntry {
  TlvType type = TlvType::kResource;
  int id = 0;
  std::string_view value;          // a resource's or resource instance's value bytes
  std::vector<TlvEntry> children;  // an object instance's or multiple resource's entries
};

// The entries of a TLV payload, nested (object instance → resources → resource instances).
// Errors (kInvalidArgument, with the byte position): a header or value running past the end, a
// resource instance outside a multiple resource, nesting deeper than the format allows, more
// than 1,000 entries in all.
Result<std::vector<TlvEntry>> ParseTlv(std::string_view data);

// A TLV value as a number: an integer is 1, 2, 4 or 8 bytes big-endian two's complement, a
// float 4 or 8 bytes IEEE 754. kInvalidArgument for other lengths.
Result<int64_t> TlvInteger(std::string_view value);
Result<double> TlvFloat(std::string_view value);

}  // namespace bysans::lwm2m

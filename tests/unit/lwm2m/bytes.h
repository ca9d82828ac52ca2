// Test helper: a byte string written as numbers (TLV and CBOR payloads in the LwM2M tests).
#pragma once

#include <initializer_list>
#include <string>

namespace bysans::lwm2m {

inline std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

}  // namespace bysans::lwm2m

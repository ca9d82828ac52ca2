// StringMap<T>: an unordered_map keyed by std::string for the hot path, looked up by
// std::string_view (no temporary string) and without libstdc++'s small-map linear scan: with
// std::hash<std::string>, maps of up to 20 entries (a device's keys, a model's ranges) are
// searched by comparing the key with every entry. A hasher of our own that is not noexcept also
// makes each node keep its hash code, so a rehash or a miss never hashes a key twice.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace bysans {

struct StringKeyHash {
  using is_transparent = void;
  // Not noexcept on purpose (see above).
  size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};

template <class T>
using StringMap = std::unordered_map<std::string, T, StringKeyHash, std::equal_to<>>;

}  // namespace bysans

#include "sta/entity.h"

#include <charconv>

namespace bysans::sta {

bool HasStringId(EntitySet set) {
  return set == EntitySet::kObservedProperties || set == EntitySet::kObservations;
}

std::string IdText(const Entity& e) {
  if (e.set == EntitySet::kObservedProperties) return e.key;
  if (e.set == EntitySet::kObservations)
    return std::to_string(e.id) + "-" + std::to_string(e.reading.ts);
  return std::to_string(e.id);
}

std::string IdInUrl(const Entity& e) {
  if (!HasStringId(e.set)) return std::to_string(e.id);
  std::string out = "'";
  for (char c : IdText(e)) {
    out.push_back(c);
    if (c == '\'') out.push_back('\'');
  }
  return out + "'";
}

namespace {
std::optional<int64_t> ParseInt(std::string_view text, bool allow_sign) {
  if (text.empty() || (!allow_sign && text[0] == '-')) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}
}  // namespace

std::optional<int64_t> ParseNumericId(std::string_view text) { return ParseInt(text, false); }

std::optional<ObservationKey> ParseObservationId(std::string_view text) {
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto sid = ParseInt(text.substr(0, dash), false);
  auto ts = ParseInt(text.substr(dash + 1), true);
  if (!sid || !ts) return std::nullopt;
  return ObservationKey{*sid, *ts};
}

}  // namespace bysans::sta

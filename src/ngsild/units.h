// Units of readings and their UN/CEFACT Recommendation 20 common codes (NGSI-LD `unitCode`),
// read from a data file (models/units.json). Units of one quantity convert into each other.
// Immutable after construction, so thread-safe to share.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace bysans::ngsild {

struct Unit {
  std::string code;      // UN/CEFACT common code, e.g. "CEL"
  std::string quantity;  // units of the same quantity convert into each other
  double factor = 1;     // base = value * factor + offset
  double offset = 0;
};

class UnitTable {
 public:
  // {"units": [{"code", "quantity", "factor", "offset"?, "symbols": [...]}, ...]}.
  // InvalidArgument naming the bad entry (a symbol given twice, a missing code, ...).
  static Result<UnitTable> FromJson(const nlohmann::json& doc);

  // The unit of a symbol ("°C", "µg/m³", "%") or a code ("CEL"); exact match. nullptr when
  // unknown.
  const Unit* Find(std::string_view symbol) const;

  // `value` given in `from`, expressed in `to`; nullopt when they measure different quantities.
  static std::optional<double> Convert(double value, const Unit& from, const Unit& to);

 private:
  std::vector<Unit> units_;
  std::map<std::string, size_t, std::less<>> by_symbol_;
};

}  // namespace bysans::ngsild

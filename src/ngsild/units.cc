#include "ngsild/units.h"

namespace bysans::ngsild {

Result<UnitTable> UnitTable::FromJson(const nlohmann::json& doc) {
  if (!doc.is_object() || !doc.contains("units") || !doc["units"].is_array()) {
    return InvalidArgument("units: expected {\"units\": [...]}");
  }
  UnitTable table;
  for (const auto& u : doc["units"]) {
    if (!u.is_object() || !u.contains("code") || !u["code"].is_string() ||
        !u.contains("quantity") || !u["quantity"].is_string()) {
      return InvalidArgument("units: every unit needs a code and a quantity");
    }
    Unit unit{u["code"].get<std::string>(), u["quantity"].get<std::string>(),
              u.value("factor", 1.0), u.value("offset", 0.0)};
    if (unit.factor == 0) return InvalidArgument("units: factor 0 for " + unit.code);
    std::vector<std::string> names = {unit.code};
    for (const auto& s : u.value("symbols", nlohmann::json::array())) {
      if (!s.is_string()) return InvalidArgument("units: a symbol of " + unit.code);
      names.push_back(s.get<std::string>());
    }
    const size_t index = table.units_.size();
    table.units_.push_back(std::move(unit));
    for (auto& n : names) {
      if (!table.by_symbol_.emplace(n, index).second) {
        return InvalidArgument("units: symbol '" + n + "' given twice");
      }
    }
  }
  return table;
}

const Unit* UnitTable::Find(std::string_view symbol) const {
  auto it = by_symbol_.find(symbol);
  return it == by_symbol_.end() ? nullptr : &units_[it->second];
}

std::optional<double> UnitTable::Convert(double value, const Unit& from, const Unit& to) {
  if (from.quantity != to.quantity) return std::nullopt;
  if (from.code == to.code) return value;
  return (value * from.factor + from.offset - to.offset) / to.factor;
}

}  // namespace bysans::ngsild

// Tiny templates for action bodies: {{alarm.message}}, {{device.name}},
// {{readings}}, ... are looked up as dotted paths in a JSON context.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace bysans::act {

// Replaces every {{path}} with the value at the dotted path of `ctx`
// (missing → empty). Strings are inserted as they are, or JSON-escaped
// without quotes when `json_escape`; other values as compact JSON.
std::string Render(const std::string& tmpl, const nlohmann::json& ctx, bool json_escape);

}  // namespace bysans::act

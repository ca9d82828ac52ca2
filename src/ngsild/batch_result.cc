#include "ngsild/batch_result.h"

#include <nlohmann/json.hpp>

#include "core/json_depth.h"

namespace bysans::ngsild {
namespace {

using nlohmann::json;

constexpr size_t kMaxText = 500;
constexpr size_t kMaxItems = 1000;

std::string Text(const json& obj, const char* member) {
  if (!obj.is_object() || !obj.contains(member) || !obj[member].is_string()) return "";
  std::string s = obj[member].get<std::string>();
  if (s.size() > kMaxText) s.resize(kMaxText);
  return s;
}

json Parse(std::string_view body) {
  if (!CheckJsonDepth(body).ok()) return nullptr;
  return json::parse(body, nullptr, false);
}

}  // namespace

Result<BatchResult> ParseBatchResult(std::string_view body) {
  json doc = Parse(body);
  if (!doc.is_object()) return InvalidArgument("not a BatchOperationResult");
  BatchResult out;
  if (doc.contains("success") && doc["success"].is_array()) {
    for (const auto& id : doc["success"]) {
      if (out.success.size() == kMaxItems) break;
      if (id.is_string()) out.success.push_back(id.get<std::string>().substr(0, kMaxText));
    }
  }
  if (doc.contains("errors") && doc["errors"].is_array()) {
    for (const auto& e : doc["errors"]) {
      if (out.errors.size() == kMaxItems) break;
      if (!e.is_object()) continue;
      const json& pd = e.contains("error") ? e["error"] : json();
      out.errors.push_back(
          {Text(e, "entityId"), Text(pd, "type"), Text(pd, "title"), Text(pd, "detail")});
    }
  }
  if (!doc.contains("success") && !doc.contains("errors")) {
    return InvalidArgument("not a BatchOperationResult");
  }
  return out;
}

std::string ProblemSummary(std::string_view body) {
  json doc = Parse(body);
  std::string title = Text(doc, "title"), detail = Text(doc, "detail");
  std::string s = title.empty() ? detail : detail.empty() ? title : title + ": " + detail;
  if (s.size() > kMaxText) s.resize(kMaxText);
  return s;
}

}  // namespace bysans::ngsild

#include "sta/batch.h"

#include <set>

namespace bysans::sta {
namespace {

using json = nlohmann::json;

bool SafeUrl(const std::string& url) {
  if (url.empty() || url[0] == '/' || url.find("://") != std::string::npos) return false;
  if (url.find("..") != std::string::npos || url.find('\\') != std::string::npos) return false;
  // No encoded characters in the path: it is routed as written.
  if (url.substr(0, url.find('?')).find('%') != std::string::npos) return false;
  return url.rfind("$batch", 0) != 0;
}

}  // namespace

Result<std::vector<BatchRequest>> ParseBatch(const json& body) {
  if (!body.is_object() || !body.contains("requests") || !body["requests"].is_array())
    return InvalidArgument("the body must be {\"requests\": [...]} (JSON batch format)");
  for (const auto& [name, _] : body.items())
    if (name != "requests") return InvalidArgument("unknown member '" + name.substr(0, 64) + "'");
  const json& list = body["requests"];
  if (list.size() > kMaxBatchRequests)
    return InvalidArgument("at most " + std::to_string(kMaxBatchRequests) +
                           " requests in one batch");
  std::vector<BatchRequest> out;
  std::set<std::string> ids;
  for (size_t i = 0; i < list.size(); ++i) {
    const json& r = list[i];
    const std::string where = "requests[" + std::to_string(i) + "]";
    if (!r.is_object()) return InvalidArgument(where + " must be an object");
    BatchRequest b;
    for (const auto& [name, v] : r.items()) {
      if (name == "id" || name == "method" || name == "url") {
        if (!v.is_string() || v.get_ref<const std::string&>().empty())
          return InvalidArgument(where + "." + name + " must be a non-empty string");
      } else if (name == "atomicityGroup") {
        return InvalidArgument(where +
                               ".atomicityGroup: not supported (requests run one by one, each "
                               "committed on its own)");
      } else if (name == "dependsOn") {
        if (!v.is_array()) return InvalidArgument(where + ".dependsOn must be an array of ids");
        for (const json& d : v) {
          if (!d.is_string() || !ids.count(d.get<std::string>()))
            return InvalidArgument(where + ".dependsOn must name earlier requests' ids");
          b.depends_on.push_back(d.get<std::string>());
        }
      } else if (name == "body") {
        b.body = v;
      } else if (name != "headers") {
        return InvalidArgument(where + ": unknown member '" + name.substr(0, 64) + "'");
      }
    }
    if (!r.contains("id") || !r.contains("method") || !r.contains("url"))
      return InvalidArgument(where + ": id, method and url are required");
    b.id = r["id"].get<std::string>();
    b.method = r["method"].get<std::string>();
    for (char& c : b.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    b.url = r["url"].get<std::string>();
    if (!ids.insert(b.id).second) return InvalidArgument(where + ".id repeats '" + b.id + "'");
    if (b.method != "GET" && b.method != "POST" && b.method != "PATCH" && b.method != "DELETE")
      return InvalidArgument(where + ".method must be GET, POST, PATCH or DELETE");
    if (!SafeUrl(b.url))
      return InvalidArgument(where +
                             ".url must be relative to the service root (e.g. \"Things(1)\"), "
                             "without '..', encoded path characters or a nested $batch");
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::string> ResolveBatchUrl(const std::string& url,
                                    const std::map<std::string, std::string>& created) {
  if (url.empty() || url[0] != '$' || url.rfind("$batch", 0) == 0) return url;
  size_t end = url.find_first_of("/?");
  const std::string id = url.substr(1, end == std::string::npos ? std::string::npos : end - 1);
  auto it = created.find(id);
  if (it == created.end())
    return InvalidArgument("url '" + url.substr(0, 100) + "' names no entity created earlier");
  return it->second + (end == std::string::npos ? "" : url.substr(end));
}

}  // namespace bysans::sta

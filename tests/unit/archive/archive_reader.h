// Test helper: an archive's content as JSON ({file name: document, or array of lines}), and the
// same with the ids and times that differ between an export and the export of its import
// replaced, so two archives of the same data compare equal.
#pragma once

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "archive/member.h"
#include "archive/tar.h"

namespace bysans::archive::testing {

using nlohmann::json;

inline json ArchiveContent(const std::string& path, std::string* all_bytes = nullptr) {
  json out = json::object();
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return out;
  auto entries = ListTar(f);
  if (entries.ok()) {
    for (const auto& e : *entries) {
      const bool gz = e.name.size() > 3 && e.name.substr(e.name.size() - 3) == ".gz";
      if (gz) {
        LineReader r(f, e.offset, e.size, true, e.name);
        json lines = json::array();
        std::string_view line;
        while (r.Next(line)) {
          if (all_bytes) all_bytes->append(line).push_back('\n');
          lines.push_back(json::parse(line));
        }
        out[e.name] = lines;
      } else {
        std::string sha;
        auto bytes = ReadMember(f, e.offset, e.size, sha);
        if (!bytes.ok()) continue;
        if (all_bytes) all_bytes->append(*bytes);
        out[e.name] = e.name.ends_with(".json") ? json::parse(*bytes) : json(*bytes);
      }
    }
  }
  std::fclose(f);
  return out;
}

// Ids become their position in their file (devices.json order, ...); the export's own times
// and the per-file hashes (which change with the ids) go.
inline json Normalized(json c) {
  std::map<std::string, std::map<int64_t, int64_t>> pos;
  for (const char* file :
       {"applications.json", "devices.json", "device_models.json", "decoders.json", "rules.json",
        "data_targets.json", "integrations.json", "silences.json"}) {
    int64_t i = 0;
    for (auto& item : c[file]) pos[file][item["id"].get<int64_t>()] = i++;
  }
  auto remap = [&](json& j, const char* field, const char* file) {
    if (j.contains(field) && j[field].is_number_integer())
      j[field] = pos[file][j[field].get<int64_t>()];
  };
  for (const char* file :
       {"applications.json", "devices.json", "device_models.json", "decoders.json", "rules.json",
        "data_targets.json", "integrations.json", "silences.json"}) {
    for (auto& item : c[file]) {
      item["id"] = pos[file][item["id"].get<int64_t>()];
      remap(item, "applicationId", "applications.json");
      remap(item, "deviceModelId", "device_models.json");
      remap(item, "decoderId", "decoders.json");
      remap(item, "deviceId", "devices.json");
      remap(item, "ruleId", "rules.json");
      if (item.contains("deviceIds"))
        for (auto& d : item["deviceIds"]) d = pos["devices.json"][d.get<int64_t>()];
      if (item.contains("definition") && item["definition"].contains("scope")) {
        auto& s = item["definition"]["scope"];
        const std::string kind = s.value("kind", "");
        if (kind == "device") remap(s, "id", "devices.json");
        if (kind == "application") remap(s, "id", "applications.json");
      }
    }
  }
  for (const char* file : {"readings.jsonl.gz", "raw_messages.jsonl.gz", "alarms.jsonl.gz"}) {
    for (auto& line : c[file]) {
      line["device"] = pos["devices.json"][line["device"].get<int64_t>()];
      line.erase("id");
      if (!line.contains("alarm")) continue;
      remap(line, "rule", "rules.json");
      remap(line["alarm"], "deviceId", "devices.json");
      remap(line["alarm"], "ruleId", "rules.json");
      line["alarm"].erase("orgId");
    }
  }
  c["organization.json"].erase("id");
  c["organization.json"].erase("createdAt");
  c.erase("README.md");
  for (auto& f : c["manifest.json"]["files"]) {
    f.erase("sha256");
    f.erase("bytes");
    f.erase("uncompressedBytes");
  }
  c["manifest.json"].erase("exportedAt");
  c["manifest.json"].erase("organization");
  return c;
}

}  // namespace bysans::archive::testing

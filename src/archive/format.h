// The archive format (README.md "Format"): names, version, the manifest and the README that
// every archive carries.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"

namespace bysans::archive {

inline constexpr const char* kFormatName = "bysans-organization-export";
inline constexpr int kFormatVersion = 1;
// Written as the value of every secret the archive leaves out.
inline constexpr const char* kReenter = "re-enter";

inline constexpr const char* kReadme = "README.md";
inline constexpr const char* kManifest = "manifest.json";
inline constexpr const char* kReadings = "readings.jsonl.gz";
inline constexpr const char* kRawMessages = "raw_messages.jsonl.gz";
// The JSON documents, in archive order (each a JSON array but organization.json, an object).
inline const std::vector<std::string>& JsonFiles() {
  static const std::vector<std::string> kFiles = {
      "organization.json", "applications.json", "device_models.json", "devices.json",
      "decoders.json",     "rules.json",        "silences.json",      "data_targets.json",
      "integrations.json", "members.json"};
  return kFiles;
}

struct ManifestFile {
  std::string name;
  int64_t records = 0;  // array elements or lines
  int64_t bytes = 0;    // as stored in the archive
  int64_t uncompressed_bytes = 0;
  std::string sha256;  // hex, of the stored bytes
};

struct Manifest {
  std::string format = kFormatName;
  int format_version = kFormatVersion;
  std::string bysans_version;
  Id org_id = 0;
  std::string org_name;
  TimeMs exported_ms = 0;
  std::vector<ManifestFile> files;
};

std::string ManifestToJson(const Manifest& m);
// Checks the format name and version first ("unknown format version 7 (this bysans reads 1)"),
// then every field's type.
Result<Manifest> ParseManifest(const std::string& text);

// The README.md written into every archive.
std::string ArchiveReadme(const Manifest& m);

}  // namespace bysans::archive

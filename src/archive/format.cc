#include "archive/format.h"

#include <nlohmann/json.hpp>

#include "core/time_format.h"

namespace bysans::archive {

using nlohmann::json;

std::string ManifestToJson(const Manifest& m) {
  json files = json::array();
  for (const auto& f : m.files) {
    files.push_back({{"name", f.name},
                     {"records", f.records},
                     {"bytes", f.bytes},
                     {"uncompressedBytes", f.uncompressed_bytes},
                     {"sha256", f.sha256}});
  }
  json j = {{"format", m.format},
            {"formatVersion", m.format_version},
            {"bysansVersion", m.bysans_version},
            {"organization", {{"id", m.org_id}, {"name", m.org_name}}},
            {"exportedAt", FormatRfc3339(m.exported_ms)},
            {"files", files}};
  return j.dump(2) + "\n";
}

Result<Manifest> ParseManifest(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return InvalidArgument("manifest.json: not a JSON object");
  auto bad = [](const std::string& field, const std::string& what) {
    return InvalidArgument("manifest.json: field \"" + field + "\" " + what);
  };
  Manifest m;
  if (!j.contains("format") || j["format"] != kFormatName)
    return bad("format", std::string("must be \"") + kFormatName + "\" (not a bysans export)");
  if (!j.contains("formatVersion") || !j["formatVersion"].is_number_integer())
    return bad("formatVersion", "must be an integer");
  m.format_version = j["formatVersion"].get<int>();
  if (m.format_version != kFormatVersion) {
    return InvalidArgument("manifest.json: unknown format version " +
                           std::to_string(m.format_version) + " (this bysans reads version " +
                           std::to_string(kFormatVersion) + ")");
  }
  if (!j.contains("bysansVersion") || !j["bysansVersion"].is_string())
    return bad("bysansVersion", "must be a string");
  m.bysans_version = j["bysansVersion"];
  const auto& org = j.contains("organization") ? j["organization"] : json();
  if (!org.is_object() || !org.contains("id") || !org["id"].is_number_integer() ||
      !org.contains("name") || !org["name"].is_string())
    return bad("organization", "must be an object with an integer id and a string name");
  m.org_id = org["id"];
  m.org_name = org["name"];
  if (!j.contains("exportedAt") || !j["exportedAt"].is_string() ||
      !ParseTime(j["exportedAt"].get<std::string>()))
    return bad("exportedAt", "must be an RFC 3339 time");
  m.exported_ms = *ParseTime(j["exportedAt"].get<std::string>());
  if (!j.contains("files") || !j["files"].is_array()) return bad("files", "must be an array");
  for (size_t i = 0; i < j["files"].size(); ++i) {
    const auto& f = j["files"][i];
    const std::string at = "files[" + std::to_string(i) + "]";
    if (!f.is_object()) return bad(at, "must be an object");
    ManifestFile mf;
    if (!f.contains("name") || !f["name"].is_string()) return bad(at + ".name", "must be a string");
    mf.name = f["name"];
    for (auto [key, out] : {std::pair{"records", &mf.records}, std::pair{"bytes", &mf.bytes},
                            std::pair{"uncompressedBytes", &mf.uncompressed_bytes}}) {
      if (!f.contains(key) || !f[key].is_number_integer() || f[key].get<int64_t>() < 0)
        return bad(at + "." + key, "must be a non-negative integer");
      *out = f[key].get<int64_t>();
    }
    if (!f.contains("sha256") || !f["sha256"].is_string() ||
        f["sha256"].get<std::string>().size() != 64)
      return bad(at + ".sha256", "must be 64 hex characters");
    mf.sha256 = f["sha256"];
    m.files.push_back(std::move(mf));
  }
  return m;
}

std::string ArchiveReadme(const Manifest& m) {
  std::string s;
  s += "# Export of the organisation \"" + m.org_name + "\" from bysans\n\n";
  s += "Made by bysans " + m.bysans_version + " on " + FormatRfc3339(m.exported_ms) + " (format `" +
       m.format + "`, version " + std::to_string(m.format_version) + ").\n\n";
  s += R"(This file is a POSIX tar archive (`tar xf FILE` on any system). Every file in it is in an
open format: UTF-8 JSON (RFC 8259), JSON Lines (one JSON object per line) compressed with gzip
(RFC 1952; `gunzip` or `zcat`), and this Markdown text. Times are RFC 3339 in UTC with
milliseconds ("2026-01-31T12:00:00.000Z"). Ids are the numbers the exporting server used; they
tie the files together (a reading's "device" is an "id" in devices.json) and mean nothing
elsewhere.

## Files
- `manifest.json`: format name and version, bysans version, organisation, export time, and per
  file its number of records, its size in bytes as stored (and uncompressed) and its SHA-256
  (`sha256sum FILE` must print the same).
- `organization.json`: the organisation (name, created, decoder time limit).
- `applications.json`: its applications (name, description, data class — none, pseudonymous,
  personal or sensitive — and the older personal data flag, retention in days per kind of data
  (null: the server default), the record of processing texts, decoder id).
- `device_models.json`: FIWARE DeviceModel documents (`doc`).
- `devices.json`: devices (application, name, transport, LoRaWAN DevEUI, location as WGS 84
  lat/lon, tags, metadata, device model, expected interval, decoder id, MQTT user name) and
  `locationHistory`: every location the device had, oldest first, with the time it was set
  (SensorThings HistoricalLocations).
- `decoders.json`: payload decoders with every saved version (`versions`, oldest first: code,
  calling convention, time).
- `rules.json`: alarm rules (`definition` as the rules API takes it). `silences.json`: active
  silences. `data_targets.json`: where data was forwarded. `integrations.json`: connections to
  other MQTT brokers (ChirpStack, external brokers).
- `members.json`: the people with access (e-mail, name, role; `applications`, when present, lists
  the ids in `applications.json` a member's role was restricted to).
- `readings.jsonl.gz`: one reading per line: `device` (id), `key` (e.g. "air.no2"), `time`,
  `value` (a JSON number, string or boolean, as measured), `unit` (may be ""), `quality`
  ("ok", "out_of_range", "stuck", "spike", "late": the plausibility checks' verdict). Lines are
  ordered by device id, key, time.
- `raw_messages.jsonl.gz`: every message as received, one per line: `id`, `device`, `time`
  (received), `transport` ("http", "mqtt", "lorawan"), `contentType`, `payload` (the bytes,
  base64), `decodeStatus` ("ok", "error", "none", "pending"), `decodeError`, `decodeErrors`,
  `decodeWarnings` (the decoder's notes). Ordered by device id, then as received.
- `alarms.jsonl.gz`: every alarm a rule raised, one per line: `id`, `rule`, `device`, `state`
  ("active", "acknowledged", "cleared"), `raisedAt`, and `alarm`, the whole alarm: `severity`,
  `message`, `values` (the readings that raised it), who acknowledged or cleared it and when
  (`ackBy`, `ackMs`, `clearedBy`, `clearedMs`: times in milliseconds since 1970), `comments`,
  `history`. Newest first.

## Secrets are not in this archive
Password hashes, API keys, device ingest keys, MQTT device passwords, data target headers and
passwords, and integration passwords and private keys are left out; where one was set, the field
says "re-enter". Members have no password here: whoever imports the archive invites them again.
)";
  return s;
}

}  // namespace bysans::archive

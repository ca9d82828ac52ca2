// The domain model: plain value types shared by every module. No behaviour
// beyond small helpers; validation lives in model/validate.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/clock.h"

namespace bysans {

using Id = int64_t;  // database ids; 0 means "not yet assigned"

// Ordered: a check "at least editor" is a comparison. An operator handles alarms (acknowledge,
// comment, clear, silence) and configures nothing. The enum's numbers are ranks, not the
// stored form: memberships, invitations and API keys store RoleCode (viewer 1, editor 2,
// admin 3 as before operator existed, operator 4).
enum class Role { kViewer = 1, kOperator = 2, kEditor = 3, kAdmin = 4 };
const char* RoleName(Role r);  // "viewer", "operator", "editor", "admin"
std::optional<Role> ParseRole(std::string_view s);
int64_t RoleCode(Role r);
Role RoleFromCode(int64_t code);  // an unknown code is the least role (viewer)

enum class Transport { kHttp, kMqtt, kLorawan };
const char* TransportName(Transport t);
std::optional<Transport> ParseTransport(std::string_view s);

struct Organization {
  Id id = 0;
  std::string name;
  TimeMs created_ms = 0;
  int64_t decoder_timeout_ms = 100;  // wall time per payload decoder call, 1..5000
  // Devices it may have; nullopt: the server's default (limits.max_devices_per_org). Set by a
  // global admin only (api/organizations.cc).
  std::optional<int64_t> max_devices;
};

// How personal an application's data is: kPseudonymous (a device id stands for a person),
// kPersonal (identifies people), kSensitive (special categories, e.g. health: fall sensors).
enum class DataClass : uint8_t { kNone = 0, kPseudonymous = 1, kPersonal = 2, kSensitive = 3 };
const char* DataClassName(DataClass c);
std::optional<DataClass> ParseDataClass(std::string_view s);
// True for every class but kNone: personal data in the GDPR's sense (the old `personalData`).
inline bool HoldsPersonalData(DataClass c) { return c != DataClass::kNone; }

// Retention in days per kind of data; nullopt = not set (a default applies).
struct RetentionDays {
  std::optional<int> raw_messages_days;
  std::optional<int> readings_days;
  std::optional<int> aggregates_days;
  bool operator==(const RetentionDays&) const = default;
};

struct Application {
  Id id = 0;
  Id org_id = 0;
  std::string name;
  std::string description;
  TimeMs created_ms = 0;
  // What its data says about people (GDPR, model/privacy.h): anything but kNone is never
  // published as open data (api/open_data*.cc refuses it, and the class cannot be raised while an
  // open-data dataset covers the application), only admins export it, and every read of its
  // readings and messages is audited (api/privacy_audit.h).
  DataClass data_class = DataClass::kNone;
  // Days each kind of data is kept; nullopt = the server default of the data class
  // (model/retention.h EffectiveRetention).
  RetentionDays retention;
  // The record of processing (GDPR art. 30), short texts: why the data is collected, on which
  // legal basis, what categories of data, and who receives it.
  std::string purpose;
  std::string legal_basis;
  std::string data_categories;
  std::string recipients;
  // Device metadata keys that hold personal data (a citizen's id, an address): never passed to
  // decoders, data targets, NGSI-LD, open data or the live stream (PersonalMetadataStripped);
  // members still see them in the device API.
  std::vector<std::string> personal_metadata_keys;
};

struct Location {
  double lat = 0;
  double lon = 0;
};

struct Device {
  Id id = 0;
  Id org_id = 0;  // denormalised from the application, for tenancy checks
  Id app_id = 0;
  std::string name;
  Transport transport = Transport::kHttp;
  std::string dev_eui;  // LoRaWAN only: 16 lower-case hex characters
  std::optional<Location> location;
  std::vector<std::string> tags;
  std::map<std::string, std::string> metadata;  // free key/values
  std::optional<Id> device_model_id;
  int64_t expected_interval_s = 0;  // 0 = unknown
  bool in_maintenance = false;
  TimeMs created_ms = 0;
};

// Removes the metadata keys its application marks personal (Application::
// personal_metadata_keys) from a device about to leave bysans' own API: the decoder's input, a
// data target's or NGSI-LD payload, open data, the live stream. True when one was removed.
bool StripPersonalMetadata(const std::vector<std::string>& personal_keys, Device* d);

// FIWARE Smart Data Models DeviceModel. `doc` keeps the whole JSON document
// (controlledProperty, brandName, modelName, ...); the fields below are the
// ones bysans reads.
struct DeviceModel {
  Id id = 0;
  Id org_id = 0;
  std::string name;
  std::string doc_json;  // the full DeviceModel JSON object
  TimeMs created_ms = 0;
};

enum class Quality : uint8_t { kOk = 0, kOutOfRange = 1, kStuck = 2, kSpike = 3, kLate = 4 };
const char* QualityName(Quality q);
std::optional<Quality> ParseQuality(std::string_view s);

// A reading value: number, string or boolean.
using Value = std::variant<double, std::string, bool>;

struct Reading {
  Id device_id = 0;
  std::string key;  // dotted path, e.g. "air.no2"
  TimeMs ts = 0;
  Value value;
  std::string unit;  // may be empty
  Quality quality = Quality::kOk;
};

// The times a reading may have: ±10^15 ms, about ±31,700 years around 1970, so that every store
// keeps them and computes their hours and months without overflow. Ingest stores a message with a
// reading outside as raw, with the error; a store refuses a batch holding one, and only that batch.
constexpr TimeMs kReadingTimeLimitMs = 1'000'000'000'000'000;
constexpr bool ReadingTimeInRange(TimeMs t) {
  return t >= -kReadingTimeLimitMs && t <= kReadingTimeLimitMs;
}

enum class DecodeStatus : uint8_t { kPending = 0, kOk = 1, kError = 2, kNone = 3 };
const char* DecodeStatusName(DecodeStatus s);

struct RawMessage {
  Id id = 0;
  Id device_id = 0;
  TimeMs received_ms = 0;
  Transport transport = Transport::kHttp;
  std::string content_type;
  std::string payload;  // raw bytes as received
  DecodeStatus decode_status = DecodeStatus::kPending;
  std::string decode_error;
  // A decoder's structured notes (decodeUplink `errors` / `warnings`, conversion warnings);
  // non-empty decode_errors means decoding failed (decode_status kError).
  std::vector<std::string> decode_errors;
  std::vector<std::string> decode_warnings;
  // Idempotency key (pipeline::Uplink::dedup_key); empty = none. The store
  // skips a message whose key was already committed, with its batch's readings.
  std::string dedup_key;
};

struct User {
  Id id = 0;
  std::string email;  // stored lower-case
  std::string name;
  std::string password_hash;  // argon2id string (crypto_pwhash_str)
  bool global_admin = false;
  TimeMs created_ms = 0;
};

struct Membership {
  Id user_id = 0;
  Id org_id = 0;
  Role role = Role::kViewer;
  // Access per application (issue 21 §2): when set, the role holds on `app_ids` only and the
  // member has no role in the organisation as a whole (auth::Principal::RoleIn). An empty list
  // then reaches nothing (the last of the applications was deleted): never the whole
  // organisation. Only viewer, operator and editor may be restricted (api/members.cc).
  bool app_scoped = false;
  std::vector<Id> app_ids;  // sorted, each an application of `org_id`
};

// An API key scoped to one organisation and role. Only the SHA-256 of the
// secret is stored; `prefix` (first characters) is kept to help people tell
// keys apart.
struct ApiKey {
  Id id = 0;
  Id org_id = 0;
  std::string name;
  Role role = Role::kViewer;
  std::string prefix;
  std::string secret_hash;  // hex SHA-256 of the full key
  std::optional<TimeMs> expires_ms;
  Id created_by = 0;  // user id, 0 = created by an API key
  // The API key that created this one; revoking that key revokes this one too
  // (api/api_keys.cc). Never outlives or out-ranks its creator.
  std::optional<Id> created_by_key;
  TimeMs created_ms = 0;
  // SensorThings over MQTT (server/sta_mqtt.h): non-empty for a key created with "mqtt": true,
  // the Mosquitto "$7$" hash of the key, which makes the key a user of the supervised broker.
  std::string mqtt_hash;
};

// An organisation admin's invitation of an email address to a role. Only the
// user with that email sees it and accepts or declines it (api/invitations.cc).
struct Invitation {
  Id id = 0;
  Id org_id = 0;
  std::string email;  // lower-case
  Role role = Role::kViewer;
  Id invited_by = 0;  // user id, 0 = an API key
  TimeMs created_ms = 0;
  TimeMs expires_ms = 0;
  // The role on these applications only, as a Membership's app_scoped / app_ids; accepting it
  // gives the membership that restriction. A deleted application leaves the list.
  bool app_scoped = false;
  std::vector<Id> app_ids;
};

struct Session {
  std::string token_hash;  // hex SHA-256 of the cookie value
  Id user_id = 0;
  TimeMs created_ms = 0;
  TimeMs expires_ms = 0;
};

struct AuditEntry {
  Id id = 0;
  std::optional<Id> org_id;  // nullopt for global actions (e.g. login)
  std::optional<Id> user_id;
  std::optional<Id> api_key_id;
  std::string action;       // "login", "create", "update", "delete", ...
  std::string object_type;  // "device", "application", ...
  std::string object_id;
  std::string remote_addr;
  std::string detail;  // short JSON or text
  TimeMs ts = 0;
};

}  // namespace bysans

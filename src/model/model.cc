#include "model/model.h"

namespace bysans {

const char* RoleName(Role r) {
  switch (r) {
    case Role::kViewer:
      return "viewer";
    case Role::kOperator:
      return "operator";
    case Role::kEditor:
      return "editor";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

std::optional<Role> ParseRole(std::string_view s) {
  for (Role r : {Role::kViewer, Role::kOperator, Role::kEditor, Role::kAdmin}) {
    if (s == RoleName(r)) return r;
  }
  return std::nullopt;
}

int64_t RoleCode(Role r) {
  switch (r) {
    case Role::kViewer:
      return 1;
    case Role::kEditor:
      return 2;
    case Role::kAdmin:
      return 3;
    case Role::kOperator:
      return 4;
  }
  return 1;
}

Role RoleFromCode(int64_t code) {
  for (Role r : {Role::kOperator, Role::kEditor, Role::kAdmin}) {
    if (code == RoleCode(r)) return r;
  }
  return Role::kViewer;
}

const char* DataClassName(DataClass c) {
  switch (c) {
    case DataClass::kNone:
      return "none";
    case DataClass::kPseudonymous:
      return "pseudonymous";
    case DataClass::kPersonal:
      return "personal";
    case DataClass::kSensitive:
      return "sensitive";
  }
  return "none";
}

std::optional<DataClass> ParseDataClass(std::string_view s) {
  for (DataClass c :
       {DataClass::kNone, DataClass::kPseudonymous, DataClass::kPersonal, DataClass::kSensitive}) {
    if (s == DataClassName(c)) return c;
  }
  return std::nullopt;
}

const char* TransportName(Transport t) {
  switch (t) {
    case Transport::kHttp:
      return "http";
    case Transport::kMqtt:
      return "mqtt";
    case Transport::kLorawan:
      return "lorawan";
  }
  return "http";
}

std::optional<Transport> ParseTransport(std::string_view s) {
  if (s == "http") return Transport::kHttp;
  if (s == "mqtt") return Transport::kMqtt;
  if (s == "lorawan") return Transport::kLorawan;
  return std::nullopt;
}

const char* QualityName(Quality q) {
  switch (q) {
    case Quality::kOk:
      return "ok";
    case Quality::kOutOfRange:
      return "out_of_range";
    case Quality::kStuck:
      return "stuck";
    case Quality::kSpike:
      return "spike";
    case Quality::kLate:
      return "late";
  }
  return "ok";
}

std::optional<Quality> ParseQuality(std::string_view s) {
  for (auto q :
       {Quality::kOk, Quality::kOutOfRange, Quality::kStuck, Quality::kSpike, Quality::kLate})
    if (s == QualityName(q)) return q;
  return std::nullopt;
}

const char* DecodeStatusName(DecodeStatus s) {
  switch (s) {
    case DecodeStatus::kPending:
      return "pending";
    case DecodeStatus::kOk:
      return "ok";
    case DecodeStatus::kError:
      return "error";
    case DecodeStatus::kNone:
      return "none";
  }
  return "pending";
}

bool StripPersonalMetadata(const std::vector<std::string>& personal_keys, Device* d) {
  bool removed = false;
  for (const std::string& k : personal_keys) removed |= d->metadata.erase(k) > 0;
  return removed;
}

}  // namespace bysans

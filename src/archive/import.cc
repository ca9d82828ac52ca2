#include "archive/import.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "archive/alarms.h"
#include "archive/format.h"
#include "archive/member.h"
#include "archive/records.h"
#include "archive/tar.h"
#include "core/time_format.h"
#include "model/contact.h"
#include "model/retention.h"
#include "store/contact_store.h"
#include "store/decoder_store.h"
#include "store/mqtt_store.h"
#include "store/rule_store.h"
#include "store/target_store.h"

namespace bysans::archive {
namespace {

using nlohmann::json;

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// Typed access to one JSON object of a file; the first error is kept, naming file, index and
// field ("devices.json[3].name: must be a string").
class Obj {
 public:
  Obj(const json& j, std::string where, Status& err) : j_(j), where_(std::move(where)), err_(err) {
    if (!j_.is_object()) Fail("", "must be an object");
  }
  const json* Get(const char* f, bool nullable = false) {
    if (!err_.ok() || !j_.is_object()) return nullptr;
    auto it = j_.find(f);
    if (it == j_.end()) {
      Fail(f, "is missing");
      return nullptr;
    }
    if (it->is_null()) {
      if (!nullable) Fail(f, "must not be null");
      return nullptr;
    }
    return &*it;
  }
  std::string Str(const char* f) {
    const json* v = Get(f);
    if (v && !v->is_string()) Fail(f, "must be a string");
    return v && v->is_string() ? v->get<std::string>() : "";
  }
  int64_t Int(const char* f) {
    const json* v = Get(f);
    if (v && !v->is_number_integer()) Fail(f, "must be an integer");
    return v && v->is_number_integer() ? v->get<int64_t>() : 0;
  }
  std::optional<Id> OptId(const char* f) {
    const json* v = Get(f, true);
    if (!v) return std::nullopt;
    if (!v->is_number_integer() || v->get<int64_t>() <= 0) {
      Fail(f, "must be a positive integer or null");
      return std::nullopt;
    }
    return v->get<int64_t>();
  }
  Id IdOf(const char* f) {
    const int64_t v = Int(f);
    if (err_.ok() && v <= 0) Fail(f, "must be a positive integer");
    return v;
  }
  bool Bool(const char* f) {
    const json* v = Get(f);
    if (v && !v->is_boolean()) Fail(f, "must be true or false");
    return v && v->is_boolean() && v->get<bool>();
  }
  double Num(const char* f) {
    const json* v = Get(f);
    if (v && !v->is_number()) Fail(f, "must be a number");
    return v && v->is_number() ? v->get<double>() : 0;
  }
  TimeMs Time(const char* f) {
    const std::string s = Str(f);
    if (!err_.ok()) return 0;
    auto t = ParseTime(s);
    if (!t) Fail(f, "must be an RFC 3339 time");
    return t.value_or(0);
  }
  const json& Any(const char* f, bool nullable = true) {
    static const json kNull;
    const json* v = Get(f, nullable);
    return v ? *v : kNull;
  }
  void Fail(const std::string& f, const std::string& what) {
    if (err_.ok()) err_ = InvalidArgument(where_ + (f.empty() ? "" : "." + f) + ": " + what);
  }
  bool ok() const { return err_.ok(); }

 private:
  const json& j_;
  std::string where_;
  Status& err_;
};

// An application's data class, retention and record-of-processing texts (archives written
// before they existed carry only `personalData`, read by the caller).
void ReadPrivacy(const json& j, Obj& o, Application* a) {
  if (j.contains("dataClass")) {
    auto c = ParseDataClass(o.Str("dataClass"));
    if (o.ok() && !c) o.Fail("dataClass", "must be none, pseudonymous, personal or sensitive");
    if (c) a->data_class = *c;
  }
  if (j.contains("retention")) {
    const json& r = o.Any("retention", false);
    auto days = [&](const char* f) -> std::optional<int> {
      if (!r.is_object() || !r.contains(f) || r[f].is_null()) return std::nullopt;
      if (!r[f].is_number_integer()) {
        o.Fail(std::string("retention.") + f, "must be an integer or null");
        return std::nullopt;
      }
      return static_cast<int>(std::clamp<int64_t>(r[f].get<int64_t>(), INT32_MIN, INT32_MAX));
    };
    a->retention = {days("rawMessagesDays"), days("readingsDays"), days("aggregatesDays")};
    if (Status st = ValidateRetention(a->retention, "retention"); o.ok() && !st.ok()) {
      o.Fail("", st.message());
    }
  }
  for (auto [field, out] : {std::pair{"purpose", &a->purpose},
                            {"legalBasis", &a->legal_basis},
                            {"dataCategories", &a->data_categories},
                            {"recipients", &a->recipients}}) {
    if (j.contains(field)) *out = o.Str(field);
  }
}

// The archive's metadata, parsed and checked.
struct Parsed {
  Manifest manifest;
  std::map<std::string, TarEntry> entries;
  Organization org;
  std::vector<std::pair<Application, std::optional<Id>>> apps;  // + decoder id
  std::vector<DeviceModel> models;
  struct Dev {
    Device d;
    std::optional<Id> decoder;
    std::string mqtt_username;
    std::vector<DeviceLocation> history;  // locationHistory, oldest first (optional)
  };
  std::vector<Dev> devices;
  struct Dec {
    StoredDecoder d;
    std::vector<DecoderVersion> versions;  // oldest first
  };
  std::vector<Dec> decoders;
  std::vector<std::pair<RuleRecord, json>> rules;
  std::vector<std::pair<DataTarget, std::vector<std::string>>> targets;  // + header names
  std::vector<MqttIntegration> integrations;
  // Invited again: e-mail, role and, for a member restricted to some applications, their
  // (old) application ids.
  struct Member {
    std::string email;
    Role role;
    std::optional<std::vector<Id>> apps;
  };
  std::vector<Member> members;
  std::vector<SilenceRecord> silences;
  // Responsible contacts by the archive's application and device ids (issue 20; optional).
  std::map<Id, std::vector<Contact>> app_contacts, device_contacts;
  std::vector<AlarmRecord> alarms;  // alarms.jsonl.gz, when the archive has it
};

// The "contacts" of an application or device document, checked as the API checks them; none
// when absent (archives before issue 20).
std::vector<Contact> ReadContacts(const json& doc, Obj& o, const std::string& where, Status& err) {
  std::vector<Contact> out;
  if (!o.ok() || !doc.contains("contacts")) return out;
  const json& list = o.Any("contacts", false);
  if (o.ok() && !list.is_array()) o.Fail("contacts", "must be an array");
  for (size_t k = 0; o.ok() && k < list.size(); ++k) {
    Obj c(list[k], where + ".contacts[" + std::to_string(k) + "]", err);
    out.push_back({c.Str("name"), c.Str("email"), c.Str("phone"), c.Str("role")});
  }
  if (o.ok()) {
    Status s = ValidateContacts(out);
    if (!s.ok()) o.Fail("contacts", s.message());
  }
  return out;
}

Status CheckArray(const json& doc, const std::string& name) {
  return doc.is_array() ? Status::Ok() : InvalidArgument(name + ": must be a JSON array");
}

Status ParseFiles(const std::map<std::string, json>& docs, Parsed& p) {
  Status err;
  auto at = [](const std::string& f, size_t i) { return f + "[" + std::to_string(i) + "]"; };
  {
    Obj o(docs.at("organization.json"), "organization.json", err);
    p.org.name = o.Str("name");
    p.org.created_ms = o.Time("createdAt");
    p.org.decoder_timeout_ms = o.Int("decoderTimeoutMs");
    BYSANS_RETURN_IF_ERROR(err);
  }
  for (const char* f :
       {"applications.json", "device_models.json", "devices.json", "decoders.json", "rules.json",
        "silences.json", "data_targets.json", "integrations.json", "members.json"}) {
    BYSANS_RETURN_IF_ERROR(CheckArray(docs.at(f), f));
  }
  std::set<Id> app_ids, model_ids, dec_ids, dev_ids;
  const json& decs = docs.at("decoders.json");
  for (size_t i = 0; i < decs.size() && err.ok(); ++i) {
    Obj o(decs[i], at("decoders.json", i), err);
    Parsed::Dec d;
    d.d.id = o.IdOf("id");
    d.d.name = o.Str("name");
    const std::string kind = o.Str("kind");
    if (o.ok() && !ParseDecoderKind(kind)) o.Fail("kind", "unknown decoder kind \"" + kind + "\"");
    if (o.ok()) d.d.kind = *ParseDecoderKind(kind);
    d.d.created_ms = o.Time("createdAt");
    const json& vs = o.Any("versions", false);
    if (o.ok() && (!vs.is_array() || vs.empty())) o.Fail("versions", "must be a non-empty array");
    for (size_t k = 0; o.ok() && k < vs.size(); ++k) {
      Obj v(vs[k], at(at("decoders.json", i) + ".versions", k), err);
      DecoderVersion dv;
      dv.version = v.Int("version");
      dv.code = v.Str("code");
      dv.contract = v.Str("contract");
      dv.created_ms = v.Time("createdAt");
      d.versions.push_back(std::move(dv));
    }
    dec_ids.insert(d.d.id);
    p.decoders.push_back(std::move(d));
  }
  const json& apps = docs.at("applications.json");
  for (size_t i = 0; i < apps.size() && err.ok(); ++i) {
    Obj o(apps[i], at("applications.json", i), err);
    Application a;
    a.id = o.IdOf("id");
    a.name = o.Str("name");
    a.description = o.Str("description");
    a.created_ms = o.Time("createdAt");
    if (o.Bool("personalData")) a.data_class = DataClass::kPersonal;
    ReadPrivacy(apps[i], o, &a);
    auto dec = o.OptId("decoderId");
    if (o.ok() && dec && !dec_ids.count(*dec))
      o.Fail("decoderId", "names no decoder of the archive");
    app_ids.insert(a.id);
    auto contacts = ReadContacts(apps[i], o, at("applications.json", i), err);
    if (!contacts.empty()) p.app_contacts[a.id] = std::move(contacts);
    p.apps.emplace_back(a, dec);
  }
  const json& models = docs.at("device_models.json");
  for (size_t i = 0; i < models.size() && err.ok(); ++i) {
    Obj o(models[i], at("device_models.json", i), err);
    DeviceModel m;
    m.id = o.IdOf("id");
    m.name = o.Str("name");
    m.doc_json = o.Any("doc", false).dump();
    m.created_ms = o.Time("createdAt");
    model_ids.insert(m.id);
    p.models.push_back(std::move(m));
  }
  const json& devs = docs.at("devices.json");
  for (size_t i = 0; i < devs.size() && err.ok(); ++i) {
    Obj o(devs[i], at("devices.json", i), err);
    Parsed::Dev d;
    d.d.id = o.IdOf("id");
    d.d.app_id = o.IdOf("applicationId");
    if (o.ok() && !app_ids.count(d.d.app_id))
      o.Fail("applicationId", "names no application of the archive");
    d.d.name = o.Str("name");
    const std::string tr = o.Str("transport");
    if (o.ok() && !ParseTransport(tr)) o.Fail("transport", "unknown transport \"" + tr + "\"");
    if (o.ok()) d.d.transport = *ParseTransport(tr);
    d.d.dev_eui = o.Str("devEui");
    const json& loc = o.Any("location");
    if (o.ok() && !loc.is_null()) {
      Obj l(loc, at("devices.json", i) + ".location", err);
      d.d.location = Location{l.Num("lat"), l.Num("lon")};
    }
    const json& tags = o.Any("tags", false);
    if (o.ok() && !tags.is_array()) o.Fail("tags", "must be an array of strings");
    for (const auto& t : o.ok() ? tags : json::array()) {
      if (!t.is_string())
        o.Fail("tags", "must be an array of strings");
      else
        d.d.tags.push_back(t);
    }
    const json& meta = o.Any("metadata", false);
    if (o.ok() && !meta.is_object()) o.Fail("metadata", "must be an object of strings");
    if (o.ok()) {
      for (const auto& [k, v] : meta.items()) {
        if (!v.is_string())
          o.Fail("metadata." + k, "must be a string");
        else
          d.d.metadata[k] = v.get<std::string>();
      }
    }
    d.d.device_model_id = o.OptId("deviceModelId");
    if (o.ok() && d.d.device_model_id && !model_ids.count(*d.d.device_model_id))
      o.Fail("deviceModelId", "names no device model of the archive");
    d.d.expected_interval_s = o.Int("expectedIntervalS");
    d.d.in_maintenance = o.Bool("inMaintenance");
    d.d.created_ms = o.Time("createdAt");
    if (o.ok() && devs[i].contains("locationHistory")) {  // archives before it have none
      const json& hist = o.Any("locationHistory", false);
      if (o.ok() && !hist.is_array()) o.Fail("locationHistory", "must be an array");
      for (size_t k = 0; o.ok() && k < hist.size(); ++k) {
        Obj h(hist[k], at("devices.json", i) + ".locationHistory[" + std::to_string(k) + "]", err);
        DeviceLocation e;
        e.time = h.Time("time");
        e.location = Location{h.Num("lat"), h.Num("lon")};
        d.history.push_back(e);
      }
    }
    d.decoder = o.OptId("decoderId");
    if (o.ok() && d.decoder && !dec_ids.count(*d.decoder))
      o.Fail("decoderId", "names no decoder of the archive");
    if (o.ok() && devs[i].contains("mqtt")) {
      Obj m(devs[i]["mqtt"], at("devices.json", i) + ".mqtt", err);
      d.mqtt_username = m.Str("username");
    }
    auto contacts = ReadContacts(devs[i], o, at("devices.json", i), err);
    if (!contacts.empty()) p.device_contacts[d.d.id] = std::move(contacts);
    if (o.ok() && !dev_ids.insert(d.d.id).second) o.Fail("id", "appears twice");
    p.devices.push_back(std::move(d));
  }
  const json& rules = docs.at("rules.json");
  for (size_t i = 0; i < rules.size() && err.ok(); ++i) {
    Obj o(rules[i], at("rules.json", i), err);
    RuleRecord r;
    r.id = o.IdOf("id");
    o.Bool("enabled");
    json def = o.Any("definition", false);
    if (o.ok() && !def.is_object()) o.Fail("definition", "must be an object");
    if (o.ok() && def.contains("scope")) {
      Obj s(def["scope"], at("rules.json", i) + ".definition.scope", err);
      const std::string kind = s.Str("kind");
      // Tag and gateway scopes name no object of the archive (a gateway is per organisation and
      // id; the imported organisation's gateways appear with their events).
      if (s.ok() && kind != "tag" && kind != "gateway") {
        const Id id = s.IdOf("id");
        const auto& known = kind == "device"        ? dev_ids
                            : kind == "application" ? app_ids
                                                    : model_ids;
        if (s.ok() && !known.count(id)) s.Fail("id", "names no " + kind + " of the archive");
      }
    }
    r.created_ms = o.Time("createdAt");
    p.rules.emplace_back(r, def);
  }
  std::set<Id> rule_ids;
  for (const auto& [r, def] : p.rules) rule_ids.insert(r.id);
  const json& silences = docs.at("silences.json");
  for (size_t i = 0; i < silences.size() && err.ok(); ++i) {
    Obj o(silences[i], at("silences.json", i), err);
    SilenceRecord s;
    s.id = o.IdOf("id");
    s.device_id = o.OptId("deviceId");
    s.rule_id = o.OptId("ruleId");
    s.until_ms = o.Time("until");
    s.created_by = o.Str("createdBy");
    s.created_ms = o.Time("createdAt");
    if (o.ok() && s.device_id && !dev_ids.count(*s.device_id))
      o.Fail("deviceId", "names no device of the archive");
    if (o.ok() && s.rule_id && !rule_ids.count(*s.rule_id))
      o.Fail("ruleId", "names no rule of the archive");
    p.silences.push_back(s);
  }
  const json& targets = docs.at("data_targets.json");
  for (size_t i = 0; i < targets.size() && err.ok(); ++i) {
    Obj o(targets[i], at("data_targets.json", i), err);
    DataTarget t;
    t.id = o.IdOf("id");
    t.app_id = o.IdOf("applicationId");
    if (o.ok() && !app_ids.count(t.app_id))
      o.Fail("applicationId", "names no application of the archive");
    t.name = o.Str("name");
    t.type = o.Str("type");
    t.url = o.Str("url");
    t.format = o.Str("format");
    t.batch_size = static_cast<int>(o.Int("batchSize"));
    t.timeout_ms = o.Int("timeoutMs");
    const json& ids = o.Any("deviceIds", false);
    if (o.ok() && !ids.is_array()) o.Fail("deviceIds", "must be an array of ids");
    for (const auto& id : o.ok() ? ids : json::array()) {
      if (!id.is_number_integer() || !dev_ids.count(id.get<int64_t>()))
        o.Fail("deviceIds", "names a device not in the archive");
      else
        t.device_ids.push_back(id.get<int64_t>());
    }
    std::vector<std::string> headers;
    const json& h = o.Any("headers", false);
    if (o.ok() && !h.is_object()) o.Fail("headers", "must be an object");
    if (o.ok())
      for (const auto& [k, v] : h.items()) headers.push_back(k);
    t.topic = o.Str("topic");
    const json& ng = o.Any("ngsild");
    t.ngsild_json = ng.is_null() ? "" : ng.dump();
    t.qos = static_cast<int>(o.Int("qos"));
    t.retain = o.Bool("retain");
    t.username = o.Str("username");
    t.max_attempts = static_cast<int>(o.Int("maxAttempts"));
    t.max_age_ms = o.Int("maxAgeMs");
    t.created_ms = o.Time("createdAt");
    p.targets.emplace_back(t, headers);
  }
  const json& ints = docs.at("integrations.json");
  for (size_t i = 0; i < ints.size() && err.ok(); ++i) {
    Obj o(ints[i], at("integrations.json", i), err);
    MqttIntegration m;
    m.id = o.IdOf("id");
    m.kind = o.Str("kind");
    auto app = o.OptId("applicationId");
    if (o.ok() && app && !app_ids.count(*app))
      o.Fail("applicationId", "names no application of the archive");
    m.app_id = app.value_or(0);
    m.name = o.Str("name");
    m.url = o.Str("url");
    m.username = o.Str("username");
    m.enabled = o.Bool("enabled");
    m.topic_filter = o.Str("topicFilter");
    m.device_topic_level = static_cast<int>(o.Int("deviceTopicLevel"));
    m.device_match = o.Str("deviceMatch");
    m.ca_cert = o.Str("caCert");
    m.client_cert = o.Str("clientCert");
    m.created_ms = o.Time("createdAt");
    p.integrations.push_back(std::move(m));
  }
  const json& members = docs.at("members.json");
  for (size_t i = 0; i < members.size() && err.ok(); ++i) {
    Obj o(members[i], at("members.json", i), err);
    const std::string email = o.Str("email");
    o.Str("name");
    const std::string role = o.Str("role");
    if (o.ok() && !ParseRole(role)) o.Fail("role", "unknown role \"" + role + "\"");
    // A member restricted to some applications is invited to those (under their new ids).
    std::optional<std::vector<Id>> apps;
    const auto scope = members[i].find("applications");
    if (o.ok() && scope != members[i].end() && !scope->is_null()) {
      if (!scope->is_array()) o.Fail("applications", "must be null or a list of application ids");
      apps.emplace();
      for (const json& v : *scope) {
        if (!v.is_number_integer()) o.Fail("applications", "must list application ids");
        if (!o.ok()) break;
        apps->push_back(v.get<Id>());
      }
    }
    if (o.ok()) p.members.push_back({email, *ParseRole(role), std::move(apps)});
  }
  return err;
}

// Reads every line of a JSON Lines member, checks its SHA-256 and record count against the
// manifest; `each` sees every line (parsed by the caller).
template <typename F>
Status ForEachLine(std::FILE* f, const Parsed& p, const std::string& name, F each) {
  const TarEntry& e = p.entries.at(name);
  const ManifestFile* mf = nullptr;
  for (const auto& x : p.manifest.files)
    if (x.name == name) mf = &x;
  LineReader r(f, e.offset, e.size, true, name);
  std::string_view line;
  int64_t n = 0;
  while (r.Next(line)) {
    ++n;
    Status st = each(line);
    if (!st.ok())
      return InvalidArgument(name + " line " + std::to_string(r.line_no()) + ": " + st.message());
  }
  BYSANS_RETURN_IF_ERROR(r.status());
  if (r.HexDigest() != mf->sha256)
    return InvalidArgument(name + ": SHA-256 differs from manifest.json (changed or damaged)");
  if (n != mf->records)
    return InvalidArgument(name + ": " + std::to_string(n) + " lines, manifest.json says " +
                           std::to_string(mf->records));
  return Status::Ok();
}

// Pass one: everything but the data lines' contents is in `p`; the data lines are parsed and
// checked here and again (streamed) when written.
Status Verify(std::FILE* f, Parsed& p) {
  BYSANS_ASSIGN_OR_RETURN(auto entries, ListTar(f));
  for (auto& e : entries) {
    if (!p.entries.emplace(e.name, e).second)
      return InvalidArgument("the archive holds " + e.name + " twice");
  }
  if (!p.entries.count(kManifest)) return InvalidArgument("the archive has no manifest.json");
  std::string sha;
  const TarEntry& me = p.entries[kManifest];
  BYSANS_ASSIGN_OR_RETURN(std::string mtext, ReadMember(f, me.offset, me.size, sha));
  BYSANS_ASSIGN_OR_RETURN(p.manifest, ParseManifest(mtext));
  std::set<std::string> listed;
  for (const auto& mf : p.manifest.files) listed.insert(mf.name);
  std::vector<std::string> required = JsonFiles();
  required.push_back(kReadings);
  required.push_back(kRawMessages);
  for (const auto& name : required) {
    if (!listed.count(name)) return InvalidArgument("manifest.json does not list " + name);
    if (!p.entries.count(name)) return InvalidArgument("the archive has no " + name);
  }
  for (const auto& [name, e] : p.entries) {
    if (name != kManifest && name != kReadme && !listed.count(name))
      return InvalidArgument("the archive holds " + name + ", which manifest.json does not list");
  }
  for (const auto& mf : p.manifest.files) {
    if (!p.entries.count(mf.name))
      return InvalidArgument("manifest.json lists " + mf.name + ", which the archive lacks");
    if (p.entries[mf.name].size != mf.bytes)
      return InvalidArgument(mf.name + ": " + std::to_string(p.entries[mf.name].size) +
                             " bytes, manifest.json says " + std::to_string(mf.bytes));
  }
  std::map<std::string, json> docs;
  for (const auto& name : JsonFiles()) {
    const TarEntry& e = p.entries[name];
    BYSANS_ASSIGN_OR_RETURN(std::string text, ReadMember(f, e.offset, e.size, sha));
    for (const auto& mf : p.manifest.files) {
      if (mf.name != name) continue;
      if (mf.sha256 != sha)
        return InvalidArgument(name + ": SHA-256 differs from manifest.json (changed or damaged)");
    }
    json doc = json::parse(text, nullptr, false);
    if (doc.is_discarded()) return InvalidArgument(name + ": not valid JSON");
    docs[name] = std::move(doc);
  }
  BYSANS_RETURN_IF_ERROR(ParseFiles(docs, p));
  std::set<Id> devices;
  for (const auto& d : p.devices) devices.insert(d.d.id);
  Reading r;
  BYSANS_RETURN_IF_ERROR(ForEachLine(f, p, kReadings, [&](std::string_view line) -> Status {
    BYSANS_RETURN_IF_ERROR(ParseReadingLine(line, r));
    if (!devices.count(r.device_id))
      return InvalidArgument("field \"device\": " + std::to_string(r.device_id) +
                             " is not in devices.json");
    return Status::Ok();
  }));
  RawMessage m;
  BYSANS_RETURN_IF_ERROR(ForEachLine(f, p, kRawMessages, [&](std::string_view line) -> Status {
    BYSANS_RETURN_IF_ERROR(ParseRawMessageLine(line, m));
    if (!devices.count(m.device_id))
      return InvalidArgument("field \"device\": " + std::to_string(m.device_id) +
                             " is not in devices.json");
    return Status::Ok();
  }));
  if (!p.entries.count(kAlarms)) return Status::Ok();  // an archive from before alarms
  std::set<Id> rules;
  for (const auto& [r, def] : p.rules) rules.insert(r.id);
  return ForEachLine(f, p, kAlarms, [&](std::string_view line) -> Status {
    AlarmRecord a;
    BYSANS_RETURN_IF_ERROR(ParseAlarmLine(line, a));
    // A gateway alarm (device 0) names its gateway instead.
    if (a.gateway_id.empty() && !devices.count(a.device_id))
      return InvalidArgument("field \"device\": " + std::to_string(a.device_id) +
                             " is not in devices.json");
    if (!rules.count(a.rule_id))
      return InvalidArgument("field \"rule\": " + std::to_string(a.rule_id) +
                             " is not in rules.json");
    p.alarms.push_back(std::move(a));
    return Status::Ok();
  });
}

Result<File> OpenArchive(const std::string& path) {
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) return InvalidArgument("cannot open " + path);
  return f;
}

int64_t ManifestRecords(const Parsed& p, const std::string& name) {
  for (const auto& mf : p.manifest.files)
    if (mf.name == name) return mf.records;
  return 0;
}

// Pass two: the writes. Ids of the archive → ids of this store.
class Writer {
 public:
  Writer(Store& store, const Clock& clock, const ImportOptions& opts, Parsed& p, ImportReport& rep)
      : store_(store), clock_(clock), opts_(opts), p_(p), rep_(rep) {}

  Status Meta() {
    Organization org = p_.org;
    org.name = opts_.org_name.empty() ? p_.manifest.org_name : opts_.org_name;
    org.created_ms = clock_.NowMs();
    auto created = store_.CreateOrganization(org);
    if (!created.ok() && created.status().code() == Code::kAlreadyExists)
      return AlreadyExists("an organisation named \"" + org.name +
                           "\" exists: import under another name (--org-name)");
    BYSANS_RETURN_IF_ERROR(created.status());
    rep_.org_id = created->id;
    rep_.org_name = created->name;
    auto& dec = store_.decoders();
    for (auto& d : p_.decoders) {
      StoredDecoder sd = d.d;
      sd.org_id = rep_.org_id;
      sd.code = d.versions.front().code;
      sd.contract = d.versions.front().contract;
      BYSANS_ASSIGN_OR_RETURN(
          auto made, dec.CreateDecoder(sd, opts_.invited_by, d.versions.front().created_ms));
      for (size_t k = 1; k < d.versions.size(); ++k) {
        made.code = d.versions[k].code;
        made.contract = d.versions[k].contract;
        BYSANS_ASSIGN_OR_RETURN(
            made, dec.UpdateDecoder(made, opts_.invited_by, d.versions[k].created_ms));
      }
      decoders_[d.d.id] = made.id;
      ++rep_.decoders;
    }
    for (auto& [a, decoder] : p_.apps) {
      Application na = a;
      na.org_id = rep_.org_id;
      BYSANS_ASSIGN_OR_RETURN(auto made, store_.CreateApplication(na));
      apps_[a.id] = made.id;
      if (auto c = p_.app_contacts.find(a.id); c != p_.app_contacts.end()) {
        BYSANS_RETURN_IF_ERROR(
            store_.contacts().ReplaceContacts(ContactOwner::kApplication, made.id, c->second));
      }
      if (decoder) BYSANS_RETURN_IF_ERROR(dec.SetApplicationDecoder(made.id, decoders_[*decoder]));
      ++rep_.applications;
    }
    for (auto& m : p_.models) {
      DeviceModel nm = m;
      nm.org_id = rep_.org_id;
      BYSANS_ASSIGN_OR_RETURN(auto made, store_.CreateDeviceModel(nm));
      models_[m.id] = made.id;
      ++rep_.device_models;
    }
    int64_t no_key = 0;
    std::vector<Device> batch;
    for (auto& d : p_.devices) {
      Device nd = d.d;
      nd.id = 0;
      nd.org_id = rep_.org_id;
      nd.app_id = apps_[d.d.app_id];
      if (nd.device_model_id) nd.device_model_id = models_[*nd.device_model_id];
      if (!nd.dev_eui.empty() && store_.FindDeviceByDevEui(nd.dev_eui).ok()) {
        rep_.notes.push_back("device \"" + nd.name + "\": DevEUI " + nd.dev_eui +
                             " is in use on this server; imported without it");
        nd.dev_eui.clear();
      }
      if (nd.transport != Transport::kLorawan) ++no_key;
      batch.push_back(std::move(nd));
    }
    // One transaction for all of them (10,000 devices: one commit, not 10,000).
    BYSANS_ASSIGN_OR_RETURN(auto made, store_.CreateDevices(std::move(batch)));
    for (size_t i = 0; i < made.size(); ++i) {
      const auto& d = p_.devices[i];
      devices_[d.d.id] = made[i].id;
      if (auto c = p_.device_contacts.find(d.d.id); c != p_.device_contacts.end()) {
        BYSANS_RETURN_IF_ERROR(
            store_.contacts().ReplaceContacts(ContactOwner::kDevice, made[i].id, c->second));
      }
      if (!d.history.empty())
        BYSANS_RETURN_IF_ERROR(store_.ReplaceDeviceLocations(made[i].id, d.history));
      if (d.decoder)
        BYSANS_RETURN_IF_ERROR(dec.SetDeviceDecoder(made[i].id, decoders_[*d.decoder]));
      ++rep_.devices;
    }
    if (no_key > 0) {
      rep_.notes.push_back(std::to_string(no_key) +
                           " HTTP/MQTT devices have no ingest key or MQTT password: create one "
                           "per device (devices API) before they send again");
    }
    for (auto& [r, def] : p_.rules) {
      json d = def;
      const std::string scope_kind =
          d.contains("scope") && d["scope"].is_object() ? d["scope"].value("kind", "") : "";
      if (!scope_kind.empty() && scope_kind != "tag" && scope_kind != "gateway") {
        const std::string kind = d["scope"]["kind"];
        const Id old = d["scope"]["id"];
        d["scope"]["id"] = kind == "device"        ? devices_[old]
                           : kind == "application" ? apps_[old]
                                                   : models_[old];
      }
      if (d.contains("actions") && d["actions"].is_array()) {
        for (auto& a : d["actions"]) {
          for (const char* out_only : {"hasPassword", "headerNames", "urlHidden"})
            a.erase(out_only);
        }
      }
      d["enabled"] = false;
      RuleRecord nr = r;
      nr.org_id = rep_.org_id;
      nr.enabled = false;
      nr.definition = d.dump();
      BYSANS_ASSIGN_OR_RETURN(auto made, store_.rules().CreateRule(nr));
      rules_[r.id] = made.id;
      ++rep_.rules;
    }
    if (!p_.rules.empty()) {
      rep_.notes.push_back(std::to_string(p_.rules.size()) +
                           " rules were imported disabled: re-enter their actions' URLs and "
                           "secrets, then enable them");
    }
    for (const SilenceRecord& s : p_.silences) {
      SilenceRecord ns = s;
      ns.org_id = rep_.org_id;
      if (s.device_id) ns.device_id = devices_.at(*s.device_id);
      if (s.rule_id) ns.rule_id = rules_.at(*s.rule_id);
      BYSANS_RETURN_IF_ERROR(store_.rules().CreateSilence(ns).status());
      ++rep_.silences;
    }
    for (auto& [t, headers] : p_.targets) {
      DataTarget nt = t;
      nt.org_id = rep_.org_id;
      nt.app_id = apps_[t.app_id];
      for (auto& id : nt.device_ids) id = devices_[id];
      nt.paused = true;
      nt.header_names = headers;
      std::map<std::string, std::string> empty_headers;
      for (const auto& h : headers) empty_headers[h] = "";
      BYSANS_RETURN_IF_ERROR(
          store_.targets().CreateTarget(nt, empty_headers, std::nullopt).status());
      ++rep_.data_targets;
    }
    if (!p_.targets.empty()) {
      rep_.notes.push_back(std::to_string(p_.targets.size()) +
                           " data targets were imported paused, without header values or "
                           "passwords: re-enter them, then resume");
    }
    for (auto& i : p_.integrations) {
      MqttIntegration ni = i;
      ni.org_id = rep_.org_id;
      if (ni.app_id) ni.app_id = apps_[ni.app_id];
      ni.enabled = false;
      ni.client_id.clear();
      BYSANS_RETURN_IF_ERROR(store_.mqtt().CreateIntegration(ni, std::nullopt).status());
      ++rep_.integrations;
    }
    if (!p_.integrations.empty()) {
      rep_.notes.push_back(std::to_string(p_.integrations.size()) +
                           " integrations were imported disabled, without passwords or private "
                           "keys: re-enter them, then enable them");
    }
    for (const auto& member : p_.members) {
      Invitation inv;
      inv.org_id = rep_.org_id;
      inv.email = member.email;
      inv.role = member.role;
      if (member.apps) {
        // Applications not in the archive are left out: never the whole organisation.
        inv.app_scoped = true;
        for (Id old : *member.apps)
          if (auto it = apps_.find(old); it != apps_.end()) inv.app_ids.push_back(it->second);
      }
      inv.invited_by = opts_.invited_by;
      inv.created_ms = clock_.NowMs();
      inv.expires_ms = inv.created_ms + opts_.invitation_ttl_ms;
      BYSANS_RETURN_IF_ERROR(store_.PutInvitation(inv).status());
      ++rep_.invitations;
    }
    return Status::Ok();
  }

  // The alarms, oldest first, under the new ids; no action runs for them (no outbox).
  Status Alarms() {
    std::vector<const AlarmRecord*> order;
    for (const AlarmRecord& a : p_.alarms) order.push_back(&a);
    std::sort(order.begin(), order.end(),
              [](const AlarmRecord* a, const AlarmRecord* b) { return a->id < b->id; });
    for (const AlarmRecord* a : order) {
      const Id device = a->gateway_id.empty() ? devices_.at(a->device_id) : 0;
      BYSANS_ASSIGN_OR_RETURN(AlarmRecord na,
                              RemapAlarm(*a, rep_.org_id, rules_.at(a->rule_id), device));
      BYSANS_RETURN_IF_ERROR(store_.rules().CreateAlarm(std::move(na), nullptr).status());
      ++rep_.alarms;
    }
    return Status::Ok();
  }

  Status Data(std::FILE* f, const std::atomic<bool>& cancel) {
    const int64_t total = ManifestRecords(p_, kReadings) + ManifestRecords(p_, kRawMessages);
    int64_t done = 0;
    IngestBatch batch;
    auto flush = [&]() -> Status {
      if (batch.readings.empty() && batch.messages.empty()) return Status::Ok();
      if (cancel.load()) return Unavailable("the import was cancelled");
      done += static_cast<int64_t>(batch.readings.size() + batch.messages.size());
      BYSANS_RETURN_IF_ERROR(store_.Append(std::move(batch)));
      batch = IngestBatch{};
      if (opts_.progress) opts_.progress(done, total);
      return Status::Ok();
    };
    const auto max_readings = static_cast<size_t>(std::max<int64_t>(1, opts_.batch_readings));
    BYSANS_RETURN_IF_ERROR(ForEachLine(f, p_, kReadings, [&](std::string_view line) -> Status {
      Reading r;
      BYSANS_RETURN_IF_ERROR(ParseReadingLine(line, r));
      r.device_id = devices_.at(r.device_id);
      batch.readings.push_back(std::move(r));
      ++rep_.readings;
      return batch.readings.size() >= max_readings ? flush() : Status::Ok();
    }));
    BYSANS_RETURN_IF_ERROR(flush());
    BYSANS_RETURN_IF_ERROR(ForEachLine(f, p_, kRawMessages, [&](std::string_view line) -> Status {
      RawMessage m;
      BYSANS_RETURN_IF_ERROR(ParseRawMessageLine(line, m));
      m.id = 0;
      m.device_id = devices_.at(m.device_id);
      batch.messages.push_back(std::move(m));
      ++rep_.raw_messages;
      return batch.messages.size() >= 2000 ? flush() : Status::Ok();
    }));
    return flush();
  }

 private:
  Store& store_;
  const Clock& clock_;
  const ImportOptions& opts_;
  Parsed& p_;
  ImportReport& rep_;
  std::unordered_map<Id, Id> apps_, models_, devices_, decoders_, rules_;
};

}  // namespace

Status VerifyArchive(const std::string& path) {
  BYSANS_ASSIGN_OR_RETURN(File f, OpenArchive(path));
  Parsed p;
  return Verify(f.get(), p);
}

Result<ImportReport> ImportArchive(Store& store, const Clock& clock, const std::string& path,
                                   const ImportOptions& opts, const std::atomic<bool>& cancel) {
  BYSANS_ASSIGN_OR_RETURN(File f, OpenArchive(path));
  Parsed p;
  BYSANS_RETURN_IF_ERROR(Verify(f.get(), p));
  if (cancel.load()) return Unavailable("the import was cancelled");
  ImportReport rep;
  Writer w(store, clock, opts, p, rep);
  Status st = w.Meta();
  if (st.ok()) st = w.Data(f.get(), cancel);
  if (st.ok()) st = w.Alarms();
  if (!st.ok()) {
    if (rep.org_id != 0) {
      Status undo = store.DeleteOrganization(rep.org_id);
      if (!undo.ok()) {
        return Internal(st.message() + "; and the partly imported organisation " +
                        std::to_string(rep.org_id) + " could not be deleted: " + undo.message());
      }
    }
    return st;
  }
  return rep;
}

}  // namespace bysans::archive

#include "archive/export.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "act/action_secrets.h"
#include "archive/alarms.h"
#include "archive/format.h"
#include "archive/member.h"
#include "archive/records.h"
#include "archive/tar.h"
#include "core/time_format.h"
#include "store/contact_store.h"
#include "store/decoder_store.h"
#include "store/mqtt_store.h"
#include "store/rule_store.h"
#include "store/target_store.h"

namespace bysans::archive {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int64_t kPage = 10'000;

json OrNull(const std::optional<Id>& v) { return v ? json(*v) : json(nullptr); }

json Parsed(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json(text) : j;
}

template <typename T, typename F>
Result<std::vector<T>> All(F list) {
  std::vector<T> out;
  for (int64_t offset = 0;; offset += kPage) {
    BYSANS_ASSIGN_OR_RETURN(Paged<T> page, list(Page{kPage, offset}));
    for (auto& item : page.items) out.push_back(std::move(item));
    if (static_cast<int64_t>(page.items.size()) < kPage) return out;
  }
}

// The metadata of one organisation, as the JSON files hold it.
struct Meta {
  Organization org;
  std::vector<Application> apps;
  std::vector<Device> devices;
  std::map<std::string, json> files;  // file name → document
};

// The responsible contacts of an application or device as the member "contacts" of its document
// (issue 20; absent when it has none).
Status AddContacts(Store& store, ContactOwner owner, Id id, json& doc) {
  BYSANS_ASSIGN_OR_RETURN(auto list, store.contacts().ListContacts(owner, id));
  if (list.empty()) return Status::Ok();
  json out = json::array();
  for (const Contact& c : list) {
    out.push_back({{"name", c.name}, {"email", c.email}, {"phone", c.phone}, {"role", c.role}});
  }
  doc["contacts"] = std::move(out);
  return Status::Ok();
}

Result<Meta> CollectMeta(Store& store, const Clock& clock, Id org_id, const ExportOptions& opts) {
  Meta m;
  BYSANS_ASSIGN_OR_RETURN(m.org, store.GetOrganization(org_id));
  m.files["organization.json"] = {{"id", m.org.id},
                                  {"name", m.org.name},
                                  {"createdAt", FormatRfc3339(m.org.created_ms)},
                                  {"decoderTimeoutMs", m.org.decoder_timeout_ms}};
  BYSANS_ASSIGN_OR_RETURN(DecoderAttachments att, store.decoders().ListAttachments());
  auto decoder_of = [](const std::unordered_map<Id, Id>& by, Id id) {
    auto it = by.find(id);
    return it == by.end() ? json(nullptr) : json(it->second);
  };
  BYSANS_ASSIGN_OR_RETURN(
      m.apps, All<Application>([&](Page p) { return store.ListApplications(org_id, p); }));
  json apps = json::array();
  auto days = [](const std::optional<int>& d) { return d ? json(*d) : json(nullptr); };
  for (const auto& a : m.apps) {
    apps.push_back({{"id", a.id},
                    {"name", a.name},
                    {"description", a.description},
                    {"createdAt", FormatRfc3339(a.created_ms)},
                    {"personalData", HoldsPersonalData(a.data_class)},
                    {"dataClass", DataClassName(a.data_class)},
                    {"retention",
                     {{"rawMessagesDays", days(a.retention.raw_messages_days)},
                      {"readingsDays", days(a.retention.readings_days)},
                      {"aggregatesDays", days(a.retention.aggregates_days)}}},
                    {"purpose", a.purpose},
                    {"legalBasis", a.legal_basis},
                    {"dataCategories", a.data_categories},
                    {"recipients", a.recipients},
                    {"decoderId", decoder_of(att.by_app, a.id)}});
    BYSANS_RETURN_IF_ERROR(AddContacts(store, ContactOwner::kApplication, a.id, apps.back()));
  }
  m.files["applications.json"] = apps;

  BYSANS_ASSIGN_OR_RETURN(
      auto models, All<DeviceModel>([&](Page p) { return store.ListDeviceModels(org_id, p); }));
  json jm = json::array();
  for (const auto& dm : models) {
    jm.push_back({{"id", dm.id},
                  {"name", dm.name},
                  {"doc", Parsed(dm.doc_json)},
                  {"createdAt", FormatRfc3339(dm.created_ms)}});
  }
  m.files["device_models.json"] = jm;

  DeviceFilter filter;
  filter.org_id = org_id;
  BYSANS_ASSIGN_OR_RETURN(m.devices,
                          All<Device>([&](Page p) { return store.ListDevices(filter, p); }));
  std::sort(m.devices.begin(), m.devices.end(),
            [](const Device& a, const Device& b) { return a.id < b.id; });
  BYSANS_ASSIGN_OR_RETURN(auto creds, store.mqtt().ListCredentials());
  std::map<Id, std::string> mqtt_user;
  for (const auto& c : creds) mqtt_user[c.device_id] = c.username;
  std::vector<Id> device_ids;
  for (const auto& d : m.devices) device_ids.push_back(d.id);
  BYSANS_ASSIGN_OR_RETURN(std::vector<DeviceLocation> history,
                          store.ListDeviceLocations(device_ids));
  std::map<Id, json> history_of;  // device -> [{time, lat, lon}], oldest first
  for (const DeviceLocation& h : history) {
    json& list = history_of[h.device_id];
    if (list.is_null()) list = json::array();
    list.push_back(
        {{"time", FormatRfc3339(h.time)}, {"lat", h.location.lat}, {"lon", h.location.lon}});
  }
  json jd = json::array();
  for (const auto& d : m.devices) {
    json meta = json::object();
    for (const auto& [k, v] : d.metadata) {
      if (opts.skip_metadata && opts.skip_metadata(d, k)) continue;
      meta[k] = v;
    }
    json dev = {{"id", d.id},
                {"applicationId", d.app_id},
                {"name", d.name},
                {"transport", TransportName(d.transport)},
                {"devEui", d.dev_eui},
                {"location", d.location ? json{{"lat", d.location->lat}, {"lon", d.location->lon}}
                                        : json(nullptr)},
                {"tags", d.tags},
                {"metadata", meta},
                {"deviceModelId", OrNull(d.device_model_id)},
                {"expectedIntervalS", d.expected_interval_s},
                {"inMaintenance", d.in_maintenance},
                {"createdAt", FormatRfc3339(d.created_ms)},
                {"decoderId", decoder_of(att.by_device, d.id)}};
    if (auto h = history_of.find(d.id); h != history_of.end())
      dev["locationHistory"] = std::move(h->second);
    if (d.transport == Transport::kHttp) dev["ingestKey"] = kReenter;
    auto u = mqtt_user.find(d.id);
    if (u != mqtt_user.end()) dev["mqtt"] = {{"username", u->second}, {"password", kReenter}};
    BYSANS_RETURN_IF_ERROR(AddContacts(store, ContactOwner::kDevice, d.id, dev));
    jd.push_back(std::move(dev));
  }
  m.files["devices.json"] = jd;

  BYSANS_ASSIGN_OR_RETURN(auto decoders, All<StoredDecoder>([&](Page p) {
                            return store.decoders().ListDecoders(org_id, p);
                          }));
  json jdec = json::array();
  for (const auto& d : decoders) {
    BYSANS_ASSIGN_OR_RETURN(auto versions, store.decoders().ListVersions(d.id));
    std::reverse(versions.begin(), versions.end());  // oldest first
    json jv = json::array();
    for (const auto& v : versions) {
      jv.push_back({{"version", v.version},
                    {"code", v.code},
                    {"contract", v.contract},
                    {"createdAt", FormatRfc3339(v.created_ms)}});
    }
    jdec.push_back({{"id", d.id},
                    {"name", d.name},
                    {"kind", DecoderKindName(d.kind)},
                    {"createdAt", FormatRfc3339(d.created_ms)},
                    {"updatedAt", FormatRfc3339(d.updated_ms)},
                    {"versions", jv}});
  }
  m.files["decoders.json"] = jdec;

  BYSANS_ASSIGN_OR_RETURN(
      auto rules, All<RuleRecord>([&](Page p) { return store.rules().ListRules(org_id, p); }));
  json jr = json::array();
  for (const auto& r : rules) {
    // Actions as the API shows them to readers: no password or header value (clear or
    // sealed), webhook URLs cut to their server (their path may hold a token).
    json def = Parsed(r.definition);
    if (def.is_object() && def.contains("actions"))
      def["actions"] = act::ActionsForApi(def["actions"], false);
    jr.push_back({{"id", r.id},
                  {"enabled", r.enabled},
                  {"definition", def},
                  {"createdAt", FormatRfc3339(r.created_ms)},
                  {"updatedAt", FormatRfc3339(r.updated_ms)}});
  }
  m.files["rules.json"] = jr;
  BYSANS_ASSIGN_OR_RETURN(auto silences, store.rules().ListSilences(org_id, clock.NowMs()));
  json js = json::array();
  for (const auto& s : silences) {
    js.push_back({{"id", s.id},
                  {"deviceId", OrNull(s.device_id)},
                  {"ruleId", OrNull(s.rule_id)},
                  {"until", FormatRfc3339(s.until_ms)},
                  {"createdBy", s.created_by},
                  {"createdAt", FormatRfc3339(s.created_ms)}});
  }
  m.files["silences.json"] = js;

  json jt = json::array();
  for (const auto& a : m.apps) {
    BYSANS_ASSIGN_OR_RETURN(auto targets, store.targets().ListTargets(a.id));
    for (const auto& t : targets) {
      json headers = json::object();
      for (const auto& h : t.header_names) headers[h] = kReenter;
      json ngsild = t.ngsild_json.empty() ? json(nullptr) : Parsed(t.ngsild_json);
      jt.push_back({{"id", t.id},
                    {"applicationId", t.app_id},
                    {"name", t.name},
                    {"type", t.type},
                    {"url", t.url},
                    {"format", t.format},
                    {"batchSize", t.batch_size},
                    {"timeoutMs", t.timeout_ms},
                    {"deviceIds", t.device_ids},
                    {"headers", headers},
                    {"topic", t.topic},
                    {"ngsild", ngsild},
                    {"qos", t.qos},
                    {"retain", t.retain},
                    {"username", t.username},
                    {"password", t.has_password ? json(kReenter) : json(nullptr)},
                    {"paused", t.paused},
                    {"maxAttempts", t.max_attempts},
                    {"maxAgeMs", t.max_age_ms},
                    {"createdAt", FormatRfc3339(t.created_ms)}});
    }
  }
  m.files["data_targets.json"] = jt;

  BYSANS_ASSIGN_OR_RETURN(auto integrations, store.mqtt().ListIntegrations("", org_id, 0));
  json ji = json::array();
  for (const auto& i : integrations) {
    ji.push_back({{"id", i.id},
                  {"kind", i.kind},
                  {"applicationId", i.app_id == 0 ? json(nullptr) : json(i.app_id)},
                  {"name", i.name},
                  {"url", i.url},
                  {"username", i.username},
                  {"password", i.has_password ? json(kReenter) : json(nullptr)},
                  {"enabled", i.enabled},
                  {"topicFilter", i.topic_filter},
                  {"deviceTopicLevel", i.device_topic_level},
                  {"deviceMatch", i.device_match},
                  {"caCert", i.ca_cert},
                  {"clientCert", i.client_cert},
                  {"clientKey", i.has_client_key ? json(kReenter) : json(nullptr)},
                  {"createdAt", FormatRfc3339(i.created_ms)}});
  }
  m.files["integrations.json"] = ji;

  BYSANS_ASSIGN_OR_RETURN(auto members, store.ListMembershipsOfOrganization(org_id));
  json jmem = json::array();
  for (const auto& mem : members) {
    auto u = store.GetUser(mem.user_id);
    if (!u.ok()) continue;
    // Never the password hash: the importer invites the members again.
    json one = {{"email", u->email}, {"name", u->name}, {"role", RoleName(mem.role)}};
    // Access per application: the ids of this archive's applications.json.
    if (mem.app_scoped) one["applications"] = mem.app_ids;
    jmem.push_back(std::move(one));
  }
  m.files["members.json"] = jmem;
  return m;
}

// The readings of one series, oldest first, in windows of about kPage * 20 points (the span of
// the previous window scaled), so a long series is never held in memory whole.
Status WriteSeries(Store& store, Id device_id, const SeriesRef& s, MemberWriter& w,
                   std::string& buf, int64_t& count) {
  if (!s.latest) return Status::Ok();
  const TimeMs last = s.latest->ts;
  constexpr int64_t kTarget = 200'000;
  ReadingQuery q;
  q.device_id = device_id;
  q.key = s.key;
  q.oldest_first = true;
  q.limit = kTarget;
  BYSANS_ASSIGN_OR_RETURN(auto first, store.QueryReadings(q));
  TimeMs span = 0;
  auto emit = [&](const std::vector<Reading>& rs) -> Status {
    buf.clear();
    for (const auto& r : rs) AppendReadingLine(buf, r);
    count += static_cast<int64_t>(rs.size());
    return w.Append(buf, static_cast<int64_t>(rs.size()));
  };
  BYSANS_RETURN_IF_ERROR(emit(first));
  if (static_cast<int64_t>(first.size()) < kTarget || first.empty()) return Status::Ok();
  TimeMs cursor = first.back().ts + 1;
  span = std::max<TimeMs>(1, first.back().ts - first.front().ts);
  while (cursor <= last) {
    q.from = cursor;
    q.to = cursor > INT64_MAX - span ? INT64_MAX : cursor + span;
    q.limit = 10'000'000;
    BYSANS_ASSIGN_OR_RETURN(auto rs, store.QueryReadings(q));
    BYSANS_RETURN_IF_ERROR(emit(rs));
    cursor = q.to == INT64_MAX ? last + 1 : q.to + 1;
    if (rs.size() < kTarget / 4) span = std::min<TimeMs>(span * 2, INT64_MAX / 4);
    if (rs.size() > kTarget * 2) span = std::max<TimeMs>(1, span / 2);
  }
  return Status::Ok();
}

struct Spool {
  fs::path dir;
  ~Spool() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

ManifestFile Describe(const std::string& name, const MemberWriter& w) {
  return {name, w.records(), w.stored_bytes(), w.raw_bytes(), w.sha256()};
}

}  // namespace

Result<ExportSummary> ExportOrganization(Store& store, const Clock& clock, Id org_id,
                                         const std::string& out_path, const ExportOptions& opts,
                                         const std::atomic<bool>& cancel) {
  BYSANS_ASSIGN_OR_RETURN(Meta meta, CollectMeta(store, clock, org_id, opts));
  Spool spool;
  spool.dir = out_path + ".spool";
  std::error_code ec;
  fs::remove_all(spool.dir, ec);
  fs::create_directories(spool.dir, ec);
  if (ec) return Internal("cannot create " + spool.dir.string() + ": " + ec.message());

  Manifest manifest;
  manifest.bysans_version = opts.bysans_version.empty() ? BYSANS_VERSION : opts.bysans_version;
  manifest.org_id = meta.org.id;
  manifest.org_name = meta.org.name;
  manifest.exported_ms = clock.NowMs();
  ExportSummary sum;
  sum.devices = static_cast<int64_t>(meta.devices.size());

  std::vector<std::pair<std::string, std::string>> members;  // name → spool path
  for (const auto& name : JsonFiles()) {
    const json& doc = meta.files[name];
    MemberWriter w;
    const std::string path = (spool.dir / name).string();
    BYSANS_RETURN_IF_ERROR(w.Open(path, false));
    BYSANS_RETURN_IF_ERROR(w.Append(doc.dump(2) + "\n", doc.is_array() ? doc.size() : 1));
    BYSANS_RETURN_IF_ERROR(w.Finish());
    manifest.files.push_back(Describe(name, w));
    members.emplace_back(name, path);
  }

  MemberWriter readings, messages;
  const std::string readings_path = (spool.dir / kReadings).string();
  const std::string messages_path = (spool.dir / kRawMessages).string();
  BYSANS_RETURN_IF_ERROR(readings.Open(readings_path, true));
  BYSANS_RETURN_IF_ERROR(messages.Open(messages_path, true));
  std::string buf;
  int64_t done = 0;
  for (const auto& d : meta.devices) {
    if (cancel.load()) return Unavailable("the export was cancelled");
    BYSANS_ASSIGN_OR_RETURN(auto series, store.ListSeries({d.id}));
    std::sort(series.begin(), series.end(),
              [](const SeriesRef& a, const SeriesRef& b) { return a.key < b.key; });
    for (const auto& s : series)
      BYSANS_RETURN_IF_ERROR(WriteSeries(store, d.id, s, readings, buf, sum.readings));
    for (Id after = 0;;) {
      BYSANS_ASSIGN_OR_RETURN(
          auto page, store.decoders().MessagesAfter(d.id, INT64_MIN, INT64_MAX, after, 2000));
      buf.clear();
      for (const auto& m : page) AppendRawMessageLine(buf, m);
      BYSANS_RETURN_IF_ERROR(messages.Append(buf, static_cast<int64_t>(page.size())));
      sum.raw_messages += static_cast<int64_t>(page.size());
      if (page.size() < 2000) break;
      after = page.back().id;
    }
    if (opts.progress) opts.progress(++done, sum.devices);
  }
  BYSANS_RETURN_IF_ERROR(readings.Finish());
  BYSANS_RETURN_IF_ERROR(messages.Finish());
  manifest.files.push_back(Describe(kReadings, readings));
  manifest.files.push_back(Describe(kRawMessages, messages));
  members.emplace_back(kReadings, readings_path);
  members.emplace_back(kRawMessages, messages_path);

  MemberWriter alarms;
  const std::string alarms_path = (spool.dir / kAlarms).string();
  BYSANS_RETURN_IF_ERROR(alarms.Open(alarms_path, true));
  AlarmFilter of_org;
  of_org.org_id = org_id;
  for (int64_t offset = 0;; offset += kPage) {
    if (cancel.load()) return Unavailable("the export was cancelled");
    BYSANS_ASSIGN_OR_RETURN(auto page, store.rules().ListAlarms(of_org, Page{kPage, offset}));
    buf.clear();
    for (const auto& a : page.items) AppendAlarmLine(buf, a);
    BYSANS_RETURN_IF_ERROR(alarms.Append(buf, static_cast<int64_t>(page.items.size())));
    sum.alarms += static_cast<int64_t>(page.items.size());
    if (static_cast<int64_t>(page.items.size()) < kPage) break;
  }
  BYSANS_RETURN_IF_ERROR(alarms.Finish());
  manifest.files.push_back(Describe(kAlarms, alarms));
  members.emplace_back(kAlarms, alarms_path);

  const std::string partial = out_path + ".partial";
  std::FILE* out = std::fopen(partial.c_str(), "wb");
  if (!out) return Internal("cannot create " + partial + ": " + std::strerror(errno));
  Status st = [&]() -> Status {
    TarWriter tar(out, manifest.exported_ms / 1000);
    BYSANS_RETURN_IF_ERROR(tar.AddBytes(kReadme, ArchiveReadme(manifest)));
    BYSANS_RETURN_IF_ERROR(tar.AddBytes(kManifest, ManifestToJson(manifest)));
    for (const auto& [name, path] : members) {
      if (cancel.load()) return Unavailable("the export was cancelled");
      BYSANS_RETURN_IF_ERROR(tar.AddFile(name, path));
    }
    BYSANS_RETURN_IF_ERROR(tar.Finish());
    return ::fsync(::fileno(out)) == 0 ? Status::Ok() : Internal("cannot sync " + partial);
  }();
  const bool closed = std::fclose(out) == 0;
  if (st.ok() && !closed) st = Internal("cannot write " + partial);
  if (st.ok()) {
    fs::rename(partial, out_path, ec);
    if (ec) st = Internal("cannot rename " + partial + ": " + ec.message());
  }
  if (!st.ok()) {
    fs::remove(partial, ec);
    return st;
  }
  sum.bytes = static_cast<int64_t>(fs::file_size(out_path, ec));
  return sum;
}

}  // namespace bysans::archive

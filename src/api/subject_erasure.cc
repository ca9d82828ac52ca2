// The erasure of a data subject's devices (api/subject_erasure.h): matching within one
// organisation and the per-device removal over the store's erasure primitives
// (SeriesStore::DeleteReadings / EraseRawMessages, SubjectErasureStore).
#include "api/subject_erasure.h"

#include "core/time_format.h"
#include "store/decoder_store.h"
#include "store/newest_first_pages.h"
#include "store/subject_erasure_store.h"

namespace bysans::api {
namespace {

// Times from 1970 to the year 9999 (the report writes them as RFC 3339).
constexpr TimeMs kLatestMs = 253'402'300'799'999;

Result<TimeMs> TimeField(const json& body, const char* field, TimeMs fallback) {
  if (!body.contains(field) || body[field].is_null()) return fallback;
  const json& v = body[field];
  std::optional<TimeMs> t;
  if (v.is_number_integer()) t = v.get<TimeMs>();
  if (v.is_string()) t = ParseTime(v.get<std::string>());
  if (!t || *t < 0 || *t > kLatestMs)
    return InvalidArgument(std::string("'") + field +
                           "' is not an RFC 3339 time or ms between 1970 and 9999");
  return *t;
}

}  // namespace

Result<SubjectErasureRequest> ParseSubjectErasureRequest(const json& body) {
  BYSANS_RETURN_IF_ERROR(
      RejectUnknownFields(body, {"tag", "metadata", "from", "to", "deleteDevices", "dryRun"}));
  SubjectErasureRequest r;
  const bool has_tag = body.contains("tag"), has_meta = body.contains("metadata");
  if (has_tag == has_meta)
    return InvalidArgument("give exactly one selector: 'tag' or 'metadata' {key, value}");
  if (has_tag) {
    BYSANS_ASSIGN_OR_RETURN(r.selector.tag, RequiredString(body, "tag"));
  } else {
    const json& m = body["metadata"];
    if (!m.is_object()) return InvalidArgument("'metadata' must be an object {key, value}");
    BYSANS_RETURN_IF_ERROR(RejectUnknownFields(m, {"key", "value"}));
    BYSANS_ASSIGN_OR_RETURN(r.selector.meta_key, RequiredString(m, "key"));
    BYSANS_ASSIGN_OR_RETURN(r.selector.meta_value, RequiredString(m, "value"));
  }
  BYSANS_ASSIGN_OR_RETURN(r.from, TimeField(body, "from", INT64_MIN));
  BYSANS_ASSIGN_OR_RETURN(r.to, TimeField(body, "to", INT64_MAX));
  if (r.from > r.to) return InvalidArgument("'from' is after 'to'");
  BYSANS_ASSIGN_OR_RETURN(auto del, OptBool(body, "deleteDevices"));
  BYSANS_ASSIGN_OR_RETURN(auto dry, OptBool(body, "dryRun"));
  r.delete_devices = del.value_or(false);
  r.dry_run = dry.value_or(false);
  return r;
}

json SubjectErasureRequestJson(const SubjectErasureRequest& r) {
  json j = json::object();
  if (!r.selector.tag.empty()) {
    j["tag"] = r.selector.tag;
  } else {
    j["metadata"] = {{"key", r.selector.meta_key}, {"value", r.selector.meta_value}};
  }
  j["from"] = r.from == INT64_MIN ? json(nullptr) : json(FormatRfc3339(r.from));
  j["to"] = r.to == INT64_MAX ? json(nullptr) : json(FormatRfc3339(r.to));
  j["deleteDevices"] = r.delete_devices;
  j["dryRun"] = r.dry_run;
  return j;
}

Result<std::vector<Device>> MatchSubjectDevices(Store& store, Id org_id, const SubjectSelector& s) {
  DeviceFilter f;
  f.org_id = org_id;  // never another organisation's devices, whatever the selector says
  f.tag = s.tag;
  std::vector<Device> out;
  for (Page page{1000, 0};; page.offset += page.limit) {
    BYSANS_ASSIGN_OR_RETURN(auto devices, store.ListDevices(f, page));
    for (Device& d : devices.items) {
      if (d.org_id != org_id) continue;
      if (!s.tag.empty()) {
        if (std::find(d.tags.begin(), d.tags.end(), s.tag) == d.tags.end()) continue;
      } else {
        auto it = d.metadata.find(s.meta_key);
        if (it == d.metadata.end() || it->second != s.meta_value) continue;
      }
      out.push_back(std::move(d));
    }
    if (devices.items.empty() || page.offset + page.limit >= devices.total) break;
  }
  return out;
}

json SubjectDeviceReportJson(const SubjectDeviceReport& r) {
  return {{"id", r.id},
          {"name", r.name},
          {"readings", r.readings},
          {"rawMessages", r.raw_messages},
          {"downlinks", r.downlinks},
          {"alarms", r.alarms},
          {"shareRecords", r.share_records},
          {"contacts", r.contacts},
          {"deviceDeleted", r.device_deleted},
          {"done", r.done}};
}

SubjectDeviceReport SubjectDeviceReportFrom(const json& j) {
  SubjectDeviceReport r;
  r.id = j.value("id", Id{0});
  r.name = j.value("name", "");
  r.readings = j.value("readings", int64_t{0});
  r.raw_messages = j.value("rawMessages", int64_t{0});
  r.downlinks = j.value("downlinks", int64_t{0});
  r.alarms = j.value("alarms", int64_t{0});
  r.share_records = j.value("shareRecords", int64_t{0});
  r.contacts = j.value("contacts", int64_t{0});
  r.device_deleted = j.value("deviceDeleted", false);
  r.done = j.value("done", false);
  return r;
}

json SubjectReportJson(const std::vector<SubjectDeviceReport>& devices) {
  SubjectDeviceReport t;
  json list = json::array();
  for (const SubjectDeviceReport& d : devices) {
    list.push_back(SubjectDeviceReportJson(d));
    t.readings += d.readings;
    t.raw_messages += d.raw_messages;
    t.downlinks += d.downlinks;
    t.alarms += d.alarms;
    t.share_records += d.share_records;
    t.contacts += d.contacts;
  }
  return {{"devices", std::move(list)},
          {"totals",
           {{"devices", devices.size()},
            {"readings", t.readings},
            {"rawMessages", t.raw_messages},
            {"downlinks", t.downlinks},
            {"alarms", t.alarms},
            {"shareRecords", t.share_records},
            {"contacts", t.contacts}}}};
}

Result<SubjectDeviceReport> EraseSubjectDevice(Store& store, const Device& d, TimeMs from,
                                               TimeMs to, bool dry_run, bool delete_device,
                                               const std::atomic<bool>& stop) {
  SubjectDeviceReport r;
  r.id = d.id;
  r.name = d.name;
  auto stopped = [&]() -> Status {
    return stop.load() ? Unavailable("subject erasure interrupted") : Status::Ok();
  };
  BYSANS_ASSIGN_OR_RETURN(std::vector<SeriesRef> series, store.ListSeries({d.id}));
  // Counted a page at a time, never loaded whole: a device's history can be gigabytes.
  for (const SeriesRef& s : series) {
    BYSANS_ASSIGN_OR_RETURN(int64_t readings, CountReadings(store, s, from, to));
    r.readings += readings;
    if (!dry_run && readings > 0) {
      Status st = store.DeleteReadings(s.id, from, to);
      if (!st.ok() && st.code() != Code::kNotFound) return st;
    }
    BYSANS_RETURN_IF_ERROR(stopped());
  }
  if (dry_run) {
    BYSANS_ASSIGN_OR_RETURN(r.raw_messages, store.decoders().CountMessages(d.id, from, to));
  } else {
    BYSANS_ASSIGN_OR_RETURN(r.raw_messages, store.EraseRawMessages(d.id, from, to));
  }
  BYSANS_RETURN_IF_ERROR(stopped());
  SubjectErasureStore& se = store.subject_erasures();
  BYSANS_ASSIGN_OR_RETURN(r.downlinks, se.EraseDownlinks(d.id, from, to, dry_run));
  BYSANS_ASSIGN_OR_RETURN(r.alarms, se.EraseAlarms(d.id, from, to, dry_run));
  BYSANS_ASSIGN_OR_RETURN(r.share_records, se.EraseShareCopies(d.app_id, d.id, from, to, dry_run));
  // The people to reach about the subject's device (next of kin, a carer) are the subject's
  // circle: erased with the whole history, kept when only a period is erased.
  if (from == INT64_MIN && to == INT64_MAX) {
    BYSANS_ASSIGN_OR_RETURN(r.contacts, se.EraseDeviceContacts(d.id, dry_run));
  }
  if (delete_device && !dry_run) {
    Status st = store.DeleteDevice(d.id);  // queues the erasure of whatever else it holds
    if (!st.ok() && st.code() != Code::kNotFound) return st;
    r.device_deleted = true;
  }
  r.done = !dry_run;
  return r;
}

}  // namespace bysans::api

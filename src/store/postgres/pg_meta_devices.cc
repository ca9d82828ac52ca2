// PostgreSQL MetaStore: devices and their location history (device_locations, a GeoJSON point
// per entry as jsonb, read back as lat/lon columns).
#include <nlohmann/json.hpp>

#include "store/postgres/change_feed.h"
#include "store/postgres/pg_meta_impl.h"
#include "store/postgres/sql_text.h"

namespace bysans::pg {

const char kDevCols[] =
    "id, org_id, app_id, name, transport, dev_eui, lat, lon, tags, metadata, device_model_id, "
    "expected_interval_s, in_maintenance, created_ms";

Device DevRow(const pqxx::row& r) {
  Device d;
  d.id = r[0].as<Id>();
  d.org_id = r[1].as<Id>();
  d.app_id = r[2].as<Id>();
  d.name = r[3].as<std::string>();
  d.transport = static_cast<Transport>(r[4].as<int>());
  if (!r[5].is_null()) d.dev_eui = r[5].as<std::string>();
  if (!r[6].is_null() && !r[7].is_null())
    d.location = Location{r[6].as<double>(), r[7].as<double>()};
  d.tags = JsonStrings(r[8].as<std::string>());
  const auto meta = nlohmann::json::parse(r[9].as<std::string>(), nullptr, false);
  if (meta.is_object()) {
    for (auto it = meta.begin(); it != meta.end(); ++it)
      if (it.value().is_string()) d.metadata.emplace(it.key(), it.value().get<std::string>());
  }
  d.device_model_id = OptInt(r[10]);
  d.expected_interval_s = r[11].as<int64_t>();
  d.in_maintenance = r[12].as<bool>();
  d.created_ms = r[13].as<TimeMs>();
  return d;
}

namespace {

std::optional<std::string> NullIfEmpty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}
std::optional<double> Lat(const Device& d) {
  if (!d.location) return std::nullopt;
  return d.location->lat;
}
std::optional<double> Lon(const Device& d) {
  if (!d.location) return std::nullopt;
  return d.location->lon;
}

// The device model must exist (its organisation is not checked, as on SQLite).
Status CheckModel(pqxx::work& w, const std::optional<Id>& model) {
  if (!model) return Status::Ok();
  if (w.exec_params("SELECT 1 FROM device_models WHERE id = $1", *model).empty())
    return NotFound("device model not found");
  return Status::Ok();
}

constexpr char kLocationCols[] =
    "id, device_id, time, (location->'coordinates'->>1)::float8, "
    "(location->'coordinates'->>0)::float8";

DeviceLocation LocationRow(const pqxx::row& r) {
  DeviceLocation l;
  l.id = r[0].as<int64_t>();
  l.device_id = r[1].as<Id>();
  l.time = r[2].as<TimeMs>();
  if (!r[3].is_null() && !r[4].is_null()) l.location = {r[3].as<double>(), r[4].as<double>()};
  return l;
}

}  // namespace

void RecordDeviceLocation(pqxx::transaction_base& t, Id device_id, TimeMs time,
                          const std::optional<Location>& before,
                          const std::optional<Location>& now) {
  if (!now) return;
  if (before && before->lat == now->lat && before->lon == now->lon) return;
  // A device's entries are strictly later one after another (two changes within one
  // millisecond get consecutive milliseconds), so `time` and id order agree.
  t.exec_params(
      "INSERT INTO device_locations (device_id, time, location) "
      "SELECT $1, greatest($2::bigint, coalesce(max(time) + 1, $2::bigint)), "
      "jsonb_build_object('type', 'Point', 'coordinates', jsonb_build_array($3::float8, "
      "$4::float8)) FROM device_locations WHERE device_id = $1",
      device_id, time, now->lon, now->lat);
}

Result<Device> MetaPg::InsertDevice(pqxx::work& w, Device d, const std::string& ingest_key_hash,
                                    std::map<Id, Id>& org_of_app) {
  auto org = org_of_app.find(d.app_id);
  if (org == org_of_app.end()) {
    const pqxx::result a = w.exec_params("SELECT org_id FROM applications WHERE id = $1", d.app_id);
    if (a.empty()) return NotFound("application not found");
    org = org_of_app.emplace(d.app_id, a[0][0].as<Id>()).first;
  }
  if (d.org_id != 0 && d.org_id != org->second)
    return InvalidArgument("device organisation differs from its application's");
  d.org_id = org->second;
  BYSANS_RETURN_IF_ERROR(CheckModel(w, d.device_model_id));
  if (d.created_ms == 0) d.created_ms = clock_.NowMs();
  d.dev_eui = AsciiLower(d.dev_eui);
  d.id = w.exec_params(
              "INSERT INTO devices (org_id, app_id, name, transport, dev_eui, lat, lon, tags, "
              "metadata, device_model_id, expected_interval_s, in_maintenance, created_ms, "
              "ingest_key_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
              "$14) RETURNING id",
              d.org_id, d.app_id, d.name, static_cast<int>(d.transport), NullIfEmpty(d.dev_eui),
              Lat(d), Lon(d), nlohmann::json(d.tags).dump(), nlohmann::json(d.metadata).dump(),
              d.device_model_id, d.expected_interval_s, d.in_maintenance, d.created_ms,
              NullIfEmpty(ingest_key_hash))[0][0]
             .as<Id>();
  RecordDeviceLocation(w, d.id, d.created_ms, std::nullopt, d.location);
  return d;
}

Result<Device> MetaPg::CreateDevice(Device device, std::string ingest_key_hash) {
  return Tx<Result<Device>>("create device", [&](pqxx::work& w) {
    std::map<Id, Id> org_of_app;
    return InsertDevice(w, device, ingest_key_hash, org_of_app);
  });
}

Result<std::vector<Device>> MetaPg::CreateDevices(std::vector<Device> devices) {
  return Tx<Result<std::vector<Device>>>(
      "create devices", [&](pqxx::work& w) -> Result<std::vector<Device>> {
        std::map<Id, Id> org_of_app;
        for (Device& d : devices) {
          BYSANS_ASSIGN_OR_RETURN(d, InsertDevice(w, d, "", org_of_app));
        }
        return devices;
      });
}

Result<Device> MetaPg::GetDevice(Id id) {
  return Single<Result<Device>>("get device", [&](pqxx::transaction_base& w) {
    return QueryOne<Device>(w, std::string("SELECT ") + kDevCols + " FROM devices WHERE id = $1",
                            DevRow, "device", id);
  });
}

Result<Paged<Device>> MetaPg::ListDevices(const DeviceFilter& f, Page page) {
  std::optional<std::string> apps;  // {1,2,3}
  if (f.app_ids) apps = IntArray(std::vector<int64_t>(f.app_ids->begin(), f.app_ids->end()));
  // An unused filter is NULL; each call is planned with its values, so the unused ones fold away.
  static const std::string kWhere =
      "FROM devices WHERE ($1::bigint IS NULL OR org_id = $1) AND "
      "($2::bigint IS NULL OR app_id = $2) AND ($3::bigint IS NULL OR device_model_id = $3) AND "
      "($4::text IS NULL OR tags ? $4) AND "
      "($5::text IS NULL OR strpos(lower(name), lower($5)) > 0 OR "
      "strpos(coalesce(dev_eui, ''), lower($5)) > 0) AND "
      "($6::bigint[] IS NULL OR app_id = ANY ($6::bigint[]))";
  return Snapshot<Result<Paged<Device>>>("list devices", [&](pqxx::transaction_base& w) {
    return Result<Paged<Device>>(
        QueryPage<Device>(w, kDevCols, kWhere, "id", page, DevRow, f.org_id, f.app_id,
                          f.device_model_id, NullIfEmpty(f.tag), NullIfEmpty(f.search), apps));
  });
}

Status MetaPg::UpdateDevice(const Device& device) {
  Device d = device;
  d.dev_eui = AsciiLower(d.dev_eui);
  const TimeMs now = clock_.NowMs();
  return Tx<Status>("update device", [&](pqxx::work& w) -> Status {
    BYSANS_RETURN_IF_ERROR(CheckModel(w, d.device_model_id));
    // The row lock orders concurrent updates of the device, and so its location entries.
    const pqxx::result old =
        w.exec_params("SELECT lat, lon FROM devices WHERE id = $1 FOR UPDATE", d.id);
    if (old.empty()) return NotFound("device not found");
    std::optional<Location> before;
    if (!old[0][0].is_null() && !old[0][1].is_null())
      before = Location{old[0][0].as<double>(), old[0][1].as<double>()};
    // The application (and so the organisation) of a device does not change here.
    w.exec_params(
        "UPDATE devices SET name = $1, transport = $2, dev_eui = $3, lat = $4, lon = $5, "
        "tags = $6, metadata = $7, device_model_id = $8, expected_interval_s = $9, "
        "in_maintenance = $10 WHERE id = $11",
        d.name, static_cast<int>(d.transport), NullIfEmpty(d.dev_eui), Lat(d), Lon(d),
        nlohmann::json(d.tags).dump(), nlohmann::json(d.metadata).dump(), d.device_model_id,
        d.expected_interval_s, d.in_maintenance, d.id);
    RecordDeviceLocation(w, d.id, now, before, d.location);
    NotifyChange(w, pool_, change::kDevice, d.id);
    return Status::Ok();
  });
}

Status MetaPg::SetDeviceIngestKey(Id device_id, std::string ingest_key_hash) {
  return Tx<Status>("set device ingest key", [&](pqxx::transaction_base& w) -> Status {
    BYSANS_RETURN_IF_ERROR(
        ChangedOne(w.exec_params("UPDATE devices SET ingest_key_hash = $1 WHERE id = $2",
                                 NullIfEmpty(ingest_key_hash), device_id),
                   "device"));
    NotifyChange(w, pool_, change::kDevice, device_id);  // the old key stops on every node
    return Status::Ok();
  });
}

// The device's location history goes with it (ON DELETE CASCADE); its series and raw messages
// are the SeriesStore's (README: NOT done).
Status MetaPg::DeleteDevice(Id id) {
  return Tx<Status>("delete device", [&](pqxx::transaction_base& w) -> Status {
    BYSANS_RETURN_IF_ERROR(
        ChangedOne(w.exec_params("DELETE FROM devices WHERE id = $1", id), "device"));
    NotifyChange(w, pool_, change::kDevice, id);
    return Status::Ok();
  });
}

Result<Device> MetaPg::FindDeviceByIngestKey(const std::string& ingest_key_hash) {
  return Single<Result<Device>>("find device by ingest key", [&](pqxx::transaction_base& w) {
    return QueryOne<Device>(
        w, std::string("SELECT ") + kDevCols + " FROM devices WHERE ingest_key_hash = $1", DevRow,
        "device", ingest_key_hash);
  });
}

Result<Device> MetaPg::FindDeviceByDevEui(const std::string& dev_eui) {
  return Single<Result<Device>>("find device by DevEUI", [&](pqxx::transaction_base& w) {
    return QueryOne<Device>(w,
                            std::string("SELECT ") + kDevCols + " FROM devices WHERE dev_eui = $1",
                            DevRow, "device", AsciiLower(dev_eui));
  });
}

// ---- location history

Result<std::vector<DeviceLocation>> MetaPg::ListDeviceLocations(const std::vector<Id>& device_ids) {
  if (device_ids.empty()) return std::vector<DeviceLocation>{};
  return Single<Result<std::vector<DeviceLocation>>>(
      "list device locations", [&](pqxx::transaction_base& w) {
        return Result<std::vector<DeviceLocation>>(QueryAll<DeviceLocation>(
            w,
            std::string("SELECT ") + kLocationCols +
                " FROM device_locations WHERE device_id = ANY ($1::bigint[]) ORDER BY id",
            LocationRow, IntArray(std::vector<int64_t>(device_ids.begin(), device_ids.end()))));
      });
}

Result<DeviceLocation> MetaPg::GetDeviceLocation(int64_t id) {
  return Single<Result<DeviceLocation>>("get device location", [&](pqxx::transaction_base& w) {
    const std::string sql =
        std::string("SELECT ") + kLocationCols + " FROM device_locations WHERE id = $1";
    const pqxx::result r = w.exec_params(sql, id);
    if (r.empty())
      return Result<DeviceLocation>(NotFound("no location history entry " + std::to_string(id)));
    return Result<DeviceLocation>(LocationRow(r[0]));
  });
}

Status MetaPg::DeleteDeviceLocation(int64_t id) {
  return Single<Status>("delete device location", [&](pqxx::transaction_base& w) -> Status {
    if (w.exec_params("DELETE FROM device_locations WHERE id = $1", id).affected_rows() == 0)
      return NotFound("no location history entry " + std::to_string(id));
    return Status::Ok();
  });
}

Status MetaPg::ReplaceDeviceLocations(Id device_id, const std::vector<DeviceLocation>& entries) {
  return Tx<Status>("replace device locations", [&](pqxx::work& w) -> Status {
    if (w.exec_params("SELECT 1 FROM devices WHERE id = $1 FOR UPDATE", device_id).empty())
      return NotFound("device not found");
    w.exec_params("DELETE FROM device_locations WHERE device_id = $1", device_id);
    // Every entry, also one equal to the previous: the history as it was.
    for (const DeviceLocation& e : entries)
      RecordDeviceLocation(w, device_id, e.time, std::nullopt, e.location);
    return Status::Ok();
  });
}

}  // namespace bysans::pg

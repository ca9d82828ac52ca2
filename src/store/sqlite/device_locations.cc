// SqliteStore's location history (store.h MetaStore::ListDeviceLocations). An entry's location
// is GeoJSON text ({"type":"Point","coordinates":[lon,lat]}), so that other geometries can be kept
// later without a migration.
#include "store/sqlite/device_locations.h"

#include <nlohmann/json.hpp>

#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {
namespace {

constexpr char kCols[] = "id, device_id, time, location";

DeviceLocation Row(const Stmt& s) {
  DeviceLocation d;
  d.id = s.Int(0);
  d.device_id = s.Int(1);
  d.time = s.Int(2);
  auto geo = nlohmann::json::parse(s.Text(3), nullptr, false);
  if (geo.is_object() && geo.contains("coordinates") && geo["coordinates"].is_array() &&
      geo["coordinates"].size() >= 2 && geo["coordinates"][0].is_number() &&
      geo["coordinates"][1].is_number()) {
    d.location.lon = geo["coordinates"][0].get<double>();
    d.location.lat = geo["coordinates"][1].get<double>();
  }
  return d;
}

}  // namespace

Status RecordDeviceLocation(Db& db, Id device_id, TimeMs time,
                            const std::optional<Location>& before,
                            const std::optional<Location>& now) {
  if (!now) return Status::Ok();
  if (before && before->lat == now->lat && before->lon == now->lon) return Status::Ok();
  const std::string geo =
      nlohmann::json{{"type", "Point"}, {"coordinates", {now->lon, now->lat}}}.dump();
  // A device's changes are strictly later one after another, so "the newest" is never a tie
  // (two changes within one millisecond get consecutive milliseconds): `time desc` and
  // HistoricalLocation order agree with the order of the changes.
  BYSANS_ASSIGN_OR_RETURN(auto st,
                          db.Prepare("INSERT INTO device_locations(device_id, time, location) "
                                     "SELECT ?1, MAX(?2, COALESCE(MAX(time) + 1, ?2)), ?3 "
                                     "FROM device_locations WHERE device_id = ?1"));
  return st->Bind(1, device_id).Bind(2, time).Bind(3, geo).Run();
}

Result<std::vector<DeviceLocation>> SqliteStore::ListDeviceLocations(
    const std::vector<Id>& device_ids) {
  std::vector<DeviceLocation> out;
  if (device_ids.empty()) return out;
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  BYSANS_ASSIGN_OR_RETURN(auto st, lease->Prepare(std::string("SELECT ") + kCols +
                                                  " FROM device_locations WHERE device_id IN "
                                                  "(SELECT value FROM json_each(?)) ORDER BY id"));
  st->Bind(1, nlohmann::json(device_ids).dump());
  while (st->Step()) out.push_back(Row(*st));
  BYSANS_RETURN_IF_ERROR(st->status());
  return out;
}

Result<DeviceLocation> SqliteStore::GetDeviceLocation(int64_t id) {
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  BYSANS_ASSIGN_OR_RETURN(auto st, lease->Prepare(std::string("SELECT ") + kCols +
                                                  " FROM device_locations WHERE id=?"));
  st->Bind(1, id);
  if (!st->Step()) {
    BYSANS_RETURN_IF_ERROR(st->status());
    return NotFound("no location history entry " + std::to_string(id));
  }
  return Row(*st);
}

Status SqliteStore::DeleteDeviceLocation(int64_t id) {
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  Txn txn(*lease, true);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  BYSANS_ASSIGN_OR_RETURN(auto st, lease->Prepare("DELETE FROM device_locations WHERE id=?"));
  BYSANS_RETURN_IF_ERROR(st->Bind(1, id).Run());
  if (lease->Changes() == 0) return NotFound("no location history entry " + std::to_string(id));
  return txn.Commit();
}

Status SqliteStore::ReplaceDeviceLocations(Id device_id,
                                           const std::vector<DeviceLocation>& entries) {
  BYSANS_ASSIGN_OR_RETURN(auto lease, pool_.Acquire());
  Txn txn(*lease, true);
  BYSANS_RETURN_IF_ERROR(txn.begin_status());
  {
    BYSANS_ASSIGN_OR_RETURN(auto q, lease->Prepare("SELECT 1 FROM devices WHERE id=?"));
    q->Bind(1, device_id);
    const bool present = q->Step();
    BYSANS_RETURN_IF_ERROR(q->status());
    if (!present) return NotFound("device not found");
  }
  BYSANS_ASSIGN_OR_RETURN(auto del,
                          lease->Prepare("DELETE FROM device_locations WHERE device_id=?"));
  BYSANS_RETURN_IF_ERROR(del->Bind(1, device_id).Run());
  for (const DeviceLocation& e : entries) {
    // Every entry, also one equal to the previous: the history as it was.
    BYSANS_RETURN_IF_ERROR(
        RecordDeviceLocation(*lease, device_id, e.time, std::nullopt, e.location));
  }
  return txn.Commit();
}

}  // namespace bysans::sqlite

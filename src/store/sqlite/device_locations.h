// Devices' location history (store.h MetaStore::ListDeviceLocations): the table
// device_locations(id, device_id, time, location), migration 25. meta.cc records a change in the
// transaction that writes the device.
#pragma once

#include <optional>

#include "core/status.h"
#include "model/model.h"
#include "store/sqlite/db.h"

namespace bysans::sqlite {

// Appends an entry when `now` differs from `before` (nothing for a removed or unchanged
// location). Runs on `db` inside the caller's transaction.
Status RecordDeviceLocation(Db& db, Id device_id, TimeMs time,
                            const std::optional<Location>& before,
                            const std::optional<Location>& now);

}  // namespace bysans::sqlite

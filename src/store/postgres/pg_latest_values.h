// `device_latest` (migration 18): one row per device holding every key's newest reading, packed
// (latest_row.h), with a version taken from a sequence at every write. Folder-private (libpqxx).
//
// The series writer keeps the rows it wrote (`LatestValues`, its thread only). A group commit
// first locks its devices' rows, in device order and in one statement that returns only their
// versions; a row that another writer or node (or this node's erasure and unit operations)
// changed since is read again. The rows are then merged and written with one UPDATE and one
// INSERT. Every writer takes these locks in device order and before any other row lock of its
// group, so two writers sharing devices wait for each other instead of deadlocking. Versions are
// never reused (the sequence), so a row deleted and written again elsewhere is never mistaken for
// the one held.
//
// An entry that does not fit the packed row (latest_row.h FitsPacked, kMaxPackedKeys) is written
// apart, as its series' row of `series_latest`, after the device's row is locked (the upserts in
// series order, each kept only if it is not older than the stored one); writing it apart removes
// the key's packed entry unless that is newer. So a device's message rewrites a row of bounded
// size, whatever its values or number of keys (a device with 219 keys of 80 KB made each of its
// messages write an 18 MB row before).
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/model.h"
#include "store/postgres/latest_row.h"

namespace bysans::pg {

class LatestValues {
 public:
  // Merges each device's entries into its row (newer or same-time readings replace a key's).
  // `units` are series units changed in this commit, applied to the key's entry whether or not
  // its reading is the newest. Call inside the group commit's transaction; the rows held are
  // updated only as far as the statements succeeded (a rolled-back transaction leaves versions
  // the next write finds stale, and reads again).
  void Write(pqxx::work& w, std::map<Id, std::vector<LatestEntry>> entries,
             const std::map<std::pair<Id, std::string>, std::string>& units);
  // Drops what is held (of a device, or all): after an operation changed rows, or an error.
  void Forget(Id device) { held_.erase(device); }
  void Clear() { held_.clear(); }

  // Reads the device's row locked, lets `change` edit it, and writes it back (deleted when
  // empty). For operations outside group commits (readings deleted, a series deleted, a unit set).
  static void Modify(pqxx::work& w, Id device, const std::function<void(LatestRow&)>& change);
  // Replaces the series' latest reading (packed or apart) by `e` (none: it has no readings).
  static void Replace(pqxx::work& w, Id device, int64_t series, const std::string& key,
                      const std::optional<LatestEntry>& e);

 private:
  struct Held {
    int64_t version = 0;  // 0: no row
    LatestRow row;
  };
  // Locks the rows of these devices (sorted) in device order; reads again those whose version
  // is not the one held.
  void Lock(pqxx::work& w, const std::vector<int64_t>& devices);
  // Reads the rows of these devices into held_.
  void Load(pqxx::work& w, const std::vector<int64_t>& devices);

  std::unordered_map<Id, Held> held_;
};

}  // namespace bysans::pg

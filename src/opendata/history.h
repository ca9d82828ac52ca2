// The history distribution of a dataset: its devices' readings for a time range, read page by
// page through SeriesStore::QueryReadings (never everything in memory) and resumed from an
// opaque cursor.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "store/store.h"

namespace bysans::opendata {

// Where the next page starts: series (device, key) in (device id, key) order, at readings with
// ts <= `to`. A cursor a caller altered can only move within the query's own devices and keys.
struct HistoryCursor {
  Id device_id = 0;
  std::string key;  // "" = the device's first key
  TimeMs to = 0;
};
std::string EncodeCursor(const HistoryCursor& c);  // URL-safe text
// kInvalidArgument "cursor is not valid" for anything EncodeCursor did not write.
Result<HistoryCursor> DecodeCursor(std::string_view text);

struct HistoryQuery {
  std::vector<Id> device_ids;     // the dataset's devices, any order
  std::vector<std::string> keys;  // empty = every key
  TimeMs from = 0;                // inclusive
  TimeMs to = 0;                  // inclusive
  int64_t limit = 1000;           // readings per page, at least 1
  std::optional<HistoryCursor> after;
  // Devices looked at per page, so that a page of a dataset with many silent devices costs a
  // bounded number of store calls; a page may then be short and still have a next.
  size_t max_devices = 200;
  // Bytes of readings per page (model.h ReadingBytes): a page also ends once its rows reach this
  // many, so that a series of large text values cannot make one answer gigabytes. 16 MiB holds the
  // most readings a page may have (10,000) of any ordinary size.
  size_t max_bytes = size_t{16} << 20;
};

struct HistoryPage {
  // Series by series in (device id, key) order, each newest first.
  std::vector<Reading> rows;
  std::optional<HistoryCursor> next;  // nullopt: this was the last page
};

// One page of the history: series by series, each read newest first a store page at a time
// (store/newest_first_pages.h), until q.limit rows, q.max_bytes or q.max_devices.
Result<HistoryPage> ReadHistory(SeriesStore& store, const HistoryQuery& q);

}  // namespace bysans::opendata

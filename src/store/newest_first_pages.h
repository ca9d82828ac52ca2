// A device's readings or raw messages read from the store newest first, a bounded page at a
// time, and the cursor that says where such a read goes on (api/readings.cc: the lists and their
// `next`; api/subject_erasure.cc: counting what an erasure removes; opendata/history.cc: the
// public history of a published dataset). Only the SeriesStore interface is used, no SQL. One store
// call with a large limit holds every row it returns at once, and a row can be a whole message body
// (256 KiB over HTTP, 1 MiB over MQTT): paging keeps what a request holds near one page, whatever
// its limit.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "store/store.h"

namespace bysans {

// Rows asked of the store per call, beyond those it skips (at most as many again, see Next): 64
// rows of the largest HTTP message (256 KiB) are 16 MiB, the size of one list answer
// (readings.cc), while a call still brings a useful batch of small numeric readings.
inline constexpr int64_t kStorePageRows = 64;

// Where a newest-first read goes on: rows of time `to` or older, leaving out the first `skip`
// rows of time exactly `to` (those were read already). The stores order rows newest first and
// rows of one time always the same way (readings by key or series, messages by id), so
// (to, skip) names a place between two rows even inside a run of rows of the same time.
struct NewestFirstCursor {
  TimeMs to = INT64_MAX;
  int64_t skip = 0;
  // Moves the cursor past the next row, of time `ts`.
  void Pass(TimeMs ts);
};

// The time rows are ordered by: a reading's, a message's reception.
inline TimeMs RowTime(const Reading& r) { return r.ts; }
inline TimeMs RowTime(const RawMessage& m) { return m.received_ms; }

// Rows of [from, start.to] newest first (RowTime) from a store call `read(from, to, limit)`
// that answers at most `limit` rows of [from, to] newest first. With `first_window`, each call
// covers a time window that starts that long before the newest row still to read, halves after a
// full page and grows after a sparse one: for stores that read every row of a call's range before
// they apply the limit (SeriesStore::QueryReadings on SQLite). Without it each call covers the
// whole range.
template <typename Row>
class NewestFirstPages {
 public:
  using Read = std::function<Result<std::vector<Row>>(TimeMs from, TimeMs to, int64_t limit)>;

  NewestFirstPages(Read read, TimeMs from, NewestFirstCursor start,
                   std::optional<TimeMs> first_window);

  // The next rows, newest first, empty once every row is read. A store call asks for
  // kStorePageRows rows beyond those the cursor skips; more than a page of rows to skip (one
  // run of rows of one time) is read alone, so no call holds more than two pages or that run.
  Result<std::vector<Row>> Next();

 private:
  bool SkipsARunAlone() const;
  TimeMs WindowStart() const;
  void DropSkipped(std::vector<Row>& rows) const;
  void AfterPage(TimeMs window_start, size_t rows, bool full, bool skipping);

  Read read_;
  TimeMs from_;
  NewestFirstCursor cursor_;
  std::optional<TimeMs> window_;
  bool done_ = false;
};

// The device's readings of q.key ("" = every key) and q.quality in [q.from, start.to] newest
// first, in the order of SeriesStore::QueryReadings; q.to and q.limit are not used (`start` is
// where the read begins; the caller counts rows).
Result<NewestFirstPages<Reading>> ReadingPages(SeriesStore& store, const ReadingQuery& q,
                                               NewestFirstCursor start);

// As ReadingPages, for a caller that knows the time of the newest reading of q.key (SeriesRef's
// `latest`): it saves a ListSeries call per read.
NewestFirstPages<Reading> ReadingPagesFrom(SeriesStore& store, const ReadingQuery& q,
                                           NewestFirstCursor start, TimeMs newest);

// The device's raw messages received in [q.from, start.to] newest first, in the order of
// SeriesStore::QueryMessages; q.to and q.limit are not used.
NewestFirstPages<RawMessage> MessagePages(SeriesStore& store, const MessageQuery& q,
                                          NewestFirstCursor start);

// How many readings of the series have a time in [from, to], read a page at a time (nothing in
// memory beyond one page). Readings newer than `series.latest` (committed since it was read) are
// not counted.
Result<int64_t> CountReadings(SeriesStore& store, const SeriesRef& series, TimeMs from, TimeMs to);

}  // namespace bysans

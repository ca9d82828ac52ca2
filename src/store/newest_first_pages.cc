#include "store/newest_first_pages.h"

#include <algorithm>
#include <utility>

namespace bysans {
namespace {

// A reading read's first window, an hour back from the newest reading (as the SensorThings
// cursor, sta/observations.cc): a recent page costs little however long the history is.
constexpr TimeMs kFirstReadingWindow = 3'600'000;
// Every time a reading may have: a window never grows past it (nor overflows).
constexpr TimeMs kWidestWindow = 2 * kReadingTimeLimitMs + 1;

// The time of the device's newest reading of `key` ("" = any key); INT64_MIN when it has none.
Result<TimeMs> NewestReadingTime(SeriesStore& store, Id device_id, const std::string& key) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<SeriesRef> series, store.ListSeries({device_id}));
  TimeMs newest = INT64_MIN;
  for (const SeriesRef& s : series) {
    if (s.latest && (key.empty() || s.key == key)) newest = std::max(newest, s.latest->ts);
  }
  return newest;
}

}  // namespace

void NewestFirstCursor::Pass(TimeMs ts) {
  if (ts == to) {
    ++skip;
  } else {
    to = ts;
    skip = 1;
  }
}

template <typename Row>
NewestFirstPages<Row>::NewestFirstPages(Read read, TimeMs from, NewestFirstCursor start,
                                        std::optional<TimeMs> first_window)
    : read_(std::move(read)),
      from_(from),
      cursor_(start),
      window_(first_window),
      done_(from > start.to) {}

template <typename Row>
Result<std::vector<Row>> NewestFirstPages<Row>::Next() {
  while (!done_) {
    const bool skipping = SkipsARunAlone();
    const TimeMs start = WindowStart();
    const int64_t limit = kStorePageRows + cursor_.skip;
    BYSANS_ASSIGN_OR_RETURN(std::vector<Row> rows, read_(start, cursor_.to, limit));
    const bool full = static_cast<int64_t>(rows.size()) >= limit;
    DropSkipped(rows);
    for (const Row& r : rows) cursor_.Pass(RowTime(r));
    AfterPage(start, rows.size(), full, skipping);
    if (!rows.empty()) return rows;
  }
  return std::vector<Row>{};
}

// More rows to skip than a page (a run of rows of one time longer than a page, or a caller's
// `skip`) are read alone, by a call for time `to` only: it holds that run and a page, never
// more, whatever `skip` says. Fewer share the call of the next page.
template <typename Row>
bool NewestFirstPages<Row>::SkipsARunAlone() const {
  return cursor_.skip > kStorePageRows;
}

template <typename Row>
TimeMs NewestFirstPages<Row>::WindowStart() const {
  if (SkipsARunAlone()) return cursor_.to;
  if (!window_ || cursor_.to - from_ < *window_) return from_;
  return cursor_.to - *window_ + 1;
}

// A page read from cursor_.to starts with the rows the cursor skips.
template <typename Row>
void NewestFirstPages<Row>::DropSkipped(std::vector<Row>& rows) const {
  size_t given = 0;
  while (given < rows.size() && static_cast<int64_t>(given) < cursor_.skip &&
         RowTime(rows[given]) == cursor_.to) {
    ++given;
  }
  rows.erase(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(given));
}

// After a full page more rows may follow in the window: the cursor goes on from the last row,
// in a narrower window (the rows are denser than it assumed). Otherwise the window [start, to]
// is read whole and the next one ends just before it, wider when this one was sparse.
template <typename Row>
void NewestFirstPages<Row>::AfterPage(TimeMs start, size_t rows, bool full, bool skipping) {
  if (full) {
    if (window_ && !skipping) window_ = std::max<TimeMs>(1, *window_ / 2);
    return;
  }
  if (start <= from_) {
    done_ = true;
    return;
  }
  cursor_ = {start - 1, 0};
  if (window_ && !skipping && static_cast<int64_t>(rows) < kStorePageRows / 4)
    window_ = std::min(kWidestWindow, *window_ * 4);
}

template class NewestFirstPages<Reading>;
template class NewestFirstPages<RawMessage>;

Result<NewestFirstPages<Reading>> ReadingPages(SeriesStore& store, const ReadingQuery& q,
                                               NewestFirstCursor start) {
  BYSANS_ASSIGN_OR_RETURN(TimeMs newest, NewestReadingTime(store, q.device_id, q.key));
  return ReadingPagesFrom(store, q, start, newest);
}

NewestFirstPages<Reading> ReadingPagesFrom(SeriesStore& store, const ReadingQuery& q,
                                           NewestFirstCursor start, TimeMs newest) {
  // Nothing is newer than the newest reading: the first window starts there, not at `to`.
  if (start.to > newest) start = {newest, 0};
  auto read = [&store, q](TimeMs from, TimeMs to, int64_t limit) {
    ReadingQuery page = q;
    page.from = from;
    page.to = to;
    page.limit = limit;
    page.oldest_first = false;
    return store.QueryReadings(page);
  };
  return NewestFirstPages<Reading>(read, std::max(q.from, -kReadingTimeLimitMs), start,
                                   kFirstReadingWindow);
}

NewestFirstPages<RawMessage> MessagePages(SeriesStore& store, const MessageQuery& q,
                                          NewestFirstCursor start) {
  auto read = [&store, q](TimeMs from, TimeMs to, int64_t limit) {
    MessageQuery page = q;
    page.from = from;
    page.to = to;
    page.limit = limit;
    return store.QueryMessages(page);
  };
  return NewestFirstPages<RawMessage>(read, q.from, start, std::nullopt);
}

Result<int64_t> CountReadings(SeriesStore& store, const SeriesRef& series, TimeMs from, TimeMs to) {
  if (!series.latest) return 0;
  ReadingQuery q;
  q.device_id = series.device_id;
  q.key = series.key;
  q.from = from;
  NewestFirstPages<Reading> pages = ReadingPagesFrom(store, q, {to, 0}, series.latest->ts);
  int64_t count = 0;
  for (;;) {
    BYSANS_ASSIGN_OR_RETURN(std::vector<Reading> rows, pages.Next());
    if (rows.empty()) return count;
    count += static_cast<int64_t>(rows.size());
  }
}

}  // namespace bysans

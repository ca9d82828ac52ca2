#include "sta/observations.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <queue>

namespace bysans::sta {
namespace {

constexpr TimeMs kFirstWindowMs = 3'600'000;  // an hour; grows 4x per empty window

TimeMs SatAdd(TimeMs a, TimeMs b) { return a > INT64_MAX - b ? INT64_MAX : a + b; }
TimeMs SatSub(TimeMs a, TimeMs b) { return a < INT64_MIN + b ? INT64_MIN : a - b; }

// One series' readings in [from, to], a page at a time, in one time direction. The store reads
// every point of a query's range before it applies the limit, so the cursor asks for growing
// time windows starting at the end it reads from (newest first: the series' latest reading;
// oldest first: a given lower bound), not for the whole range at once: reading the newest
// value of a year-long series touches its last hour, not its year.
class Cursor {
 public:
  Cursor(SeriesStore& store, const SeriesRef& s, TimeMs from, TimeMs to, bool asc, int64_t page,
         int64_t* budget)
      : store_(store), s_(s), from_(from), to_(to), asc_(asc), page_(page), budget_(budget) {
    // Nothing is newer than the series' latest reading (as of the catalogue's lookup).
    if (s.latest) to_ = std::min(to_, s.latest->ts);
    done_ = !s.latest;
    windowed_ = !asc_ || from_ > INT64_MIN / 2;  // oldest first from an open start: one query
  }

  // Makes front() valid unless the series is exhausted; false on exhaustion.
  Result<bool> Ready() {
    while (buf_.empty() && !done_ && from_ <= to_) {
      TimeMs lo = from_, hi = to_;
      if (windowed_ && asc_) hi = std::min(to_, SatAdd(from_, window_ - 1));
      if (windowed_ && !asc_) lo = std::max(from_, SatSub(to_, window_ - 1));
      ReadingQuery q;
      q.device_id = s_.device_id;
      q.key = s_.key;
      q.from = lo;
      q.to = hi;
      q.limit = page_;
      q.oldest_first = asc_;
      BYSANS_ASSIGN_OR_RETURN(std::vector<Reading> got, store_.QueryReadings(q));
      if (budget_) {
        *budget_ -= static_cast<int64_t>(got.size());
        if (*budget_ < 0) {
          return InvalidArgument(
              "the request reads more observations than one answer may (" +
              std::to_string(kMaxReadingsPerRequest) +
              "); narrow it with a phenomenonTime range, a Datastream or a smaller $top");
        }
      }
      const bool full = static_cast<int64_t>(got.size()) >= page_;
      if (full) {  // more may follow inside this window: go on after the last one
        const TimeMs last = got.back().ts;
        if (asc_) {
          if (last == INT64_MAX)
            done_ = true;
          else
            from_ = last + 1;
        } else {
          if (last == INT64_MIN)
            done_ = true;
          else
            to_ = last - 1;
        }
      } else {  // the window is exhausted: the next one, larger
        if (asc_) {
          if (hi >= to_)
            done_ = true;
          else
            from_ = hi + 1;
        } else {
          if (lo <= from_)
            done_ = true;
          else
            to_ = lo - 1;
        }
        window_ = window_ > INT64_MAX / 4 ? INT64_MAX : window_ * 4;
      }
      for (Reading& r : got) buf_.push_back(std::move(r));
    }
    return !buf_.empty();
  }
  const Reading& front() const { return buf_.front(); }
  Entity Take() {
    Entity e;
    e.set = EntitySet::kObservations;
    e.id = s_.id;
    e.reading = std::move(buf_.front());
    buf_.pop_front();
    return e;
  }
  int64_t series_id() const { return s_.id; }

 private:
  SeriesStore& store_;
  const SeriesRef& s_;
  TimeMs from_, to_;
  bool asc_;
  int64_t page_;
  int64_t* budget_;
  bool windowed_ = false;
  TimeMs window_ = kFirstWindowMs;
  bool done_ = false;
  std::deque<Reading> buf_;
};

}  // namespace

Status ScanObservations(SeriesStore& store, const ObservationScan& scan,
                        const std::function<bool(Entity&&)>& fn) {
  const int64_t page = std::clamp<int64_t>(scan.page, 1, kMaxScanPage);
  if (scan.order == ObservationOrder::kById) {
    std::vector<const SeriesRef*> series = scan.series;
    std::sort(series.begin(), series.end(),
              [](const SeriesRef* a, const SeriesRef* b) { return a->id < b->id; });
    for (const SeriesRef* s : series) {
      Cursor c(store, *s, scan.from, scan.to, true, page, scan.budget);
      for (;;) {
        BYSANS_ASSIGN_OR_RETURN(bool more, c.Ready());
        if (!more) break;
        if (!fn(c.Take())) return Status::Ok();
      }
    }
    return Status::Ok();
  }
  const bool asc = scan.order == ObservationOrder::kTimeAsc;
  std::vector<std::unique_ptr<Cursor>> cursors;
  for (const SeriesRef* s : scan.series)
    cursors.push_back(
        std::make_unique<Cursor>(store, *s, scan.from, scan.to, asc, page, scan.budget));
  // Heap of cursors by their front reading: earliest (asc) or latest (desc) on top.
  auto after = [asc](const Cursor* a, const Cursor* b) {
    const TimeMs ta = a->front().ts, tb = b->front().ts;
    if (ta != tb) return asc ? ta > tb : ta < tb;
    return a->series_id() > b->series_id();
  };
  std::priority_queue<Cursor*, std::vector<Cursor*>, decltype(after)> heap(after);
  for (auto& c : cursors) {
    BYSANS_ASSIGN_OR_RETURN(bool more, c->Ready());
    if (more) heap.push(c.get());
  }
  while (!heap.empty()) {
    Cursor* c = heap.top();
    heap.pop();
    if (!fn(c->Take())) return Status::Ok();
    BYSANS_ASSIGN_OR_RETURN(bool more, c->Ready());
    if (more) heap.push(c);
  }
  return Status::Ok();
}

}  // namespace bysans::sta

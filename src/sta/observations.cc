#include "sta/observations.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <queue>

namespace bysans::sta {
namespace {

// One series' readings in [from, to], a page at a time, in one time direction.
class Cursor {
 public:
  Cursor(SeriesStore& store, const SeriesRef& s, TimeMs from, TimeMs to, bool asc, int64_t page)
      : store_(store), s_(s), from_(from), to_(to), asc_(asc), page_(page) {}

  // Makes front() valid unless the series is exhausted; false on exhaustion.
  Result<bool> Ready() {
    if (!buf_.empty()) return true;
    if (done_ || from_ > to_) return false;
    ReadingQuery q;
    q.device_id = s_.device_id;
    q.key = s_.key;
    q.from = from_;
    q.to = to_;
    q.limit = page_;
    q.oldest_first = asc_;
    BYSANS_ASSIGN_OR_RETURN(std::vector<Reading> got, store_.QueryReadings(q));
    done_ = static_cast<int64_t>(got.size()) < page_;
    if (!got.empty()) {
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
    }
    for (Reading& r : got) buf_.push_back(std::move(r));
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
  bool done_ = false;
  std::deque<Reading> buf_;
};

}  // namespace

Status ScanObservations(SeriesStore& store, const ObservationScan& scan,
                        const std::function<bool(Entity&&)>& fn) {
  const int64_t page = std::clamp<int64_t>(scan.page, 1, 10'000);
  if (scan.order == ObservationOrder::kById) {
    std::vector<const SeriesRef*> series = scan.series;
    std::sort(series.begin(), series.end(),
              [](const SeriesRef* a, const SeriesRef* b) { return a->id < b->id; });
    for (const SeriesRef* s : series) {
      Cursor c(store, *s, scan.from, scan.to, true, page);
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
    cursors.push_back(std::make_unique<Cursor>(store, *s, scan.from, scan.to, asc, page));
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

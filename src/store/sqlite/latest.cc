// The latest readings of devices from the series cache, and the long texts it does not hold
// (kCachedLatestTextBytes) read from the store.
#include <algorithm>

#include "model/reading_bytes.h"
#include "store/latest_slice.h"
#include "store/sqlite/store_impl.h"

namespace bysans::sqlite {

void SeriesInfo::SetLatest(const Point& p) {
  if (p.kind == Kind::kString && p.str.size() > kCachedLatestTextBytes) {
    latest.emplace();
    latest->ts = p.ts;
    latest->kind = p.kind;
    latest->quality = p.quality;
    latest_text_apart = static_cast<uint32_t>(p.str.size());
  } else {
    latest = p;
    latest_text_apart = 0;
  }
}

void SeriesInfo::SetLatest(std::optional<Point> p) {
  if (p) {
    SetLatest(*p);
  } else {
    latest.reset();
    latest_text_apart = 0;
  }
}

size_t SqliteStore::CachedLatestTextBytes() {
  std::lock_guard lk(cache_mu_);
  size_t bytes = 0;
  for (const auto& [sid, s] : series_)
    if (s.latest) bytes += s.latest->str.size();
  return bytes;
}

Reading SqliteStore::LatestOf(const SeriesInfo& s) {
  return Reading{s.device_id, s.key, s.latest->ts, ToValue(*s.latest), s.unit, s.latest->quality};
}

Status SqliteStore::ReadApartTexts(const std::vector<Reading*>& readings) {
  for (Reading* r : readings) {
    // The series' newest reading now: the one the cache named, or one that came or was
    // uncovered (a delete) since.
    ReadingQuery q;
    q.device_id = r->device_id;
    q.key = r->key;
    q.limit = 1;
    BYSANS_ASSIGN_OR_RETURN(std::vector<Reading> newest, QueryReadings(q));
    if (newest.empty()) {
      r->value = std::string();  // deleted since: callers drop an empty key
      r->key.clear();
    } else {
      *r = std::move(newest.front());
    }
  }
  return Status::Ok();
}

SeriesRef SqliteStore::RefOf(const SeriesInfo& s) {
  SeriesRef r{s.id, s.device_id, s.key, s.unit, std::nullopt};
  if (s.latest) r.latest = LatestOf(s);
  return r;
}

Status SqliteStore::ReadApartLatest(std::vector<SeriesRef>& series,
                                    const std::vector<size_t>& apart) {
  std::vector<Reading*> texts;
  for (size_t i : apart) texts.push_back(&*series[i].latest);
  BYSANS_RETURN_IF_ERROR(ReadApartTexts(texts));
  for (size_t i : apart)
    if (series[i].latest->key.empty()) series[i].latest.reset();
  return Status::Ok();
}

Result<LatestSlice> SqliteStore::LatestWithin(const LatestQuery& q) {
  LatestSliceBuilder slice(q);
  BYSANS_RETURN_IF_ERROR(slice.status());
  std::vector<size_t> apart;  // readings whose text the cache does not hold
  {
    std::lock_guard lk(cache_mu_);
    // Room for what the devices hold, within the budget: growing a vector of 60,000 readings
    // step by step costs more than walking the cache (each step a fresh block to fault in).
    size_t held = 0;
    for (size_t i = slice.first(); i < q.device_ids.size(); ++i)
      if (auto it = device_series_.find(q.device_ids[i]); it != device_series_.end())
        held += it->second.size();
    slice.readings().reserve(std::min(held, q.max_bytes / kReadingRowOverheadBytes + 1));
    std::vector<const SeriesInfo*> mine;
    bool more = true;
    for (size_t i = slice.first(); more && i < q.device_ids.size(); ++i) {
      auto it = device_series_.find(q.device_ids[i]);
      if (it == device_series_.end()) continue;
      mine.clear();
      for (int64_t sid : it->second) {
        const SeriesInfo& s = series_.at(sid);
        if (s.latest && slice.Wanted(i, s.key)) mine.push_back(&s);
      }
      std::sort(mine.begin(), mine.end(),
                [](const SeriesInfo* a, const SeriesInfo* b) { return a->key < b->key; });
      for (const SeriesInfo* s : mine) {
        const bool text = s->latest->kind == Kind::kString;
        const size_t size = s->latest_text_apart ? s->latest_text_apart : s->latest->str.size();
        if (!slice.Offer(LatestOf(*s), ReadingBytes(s->key, s->unit,
                                                    text ? std::optional(size) : std::nullopt))) {
          more = false;
          break;
        }
        if (s->latest_text_apart) apart.push_back(slice.readings().size() - 1);
      }
    }
  }
  if (!apart.empty()) {
    std::vector<Reading*> texts;
    for (size_t i : apart) texts.push_back(&slice.readings()[i]);
    BYSANS_RETURN_IF_ERROR(ReadApartTexts(texts));
    std::erase_if(slice.readings(), [](const Reading& r) { return r.key.empty(); });
  }
  return slice.Finish();
}

}  // namespace bysans::sqlite

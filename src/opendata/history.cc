#include "opendata/history.h"

#include <algorithm>
#include <charconv>

#include "core/encoding.h"
#include "model/reading_bytes.h"
#include "store/newest_first_pages.h"

namespace bysans::opendata {
namespace {

bool ParseInt(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

// The device's series the query shows that have readings, by key.
Result<std::vector<SeriesRef>> SeriesShown(SeriesStore& store, Id device,
                                           const std::vector<std::string>& wanted) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<SeriesRef> series, store.ListSeries({device}));
  std::erase_if(series, [&wanted](const SeriesRef& s) {
    return !s.latest ||
           (!wanted.empty() && std::find(wanted.begin(), wanted.end(), s.key) == wanted.end());
  });
  std::sort(series.begin(), series.end(),
            [](const SeriesRef& a, const SeriesRef& b) { return a.key < b.key; });
  return series;
}

}  // namespace

std::string EncodeCursor(const HistoryCursor& c) {
  return EncodeBase64Url(std::to_string(c.device_id) + ":" + std::to_string(c.to) + ":" + c.key);
}

Result<HistoryCursor> DecodeCursor(std::string_view text) {
  const Status bad = InvalidArgument("cursor is not valid");
  if (text.size() > 4096) return bad;
  auto raw = DecodeBase64(text);
  if (!raw.ok()) return bad;
  std::string_view s = raw.value();
  size_t a = s.find(':');
  size_t b = a == std::string_view::npos ? a : s.find(':', a + 1);
  if (b == std::string_view::npos) return bad;
  HistoryCursor c;
  if (!ParseInt(s.substr(0, a), c.device_id) || !ParseInt(s.substr(a + 1, b - a - 1), c.to)) {
    return bad;
  }
  c.key = std::string(s.substr(b + 1));
  return c;
}

Result<HistoryPage> ReadHistory(SeriesStore& store, const HistoryQuery& q) {
  std::vector<Id> devices = q.device_ids;
  std::sort(devices.begin(), devices.end());
  devices.erase(std::unique(devices.begin(), devices.end()), devices.end());
  const auto limit = static_cast<size_t>(std::max<int64_t>(1, q.limit));

  HistoryPage page;
  size_t bytes = 0;
  // A page ends at `limit` rows, or before a row of `more` bytes that would take it past
  // q.max_bytes (it holds at least one row, so following `next` always gets on).
  auto full = [&](size_t more) {
    return page.rows.size() == limit || (!page.rows.empty() && bytes + more > q.max_bytes);
  };
  auto dev = q.after ? std::lower_bound(devices.begin(), devices.end(), q.after->device_id)
                     : devices.begin();
  size_t visited = 0;
  for (; dev != devices.end(); ++dev) {
    if (full(0) || visited == q.max_devices) {
      page.next = HistoryCursor{*dev, "", q.to};
      return page;
    }
    ++visited;
    BYSANS_ASSIGN_OR_RETURN(std::vector<SeriesRef> series, SeriesShown(store, *dev, q.keys));
    auto s = series.begin();
    TimeMs to = q.to;
    if (q.after && *dev == q.after->device_id) {
      s = std::lower_bound(series.begin(), series.end(), q.after->key,
                           [](const SeriesRef& a, const std::string& key) { return a.key < key; });
      if (s != series.end() && s->key == q.after->key) to = std::min(q.to, q.after->to);
    }
    for (; s != series.end(); ++s, to = q.to) {
      if (full(0)) {
        page.next = HistoryCursor{*dev, s->key, to};
        return page;
      }
      if (to < q.from) continue;
      ReadingQuery rq;
      rq.device_id = *dev;
      rq.key = s->key;
      rq.from = q.from;
      // A series is read a store page at a time: what a request holds stays near one page
      // whatever the time range (SQLite reads every point of a call's range before it limits).
      NewestFirstPages<Reading> pages = ReadingPagesFrom(store, rq, {to, 0}, s->latest->ts);
      size_t taken = 0;  // rows of this series on the page
      for (;;) {
        BYSANS_ASSIGN_OR_RETURN(std::vector<Reading> got, pages.Next());
        if (got.empty()) break;
        for (Reading& r : got) {
          const size_t cost = ReadingBytes(r);
          if (full(cost)) {  // the next page starts after this series' last row here
            page.next = HistoryCursor{*dev, s->key, taken > 0 ? page.rows.back().ts - 1 : to};
            return page;
          }
          bytes += cost;
          ++taken;
          page.rows.push_back(std::move(r));
        }
      }
    }
  }
  return page;
}

}  // namespace bysans::opendata

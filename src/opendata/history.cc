#include "opendata/history.h"

#include <algorithm>
#include <charconv>

#include "core/encoding.h"

namespace bysans::opendata {
namespace {

bool ParseInt(std::string_view s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

// The device's keys the query shows, sorted.
Result<std::vector<std::string>> KeysOf(SeriesStore& store, Id device,
                                        const std::vector<std::string>& wanted) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<std::string> keys, store.Keys(device));
  if (!wanted.empty()) {
    std::erase_if(keys, [&wanted](const std::string& k) {
      return std::find(wanted.begin(), wanted.end(), k) == wanted.end();
    });
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

std::string EncodeCursor(const HistoryCursor& c) {
  std::string b64 =
      EncodeBase64(std::to_string(c.device_id) + ":" + std::to_string(c.to) + ":" + c.key);
  for (char& ch : b64) {
    if (ch == '+') ch = '-';
    if (ch == '/') ch = '_';
  }
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
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
  auto dev = q.after ? std::lower_bound(devices.begin(), devices.end(), q.after->device_id)
                     : devices.begin();
  size_t visited = 0;
  for (; dev != devices.end(); ++dev) {
    if (page.rows.size() == limit || visited == q.max_devices) {
      page.next = HistoryCursor{*dev, "", q.to};
      return page;
    }
    ++visited;
    BYSANS_ASSIGN_OR_RETURN(std::vector<std::string> keys, KeysOf(store, *dev, q.keys));
    auto key = keys.begin();
    TimeMs to = q.to;
    if (q.after && *dev == q.after->device_id) {
      key = std::lower_bound(keys.begin(), keys.end(), q.after->key);
      if (key != keys.end() && *key == q.after->key) to = std::min(q.to, q.after->to);
    }
    for (; key != keys.end(); ++key, to = q.to) {
      const size_t remaining = limit - page.rows.size();
      if (remaining == 0) {
        page.next = HistoryCursor{*dev, *key, to};
        return page;
      }
      if (to < q.from) continue;
      ReadingQuery rq;
      rq.device_id = *dev;
      rq.key = *key;
      rq.from = q.from;
      rq.to = to;
      rq.limit = static_cast<int64_t>(remaining) + 1;
      BYSANS_ASSIGN_OR_RETURN(std::vector<Reading> got, store.QueryReadings(rq));
      const bool more = got.size() > remaining;
      if (more) got.resize(remaining);
      for (Reading& r : got) page.rows.push_back(std::move(r));
      if (more) {
        page.next = HistoryCursor{*dev, *key, page.rows.back().ts - 1};
        return page;
      }
    }
  }
  return page;
}

}  // namespace bysans::opendata

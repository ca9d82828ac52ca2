#include "api/latest_pages.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "core/encoding.h"
#include "model/reading_bytes.h"

namespace bysans::api {
namespace {

// Devices per SeriesStore::Latest call: what one call holds stays small beside the budget for
// ordinary devices, while 10,000 devices still take 100 calls.
constexpr size_t kDevicesPerCall = 100;

}  // namespace

std::string EncodeLatestCursor(const LatestPosition& p) {
  return EncodeBase64Url(std::to_string(p.device_id) + ":" + p.after_key);
}

Result<LatestPosition> DecodeLatestCursor(std::string_view text) {
  const Status bad = InvalidArgument("cursor is not valid");
  if (text.size() > 4096) return bad;
  auto raw = DecodeBase64(text);
  if (!raw.ok()) return bad;
  const std::string_view s = raw.value();
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos) return bad;
  LatestPosition p;
  auto [end, ec] = std::from_chars(s.data(), s.data() + colon, p.device_id);
  if (ec != std::errc() || end != s.data() + colon || p.device_id <= 0) return bad;
  p.after_key = std::string(s.substr(colon + 1));
  return p;
}

Result<LatestPage> ReadLatestPage(SeriesStore& store, const std::vector<Id>& devices,
                                  const std::optional<LatestPosition>& start, size_t max_bytes,
                                  const std::function<bool(const Reading&)>& shown) {
  LatestPage page;
  if (start) {
    auto it = std::find(devices.begin(), devices.end(), start->device_id);
    if (it == devices.end()) return InvalidArgument("cursor is not valid");
    page.first = static_cast<size_t>(it - devices.begin());
  }
  page.end = page.first;
  size_t bytes = 0;
  for (size_t at = page.first; at < devices.size(); at += kDevicesPerCall) {
    const size_t until = std::min(devices.size(), at + kDevicesPerCall);
    BYSANS_ASSIGN_OR_RETURN(
        std::vector<Reading> rows,
        store.Latest(std::vector<Id>(devices.begin() + static_cast<std::ptrdiff_t>(at),
                                     devices.begin() + static_cast<std::ptrdiff_t>(until))));
    std::erase_if(rows, [&](const Reading& r) {
      return (shown && !shown(r)) ||
             (start && r.device_id == start->device_id && r.key <= start->after_key);
    });
    // Device by device in the order given, keys in order.
    std::unordered_map<Id, size_t> slot;
    for (size_t i = at; i < until; ++i) slot.emplace(devices[i], i - at);
    std::vector<std::vector<Reading>> by_device(until - at);
    for (Reading& r : rows) {
      if (auto d = slot.find(r.device_id); d != slot.end())
        by_device[d->second].push_back(std::move(r));
    }
    for (size_t i = 0; i < by_device.size(); ++i) {
      std::vector<Reading>& mine = by_device[i];
      std::sort(mine.begin(), mine.end(),
                [](const Reading& a, const Reading& b) { return a.key < b.key; });
      for (Reading& r : mine) {
        const size_t cost = ReadingBytes(r);
        if (!page.rows.empty() && bytes + cost > max_bytes) {
          // The device goes on after its last key on this page (or from its first).
          const bool started = page.rows.back().device_id == r.device_id;
          page.next = LatestPosition{r.device_id, started ? page.rows.back().key : ""};
          if (started) page.end = at + i + 1;
          return page;
        }
        bytes += cost;
        page.rows.push_back(std::move(r));
      }
      page.end = at + i + 1;
    }
  }
  return page;
}

http::Response LatestAnswer(const ApiContext& ctx, const http::Request& req, json body,
                            const LatestPage& page) {
  const std::string next =
      page.next ? BaseUrl(ctx, req) + req.path + "?cursor=" + EncodeLatestCursor(*page.next) : "";
  body["next"] = next.empty() ? json(nullptr) : json(next);
  return WithNextLink(Json(200, std::move(body)), next);
}

Result<std::optional<LatestPosition>> LatestCursorQuery(const http::Request& req) {
  const std::string* cursor = req.Query("cursor");
  if (!cursor || cursor->empty()) return std::optional<LatestPosition>{};
  BYSANS_ASSIGN_OR_RETURN(LatestPosition p, DecodeLatestCursor(*cursor));
  return std::optional<LatestPosition>(std::move(p));
}

}  // namespace bysans::api

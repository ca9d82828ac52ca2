#include "api/latest_pages.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "core/encoding.h"
#include "model/reading_bytes.h"
#include "store/latest_slice.h"

namespace bysans::api {

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
  const std::unordered_map<Id, size_t> position = DevicePositions(devices);
  if (start) {
    auto it = position.find(start->device_id);
    if (it == position.end()) return InvalidArgument("cursor is not valid");
    page.first = it->second;
  }
  LatestQuery q;
  q.device_ids = devices;
  q.start = start;
  size_t bytes = 0;
  // The store's slices stop at what is left of the budget; readings `shown` drops leave room
  // for another slice.
  while (true) {
    q.max_bytes = max_bytes - std::min(bytes, max_bytes);
    BYSANS_ASSIGN_OR_RETURN(LatestSlice slice, store.LatestWithin(q));
    LatestPosition done = q.start.value_or(LatestPosition{});  // the last reading passed
    bool full = false;
    for (Reading& r : slice.readings) {
      if (shown && !shown(r)) {
        done = {r.device_id, r.key};
        continue;
      }
      const size_t cost = ReadingBytes(r);
      if (!page.rows.empty() && bytes + cost > max_bytes) {
        // The store's one reading over the budget (it returns at least one) waits for the next.
        slice.next =
            LatestPosition{r.device_id, done.device_id == r.device_id ? done.after_key : ""};
        full = true;
        break;
      }
      bytes += cost;
      done = {r.device_id, r.key};
      page.rows.push_back(std::move(r));
    }
    if (!slice.next) {
      page.end = devices.size();
      return page;
    }
    if (!full && (page.rows.empty() || bytes < max_bytes)) {
      q.start = std::move(slice.next);  // hidden readings left room
      continue;
    }
    page.next = std::move(slice.next);
    // Devices whose rows (all or the first) are on the page.
    const bool started = !page.rows.empty() && page.rows.back().device_id == page.next->device_id;
    page.end = position.at(page.next->device_id) + (started ? 1 : 0);
    return page;
  }
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

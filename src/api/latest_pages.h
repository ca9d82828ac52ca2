// The latest values of many devices within a byte budget, a page at a time: the public open-data
// and application overviews (`latest`), a device's latest values and a public dashboard's. A
// device keeps a latest value for each key it ever sent, and a text value can be a whole message
// body (256 KiB over HTTP, 1 MiB over MQTT): answers bounded only by their devices could be
// hundreds of MB, built for one request (an anonymous one for open data). Pages stop at
// kLatestBudgetBytes (model/reading_bytes.h ReadingBytes) and say where the next one begins.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/common.h"
#include "core/status.h"
#include "model/model.h"
#include "store/store.h"

namespace bysans::api {

inline constexpr size_t kLatestBudgetBytes = size_t{16} << 20;

// Where a page of latest values begins: store.h's LatestPosition.
std::string EncodeLatestCursor(const LatestPosition& p);  // URL-safe text
// kInvalidArgument "cursor is not valid" for anything EncodeLatestCursor did not write.
Result<LatestPosition> DecodeLatestCursor(std::string_view text);

struct LatestPage {
  // Device by device in the order given, each device's keys in order.
  std::vector<Reading> rows;
  // Devices of the order given whose rows (all or the first) are on the page: [first, end).
  size_t first = 0, end = 0;
  std::optional<LatestPosition> next;  // nullopt: nothing after this page
};

// The latest values of `devices` (that order) that `shown` keeps (null: all), from `start`
// (nullopt: the first device; a device not among `devices` is kInvalidArgument), until their
// ReadingBytes would pass `max_bytes` (a page holds at least one row, so `next` always gets on).
// SeriesStore::LatestWithin is asked for what is left of the budget each time.
Result<LatestPage> ReadLatestPage(SeriesStore& store, const std::vector<Id>& devices,
                                  const std::optional<LatestPosition>& start, size_t max_bytes,
                                  const std::function<bool(const Reading&)>& shown = nullptr);

// The request's `cursor` (nullopt without one).
Result<std::optional<LatestPosition>> LatestCursorQuery(const http::Request& req);
// 200 with `body` and its `next`: the URL of the page after `page` (the request's path with
// `cursor`), also as Link rel="next"; null when it was the last.
http::Response LatestAnswer(const ApiContext& ctx, const http::Request& req, json body,
                            const LatestPage& page);

}  // namespace bysans::api

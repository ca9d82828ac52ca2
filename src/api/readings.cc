// Reading queries: raw readings and time buckets of a device (JSON or CSV),
// its keys, latest values and quality counts, an application's latest values,
// and the raw messages of a device. Callers need the viewer role in the
// device's organisation; anyone else is told the device does not exist.
// Reading and message lists are read from the store a page at a time and stop at
// kListBudgetBytes of text; a list cut short says where the rest begins (`next`).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include "api/common.h"
#include "api/csv.h"
#include "api/latest_pages.h"
#include "api/privacy_audit.h"
#include "core/encoding.h"
#include "core/time_format.h"
#include "store/decoder_store.h"
#include "store/newest_first_pages.h"

namespace bysans::api {
namespace {

constexpr int64_t kDefaultReadingLimit = 1000;
constexpr int64_t kMaxReadingLimit = 100'000;
constexpr int64_t kDefaultMessageLimit = 100;
constexpr int64_t kMaxMessageLimit = 10'000;
// Aggregates default to everything from the epoch to the year 9999.
constexpr TimeMs kLatestTime = 253'402'300'799'999;
// The rows of a reading or message list (JSON items or CSV lines) stop at this many bytes of
// text, and the answer says where the rest begins (`next`, Link rel="next"). A raw message or a
// text reading can be a whole message body (256 KiB over HTTP, 1 MiB over MQTT), so a list
// bounded by its row count alone (10,000 messages, 100,000 readings) could be gigabytes, built
// at once on one of the few io threads. 16 MiB still holds 100,000 numeric readings (about 100
// bytes each) or 10,000 ordinary messages: those answers are as before.
constexpr size_t kListBudgetBytes = size_t{16} << 20;
// A `skip` beyond any run of rows of one time; it keeps `limit + skip` far from overflow.
constexpr int64_t kMaxSkip = 1'000'000'000;

// ---- query parameters --------------------------------------------------------

// True for CSV (Accept: text/csv or ?format=csv); ?format wins over Accept.
Result<bool> WantsCsv(const http::Request& req) {
  if (const std::string* f = req.Query("format")) {
    if (*f == "csv") return true;
    if (*f == "json") return false;
    return InvalidArgument("format must be json or csv, not '" + *f + "'");
  }
  return req.headers.Get("accept").find("text/csv") != std::string::npos;
}

Status CheckRange(TimeMs from, TimeMs to) {
  if (from > to) return InvalidArgument("'from' must not be after 'to'");
  return Status::Ok();
}

// ?skip=: how many rows of time exactly `to` to leave out, those an earlier page gave (the
// `next` of a list sets it).
Result<int64_t> SkipQuery(const http::Request& req) {
  const std::string* s = req.Query("skip");
  if (!s || s->empty()) return 0;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || end != s->data() + s->size() || v < 0 || v > kMaxSkip) {
    return InvalidArgument("skip must be an integer from 0 to " + std::to_string(kMaxSkip) +
                           " (rows of time 'to' already read), not '" + *s + "'");
  }
  return v;
}

// ---- lists within a byte budget ---------------------------------------------------

// The rows of one list answer as text, newest first: JSON items joined by commas, or CSV lines.
struct TextPage {
  std::string text;
  int64_t rows = 0;
  // Set when the byte budget ended the page before `limit` rows while more rows remain: where
  // the next page begins.
  std::optional<NewestFirstCursor> next;
};

// Appends rows from `pages` (read from `start`) to a page by `append(text, row)` until `limit`
// rows or kListBudgetBytes of text. A page holds at least one row, so following `next` always
// gets on.
template <typename Row, typename Append>
Result<TextPage> FillPage(NewestFirstPages<Row>& pages, NewestFirstCursor start, int64_t limit,
                          std::string_view separator, const Append& append) {
  TextPage page;
  NewestFirstCursor at = start;
  while (page.rows < limit) {
    BYSANS_ASSIGN_OR_RETURN(std::vector<Row> rows, pages.Next());
    if (rows.empty()) break;
    for (const Row& row : rows) {
      if (page.rows == limit) break;
      const size_t before = page.text.size();
      if (page.rows > 0) page.text += separator;
      append(page.text, row);
      if (page.rows > 0 && page.text.size() > kListBudgetBytes) {
        page.text.resize(before);
        page.next = at;
        return page;
      }
      ++page.rows;
      at.Pass(RowTime(row));
    }
  }
  return page;
}

// The request again, going on where `page` ended: its parameters but `to`, `skip` and a `limit`
// of the rows still wanted; "" when the page is the whole answer.
std::string NextUrl(const ApiContext& ctx, const http::Request& req, const TextPage& page,
                    int64_t limit) {
  if (!page.next) return {};
  std::string url = BaseUrl(ctx, req) + req.path + "?";
  for (const auto& [name, value] : req.query) {
    if (name != "to" && name != "skip" && name != "limit")
      url += PercentEncode(name) + "=" + PercentEncode(value) + "&";
  }
  url += "to=" + std::to_string(page.next->to) + "&limit=" + std::to_string(limit - page.rows);
  if (page.next->skip > 0) url += "&skip=" + std::to_string(page.next->skip);
  return url;
}

// 200 with `fields`, the page's rows as `items`, `truncated` and `next` (null unless truncated).
http::Response JsonPage(const ApiContext& ctx, const http::Request& req, json fields, TextPage page,
                        int64_t limit) {
  const std::string next = NextUrl(ctx, req, page, limit);
  fields["truncated"] = page.next.has_value();
  fields["next"] = next.empty() ? json(nullptr) : json(next);
  const std::string rest = fields.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string body = std::move(page.text);
  body.insert(0, "{\"items\":[");
  body += "],";
  body.append(rest, 1);  // the other fields, after the '{'
  return WithNextLink(http::JsonResponse(200, std::move(body)), next);
}

// 200 text/csv: `header`, then the page's lines; Link rel="next" when truncated.
http::Response CsvPage(const ApiContext& ctx, const http::Request& req, std::string_view header,
                       TextPage page, int64_t limit, const std::string& filename) {
  const std::string next = NextUrl(ctx, req, page, limit);
  std::string body = std::move(page.text);
  body.insert(0, header);
  return WithNextLink(CsvResponse(std::move(body), filename), next);
}

void AppendJson(std::string& out, const json& item) {
  out += item.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Exports and bulk reads are audited: who took which data of which device.
// `what` is "readings", "buckets" or "messages"; the action is "export" for
// CSV and "read" for JSON.
void AuditRead(ApiContext& ctx, const auth::Principal& p, const http::Request& req, const Device& d,
               const char* what, bool csv, size_t rows) {
  json detail = {{"data", what}, {"format", csv ? "csv" : "json"}, {"rows", rows}};
  for (const char* q : {"key", "from", "to", "bucket"})
    if (const std::string* v = req.Query(q); v && !v->empty()) detail[q] = *v;
  Audit(ctx, p, req, d.org_id, csv ? "export" : "read", "device", std::to_string(d.id),
        detail.dump(-1, ' ', false, json::error_handler_t::replace));
}

// ---- handlers ------------------------------------------------------------------

const std::set<std::string, std::less<>> kAggs = {"avg", "min", "max", "count", "sum"};

Result<http::Response> Aggregated(ApiContext& ctx, http::Request& req, const auth::Principal& p,
                                  const Device& d, const std::string& bucket_text) {
  auto bucket = ParseDurationMs(bucket_text);
  if (!bucket || *bucket <= 0) {
    return InvalidArgument("bucket must be a duration like 15m, 1h or 1d, not '" + bucket_text +
                           "'");
  }
  const std::string* key = req.Query("key");
  if (!key || key->empty()) return InvalidArgument("key is required with bucket");
  std::vector<std::string> aggs;
  std::string agg_text = req.Query("agg") ? *req.Query("agg") : "avg,min,max,count";
  std::stringstream ss(agg_text);
  for (std::string a; std::getline(ss, a, ',');) {
    if (a.empty()) continue;
    if (!kAggs.count(a)) {
      return InvalidArgument("agg must be a comma-separated list of avg, min, max, count, sum; '" +
                             a + "' is unknown");
    }
    if (std::find(aggs.begin(), aggs.end(), a) == aggs.end()) aggs.push_back(a);
  }
  if (aggs.empty()) return InvalidArgument("agg must name at least one of avg, min, max, count");
  AggregateQuery q;
  q.device_id = d.id;
  q.key = *key;
  q.bucket_ms = *bucket;
  BYSANS_ASSIGN_OR_RETURN(q.from, TimeQuery(req, "from", 0));
  BYSANS_ASSIGN_OR_RETURN(q.to, TimeQuery(req, "to", kLatestTime));
  BYSANS_RETURN_IF_ERROR(CheckRange(q.from, q.to));
  BYSANS_ASSIGN_OR_RETURN(int64_t limit, LimitQuery(req, kDefaultReadingLimit, kMaxReadingLimit));
  BYSANS_ASSIGN_OR_RETURN(bool csv, WantsCsv(req));
  BYSANS_ASSIGN_OR_RETURN(DataClass cls, DataClassOf(ctx, d));
  if (csv) BYSANS_RETURN_IF_ERROR(RequireExportRole(p, d.org_id, cls));
  BYSANS_ASSIGN_OR_RETURN(std::vector<Bucket> buckets, ctx.store.Aggregate(q));
  if (!csv) AuditPersonalRead(ctx, p, req, d.org_id, "device", d.id, cls, "buckets");
  bool truncated = static_cast<int64_t>(buckets.size()) > limit;
  if (truncated) buckets.resize(static_cast<size_t>(limit));

  auto field = [](const Bucket& b, const std::string& a) -> json {
    if (a == "avg") return b.avg();
    if (a == "min") return b.min;
    if (a == "max") return b.max;
    if (a == "sum") return b.sum;
    return b.count;
  };
  if (csv) {
    AuditRead(ctx, p, req, d, "buckets", true, buckets.size());
    std::string out = "ts";
    for (const auto& a : aggs) out += "," + a;
    out += "\r\n";
    for (const Bucket& b : buckets) {
      out += FormatRfc3339(b.start);
      for (const auto& a : aggs) {
        out.push_back(',');
        out += a == "count" ? std::to_string(b.count) : NumberText(field(b, a).get<double>());
      }
      out += "\r\n";
    }
    return CsvResponse(std::move(out), "device-" + std::to_string(d.id) + "-" + *key + ".csv");
  }
  json items = json::array();
  for (const Bucket& b : buckets) {
    json item = {{"ts", FormatRfc3339(b.start)}};
    for (const auto& a : aggs) item[a] = field(b, a);
    items.push_back(std::move(item));
  }
  return Json(200, json{{"deviceId", d.id},
                        {"key", *key},
                        {"bucket", bucket_text},
                        {"items", std::move(items)},
                        {"truncated", truncated}});
}

Result<http::Response> Readings(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kViewer));
  if (const std::string* bucket = req.Query("bucket"); bucket && !bucket->empty()) {
    return Aggregated(ctx, req, p, d, *bucket);
  }
  ReadingQuery q;
  q.device_id = d.id;
  if (const std::string* key = req.Query("key")) q.key = *key;
  BYSANS_ASSIGN_OR_RETURN(q.from, TimeQuery(req, "from", INT64_MIN));
  BYSANS_ASSIGN_OR_RETURN(q.to, TimeQuery(req, "to", INT64_MAX));
  BYSANS_RETURN_IF_ERROR(CheckRange(q.from, q.to));
  BYSANS_ASSIGN_OR_RETURN(q.limit, LimitQuery(req, kDefaultReadingLimit, kMaxReadingLimit));
  if (const std::string* quality = req.Query("quality"); quality && !quality->empty()) {
    q.quality = ParseQuality(*quality);
    if (!q.quality) {
      return InvalidArgument("quality must be ok, out_of_range, stuck, spike or late, not '" +
                             *quality + "'");
    }
  }
  BYSANS_ASSIGN_OR_RETURN(int64_t skip, SkipQuery(req));
  BYSANS_ASSIGN_OR_RETURN(bool csv, WantsCsv(req));
  BYSANS_ASSIGN_OR_RETURN(DataClass cls, DataClassOf(ctx, d));
  if (csv) BYSANS_RETURN_IF_ERROR(RequireExportRole(p, d.org_id, cls));
  const NewestFirstCursor start{q.to, skip};
  BYSANS_ASSIGN_OR_RETURN(NewestFirstPages<Reading> pages, ReadingPages(ctx.store, q, start));
  const std::string dev = std::to_string(d.id);
  if (csv) {
    auto line = [&dev](std::string& out, const Reading& r) {
      CsvRow(out,
             {dev, r.key, FormatRfc3339(r.ts), ValueText(r.value), r.unit, QualityName(r.quality)});
    };
    BYSANS_ASSIGN_OR_RETURN(TextPage page, FillPage(pages, start, q.limit, "", line));
    AuditRead(ctx, p, req, d, "readings", true, static_cast<size_t>(page.rows));
    return CsvPage(ctx, req, "device_id,key,ts,value,unit,quality\r\n", std::move(page), q.limit,
                   "device-" + dev + "-readings.csv");
  }
  auto item = [](std::string& out, const Reading& r) {
    AppendJson(out, {{"key", r.key},
                     {"ts", FormatRfc3339(r.ts)},
                     {"value", ValueJson(r.value)},
                     {"unit", r.unit},
                     {"quality", QualityName(r.quality)}});
  };
  BYSANS_ASSIGN_OR_RETURN(TextPage page, FillPage(pages, start, q.limit, ",", item));
  AuditPersonalRead(ctx, p, req, d.org_id, "device", d.id, cls, "readings");
  return JsonPage(ctx, req, json{{"deviceId", d.id}, {"limit", q.limit}}, std::move(page), q.limit);
}

Result<http::Response> Keys(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(std::vector<std::string> keys, ctx.store.Keys(d.id));
  return Json(200, json{{"deviceId", d.id}, {"items", keys}});
}

Result<http::Response> DeviceLatest(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(DataClass cls, DataClassOf(ctx, d));
  BYSANS_ASSIGN_OR_RETURN(std::optional<LatestPosition> start, LatestCursorQuery(req));
  BYSANS_ASSIGN_OR_RETURN(LatestPage page,
                          ReadLatestPage(ctx.store, {d.id}, start, kLatestBudgetBytes));
  AuditPersonalRead(ctx, p, req, d.org_id, "device", d.id, cls, "latest");
  json items = json::array();
  for (const Reading& r : page.rows) {
    json item = ReadingJson(r);
    item["key"] = r.key;
    items.push_back(std::move(item));
  }
  return LatestAnswer(ctx, req, json{{"deviceId", d.id}, {"items", std::move(items)}}, page);
}

Result<http::Response> AppLatest(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id app_id, IdParam(req, "appId"));
  BYSANS_ASSIGN_OR_RETURN(Application app, LoadApplication(ctx, p, app_id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(std::optional<LatestPosition> start, LatestCursorQuery(req));
  BYSANS_ASSIGN_OR_RETURN(std::vector<Device> devices, DevicesOfApplication(ctx, app));
  std::vector<Id> ids;
  for (const Device& dev : devices) ids.push_back(dev.id);
  BYSANS_ASSIGN_OR_RETURN(LatestPage page,
                          ReadLatestPage(ctx.store, ids, start, kLatestBudgetBytes));
  AuditPersonalRead(ctx, p, req, app.org_id, "application", app.id, app.data_class, "latest");
  std::map<Id, json> readings;
  for (const Reading& r : page.rows) readings[r.device_id][r.key] = ReadingJson(r);
  json items = json::array();
  for (size_t i = page.first; i < page.end; ++i) {
    const Device& dev = devices[i];
    auto it = readings.find(dev.id);
    items.push_back({{"deviceId", dev.id},
                     {"deviceName", dev.name},
                     {"readings", it == readings.end() ? json::object() : std::move(it->second)}});
  }
  return LatestAnswer(ctx, req, json{{"applicationId", app.id}, {"items", std::move(items)}}, page);
}

// A decode's errors or warnings in one CSV cell: a JSON array ("" when there are none).
std::string NotesCsv(const std::vector<std::string>& notes) {
  if (notes.empty()) return {};
  return json(notes).dump(-1, ' ', false, json::error_handler_t::replace);
}

// A message's payload as text: itself when it is UTF-8, else base64.
std::pair<std::string, const char*> PayloadText(const RawMessage& m) {
  if (IsValidUtf8(m.payload)) return {m.payload, "utf8"};
  return {EncodeBase64(m.payload), "base64"};
}

Result<http::Response> Messages(ApiContext& ctx, http::Request& req, const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kViewer));
  MessageQuery q;
  q.device_id = d.id;
  BYSANS_ASSIGN_OR_RETURN(q.from, TimeQuery(req, "from", INT64_MIN));
  BYSANS_ASSIGN_OR_RETURN(q.to, TimeQuery(req, "to", INT64_MAX));
  BYSANS_RETURN_IF_ERROR(CheckRange(q.from, q.to));
  BYSANS_ASSIGN_OR_RETURN(q.limit, LimitQuery(req, kDefaultMessageLimit, kMaxMessageLimit));
  BYSANS_ASSIGN_OR_RETURN(int64_t skip, SkipQuery(req));
  BYSANS_ASSIGN_OR_RETURN(bool csv, WantsCsv(req));
  if (csv) {
    BYSANS_ASSIGN_OR_RETURN(DataClass cls, DataClassOf(ctx, d));
    BYSANS_RETURN_IF_ERROR(RequireExportRole(p, d.org_id, cls));
  }
  const NewestFirstCursor start{q.to, skip};
  NewestFirstPages<RawMessage> pages = MessagePages(ctx.store, q, start);
  const std::string dev = std::to_string(d.id);
  if (csv) {
    auto line = [&dev](std::string& out, const RawMessage& m) {
      auto [text, enc] = PayloadText(m);
      CsvRow(out,
             {dev, std::to_string(m.id), FormatRfc3339(m.received_ms), TransportName(m.transport),
              m.content_type, enc, text, DecodeStatusName(m.decode_status), m.decode_error,
              NotesCsv(m.decode_errors), NotesCsv(m.decode_warnings)});
    };
    BYSANS_ASSIGN_OR_RETURN(TextPage page, FillPage(pages, start, q.limit, "", line));
    AuditRead(ctx, p, req, d, "messages", true, static_cast<size_t>(page.rows));
    return CsvPage(ctx, req,
                   "device_id,id,received,transport,content_type,payload_encoding,payload,"
                   "decode_status,decode_error,decode_errors,decode_warnings\r\n",
                   std::move(page), q.limit, "device-" + dev + "-messages.csv");
  }
  auto item = [](std::string& out, const RawMessage& m) {
    auto [text, enc] = PayloadText(m);
    AppendJson(out, {{"id", m.id},
                     {"receivedAt", FormatRfc3339(m.received_ms)},
                     {"transport", TransportName(m.transport)},
                     {"contentType", m.content_type},
                     {"payload", std::move(text)},
                     {"payloadEncoding", enc},
                     {"decodeStatus", DecodeStatusName(m.decode_status)},
                     {"decodeError", m.decode_error},
                     {"decodeErrors", m.decode_errors},
                     {"decodeWarnings", m.decode_warnings}});
  };
  BYSANS_ASSIGN_OR_RETURN(TextPage page, FillPage(pages, start, q.limit, ",", item));
  AuditRead(ctx, p, req, d, "messages", false, static_cast<size_t>(page.rows));
  // How many there are in the range: a pager's "21–40 of 1,234" (newest first, paged with `to`).
  BYSANS_ASSIGN_OR_RETURN(int64_t total, ctx.store.decoders().CountMessages(d.id, q.from, q.to));
  return JsonPage(ctx, req, json{{"deviceId", d.id}, {"limit", q.limit}, {"total", total}},
                  std::move(page), q.limit);
}

Result<http::Response> QualityCounts(ApiContext& ctx, http::Request& req,
                                     const auth::Principal& p) {
  BYSANS_ASSIGN_OR_RETURN(Id id, IdParam(req, "id"));
  BYSANS_ASSIGN_OR_RETURN(Device d, LoadDevice(ctx, p, id, Role::kViewer));
  BYSANS_ASSIGN_OR_RETURN(auto counts, ctx.store.CountQuality(d.id));
  json out = json::object();
  int64_t total = 0;
  for (Quality q :
       {Quality::kOk, Quality::kOutOfRange, Quality::kStuck, Quality::kSpike, Quality::kLate}) {
    auto it = counts.find(q);
    int64_t n = it == counts.end() ? 0 : it->second;
    out[QualityName(q)] = n;
    total += n;
  }
  return Json(200, json{{"deviceId", d.id}, {"counts", std::move(out)}, {"total", total}});
}

}  // namespace

void RegisterReadingRoutes(http::Router& router, ApiContext& ctx) {
  auto bind = [&ctx](auto fn) {
    return [&ctx, fn](http::Request& req, const auth::Principal& p) { return fn(ctx, req, p); };
  };
  const std::string one = "/api/v1/devices/{id}";
  AddAuthed(router, ctx, "GET", one + "/readings",
            "Readings of a device, newest first (?key=&from=&to=&limit=&quality=&skip=; at most "
            "16 MiB of rows an answer, then truncated with the rest in next / Link rel=next), or "
            "buckets (?bucket=1h&agg=avg,min,max,count); JSON or CSV",
            bind(Readings));
  AddAuthed(router, ctx, "GET", one + "/keys", "Keys a device has sent", bind(Keys));
  AddAuthed(router, ctx, "GET", one + "/latest", "Latest value of every key of a device",
            bind(DeviceLatest));
  AddAuthed(router, ctx, "GET", one + "/messages",
            "Raw messages of a device, newest first (?from=&to=&limit=&skip=), with how many the "
            "range holds; at most 16 MiB of rows an answer, then truncated with the rest in next "
            "/ Link rel=next; JSON or CSV",
            bind(Messages));
  AddAuthed(router, ctx, "GET", one + "/quality", "Readings counted per quality flag",
            bind(QualityCounts));
  AddAuthed(router, ctx, "GET", "/api/v1/applications/{appId}/latest",
            "Latest value of every key of every device of an application", bind(AppLatest));
}

}  // namespace bysans::api

#include "share/format.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/json_depth.h"
#include "core/time_format.h"

namespace bysans::share {
namespace {

using json = nlohmann::json;

// The decoder's output as JSON text: as it is when it is JSON within the depth limit (the
// usual case, no parse tree built), else as a JSON string; null when there is none.
void AppendDecoded(std::string_view decoded, std::string* out) {
  if (decoded.empty()) {
    out->append("null");
  } else if (CheckJsonDepth(decoded).ok() && json::accept(decoded)) {
    out->append(decoded);
  } else {
    out->append(json(std::string(decoded)).dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

// JSON text written directly (no parse tree: a target drains tens of thousands of records per
// second, and nlohmann's tree cost several times the whole ingest path per record).
void AppendString(std::string_view v, std::string* out) {
  out->push_back('"');
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(ch);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out->append(buf);
    } else {
      out->push_back(ch);
    }
  }
  out->push_back('"');
}

void AppendNumber(double d, std::string* out) {
  if (!std::isfinite(d)) {
    out->append("null");
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out->append(buf, ec == std::errc() ? static_cast<size_t>(end - buf) : 0);
}

void AppendInt(int64_t v, std::string* out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(end - buf));
}

// RFC 3339 of a time ("2024-01-01T00:00:00.000Z", as core/time_format.h writes it), without
// printf: a target writes a few per record.
void AppendTime(TimeMs t, std::string* out) {
  int64_t days = t >= 0 ? t / 86'400'000 : (t - 86'399'999) / 86'400'000;
  int64_t ms = t - days * 86'400'000;
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  days += 719'468;
  const int64_t era = (days >= 0 ? days : days - 146'096) / 146'097;
  const int64_t doe = days - era * 146'097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) {
    out->push_back('"');
    out->append(FormatRfc3339(t));
    out->push_back('"');
    return;
  }
  char b[26] = "\"0000-00-00T00:00:00.000Z";
  auto put = [&b](int at, int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i, v /= 10) b[at + i] = static_cast<char>('0' + v % 10);
  };
  put(1, year, 4);
  put(6, month, 2);
  put(9, day, 2);
  put(12, ms / 3'600'000, 2);
  put(15, ms / 60'000 % 60, 2);
  put(18, ms / 1000 % 60, 2);
  put(21, ms % 1000, 3);
  out->append(b, 25);
  out->push_back('"');
}

void AppendValue(const Value& v, std::string* out) {
  if (const double* d = std::get_if<double>(&v)) {
    AppendNumber(*d, out);
  } else if (const bool* b = std::get_if<bool>(&v)) {
    out->append(*b ? "true" : "false");
  } else {
    AppendString(std::get<std::string>(v), out);
  }
}

void AppendEnvelope(const ShareRecord& r, const DeviceLookup& lookup, std::string* out) {
  out->append(R"({"device":{"id":)");
  AppendInt(r.device_id, out);
  if (const Device* d = lookup ? lookup(r.device_id) : nullptr) {
    out->append(",\"name\":");
    AppendString(d->name, out);
    out->append(",\"devEui\":");
    if (d->dev_eui.empty()) {
      out->append("null");
    } else {
      AppendString(d->dev_eui, out);
    }
    out->append(",\"location\":");
    if (d->location) {
      out->append("{\"lat\":");
      AppendNumber(d->location->lat, out);
      out->append(",\"lon\":");
      AppendNumber(d->location->lon, out);
      out->push_back('}');
    } else {
      out->append("null");
    }
  }
  out->append("},\"receivedAt\":");
  AppendTime(r.received_ms, out);
  out->append(",\"messageId\":");
  AppendInt(r.message_id, out);
  out->append(",\"readings\":[");
  for (size_t i = 0; i < r.readings.size(); ++i) {
    const Reading& x = r.readings[i];
    if (i > 0) out->push_back(',');
    out->append("{\"key\":");
    AppendString(x.key, out);
    out->append(",\"value\":");
    AppendValue(x.value, out);
    out->append(",\"unit\":");
    AppendString(x.unit, out);
    out->append(R"(,"quality":")");
    out->append(QualityName(x.quality));
    out->append(R"(","ts":)");
    AppendTime(x.ts, out);
    out->push_back('}');
  }
  out->append("],\"decoded\":");
  AppendDecoded(r.decoded_json, out);
  out->push_back('}');
}

void AppendRecord(std::string_view format, const ShareRecord& r, const DeviceLookup& device,
                  std::string* out) {
  if (format == kFormatOs2iot) {
    AppendDecoded(r.decoded_json, out);
  } else {
    AppendEnvelope(r, device, out);
  }
}

}  // namespace

bool IsKnownFormat(std::string_view format) {
  return format == kFormatBysans || format == kFormatOs2iot;
}

std::string FormatRecord(std::string_view format, const ShareRecord& r,
                         const DeviceLookup& device) {
  std::string out;
  AppendRecord(format, r, device, &out);
  return out;
}

std::string FormatRequest(std::string_view format, std::span<const ShareRecord> records,
                          bool batched, const DeviceLookup& device) {
  std::string out;
  if (!batched) {
    if (!records.empty()) AppendRecord(format, records.front(), device, &out);
    return out;
  }
  size_t size = 2;  // the body's size, roughly: one allocation instead of a doubling series
  for (const ShareRecord& r : records)
    size += 160 + r.decoded_json.size() + 120 * r.readings.size();
  out.reserve(size);
  out.push_back('[');
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendRecord(format, records[i], device, &out);
  }
  out.push_back(']');
  return out;
}

std::string ExpandTopic(std::string_view tmpl, Id app_id, const ShareRecord& r,
                        const Device* device) {
  auto safe = [](std::string v) {
    for (char& c : v)
      if (c == '/' || c == '+' || c == '#' || c == '\0') c = '_';
    return v;
  };
  const std::pair<std::string_view, std::string> vars[] = {
      {"{application}", std::to_string(app_id)},
      {"{device}", std::to_string(r.device_id)},
      {"{devEui}", safe(device ? device->dev_eui : std::string())},
      {"{deviceName}", safe(device ? device->name : std::string())}};
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    bool replaced = false;
    for (const auto& [name, value] : vars) {
      if (tmpl.substr(i, name.size()) == name) {
        out += value;
        i += name.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(tmpl[i++]);
  }
  return out;
}

}  // namespace bysans::share

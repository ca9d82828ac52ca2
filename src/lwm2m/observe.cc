#include "lwm2m/observe.h"

#include <charconv>
#include <cstdlib>

#include "lwm2m/operation.h"
#include "lwm2m/readings.h"
#include "lwm2m/tlv.h"

namespace bysans::lwm2m {
namespace {

constexpr int kObservedObjects[] = {3303, 3304, 3301, 3315, 3200, 3428, 3424};

enum class ValueKind { kFloat, kInteger, kBoolean, kUnknown };

// The data type of the known resources (OMA LwM2M registry), for TLV values.
ValueKind KindOf(int object, int resource) {
  if (!KnownResource(object, resource)) return ValueKind::kUnknown;
  if ((object == 3 && resource == 9) || (object == 3200 && resource == 5501) ||
      (object == 3424 && resource == 4))
    return ValueKind::kInteger;
  if ((object == 3200 && resource == 5500) || (object == 3424 && (resource == 9 || resource == 10)))
    return ValueKind::kBoolean;
  return ValueKind::kFloat;
}

std::string PathText(const std::vector<int>& ids) {
  std::string p;
  for (int id : ids) p += "/" + std::to_string(id);
  return p;
}

Status AddTlvValue(const std::vector<int>& ids, std::string_view bytes, Id device_id, TimeMs now,
                   std::vector<Reading>& out) {
  if (ids.size() < 3) return InvalidArgument("TLV: a value outside a resource");
  const ValueKind kind = KindOf(ids[0], ids[2]);
  if (kind == ValueKind::kUnknown) return Status::Ok();  // type unknown: skipped
  Reading r;
  r.device_id = device_id;
  r.ts = now;
  r.key = ReadingKey(PathText(ids), &r.unit);
  if (kind == ValueKind::kFloat) {
    // A float is 4 or 8 bytes; a 1- or 2-byte value is taken as an integer some clients send.
    if (bytes.size() == 4 || bytes.size() == 8) {
      BYSANS_ASSIGN_OR_RETURN(double f, TlvFloat(bytes));
      r.value = f;
    } else {
      BYSANS_ASSIGN_OR_RETURN(int64_t i, TlvInteger(bytes));
      r.value = static_cast<double>(i);
    }
  } else if (kind == ValueKind::kInteger) {
    BYSANS_ASSIGN_OR_RETURN(int64_t i, TlvInteger(bytes));
    r.value = static_cast<double>(i);
  } else {
    if (bytes.size() != 1) return InvalidArgument("TLV: a boolean has 1 byte");
    r.value = bytes[0] != 0;
  }
  out.push_back(std::move(r));
  return Status::Ok();
}

// An entry under `base` (the path the entry's identifier extends).
Status AddTlvEntry(const TlvEntry& e, std::vector<int> base, Id device_id, TimeMs now,
                   std::vector<Reading>& out) {
  base.push_back(e.id);
  if (base.size() > 4) return InvalidArgument("TLV: deeper than a resource instance");
  if (e.type == TlvType::kResource || e.type == TlvType::kResourceInstance)
    return AddTlvValue(base, e.value, device_id, now, out);
  for (const TlvEntry& c : e.children)
    BYSANS_RETURN_IF_ERROR(AddTlvEntry(c, base, device_id, now, out));
  return Status::Ok();
}

}  // namespace

std::vector<std::string> ObservedPaths(std::string_view objects_text) {
  std::vector<std::string> paths;
  while (!objects_text.empty()) {
    const size_t comma = objects_text.find(',');
    auto ids = ParsePath(objects_text.substr(0, comma));
    objects_text = comma == std::string_view::npos ? "" : objects_text.substr(comma + 1);
    if (!ids.ok() || ids->size() != 2) continue;
    const int object = (*ids)[0];
    if (object == 3) {
      paths.push_back(PathText(*ids) + "/9");
      continue;
    }
    for (int o : kObservedObjects)
      if (o == object) paths.push_back(PathText(*ids));
  }
  return paths;
}

Result<std::vector<Reading>> ParseNotification(int content_format, std::string_view payload,
                                               std::string_view path, Id device_id, TimeMs now) {
  if (content_format == kSenmlJson || content_format == kSenmlCbor)
    return ParseSend(content_format, payload, device_id, now);
  BYSANS_ASSIGN_OR_RETURN(std::vector<int> ids, ParsePath(path));
  std::vector<Reading> out;
  if (content_format == kTextPlain) {
    if (ids.size() != 3) return InvalidArgument("plain text is the value of a single resource");
    Reading r;
    r.device_id = device_id;
    r.ts = now;
    r.key = ReadingKey(path, &r.unit);
    double d = 0;
    auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), d);
    if (!payload.empty() && ec == std::errc() && end == payload.data() + payload.size()) {
      r.value = d;
    } else {
      r.value = std::string(payload);
    }
    out.push_back(std::move(r));
    return out;
  }
  if (content_format != kTlv)
    return Status(Code::kUnsupportedMedia,
                  "a notification carries SenML CBOR (112) or JSON (110), TLV (11542) or plain "
                  "text (0), not Content-Format " +
                      std::to_string(content_format));
  BYSANS_ASSIGN_OR_RETURN(std::vector<TlvEntry> entries, ParseTlv(payload));
  for (const TlvEntry& e : entries) {
    // Top-level entries: object instances under an object path, resources under an instance,
    // the resource itself (or its instances) under a resource path.
    std::vector<int> base = ids;
    if (ids.size() >= 3 && e.type != TlvType::kResourceInstance) base.resize(2);
    BYSANS_RETURN_IF_ERROR(AddTlvEntry(e, std::move(base), device_id, now, out));
  }
  return out;
}

std::string NotificationContentType(int content_format) {
  switch (content_format) {
    case kSenmlCbor:
      return "application/senml+cbor";
    case kSenmlJson:
      return "application/senml+json";
    case kTlv:
      return "application/vnd.oma.lwm2m+tlv";
    default:
      return "text/plain";
  }
}

}  // namespace bysans::lwm2m

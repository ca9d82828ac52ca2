#include "ingest/receive.h"

#include <algorithm>
#include <cctype>

#include "ingest/senml.h"
#include "ingest/senml_cbor.h"

namespace bysans::ingest {
namespace {

std::string MediaType(std::string_view ct) {
  size_t semi = ct.find(';');
  std::string_view t = ct.substr(0, semi);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  std::string out(t);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

PayloadKind ClassifyContentType(std::string_view content_type) {
  std::string t = MediaType(content_type);
  if (t == "application/senml+json") return PayloadKind::kSenml;
  if (t == "application/senml+cbor") return PayloadKind::kSenmlCbor;
  if (t.empty() || t == "application/json" || t == "text/json" || EndsWith(t, "+json")) {
    return PayloadKind::kJson;
  }
  return PayloadKind::kUnsupported;
}

Status ParseReadings(PayloadKind kind, std::string_view body, Id device_id, TimeMs now,
                     std::vector<Reading>& out, JsonFlattener* flattener) {
  out.clear();
  if (body.empty()) return InvalidArgument("the request body is empty; send a JSON document");
  if (kind == PayloadKind::kSenmlCbor) {
    BYSANS_ASSIGN_OR_RETURN(std::string json, SenmlCborToJson(body));
    BYSANS_ASSIGN_OR_RETURN(out, ParseSenml(json, device_id, now));
    return Status::Ok();
  }
  if (kind == PayloadKind::kSenml) {
    BYSANS_ASSIGN_OR_RETURN(out, ParseSenml(body, device_id, now));
    return Status::Ok();
  }
  out.reserve(8);  // a typical sensor message, without regrowing
  std::optional<JsonFlattener> local;
  if (!flattener) flattener = &local.emplace();
  FlattenOptions opts;
  opts.take_top_level_time = true;
  return flattener->Flatten(body, device_id, now, out, opts);
}

Result<IngestBatch> BuildHttpIngest(const Device& d, std::string_view content_type,
                                    std::string body, TimeMs now, JsonFlattener* flattener) {
  PayloadKind kind = ClassifyContentType(content_type);
  if (kind == PayloadKind::kUnsupported) {
    return Status(Code::kUnsupportedMedia,
                  "content type must be application/json, application/senml+json or "
                  "application/senml+cbor, not '" +
                      std::string(content_type.substr(0, 100)) + "'");
  }
  IngestBatch batch;
  BYSANS_RETURN_IF_ERROR(ParseReadings(kind, body, d.id, now, batch.readings, flattener));
  RawMessage& m = batch.messages.emplace_back();
  m.device_id = d.id;
  m.received_ms = now;
  m.transport = Transport::kHttp;
  m.content_type = content_type.empty() ? "application/json" : std::string(content_type);
  m.payload = std::move(body);
  m.decode_status = DecodeStatus::kNone;
  return batch;
}

}  // namespace bysans::ingest

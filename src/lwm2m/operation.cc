#include "lwm2m/operation.h"

#include <charconv>

#include "core/encoding.h"
#include "core/random.h"

namespace bysans::lwm2m {

Result<std::vector<int>> ParsePath(std::string_view path) {
  auto bad = [&] {
    return InvalidArgument("path \"" + std::string(path.substr(0, 64)) +
                           "\" must be /object[/instance[/resource[/instance]]] with integers "
                           "0..65535, e.g. /3/0/4");
  };
  if (path.size() < 2 || path[0] != '/') return bad();
  std::vector<int> ids;
  std::string_view rest = path.substr(1);
  for (;;) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    int n = -1;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size() || n < 0 ||
        n > 65535 || ids.size() == 4)
      return bad();
    ids.push_back(n);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return ids;
}

Result<Lwm2mOpKind> ParseKind(std::string_view kind) {
  if (kind == "read") return Lwm2mOpKind::kRead;
  if (kind == "write") return Lwm2mOpKind::kWrite;
  if (kind == "execute") return Lwm2mOpKind::kExecute;
  if (kind == "observe") return Lwm2mOpKind::kObserve;
  if (kind == "cancel-observe") return Lwm2mOpKind::kCancelObserve;
  return InvalidArgument("kind must be read, write, execute, observe or cancel-observe");
}

Status ValidateOperation(Lwm2mOpKind kind, std::string_view path, std::string_view value) {
  BYSANS_ASSIGN_OR_RETURN(std::vector<int> ids, ParsePath(path));
  if (value.size() > 512) return InvalidArgument("value is limited to 512 bytes");
  switch (kind) {
    case Lwm2mOpKind::kRead:
      if (!value.empty()) return InvalidArgument("a read takes no value");
      return Status::Ok();
    case Lwm2mOpKind::kWrite:
      if (ids.size() < 3)
        return InvalidArgument("a write names a resource: /object/instance/resource");
      return Status::Ok();
    case Lwm2mOpKind::kExecute:
      if (ids.size() != 3)
        return InvalidArgument("an execute names a resource: /object/instance/resource");
      return Status::Ok();
    case Lwm2mOpKind::kObserve:
    case Lwm2mOpKind::kCancelObserve:
      if (!value.empty()) return InvalidArgument("an observe or cancel-observe takes no value");
      return Status::Ok();
  }
  return InvalidArgument("unknown operation kind");
}

coap::OutgoingRequest RequestFor(const Lwm2mOperation& op) {
  coap::OutgoingRequest r;
  std::string_view rest = std::string_view(op.path).substr(1);
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    r.path.emplace_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  switch (op.kind) {
    case Lwm2mOpKind::kRead:
      r.method = coap::Method::kGet;
      break;
    case Lwm2mOpKind::kWrite:
      r.method = coap::Method::kPut;
      r.content_format = 0;  // text/plain
      r.payload = op.value;
      break;
    case Lwm2mOpKind::kExecute:
      r.method = coap::Method::kPost;
      r.payload = op.value;
      break;
    case Lwm2mOpKind::kObserve:  // GET with Observe=0, SenML CBOR preferred
      r.method = coap::Method::kGet;
      r.accept = 112;
      r.keep_for_notifications = true;
      break;
    case Lwm2mOpKind::kCancelObserve:  // forgotten locally (Lwm2mServer), never sent
      r.method = coap::Method::kGet;
      break;
  }
  return r;
}

Status MarkSent(Lwm2mOperation& op, TimeMs now) {
  if (op.state != Lwm2mOpState::kQueued)
    return FailedPrecondition(std::string("a ") + Lwm2mOpStateName(op.state) +
                              " operation cannot be sent");
  op.state = Lwm2mOpState::kSent;
  op.updated_ms = now;
  return Status::Ok();
}

std::string ResultText(std::string_view payload) {
  payload = payload.substr(0, 1024);
  if (IsValidUtf8(payload, /*nul_allowed=*/false)) return std::string(payload);
  return "hex:" + ToHex(payload.data(), payload.size());
}

Status MarkAnswered(Lwm2mOperation& op, const coap::PeerResponse& response, TimeMs now) {
  if (op.state != Lwm2mOpState::kSent)
    return FailedPrecondition(std::string("a ") + Lwm2mOpStateName(op.state) +
                              " operation cannot take an answer");
  if (response.code == 0) return MarkFailed(op, response.error, now);
  op.state = Lwm2mOpState::kDone;
  op.result_code = response.code;
  op.result_payload = ResultText(response.payload);
  op.updated_ms = now;
  return Status::Ok();
}

Status MarkFailed(Lwm2mOperation& op, std::string reason, TimeMs now) {
  if (op.state != Lwm2mOpState::kQueued && op.state != Lwm2mOpState::kSent)
    return FailedPrecondition(std::string("a ") + Lwm2mOpStateName(op.state) +
                              " operation cannot fail");
  op.state = Lwm2mOpState::kFailed;
  op.error = std::move(reason);
  op.updated_ms = now;
  return Status::Ok();
}

}  // namespace bysans::lwm2m

#include "lwm2m/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "lwm2m/observe.h"
#include "lwm2m/operation.h"
#include "lwm2m/readings.h"
#include "lwm2m/registration.h"

namespace bysans::lwm2m {
namespace {

constexpr int kLinkFormat = 40;

coap::CoapAnswer Answer(int code, std::string text = {}) {
  coap::CoapAnswer a;
  a.code = code;
  a.payload = std::move(text);
  return a;
}

coap::CoapAnswer Error(const Status& st) {
  switch (st.code()) {
    case Code::kInvalidArgument:
      return Answer(400, st.message());
    case Code::kUnauthenticated:
      return Answer(401, st.message());
    case Code::kPermissionDenied:
      return Answer(403, st.message());
    case Code::kNotFound:
      return Answer(404, st.message());
    case Code::kTooLarge:
      return Answer(413, st.message());
    case Code::kUnsupportedMedia:
      return Answer(415, st.message());
    case Code::kUnavailable:
    case Code::kRateLimited:  // the organisation holds its share of the pipeline
      return Answer(503, st.message());
    default:
      spdlog::warn("lwm2m: {}", st.message());
      return Answer(500, "internal error");
  }
}

// Over plain UDP a device names itself with its ingest key (`k=`), the same rule as /ingest.
Status Unidentified(const coap::CoapRequest& r) {
  if (r.auth_error.code() == Code::kUnauthenticated && !r.dtls)
    return Status(Code::kUnauthenticated,
                  "missing device key: coap://host/rd?ep=NAME&k=KEY (bysans' rule for unsecured "
                  "LwM2M), or register over DTLS with the device's PSK");
  if (r.auth_error.ok()) return Status(Code::kUnauthenticated, "unknown device");
  return r.auth_error;
}

}  // namespace

Lwm2mServer::Lwm2mServer(Lwm2mStore& store, Random& random, const Clock& clock,
                         Lwm2mOptions options)
    : store_(store), random_(random), clock_(clock), opts_(options) {
  // Observations do not outlive the process: the ones recorded before a restart are gone.
  if (Status st = store_.DeleteObservations(0); !st.ok())
    spdlog::warn("lwm2m: cannot clear the recorded observations: {}", st.message());
}

coap::CoapAnswer Lwm2mServer::Handle(const coap::CoapRequest& r,
                                     std::shared_ptr<coap::CoapPeer> peer) {
  const bool rd = r.path[0] == "rd";
  if (rd && r.path.size() == 1 && r.method == coap::Method::kPost)
    return Register(r, std::move(peer));
  if (rd && r.path.size() == 2 && r.method == coap::Method::kPost)
    return Update(r, std::move(peer));
  if (rd && r.path.size() == 2 && r.method == coap::Method::kDelete) return Deregister(r);
  if (!rd && r.path.size() == 1 && r.method == coap::Method::kPost) return Send(r, std::move(peer));
  if (r.path.size() <= 2) return Answer(405, "method not allowed");
  return Answer(404, "no such resource");
}

coap::CoapAnswer Lwm2mServer::Register(const coap::CoapRequest& r,
                                       std::shared_ptr<coap::CoapPeer> peer) {
  if (!r.device) return Error(Unidentified(r));
  if (coap::CoapAnswer refusal; !WithinRegistrationBudget(r.device->id, &refusal)) return refusal;
  auto params = ParseRegisterQuery(r.query);
  if (!params.ok()) return Error(params.status());
  if (r.content_format != -1 && r.content_format != kLinkFormat)
    return Answer(415, "a registration carries application/link-format (Content-Format 40)");
  auto links = ParseLinkFormat(r.payload);
  if (!links.ok()) return Error(links.status());
  const TimeMs now = clock_.NowMs();
  Lwm2mRegistration reg;
  reg.device_id = r.device->id;
  reg.registration_id = random_.Id();
  reg.endpoint = params->endpoint;
  reg.lifetime_s = params->lifetime_s;
  reg.binding = params->binding;
  reg.queue_mode = params->queue_mode;
  reg.version = params->version.empty() ? "1.0" : params->version;
  reg.objects = ObjectsText(*links);
  reg.registered_ms = now;
  reg.updated_ms = now;
  if (Status st = store_.PutRegistration(reg); !st.ok()) return Error(st);
  Remember(reg, r.device, std::move(peer), r.peer, true);
  spdlog::info("lwm2m: device {} registered as \"{}\" (lifetime {} s{})", reg.device_id,
               reg.endpoint, reg.lifetime_s, reg.queue_mode ? ", queue mode" : "");
  coap::CoapAnswer a = Answer(201);
  a.location_path = {"rd", reg.registration_id};
  return a;
}

bool Lwm2mServer::WithinRegistrationBudget(Id device_id, coap::CoapAnswer* refusal) {
  if (registration_budget_.Allow(device_id, clock_.NowMs())) return true;
  *refusal = Answer(429, "too many registrations and updates from this device: retry in a minute");
  return false;
}

Result<Lwm2mRegistration> Lwm2mServer::OwnRegistration(const coap::CoapRequest& r) {
  auto reg = store_.FindRegistration(r.path[1]);
  if (!reg.ok()) {
    if (reg.status().code() == Code::kNotFound)
      return NotFound("unknown registration: register again");
    return reg.status();
  }
  // The caller: its key or PSK, else (plain UDP without k=) the endpoint it registered from.
  Id caller = 0;
  if (r.device) {
    caller = r.device->id;
  } else if (auto it = peer_devices_.find(r.peer); !r.dtls && it != peer_devices_.end()) {
    caller = it->second;
  } else {
    return Unidentified(r);
  }
  // Another device's registration id: as unknown as a made-up one.
  if (caller != reg->device_id) return NotFound("unknown registration: register again");
  if (reg->ExpiredAt(clock_.NowMs())) return NotFound("the registration expired: register again");
  return reg;
}

coap::CoapAnswer Lwm2mServer::Update(const coap::CoapRequest& r,
                                     std::shared_ptr<coap::CoapPeer> peer) {
  auto reg = OwnRegistration(r);
  if (!reg.ok()) return Error(reg.status());
  if (coap::CoapAnswer refusal; !WithinRegistrationBudget(reg->device_id, &refusal)) return refusal;
  auto params = ParseUpdateQuery(r.query);
  if (!params.ok()) return Error(params.status());
  if (params->lifetime_s) reg->lifetime_s = *params->lifetime_s;
  if (params->binding) reg->binding = *params->binding;
  if (params->queue_mode) reg->queue_mode = *params->queue_mode;
  if (!r.payload.empty()) {
    if (r.content_format != -1 && r.content_format != kLinkFormat)
      return Answer(415, "an update carries application/link-format (Content-Format 40)");
    auto links = ParseLinkFormat(r.payload);
    if (!links.ok()) return Error(links.status());
    reg->objects = ObjectsText(*links);
  }
  reg->updated_ms = clock_.NowMs();
  if (Status st = store_.PutRegistration(*reg); !st.ok()) return Error(st);
  Remember(*reg, r.device, std::move(peer), r.peer, false);
  return Answer(204);
}

coap::CoapAnswer Lwm2mServer::Deregister(const coap::CoapRequest& r) {
  auto reg = OwnRegistration(r);
  if (!reg.ok()) return Error(reg.status());
  if (Status st = store_.DeleteRegistration(reg->device_id); !st.ok()) return Error(st);
  Forget(reg->device_id);
  spdlog::info("lwm2m: device {} de-registered", reg->device_id);
  return Answer(202);
}

coap::CoapAnswer Lwm2mServer::Send(const coap::CoapRequest& r,
                                   std::shared_ptr<coap::CoapPeer> peer) {
  std::shared_ptr<const Device> device = r.device ? r.device : RegisteredPeer(r);
  if (!device) return Error(Unidentified(r));
  const TimeMs now = clock_.NowMs();
  auto readings = ParseSend(r.content_format, r.payload, device->id, now);
  if (!readings.ok()) return Error(readings.status());
  // A Send wakes a queue-mode device: its pending operations go out now.
  if (auto it = sessions_.find(device->id); it != sessions_.end()) {
    it->second.peer = std::move(peer);
    it->second.awake_until_ms = now + opts_.awake_ms;
  }
  pipeline::Uplink up;
  up.device = device;
  up.raw.device_id = device->id;
  up.raw.received_ms = now;
  up.raw.transport = Transport::kHttp;
  up.raw.content_type =
      r.content_format == kSenmlCbor ? "application/senml+cbor" : "application/senml+json";
  up.raw.payload = r.payload;
  up.raw.decode_status = DecodeStatus::kNone;
  up.readings = std::move(*readings);
  up.skip_decode = true;  // named by the LwM2M object model, not by a decoder
  coap::CoapAnswer a = Answer(204);
  a.submit = std::move(up);
  return a;
}

std::shared_ptr<const Device> Lwm2mServer::RegisteredPeer(const coap::CoapRequest& r) const {
  if (r.dtls) return nullptr;
  auto it = peer_devices_.find(r.peer);
  if (it == peer_devices_.end()) return nullptr;
  auto s = sessions_.find(it->second);
  return s == sessions_.end() ? nullptr : s->second.device;
}

void Lwm2mServer::Remember(const Lwm2mRegistration& reg, std::shared_ptr<const Device> device,
                           std::shared_ptr<coap::CoapPeer> peer, const std::string& peer_key,
                           bool fresh) {
  const TimeMs now = clock_.NowMs();
  Session& s = sessions_[reg.device_id];
  if (device) s.device = std::move(device);
  // A new Register, another endpoint or other objects: the observations are made anew.
  if (fresh || s.peer_key != peer_key || s.objects != reg.objects) {
    CancelObservations(reg.device_id, s);
    s.observe_due = true;
  }
  s.objects = reg.objects;
  if (!s.peer_key.empty() && s.peer_key != peer_key) peer_devices_.erase(s.peer_key);
  s.peer = std::move(peer);
  s.peer_key = peer_key;
  s.queue_mode = reg.queue_mode;
  s.expires_ms = reg.updated_ms + reg.lifetime_s * 1000;
  s.awake_until_ms = now + opts_.awake_ms;
  peer_devices_[peer_key] = reg.device_id;
}

void Lwm2mServer::Forget(Id device_id) {
  auto it = sessions_.find(device_id);
  if (it == sessions_.end()) return;
  CancelObservations(device_id, it->second);
  peer_devices_.erase(it->second.peer_key);
  sessions_.erase(it);
}

void Lwm2mServer::ExpireOperations(TimeMs now) {
  if (now < next_expiry_ms_) return;
  constexpr int kBatch = 1000;
  const std::string reason = fmt::format(
      "expired: not sent to the device and answered within {} s (coap.lwm2m_operation_expiry_s); "
      "the device was not registered or did not answer",
      opts_.operation_expiry_ms / 1000);
  auto n = store_.ExpireOperations(now - opts_.operation_expiry_ms, reason, now, kBatch);
  auto gone = store_.DeleteFinishedOperations(now - opts_.finished_kept_ms, kBatch);
  // Every minute, or a tenth of the expiry when that is shorter (at least a second).
  next_expiry_ms_ = now + std::clamp<TimeMs>(opts_.operation_expiry_ms / 10, 1000, 60'000);
  if (!n.ok()) spdlog::warn("lwm2m: cannot expire the old operations: {}", n.status().message());
  if (!gone.ok())
    spdlog::warn("lwm2m: cannot delete the old finished operations: {}", gone.status().message());
  if (n.ok() && *n > 0) spdlog::info("lwm2m: {} operations expired", *n);
  if (gone.ok() && *gone > 0) spdlog::info("lwm2m: {} finished operations deleted", *gone);
  // More of either: the next batch at the next tick.
  if ((n.ok() && *n == kBatch) || (gone.ok() && *gone == kBatch)) next_expiry_ms_ = now;
}

void Lwm2mServer::Tick() {
  const TimeMs now = clock_.NowMs();
  ExpireOperations(now);
  std::vector<Id> expired;
  for (const auto& [id, s] : sessions_)
    if (s.expires_ms < now) expired.push_back(id);
  for (Id id : expired) Forget(id);
  if (sessions_.empty()) return;
  FlushCounts();
  for (auto& [id, s] : sessions_) {
    if (s.observe_due && (!s.queue_mode || s.awake_until_ms >= now)) SyncObservations(id, s);
  }
  // Only the operations of the devices that can be sent to now (a session here, awake, none in
  // flight), a few of each: what other devices — of any organisation — have queued is not read.
  std::vector<Id> ready;
  for (const auto& [id, s] : sessions_) {
    if (busy_devices_.count(id) || (s.queue_mode && s.awake_until_ms < now)) continue;
    ready.push_back(id);
  }
  if (ready.empty()) return;
  auto open = store_.OpenOperations(ready, opts_.operations_per_device);
  if (!open.ok()) {
    spdlog::warn("lwm2m: cannot read the pending operations: {}", open.status().message());
    return;
  }
  for (Lwm2mOperation& op : *open) {
    if (op.state == Lwm2mOpState::kSent) {
      // Sent before a restart: its answer can no longer arrive here.
      if (inflight_.count(op.id)) continue;
      if (MarkFailed(op, "no answer: bysans restarted while the operation was sent", now).ok())
        (void)store_.UpdateOperation(op);
      continue;
    }
    auto it = sessions_.find(op.device_id);
    if (it == sessions_.end() || busy_devices_.count(op.device_id)) continue;
    if (it->second.queue_mode && it->second.awake_until_ms < now) continue;
    if (op.kind == Lwm2mOpKind::kObserve || op.kind == Lwm2mOpKind::kCancelObserve) {
      ObserveOperation(std::move(op), it->first, it->second);
      continue;
    }
    Dispatch(std::move(op), it->second);
  }
}

void Lwm2mServer::Dispatch(Lwm2mOperation op, Session& session) {
  const TimeMs now = clock_.NowMs();
  if (!MarkSent(op, now).ok()) return;
  if (Status st = store_.UpdateOperation(op); !st.ok()) {
    spdlog::warn("lwm2m: cannot record operation {}: {}", op.id, st.message());
    return;
  }
  const Id device = op.device_id;
  const Id op_id = op.id;
  busy_devices_.insert(device);
  inflight_.insert(op_id);
  Status sent = session.peer->Send(RequestFor(op), [this, op](const coap::PeerResponse& resp) {
    Lwm2mOperation done = op;
    if (MarkAnswered(done, resp, clock_.NowMs()).ok()) {
      if (Status st = store_.UpdateOperation(done); !st.ok())
        spdlog::warn("lwm2m: cannot record operation {}: {}", done.id, st.message());
    }
    inflight_.erase(done.id);
    busy_devices_.erase(done.device_id);
  });
  if (!sent.ok()) {
    inflight_.erase(op_id);
    busy_devices_.erase(device);
    if (MarkFailed(op, sent.message(), now).ok()) (void)store_.UpdateOperation(op);
  }
}

void Lwm2mServer::SyncObservations(Id device_id, Session& session) {
  session.observe_due = false;
  if (!sink_ || !session.peer) return;
  std::set<std::string> wanted = session.api_observed;
  if (opts_.observe) {
    for (const std::string& path : ObservedPaths(session.objects)) wanted.insert(path);
  }
  for (const std::string& path : wanted) {
    if (!session.observations.count(path) && !session.api_cancelled.count(path))
      StartObservation(device_id, session, path);
  }
}

void Lwm2mServer::StartObservation(Id device_id, Session& session, const std::string& path,
                                   std::optional<Lwm2mOperation> op) {
  EndObservation(device_id, session, path);
  Lwm2mOperation as_op;
  as_op.kind = Lwm2mOpKind::kObserve;
  as_op.path = path;
  const coap::OutgoingRequest req = RequestFor(as_op);
  Observation o;
  o.serial = next_serial_++;
  o.peer = session.peer;
  o.since_ms = clock_.NowMs();
  const uint64_t serial = o.serial;
  Status sent = o.peer->Send(
      req,
      [this, device_id, path, serial](const coap::PeerResponse& resp) {
        OnNotification(device_id, path, serial, resp);
      },
      &o.token);
  if (!sent.ok()) {
    spdlog::warn("lwm2m: cannot observe {} of device {}: {}", path, device_id, sent.message());
    if (op) {
      coap::PeerResponse failed;
      failed.error = sent.message();
      FinishOperation(*op, failed);
    }
    return;
  }
  o.op = std::move(op);
  if (Status st = store_.PutObservation({device_id, path, o.since_ms, 0, 0}); !st.ok())
    spdlog::warn("lwm2m: cannot record the observation of {}: {}", path, st.message());
  session.observations[path] = std::move(o);
}

bool Lwm2mServer::EndObservation(Id device_id, Session& session, const std::string& path) {
  auto it = session.observations.find(path);
  if (it == session.observations.end()) return false;
  it->second.peer->CancelObserve(it->second.token);
  if (it->second.op) {
    coap::PeerResponse gone;
    gone.error = "the observation ended before the device answered";
    FinishOperation(*it->second.op, gone);
  }
  session.observations.erase(it);
  (void)store_.DeleteObservation(device_id, path);
  return true;
}

void Lwm2mServer::CancelObservations(Id device_id, Session& session) {
  std::vector<std::string> paths;
  for (const auto& [path, o] : session.observations) paths.push_back(path);
  for (const std::string& path : paths) EndObservation(device_id, session, path);
}

void Lwm2mServer::ObserveOperation(Lwm2mOperation op, Id device_id, Session& session) {
  const TimeMs now = clock_.NowMs();
  if (!MarkSent(op, now).ok()) return;
  if (op.kind == Lwm2mOpKind::kCancelObserve) {
    // Forgotten here at once; the device learns it from the reset of its next notification.
    session.api_observed.erase(op.path);
    // Remembered only for a path observed of itself (bounded by the device's objects), so that
    // cancels of made-up paths cannot grow the set.
    const std::vector<std::string> own = ObservedPaths(session.objects);
    if (std::find(own.begin(), own.end(), op.path) != own.end())
      session.api_cancelled.insert(op.path);
    const bool had = EndObservation(device_id, session, op.path);
    op.state = Lwm2mOpState::kDone;
    op.result_payload = had ? "observation cancelled" : "the path was not observed";
    op.updated_ms = now;
    if (Status st = store_.UpdateOperation(op); !st.ok())
      spdlog::warn("lwm2m: cannot record operation {}: {}", op.id, st.message());
    return;
  }
  if (!sink_) {
    if (MarkFailed(op, "observation is off on this server", now).ok())
      (void)store_.UpdateOperation(op);
    return;
  }
  if (!session.api_observed.count(op.path) &&
      session.api_observed.size() >= opts_.max_api_observations) {
    if (MarkFailed(op,
                   "this device already has " + std::to_string(opts_.max_api_observations) +
                       " observations made through the API; cancel one first",
                   now)
            .ok())
      (void)store_.UpdateOperation(op);
    return;
  }
  if (Status st = store_.UpdateOperation(op); !st.ok()) {
    spdlog::warn("lwm2m: cannot record operation {}: {}", op.id, st.message());
    return;
  }
  session.api_cancelled.erase(op.path);
  session.api_observed.insert(op.path);
  inflight_.insert(op.id);
  const std::string path = op.path;  // not a reference into the moved operation
  StartObservation(device_id, session, path, std::move(op));
}

void Lwm2mServer::FinishOperation(Lwm2mOperation& op, const coap::PeerResponse& response) {
  if (MarkAnswered(op, response, clock_.NowMs()).ok()) {
    if (Status st = store_.UpdateOperation(op); !st.ok())
      spdlog::warn("lwm2m: cannot record operation {}: {}", op.id, st.message());
  }
  inflight_.erase(op.id);
}

void Lwm2mServer::OnNotification(Id device_id, const std::string& path, uint64_t serial,
                                 const coap::PeerResponse& resp) {
  auto s = sessions_.find(device_id);
  if (s == sessions_.end()) return;
  auto o = s->second.observations.find(path);
  if (o == s->second.observations.end() || o->second.serial != serial) return;
  Observation& obs = o->second;
  if (obs.op) {  // an API observe: its first response finishes it
    FinishOperation(*obs.op, resp);
    obs.op.reset();
  }
  bool ended = !resp.notification;
  if (resp.code == 0) {
    spdlog::info("lwm2m: observation of {} on device {} ended: {}", path, device_id, resp.error);
  } else if (resp.code / 100 != 2) {
    LogDroppedNotification(device_id, fmt::format("device {} answered {}.{:02d} for {}", device_id,
                                                  resp.code / 100, resp.code % 100, path));
  } else {
    const TimeMs now = clock_.NowMs();
    auto readings = ParseNotification(resp.content_format, resp.payload, path, device_id, now);
    if (!readings.ok()) {
      LogDroppedNotification(device_id, fmt::format("notification of {} from device {}: {}", path,
                                                    device_id, readings.status().message()));
    } else {
      ++obs.notifications;
      obs.last_ms = now;
      obs.counts_dirty = true;
      pipeline::Uplink up;
      up.device = s->second.device;  // always the session's device
      up.raw.device_id = device_id;
      up.raw.received_ms = now;
      up.raw.transport = Transport::kHttp;
      up.raw.content_type = NotificationContentType(resp.content_format);
      up.raw.payload = resp.payload;
      up.raw.decode_status = DecodeStatus::kNone;
      up.readings = std::move(*readings);
      up.skip_decode = true;
      sink_(std::move(up));
    }
    if (ended)
      spdlog::info("lwm2m: device {} answered {} without Observe: not observed", device_id, path);
  }
  if (ended) {
    s->second.observations.erase(o);
    (void)store_.DeleteObservation(device_id, path);
  }
}

void Lwm2mServer::FlushCounts() {
  for (auto& [device_id, session] : sessions_) {
    for (auto& [path, o] : session.observations) {
      if (!o.counts_dirty) continue;
      o.counts_dirty = false;
      if (Status st =
              store_.PutObservation({device_id, path, o.since_ms, o.notifications, o.last_ms});
          !st.ok())
        spdlog::warn("lwm2m: cannot record the observation of {}: {}", path, st.message());
    }
  }
}

void Lwm2mServer::LogDroppedNotification(Id device_id, const std::string& line) {
  int64_t unlogged = 0;
  if (!drop_log_budget_.Allow(device_id, clock_.NowMs(), &unlogged)) return;
  if (unlogged == 0) {
    spdlog::info("lwm2m: {}: notification dropped", line);
  } else {
    spdlog::info(
        "lwm2m: {}: notification dropped ({} more of this device's were dropped and not "
        "logged)",
        line, unlogged);
  }
}

void Lwm2mServer::Shutdown() {
  FlushCounts();
  sessions_.clear();
  peer_devices_.clear();
  inflight_.clear();
  busy_devices_.clear();
}

}  // namespace bysans::lwm2m

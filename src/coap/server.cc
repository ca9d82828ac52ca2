#include "coap/server.h"

#include <arpa/inet.h>
#include <coap3/coap.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "auth/auth.h"
#include "coap/answer.h"
#include "coap/exchange_memory.h"
#include "coap/hooks.h"
#include "coap/io_loop.h"
#include "core/clock.h"
#include "core/log_budget.h"
#include "ingest/flatten.h"
#include "ingest/receive.h"
#include "ingest/senml_cbor.h"

namespace bysans::coap {
namespace {

void LogToSpdlog(coap_log_t level, const char* message) {
  std::string_view m(message);
  while (!m.empty() && (m.back() == '\n' || m.back() == '\r')) m.remove_suffix(1);
  // CoapIoLoop hands libcoap one event per datagram it estimates waiting; a read that finds the
  // socket empty (a guess too high: io_loop.h) is not worth a warning.
  if (m.find("Resource temporarily unavailable") != std::string_view::npos ||
      m.ends_with(": read failed")) {
    spdlog::debug("coap: {}", m);
    return;
  }
  // libcoap logs some of what peers send (bad frames, failed DTLS handshakes): a peer sending
  // them fast must not flood the log. 20 lines at once, then 1 a second. (A C callback: the
  // process's clock, not an injected one.)
  static std::mutex mu;
  static LogBudget<int> budget(1, 20);
  static const SystemClock clock;
  int64_t skipped = 0;
  {
    std::lock_guard lock(mu);
    if (!budget.Allow(0, clock.NowMs(), &skipped)) return;
  }
  const auto lvl = level <= LOG_ERR ? spdlog::level::err : spdlog::level::warn;
  if (skipped == 0) {
    spdlog::log(lvl, "coap: {}", m);
  } else {
    spdlog::log(lvl, "coap: {} ({} more libcoap lines were not logged)", m, skipped);
  }
}

// libcoap's global set-up, once per process (coap_startup is not reentrant).
void StartupOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    coap_startup();
    coap_set_log_handler(LogToSpdlog);
    coap_set_log_level(LOG_WARNING);
  });
}

coap_pdu_code_t CodeFor(const Status& st) {
  switch (st.code()) {
    case Code::kOk:
      return COAP_RESPONSE_CODE_CHANGED;
    case Code::kInvalidArgument:
      return COAP_RESPONSE_CODE_BAD_REQUEST;
    case Code::kUnauthenticated:
      return COAP_RESPONSE_CODE_UNAUTHORIZED;
    case Code::kPermissionDenied:
    case Code::kNotFound:
      return COAP_RESPONSE_CODE_FORBIDDEN;
    case Code::kTooLarge:
      return COAP_RESPONSE_CODE_REQUEST_TOO_LARGE;
    case Code::kUnsupportedMedia:
      return COAP_RESPONSE_CODE_UNSUPPORTED_CONTENT_FORMAT;
    case Code::kUnavailable:
    case Code::kRateLimited:
      return COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE;
    default:
      return COAP_RESPONSE_CODE_INTERNAL_ERROR;
  }
}

// A request between its Submit and its commit. Nothing has been sent for it until its answer,
// unless its ACK deadline passed (or the device retransmitted): then an empty ACK went out and
// the answer is a separate response.
struct Pending {
  coap_session_t* session = nullptr;  // referenced until the answer is sent
  coap_mid_t mid = 0;
  std::string token;
  bool confirmable = false;
  bool acked = false;  // the empty ACK went out
  uint64_t seq = 0;    // tells a reused address apart in ack_due
  std::string dedup_key;
  Id device_id = 0;
  size_t readings = 0;
  coap_pdu_code_t ok_code = COAP_RESPONSE_CODE_CHANGED;
  bool carries_downlinks = true;  // /ingest's answer; not an extension's (LwM2M's Send)
};

// When a confirmable request's empty ACK is due, if its commit is not done by then.
struct AckDue {
  TimeMs at = 0;
  Pending* pending = nullptr;
  uint64_t seq = 0;
};

// Commits reported by the store's writer thread, picked up by the CoAP thread. Outlives the
// server: a commit reported after Stop() is dropped.
struct Completions {
  std::mutex mu;
  std::vector<std::pair<Pending*, Status>> items;
  bool closed = false;
  int event_fd = -1;

  void Push(Pending* p, Status st) {
    std::lock_guard<std::mutex> lock(mu);
    if (closed) return;
    items.emplace_back(p, std::move(st));
    if (items.size() == 1) {
      uint64_t one = 1;
      [[maybe_unused]] ssize_t n = ::write(event_fd, &one, sizeof one);
    }
  }
};

// The listen address of coap.bind and a port.
Status MakeAddress(const std::string& bind, int port, coap_address_t& addr) {
  coap_address_init(&addr);
  if (bind.find(':') != std::string::npos) {
    addr.addr.sin6.sin6_family = AF_INET6;
    addr.addr.sin6.sin6_port = htons(static_cast<uint16_t>(port));
    addr.size = sizeof(sockaddr_in6);
    if (inet_pton(AF_INET6, bind.c_str(), &addr.addr.sin6.sin6_addr) == 1) return Status::Ok();
  } else {
    addr.addr.sin.sin_family = AF_INET;
    addr.addr.sin.sin_port = htons(static_cast<uint16_t>(port));
    addr.size = sizeof(sockaddr_in);
    if (inet_pton(AF_INET, bind.c_str(), &addr.addr.sin.sin_addr) == 1) return Status::Ok();
  }
  return InvalidArgument("invalid setting coap.bind=\"" + bind + "\": not an IPv4 or IPv6 address");
}

// "127.0.0.1:5683 UDP" / "[::1]:5684 DTLS" → the port.
uint16_t PortOf(const std::string& endpoint_text) {
  size_t colon = endpoint_text.rfind(':');
  if (colon == std::string::npos) return 0;
  return static_cast<uint16_t>(std::atoi(endpoint_text.c_str() + colon + 1));
}

// The UDP endpoint's receive buffer (as far as net.core.rmem_max allows): 1,000 devices' requests
// at once, ~830 bytes of queue memory each, without drops (a drop costs the device a 2 s
// retransmission timeout).
constexpr int kUdpReceiveBuffer = 4 << 20;

struct CachedPsk {
  PskDevice psk;
  TimeMs expires_ms = 0;
};

}  // namespace

struct CoapServer::Impl {
  CoapOptions opts;
  std::shared_ptr<ingest::DeviceKeyCache> keys;
  pipeline::Pipeline& pipeline;
  Metrics& metrics;
  const Clock& clock;

  coap_context_t* ctx = nullptr;
  uint16_t port = 0;
  uint16_t dtls_port = 0;
  PskLookup psk_lookup;
  std::function<uint64_t()> psk_generation;              // may be empty
  uint64_t psk_cache_generation = 0;                     // CoAP thread only
  std::unordered_map<std::string, CachedPsk> psk_cache;  // CoAP thread only
  std::string psk_reply;                                 // the key handed to libcoap
  coap_bin_const_t psk_reply_bin{0, nullptr};
  std::unique_ptr<CoapIoLoop> io;  // after Start
  std::shared_ptr<Completions> completions = std::make_shared<Completions>();
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::unordered_set<Pending*> pending;                 // CoAP thread only
  std::unordered_map<std::string, Pending*> in_flight;  // by dedup key
  std::deque<AckDue> ack_due;                           // in deadline order
  uint64_t next_seq = 0;
  DownlinkSource downlinks;
  // Separate confirmable answers that carried a downlink, by (session, message id): a NACK
  // (no ACK after the retransmissions, or a reset) queues the downlink again.
  std::map<std::pair<coap_session_t*, coap_mid_t>, std::pair<Id, TimeMs>> con_downlinks;
  ingest::JsonFlattener flattener;  // CoAP thread only

  ExchangeMemory exchanges{opts.exchanges};  // what was answered, for duplicates; CoAP thread only

  // Extensions (hooks.h): their resources, the sessions they hold and the responses awaited
  // to their requests (by session and token). CoAP thread only once started.
  struct Peer;
  std::vector<std::shared_ptr<CoapExtension>> extensions;
  std::unordered_map<std::string, CoapExtension*> ext_by_resource;
  std::unordered_set<Peer*> peers;
  std::shared_ptr<CoapPeer> MakePeer(coap_session_t* session);  // after Peer
  std::unordered_map<std::string, std::function<void(const PeerResponse&)>> outgoing;
  // Keys of `outgoing` kept for notifications (OutgoingRequest::keep_for_notifications).
  std::unordered_set<std::string> observing;
  TimeMs next_tick_ms = 0;
  prometheus::Gauge& sessions_held;

  Impl(CoapOptions o, std::shared_ptr<ingest::DeviceKeyCache> k, pipeline::Pipeline& p, Metrics& m,
       const Clock& c)
      : opts(std::move(o)),
        keys(std::move(k)),
        pipeline(p),
        metrics(m),
        clock(c),
        sessions_held(m.Gauge("bysans_coap_sessions",
                              "CoAP server sessions held (one per peer address and port)", {})) {}

  void Count(const char* result, double n = 1) {
    metrics
        .Counter("bysans_ingest_messages_total", "Ingested messages by transport and result",
                 {{"transport", "coap"}, {"result", result}})
        .Increment(n);
  }

  // Counts the server's sessions (bysans_coap_sessions).
  static int OnEvent(coap_session_t* session, const coap_event_t event) {
    if (event != COAP_EVENT_SERVER_SESSION_NEW && event != COAP_EVENT_SERVER_SESSION_DEL) return 0;
    auto* self = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(session)));
    if (event == COAP_EVENT_SERVER_SESSION_NEW)
      self->sessions_held.Increment();
    else
      self->sessions_held.Decrement();
    return 0;
  }

  static void Handle(coap_resource_t*, coap_session_t* session, const coap_pdu_t* request,
                     const coap_string_t* query, coap_pdu_t* response) {
    auto* self = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(session)));
    self->OnPost(session, request, query, response);
  }

  // DTLS handshake: the key of the identity the client named, or null (handshake fails).
  static const coap_bin_const_t* ValidatePsk(coap_bin_const_t* identity, coap_session_t*,
                                             void* arg) {
    auto* self = static_cast<Impl*>(arg);
    std::string id(reinterpret_cast<const char*>(identity->s), identity->length);
    self->psk_cache.erase(id);
    auto found = self->FindPsk(id);
    if (!found.ok()) {
      self->Count("psk_refused");
      if (found.status().code() != Code::kNotFound)
        spdlog::warn("coap: PSK lookup failed: {}", found.status().message());
      return nullptr;
    }
    self->psk_reply = found->key;
    self->psk_reply_bin.s = reinterpret_cast<const uint8_t*>(self->psk_reply.data());
    self->psk_reply_bin.length = self->psk_reply.size();
    return &self->psk_reply_bin;
  }

  // The identity's device and key, through the cache.
  Result<PskDevice> FindPsk(const std::string& identity) {
    const TimeMs now = clock.NowMs();
    if (psk_generation) {
      if (const uint64_t g = psk_generation(); g != psk_cache_generation) {
        psk_cache.clear();
        psk_cache_generation = g;
      }
    }
    if (auto it = psk_cache.find(identity); it != psk_cache.end()) {
      if (it->second.expires_ms > now) return it->second.psk;
      psk_cache.erase(it);
    }
    if (identity.empty() || !psk_lookup) return NotFound("unknown PSK identity");
    BYSANS_ASSIGN_OR_RETURN(PskDevice psk, psk_lookup(identity));
    if (psk_cache.size() >= 10'000) psk_cache.clear();
    psk_cache[identity] = {psk, now + opts.psk_cache_ms};
    return psk;
  }

  // The device of a DTLS session: its PSK identity's, while that identity still has the key the
  // session was made with.
  Result<std::shared_ptr<const Device>> DtlsDevice(coap_session_t* session) {
    const coap_bin_const_t* id = coap_session_get_psk_identity(session);
    const coap_bin_const_t* key = coap_session_get_psk_key(session);
    if (!id || !key) return Status(Code::kUnauthenticated, "no PSK identity in this session");
    auto psk = FindPsk(std::string(reinterpret_cast<const char*>(id->s), id->length));
    if (!psk.ok()) {
      if (psk.status().code() == Code::kNotFound)
        return Status(Code::kUnauthenticated, "the PSK identity no longer exists");
      return psk.status();
    }
    if (psk->key != std::string_view(reinterpret_cast<const char*>(key->s), key->length))
      return Status(Code::kUnauthenticated, "the PSK was rotated: connect again with the new key");
    return psk->device;
  }

  // A refusal, piggybacked on the ACK (or a NON answer) by libcoap when the handler returns.
  void Refuse(coap_pdu_t* response, const std::string& key, const Status& st, const char* result,
              std::optional<uint32_t> size1 = std::nullopt) {
    Count(result);
    Answer a;
    a.code = CodeFor(st);
    a.payload = st.code() == Code::kInternal ? "internal error" : st.message();
    a.size1 = size1;
    WriteAnswer(a, response);
    exchanges.Remember(key, 0, std::move(a), clock.NowMs());
  }

  // The session's endpoint and the request's message id: the duplicate-detection key.
  static std::string ExchangeKey(coap_session_t* session, const coap_pdu_t* request) {
    char addr[INET6_ADDRSTRLEN + 16];
    size_t n = coap_print_addr(coap_session_get_addr_remote(session),
                               reinterpret_cast<unsigned char*>(addr), sizeof addr);
    const bool dtls = coap_session_get_proto(session) == COAP_PROTO_DTLS;
    std::string key = dtls ? "s:" : "u:";
    key.append(addr, n);
    key += '#';
    key += std::to_string(coap_pdu_get_mid(request));
    return key;
  }

  // While stopping: 5.03 for every new request. True when answered so.
  bool RefuseWhileStopping(coap_pdu_t* response) {
    if (!stopping.load()) return false;
    Count("unavailable");
    Answer a;
    a.code = COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE;
    a.payload = "bysans is shutting down";
    WriteAnswer(a, response);
    return true;
  }

  // A retransmission of a request seen within EXCHANGE_LIFETIME: the same answer, or, still in
  // flight, the empty ACK for a confirmable one (the device stops retransmitting; the answer
  // follows the commit as a separate response) and nothing for a NON one (libcoap drops an
  // empty NON response). True when `key` was such a duplicate.
  bool AnswerDuplicate(const std::string& key, const coap_pdu_t* request, coap_pdu_t* response) {
    const Answer* answered = exchanges.Find(key, clock.NowMs());
    if (!answered) return false;
    Count("duplicate");
    if (answered->code != 0) {
      WriteAnswer(*answered, response);
    } else if (coap_pdu_get_type(request) == COAP_MESSAGE_CON) {
      if (auto f = in_flight.find(key); f != in_flight.end()) f->second->acked = true;
    } else {
      coap_pdu_set_type(response, COAP_MESSAGE_NON);
    }
    return true;
  }

  void OnPost(coap_session_t* session, const coap_pdu_t* request, const coap_string_t* query,
              coap_pdu_t* response) {
    if (RefuseWhileStopping(response)) return;
    const bool dtls = coap_session_get_proto(session) == COAP_PROTO_DTLS;
    const std::string key = ExchangeKey(session, request);
    if (AnswerDuplicate(key, request, response)) return;

    // DTLS: the PSK identity is the device. UDP: the device key, ?k=KEY (Uri-Query).
    Result<std::shared_ptr<const Device>> device = Status(Code::kInternal, "unset");
    if (dtls) {
      device = DtlsDevice(session);
      if (!device.ok()) {
        const bool auth = device.status().code() == Code::kUnauthenticated;
        return Refuse(response, key, device.status(), auth ? "forbidden" : "error");
      }
    } else {
      device = UdpDevice(query);
      if (!device.ok()) {
        const Code code = device.status().code();
        const bool auth = code == Code::kUnauthenticated || code == Code::kPermissionDenied;
        return Refuse(response, key, device.status(), auth ? "forbidden" : "error");
      }
    }
    HandleUplink(session, request, response, key, *device);
  }

  Result<std::shared_ptr<const Device>> UdpDevice(const coap_string_t* query) {
    std::string_view q =
        query ? std::string_view(reinterpret_cast<const char*>(query->s), query->length) : "";
    std::string device_key;
    while (!q.empty()) {
      size_t amp = q.find('&');
      std::string_view part = q.substr(0, amp);
      if (part.rfind("k=", 0) == 0) device_key = std::string(part.substr(2));
      if (amp == std::string_view::npos) break;
      q.remove_prefix(amp + 1);
    }
    if (device_key.empty())
      return Status(Code::kUnauthenticated, "missing device key: POST coap://host/ingest?k=KEY");
    auto device = keys->Find(auth::Sha256Hex(device_key));
    if (!device.ok() && device.status().code() == Code::kNotFound)
      return PermissionDenied("unknown device key");
    return device;
  }

  void HandleUplink(coap_session_t* session, const coap_pdu_t* request, coap_pdu_t* response,
                    const std::string& key, const std::shared_ptr<const Device>& device) {
    size_t len = 0;
    const uint8_t* data = nullptr;
    if (!coap_get_data(request, &len, &data)) len = 0;
    if (len > opts.max_payload) {
      return Refuse(response, key,
                    Status(Code::kTooLarge, "payload of " + std::to_string(len) +
                                                " bytes exceeds the limit of " +
                                                std::to_string(opts.max_payload)),
                    "too_large", static_cast<uint32_t>(opts.max_payload));
    }
    std::string payload(reinterpret_cast<const char*>(data), len);

    int format = -1;  // absent
    coap_opt_iterator_t it;
    if (coap_opt_t* opt = coap_check_option(request, COAP_OPTION_CONTENT_FORMAT, &it))
      format = static_cast<int>(coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt)));

    const TimeMs now = clock.NowMs();
    pipeline::Uplink uplink;
    uplink.device = device;
    switch (format) {
      case -1:
      case COAP_MEDIATYPE_APPLICATION_JSON:
      case COAP_MEDIATYPE_APPLICATION_SENML_JSON: {
        const char* type = format == COAP_MEDIATYPE_APPLICATION_SENML_JSON
                               ? "application/senml+json"
                               : "application/json";
        auto batch = ingest::BuildHttpIngest(*device, type, std::move(payload), now, &flattener);
        if (!batch.ok()) return Refuse(response, key, batch.status(), "bad_request");
        uplink.raw = std::move(batch->messages.front());
        uplink.readings = std::move(batch->readings);
        break;
      }
      case COAP_MEDIATYPE_APPLICATION_SENML_CBOR: {
        auto senml = ingest::SenmlCborToJson(payload);
        if (!senml.ok()) return Refuse(response, key, senml.status(), "bad_request");
        Status parsed = ingest::ParseReadings(ingest::PayloadKind::kSenml, *senml, device->id, now,
                                              uplink.readings, &flattener);
        if (!parsed.ok()) return Refuse(response, key, parsed, "bad_request");
        uplink.raw.content_type = "application/senml+cbor";
        break;
      }
      case COAP_MEDIATYPE_APPLICATION_OCTET_STREAM:
        if (payload.empty())
          return Refuse(response, key, InvalidArgument("empty payload"), "bad_request");
        uplink.raw.content_type = "application/octet-stream";  // for the device's decoder
        break;
      default:
        return Refuse(response, key,
                      Status(Code::kUnsupportedMedia,
                             "unsupported Content-Format " + std::to_string(format) +
                                 ": send 50 (JSON), 110 (SenML JSON), 112 (SenML CBOR) or 42 "
                                 "(bytes for the device's decoder)"),
                      "unsupported");
    }
    if (uplink.raw.content_type != "application/json" &&
        uplink.raw.content_type != "application/senml+json") {
      uplink.raw.device_id = device->id;
      uplink.raw.received_ms = now;
      uplink.raw.transport = Transport::kHttp;
      uplink.raw.payload = std::move(payload);
      uplink.raw.decode_status = DecodeStatus::kNone;
    }

    Submit(session, request, response, key, std::move(uplink), COAP_RESPONSE_CODE_CHANGED, true);
  }

  // Hands a valid uplink to the pipeline; `ok_code` answers it after the commit (piggybacked
  // when the commit comes before the ACK deadline), with a queued downlink if `carries_downlinks`.
  void Submit(coap_session_t* session, const coap_pdu_t* request, coap_pdu_t* response,
              const std::string& key, pipeline::Uplink uplink, coap_pdu_code_t ok_code,
              bool carries_downlinks) {
    const TimeMs now = clock.NowMs();
    auto* p = new Pending;
    p->session = coap_session_reference(session);
    p->mid = coap_pdu_get_mid(request);
    const coap_bin_const_t token = coap_pdu_get_token(request);
    p->token.assign(reinterpret_cast<const char*>(token.s), token.length);
    p->confirmable = coap_pdu_get_type(request) == COAP_MESSAGE_CON;
    p->seq = ++next_seq;
    p->dedup_key = key;
    p->device_id = uplink.device->id;
    p->readings = uplink.readings.size();
    p->ok_code = ok_code;
    p->carries_downlinks = carries_downlinks;
    pending.insert(p);
    in_flight[key] = p;
    if (p->confirmable) ack_due.push_back({now + opts.piggyback_ms, p, p->seq});
    exchanges.Remember(key, p->device_id, Answer{}, now);
    // Nothing goes out now (libcoap drops an empty NON response): the answer follows the
    // commit, piggybacked on the ACK if it comes before the ACK deadline (SendDueAcks).
    coap_pdu_set_type(response, COAP_MESSAGE_NON);
    pipeline.Submit(std::move(uplink), [c = completions, p](Status st) { c->Push(p, st); });
  }

  // The answer to a committed (or refused by the pipeline) request; a 2.04 carries the
  // device's oldest queued downlink (looked for only if `may_have_downlinks`).
  Answer AnswerFor(const Pending& p, const Status& st, bool may_have_downlinks = true) {
    Answer a;
    a.code = st.ok() ? p.ok_code : CodeFor(st);
    if (st.ok()) {
      Count("stored");
      metrics
          .Counter("bysans_ingest_readings_total", "Readings committed from ingested messages",
                   {{"transport", "coap"}})
          .Increment(static_cast<double>(p.readings));
      if (!downlinks.take || !p.carries_downlinks || !may_have_downlinks) return a;
      auto taken = downlinks.take(p.device_id);
      if (!taken.ok()) {  // the uplink is stored: answer without the downlink
        spdlog::warn("coap: queued downlinks of device {} not read: {}", p.device_id,
                     taken.status().message());
      } else if (*taken) {
        a.payload = std::move((*taken)->data);
        a.content_format = COAP_MEDIATYPE_APPLICATION_OCTET_STREAM;
        a.downlink_id = (*taken)->id;
        if ((*taken)->still_queued > 0)
          a.downlinks_pending =
              static_cast<uint32_t>(std::min<int64_t>((*taken)->still_queued, UINT32_MAX));
      }
    } else if (st.code() == Code::kUnavailable || st.code() == Code::kRateLimited) {
      Count("unavailable");
      a.payload = "busy: the server is shedding load; retry later";
      a.max_age = 1;
    } else {
      Count("store_error");
      a.payload = "internal error";
    }
    return a;
  }

  // Sends the answer: piggybacked on the ACK while no empty ACK went out for a confirmable
  // request, else a separate response (confirmable for a confirmable request). Frees `p`.
  void SendAnswer(Pending* p, const Answer& a) {
    coap_pdu_type_t type = COAP_MESSAGE_NON;
    coap_mid_t mid = p->mid;
    if (p->confirmable && !p->acked) {
      type = COAP_MESSAGE_ACK;
    } else {
      type = p->confirmable ? COAP_MESSAGE_CON : COAP_MESSAGE_NON;
      mid = coap_new_message_id(p->session);
    }
    coap_pdu_t* pdu = coap_pdu_init(type, static_cast<coap_pdu_code_t>(a.code), mid,
                                    coap_session_max_pdu_size(p->session));
    coap_mid_t sent = COAP_INVALID_MID;
    if (pdu &&
        coap_add_token(pdu, p->token.size(), reinterpret_cast<const uint8_t*>(p->token.data()))) {
      WriteAnswer(a, pdu);
      sent = coap_send(p->session, pdu);
    } else if (pdu) {
      coap_delete_pdu(pdu);
    }
    if (sent == COAP_INVALID_MID) spdlog::warn("coap: the answer to a request was not sent");
    if (a.downlink_id != 0) {
      if (sent == COAP_INVALID_MID) {
        if (downlinks.requeue) downlinks.requeue(a.downlink_id, "the answer was not sent");
      } else if (type == COAP_MESSAGE_CON) {
        const TimeMs now = clock.NowMs();
        for (auto it = con_downlinks.begin(); it != con_downlinks.end();)
          it = it->second.second + opts.exchanges.lifetime_ms < now ? con_downlinks.erase(it)
                                                                    : std::next(it);
        con_downlinks[{p->session, sent}] = {a.downlink_id, now};
      }
    }
    in_flight.erase(p->dedup_key);
    pending.erase(p);
    coap_session_release(p->session);
    delete p;
  }

  // No acknowledgement (retransmissions exhausted, or a reset) of a confirmable message we sent:
  // a separate answer that carried a downlink (queued again), or an extension's request.
  static void OnNack(coap_session_t* session, const coap_pdu_t* sent,
                     const coap_nack_reason_t reason, const coap_mid_t mid) {
    auto* self = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(session)));
    if (sent) self->FailOutgoing(session, sent, reason);
    auto it = self->con_downlinks.find({session, mid});
    if (it == self->con_downlinks.end()) return;
    const Id id = it->second.first;
    self->con_downlinks.erase(it);
    if (self->downlinks.requeue)
      self->downlinks.requeue(id, reason == COAP_NACK_RST
                                      ? "the device reset the answer that carried it"
                                      : "the device did not acknowledge the answer that "
                                        "carried it");
  }

  static void HandleExtension(coap_resource_t*, coap_session_t* session, const coap_pdu_t* request,
                              const coap_string_t* query, coap_pdu_t* response) {
    auto* self = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(session)));
    self->OnExtension(session, request, query, response);
  }

  static std::string OutgoingKey(const coap_session_t* session, coap_bin_const_t token) {
    std::string key = std::to_string(reinterpret_cast<uintptr_t>(session)) + "#";
    key.append(reinterpret_cast<const char*>(token.s), token.length);
    return key;
  }

  // A response to a request an extension sent (Peer::Send).
  static coap_response_t OnResponse(coap_session_t* session, const coap_pdu_t*,
                                    const coap_pdu_t* received, const coap_mid_t) {
    auto* self = static_cast<Impl*>(coap_get_app_data(coap_session_get_context(session)));
    const std::string key = OutgoingKey(session, coap_pdu_get_token(received));
    coap_opt_iterator_t observe_it;
    const bool observe = coap_check_option(received, COAP_OPTION_OBSERVE, &observe_it) != nullptr;
    auto it = self->outgoing.find(key);
    // A notification of an observation that is not ours (cancelled, or never made): libcoap
    // answers it with a reset, which ends it at the device (RFC 7641 §3.6).
    if (it == self->outgoing.end()) return observe ? COAP_RESPONSE_FAIL : COAP_RESPONSE_OK;
    PeerResponse r;
    r.notification = observe && self->observing.count(key);
    std::function<void(const PeerResponse&)> done;
    if (r.notification) {
      done = it->second;  // `done` may cancel the observation
    } else {
      done = std::move(it->second);
      self->outgoing.erase(it);
      self->observing.erase(key);
    }
    const int code = static_cast<int>(coap_pdu_get_code(received));
    r.code = (code >> 5) * 100 + (code & 0x1f);
    coap_opt_iterator_t oi;
    if (coap_opt_t* opt = coap_check_option(received, COAP_OPTION_CONTENT_FORMAT, &oi))
      r.content_format =
          static_cast<int>(coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt)));
    size_t len = 0;
    const uint8_t* data = nullptr;
    if (coap_get_data(received, &len, &data))
      r.payload.assign(reinterpret_cast<const char*>(data), len);
    done(r);
    return COAP_RESPONSE_OK;
  }

  // No response to a request an extension sent (retransmissions exhausted, reset).
  void FailOutgoing(coap_session_t* session, const coap_pdu_t* sent,
                    const coap_nack_reason_t reason) {
    auto it = outgoing.find(OutgoingKey(session, coap_pdu_get_token(sent)));
    if (it == outgoing.end()) return;
    auto done = std::move(it->second);
    observing.erase(it->first);
    outgoing.erase(it);
    PeerResponse r;
    r.error = reason == COAP_NACK_RST ? "the device answered with a reset"
                                      : "no answer from the device (retransmissions exhausted)";
    done(r);
  }

  // A request to an extension's resource: the device identified as for /ingest, then the
  // extension's answer, now or (a submitted uplink) after the commit.
  void OnExtension(coap_session_t* session, const coap_pdu_t* request, const coap_string_t* query,
                   coap_pdu_t* response) {
    if (RefuseWhileStopping(response)) return;
    const std::string key = ExchangeKey(session, request);
    if (AnswerDuplicate(key, request, response)) return;
    CoapRequest r;
    r.method = static_cast<Method>(static_cast<int>(coap_pdu_get_code(request)));
    coap_opt_iterator_t oi;
    coap_option_iterator_init(request, &oi, COAP_OPT_ALL);
    while (coap_opt_t* opt = coap_option_next(&oi)) {
      std::string value(reinterpret_cast<const char*>(coap_opt_value(opt)), coap_opt_length(opt));
      if (oi.number == COAP_OPTION_URI_PATH) r.path.push_back(std::move(value));
      if (oi.number == COAP_OPTION_URI_QUERY) r.query.push_back(std::move(value));
      if (oi.number == COAP_OPTION_CONTENT_FORMAT)
        r.content_format =
            static_cast<int>(coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt)));
    }
    auto ext = r.path.empty() ? ext_by_resource.end() : ext_by_resource.find(r.path[0]);
    if (ext == ext_by_resource.end()) {
      Answer a;
      a.code = COAP_RESPONSE_CODE_NOT_FOUND;
      a.payload = "no such resource";
      return WriteAnswer(a, response);
    }
    size_t len = 0;
    const uint8_t* data = nullptr;
    if (!coap_get_data(request, &len, &data)) len = 0;
    if (len > opts.max_payload) {
      return Refuse(response, key,
                    Status(Code::kTooLarge, "payload exceeds the limit of " +
                                                std::to_string(opts.max_payload) + " bytes"),
                    "too_large", static_cast<uint32_t>(opts.max_payload));
    }
    r.payload.assign(reinterpret_cast<const char*>(data), len);
    r.dtls = coap_session_get_proto(session) == COAP_PROTO_DTLS;
    auto device = r.dtls ? DtlsDevice(session) : UdpDevice(query);
    if (device.ok()) {
      r.device = *device;
    } else {
      r.auth_error = device.status();
    }
    r.peer = key.substr(0, key.rfind('#'));
    CoapAnswer a = ext->second->Handle(r, MakePeer(session));
    const auto code = static_cast<coap_pdu_code_t>(((a.code / 100) << 5) | (a.code % 100));
    if (a.submit) {
      return Submit(session, request, response, key, std::move(*a.submit), code, false);
    }
    coap_pdu_set_code(response, code);
    for (const std::string& seg : a.location_path)
      coap_add_option(response, COAP_OPTION_LOCATION_PATH, seg.size(),
                      reinterpret_cast<const uint8_t*>(seg.data()));
    if (!a.payload.empty())
      coap_add_data(response, a.payload.size(), reinterpret_cast<const uint8_t*>(a.payload.data()));
  }

  // Empty ACKs of confirmable requests whose commit missed the deadline.
  void SendDueAcks() {
    const TimeMs now = clock.NowMs();
    while (!ack_due.empty() && ack_due.front().at <= now) {
      AckDue due = ack_due.front();
      ack_due.pop_front();
      if (!pending.count(due.pending) || due.pending->seq != due.seq || due.pending->acked)
        continue;
      Pending* p = due.pending;
      p->acked = true;
      if (coap_pdu_t* ack = coap_pdu_init(COAP_MESSAGE_ACK, COAP_EMPTY_CODE, p->mid,
                                          coap_session_max_pdu_size(p->session)))
        coap_send(p->session, ack);
    }
  }

  // Milliseconds until the next empty ACK is due (at most `cap`).
  int WaitMs(int cap) const {
    if (ack_due.empty()) return cap;
    const TimeMs left = ack_due.front().at - clock.NowMs();
    return static_cast<int>(std::clamp<TimeMs>(left, 0, cap));
  }

  // On the CoAP thread: answers the committed requests.
  void DrainCompletions() {
    std::vector<std::pair<Pending*, Status>> items;
    {
      std::lock_guard<std::mutex> lock(completions->mu);
      // The eventfd is signalled while items are waiting (Push), or by Stop.
      if (completions->items.empty() && !stopping.load()) return;
      items.swap(completions->items);
      uint64_t v;
      [[maybe_unused]] ssize_t n = ::read(completions->event_fd, &v, sizeof v);
    }
    // One query for the batch: which devices have queued downlinks at all (most have none).
    std::optional<std::vector<Id>> with_downlinks;
    if (items.size() > 1 && downlinks.take && downlinks.devices_with_queued) {
      auto listed = downlinks.devices_with_queued();
      if (listed.ok()) {
        with_downlinks = std::move(*listed);
        if (with_downlinks) std::sort(with_downlinks->begin(), with_downlinks->end());
      } else {
        spdlog::warn("coap: devices with queued downlinks not read: {}", listed.status().message());
      }
    }
    for (auto& [p, st] : items) {
      if (!pending.count(p)) continue;
      const bool may_have_downlinks =
          !with_downlinks ||
          std::binary_search(with_downlinks->begin(), with_downlinks->end(), p->device_id);
      Answer a = AnswerFor(*p, st, may_have_downlinks);
      exchanges.Remember(p->dedup_key, p->device_id, a, clock.NowMs());
      SendAnswer(p, a);
    }
  }

  // One wake-up: the datagrams waiting, read in batches (io_loop.h), then the answers of the
  // commits reported meanwhile.
  void Run() {
    while (!stopping.load()) {
      io->Step(WaitMs(1000), clock);
      DrainCompletions();
      SendDueAcks();
      if (const TimeMs now = clock.NowMs(); now >= next_tick_ms) {
        next_tick_ms = now + 1000;
        for (auto& ext : extensions) ext->Tick();
      }
    }
    // Shutting down: new requests get 5.03; the ones in flight get their answer after their
    // commit (the pipeline still runs), for up to 2 s.
    for (int i = 0; i < 200 && !pending.empty(); ++i) {
      DrainCompletions();
      io->Step(10, clock);
      SendDueAcks();
    }
    DrainCompletions();
    io->Step(0, clock);
  }
};

// A session held by an extension (a reference keeps libcoap from freeing it).
struct CoapServer::Impl::Peer final : CoapPeer {
  Impl* server;
  coap_session_t* session;

  Peer(Impl* s, coap_session_t* sess) : server(s), session(coap_session_reference(sess)) {
    server->peers.insert(this);
  }
  ~Peer() override {
    if (session) coap_session_release(session);
    if (server) server->peers.erase(this);
  }
  // Stop(): the context goes away.
  void Detach() {
    if (session) coap_session_release(session);
    session = nullptr;
    server = nullptr;
  }

  Status Send(const OutgoingRequest& req, std::function<void(const PeerResponse&)> done) override {
    return Send(req, std::move(done), nullptr);
  }
  void CancelObserve(const std::string& token) override {
    if (!session || !server) return;
    const std::string key = OutgoingKey(
        session, coap_bin_const_t{token.size(), reinterpret_cast<const uint8_t*>(token.data())});
    server->outgoing.erase(key);
    server->observing.erase(key);
  }
  Status Send(const OutgoingRequest& req, std::function<void(const PeerResponse&)> done,
              std::string* token_out) override {
    if (!session || !server) return Status(Code::kUnavailable, "the device's session is closed");
    coap_pdu_t* pdu =
        coap_pdu_init(COAP_MESSAGE_CON, static_cast<coap_pdu_code_t>(req.method),
                      coap_new_message_id(session), coap_session_max_pdu_size(session));
    if (!pdu) return Status(Code::kInternal, "coap: cannot make a request");
    uint8_t token[8];
    size_t token_len = 0;
    coap_session_new_token(session, &token_len, token);
    coap_add_token(pdu, token_len, token);
    uint8_t buf[4];
    if (req.keep_for_notifications)  // Observe=0 (register); option 6 goes before Uri-Path (11)
      coap_add_option(pdu, COAP_OPTION_OBSERVE, coap_encode_var_safe(buf, sizeof buf, 0), buf);
    for (const std::string& seg : req.path)
      coap_add_option(pdu, COAP_OPTION_URI_PATH, seg.size(),
                      reinterpret_cast<const uint8_t*>(seg.data()));
    if (req.content_format >= 0)
      coap_add_option(
          pdu, COAP_OPTION_CONTENT_FORMAT,
          coap_encode_var_safe(buf, sizeof buf, static_cast<unsigned>(req.content_format)), buf);
    if (req.accept >= 0)
      coap_add_option(pdu, COAP_OPTION_ACCEPT,
                      coap_encode_var_safe(buf, sizeof buf, static_cast<unsigned>(req.accept)),
                      buf);
    if (!req.payload.empty())
      coap_add_data(pdu, req.payload.size(), reinterpret_cast<const uint8_t*>(req.payload.data()));
    const std::string key = OutgoingKey(session, coap_bin_const_t{token_len, token});
    server->outgoing[key] = std::move(done);
    if (req.keep_for_notifications) server->observing.insert(key);
    if (coap_send(session, pdu) == COAP_INVALID_MID) {
      server->outgoing.erase(key);
      server->observing.erase(key);
      return Status(Code::kUnavailable, "coap: the request could not be sent");
    }
    if (token_out) token_out->assign(reinterpret_cast<const char*>(token), token_len);
    return Status::Ok();
  }
};

std::shared_ptr<CoapPeer> CoapServer::Impl::MakePeer(coap_session_t* session) {
  return std::make_shared<Peer>(this, session);
}

CoapServer::CoapServer(CoapOptions options, std::shared_ptr<ingest::DeviceKeyCache> keys,
                       pipeline::Pipeline& pipeline, Metrics& metrics, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(keys), pipeline, metrics, clock)) {
}

CoapServer::~CoapServer() { Stop(); }

uint16_t CoapServer::udp_port() const { return impl_->port; }

uint16_t CoapServer::dtls_port() const { return impl_->dtls_port; }

void CoapServer::SetPskLookup(PskLookup lookup, std::function<uint64_t()> generation) {
  impl_->psk_lookup = std::move(lookup);
  impl_->psk_generation = std::move(generation);
}

void CoapServer::SetDownlinks(DownlinkSource source) { impl_->downlinks = std::move(source); }

void CoapServer::AddExtension(std::shared_ptr<CoapExtension> extension) {
  for (const std::string& name : extension->Resources())
    impl_->ext_by_resource[name] = extension.get();
  impl_->extensions.push_back(std::move(extension));
}

Status CoapServer::Start() {
  Impl& m = *impl_;
  StartupOnce();
  coap_address_t addr;
  BYSANS_RETURN_IF_ERROR(MakeAddress(m.opts.bind_address, m.opts.udp_port, addr));
  const bool dtls = m.psk_lookup && m.opts.dtls_port >= 0;
  if (dtls && !coap_dtls_is_supported())
    return Status(Code::kInternal, "coap: this libcoap has no DTLS support (libcoap3 openssl)");
  m.ctx = coap_new_context(nullptr);
  if (!m.ctx) return Status(Code::kInternal, "coap: cannot create the libcoap context");
  coap_set_app_data(m.ctx, &m);
  coap_register_nack_handler(m.ctx, &Impl::OnNack);
  coap_context_set_max_idle_sessions(m.ctx, static_cast<unsigned>(m.opts.max_idle_sessions));
  coap_register_event_handler(m.ctx, &Impl::OnEvent);
  coap_endpoint_t* ep = coap_new_endpoint(m.ctx, &addr, COAP_PROTO_UDP);
  if (!ep) {
    coap_free_context(m.ctx);
    m.ctx = nullptr;
    return InvalidArgument("invalid setting coap.udp_port=" + std::to_string(m.opts.udp_port) +
                           " (coap.bind=\"" + m.opts.bind_address +
                           "\"): cannot bind the UDP port (in use, or not an address of this "
                           "machine)");
  }
  std::string ep_text = coap_endpoint_str(ep);  // a static buffer: copied at once
  m.port = PortOf(ep_text);
  std::string dtls_text;
  if (dtls) {
    coap_dtls_spsk_t setup{};
    setup.version = COAP_DTLS_SPSK_SETUP_VERSION;
    setup.validate_id_call_back = &Impl::ValidatePsk;
    setup.id_call_back_arg = &m;
    coap_address_t dtls_addr;
    BYSANS_RETURN_IF_ERROR(MakeAddress(m.opts.bind_address, m.opts.dtls_port, dtls_addr));
    coap_endpoint_t* dep = nullptr;
    if (coap_context_set_psk2(m.ctx, &setup))
      dep = coap_new_endpoint(m.ctx, &dtls_addr, COAP_PROTO_DTLS);
    if (!dep) {
      coap_free_context(m.ctx);
      m.ctx = nullptr;
      return InvalidArgument("invalid setting coap.dtls_port=" + std::to_string(m.opts.dtls_port) +
                             " (coap.bind=\"" + m.opts.bind_address +
                             "\"): cannot bind the DTLS port");
    }
    dtls_text = coap_endpoint_str(dep);
    m.dtls_port = PortOf(dtls_text);
  }

  coap_resource_t* r =
      coap_resource_init(coap_new_str_const(reinterpret_cast<const uint8_t*>("ingest"), 6),
                         COAP_RESOURCE_FLAGS_RELEASE_URI | COAP_RESOURCE_FLAGS_NOTIFY_NON);
  coap_register_request_handler(r, COAP_REQUEST_POST, &Impl::Handle);
  coap_add_resource(m.ctx, r);
  if (!m.extensions.empty()) {  // hooks.h: "rd" and "rd/..." go to the extension of "rd"
    for (const auto& [name, ext] : m.ext_by_resource) {
      coap_resource_t* er = coap_resource_init(
          coap_new_str_const(reinterpret_cast<const uint8_t*>(name.data()), name.size()),
          COAP_RESOURCE_FLAGS_RELEASE_URI);
      for (coap_request_t method :
           {COAP_REQUEST_GET, COAP_REQUEST_POST, COAP_REQUEST_PUT, COAP_REQUEST_DELETE})
        coap_register_request_handler(er, method, &Impl::HandleExtension);
      coap_add_resource(m.ctx, er);
    }
    coap_resource_t* unknown = coap_resource_unknown_init2(&Impl::HandleExtension, 0);
    for (coap_request_t method : {COAP_REQUEST_GET, COAP_REQUEST_POST, COAP_REQUEST_DELETE})
      coap_register_request_handler(unknown, method, &Impl::HandleExtension);
    coap_add_resource(m.ctx, unknown);
    coap_register_response_handler(m.ctx, &Impl::OnResponse);
  }

  m.completions->event_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  const int family = m.opts.bind_address.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  m.io = std::make_unique<CoapIoLoop>(m.ctx, family, m.port, kUdpReceiveBuffer);
  if (m.completions->event_fd < 0 || coap_context_get_coap_fd(m.ctx) < 0 ||
      !m.io->AddWakeFd(m.completions->event_fd)) {
    Stop();
    return Status(Code::kInternal, "coap: cannot set up the event loop (epoll)");
  }
  if (m.io->udp_fd() < 0)
    spdlog::warn("coap: the UDP endpoint's socket was not found: one datagram per wake-up");
  m.thread = std::thread([&m] { m.Run(); });
  spdlog::info("coap: listening on coap://{}", ep_text.substr(0, ep_text.find(' ')));
  if (dtls) spdlog::info("coap: listening on coaps://{}", dtls_text.substr(0, dtls_text.find(' ')));
  return Status::Ok();
}

void CoapServer::Stop() {
  Impl& m = *impl_;
  if (m.thread.joinable()) {
    m.stopping = true;
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(m.completions->event_fd, &one, sizeof one);
    m.thread.join();
  }
  {
    std::lock_guard<std::mutex> lock(m.completions->mu);
    m.completions->closed = true;
    m.completions->items.clear();
  }
  for (auto& ext : m.extensions) ext->Shutdown();
  for (Impl::Peer* peer : m.peers) peer->Detach();
  m.peers.clear();
  m.outgoing.clear();
  m.observing.clear();
  for (Pending* p : m.pending) {
    coap_session_release(p->session);
    delete p;
  }
  m.pending.clear();
  m.in_flight.clear();
  m.ack_due.clear();
  if (m.ctx) {
    coap_free_context(m.ctx);
    m.ctx = nullptr;
  }
  m.io.reset();
  if (m.completions->event_fd >= 0) {
    std::lock_guard<std::mutex> lock(m.completions->mu);
    ::close(m.completions->event_fd);
    m.completions->event_fd = -1;
  }
}

}  // namespace bysans::coap

#include "lwm2m_client.h"

#include <arpa/inet.h>
#include <coap3/coap.h>

#include <chrono>
#include <mutex>

namespace bysans::testing {

struct Lwm2mClient::Impl {
  Lwm2mClient* owner = nullptr;
  coap_context_t* ctx = nullptr;
  coap_session_t* session = nullptr;
  std::string identity, key;
  // The request waiting for its answer.
  std::string token;
  bool answered = false;
  Reply reply;
  // Observations the server made: path → token; the notification sequence number; the message
  // ids of notifications the server reset.
  std::map<std::string, std::string> observations;
  uint32_t observe_seq = 1;
  std::vector<coap_mid_t> reset_mids;

  static void OnNack(coap_session_t* s, const coap_pdu_t*, const coap_nack_reason_t reason,
                     const coap_mid_t mid) {
    if (reason == COAP_NACK_RST) Of(s)->reset_mids.push_back(mid);
  }

  static Impl* Of(coap_session_t* s) {
    return static_cast<Impl*>(coap_get_app_data(coap_session_get_context(s)));
  }

  static int Code(const coap_pdu_t* pdu) {
    int c = static_cast<int>(coap_pdu_get_code(pdu));
    return (c >> 5) * 100 + (c & 0x1f);
  }

  static coap_response_t OnResponse(coap_session_t* s, const coap_pdu_t*, const coap_pdu_t* got,
                                    const coap_mid_t) {
    Impl* self = Of(s);
    coap_bin_const_t tok = coap_pdu_get_token(got);
    if (std::string(reinterpret_cast<const char*>(tok.s), tok.length) != self->token)
      return COAP_RESPONSE_OK;
    self->reply = Reply{};
    self->reply.code = Code(got);
    coap_opt_iterator_t oi;
    coap_option_iterator_init(got, &oi, COAP_OPT_ALL);
    while (coap_opt_t* opt = coap_option_next(&oi)) {
      if (oi.number == COAP_OPTION_LOCATION_PATH)
        self->reply.location.emplace_back(reinterpret_cast<const char*>(coap_opt_value(opt)),
                                          coap_opt_length(opt));
    }
    size_t len = 0;
    const uint8_t* data = nullptr;
    if (coap_get_data(got, &len, &data))
      self->reply.payload.assign(reinterpret_cast<const char*>(data), len);
    self->answered = true;
    return COAP_RESPONSE_OK;
  }

  // The server's Read (GET), Write (PUT/POST with a body) and Execute (POST) of any path.
  static void OnRequest(coap_resource_t*, coap_session_t* s, const coap_pdu_t* req,
                        const coap_string_t*, coap_pdu_t* resp) {
    Impl* self = Of(s);
    Received r;
    r.method = static_cast<int>(coap_pdu_get_code(req));
    coap_opt_iterator_t oi;
    coap_option_iterator_init(req, &oi, COAP_OPT_ALL);
    while (coap_opt_t* opt = coap_option_next(&oi)) {
      std::string v(reinterpret_cast<const char*>(coap_opt_value(opt)), coap_opt_length(opt));
      if (oi.number == COAP_OPTION_URI_PATH) r.path += (r.path.empty() ? "" : "/") + v;
      if (oi.number == COAP_OPTION_CONTENT_FORMAT)
        r.content_format =
            static_cast<int>(coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt)));
    }
    size_t len = 0;
    const uint8_t* data = nullptr;
    if (coap_get_data(req, &len, &data)) r.payload.assign(reinterpret_cast<const char*>(data), len);
    coap_opt_iterator_t obs_it;
    if (r.method == COAP_REQUEST_CODE_GET && coap_check_option(req, COAP_OPTION_OBSERVE, &obs_it))
      return self->OnObserve(r.path, req, resp);
    self->owner->received_.push_back(r);
    auto& res = self->owner->resources;
    if (r.method == COAP_REQUEST_CODE_GET) {
      auto it = res.find(r.path);
      if (it == res.end()) {
        coap_pdu_set_code(resp, COAP_RESPONSE_CODE_NOT_FOUND);
        return;
      }
      coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
      uint8_t buf[4];
      coap_add_option(resp, COAP_OPTION_CONTENT_FORMAT, coap_encode_var_safe(buf, sizeof buf, 0),
                      buf);
      coap_add_data(resp, it->second.size(), reinterpret_cast<const uint8_t*>(it->second.data()));
    } else if (r.method == COAP_REQUEST_CODE_PUT) {
      res[r.path] = r.payload;
      coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
    } else {  // Execute
      coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CHANGED);
    }
  }

  void OnObserve(const std::string& path, const coap_pdu_t* req, coap_pdu_t* resp) {
    owner->observe_requests_.push_back(path);
    auto it = owner->observable.find(path);
    if (it == owner->observable.end()) {
      coap_pdu_set_code(resp, COAP_RESPONSE_CODE_NOT_FOUND);
      return;
    }
    coap_bin_const_t tok = coap_pdu_get_token(req);
    observations[path].assign(reinterpret_cast<const char*>(tok.s), tok.length);
    coap_pdu_set_code(resp, COAP_RESPONSE_CODE_CONTENT);
    uint8_t buf[4];
    coap_add_option(resp, COAP_OPTION_OBSERVE, coap_encode_var_safe(buf, sizeof buf, observe_seq++),
                    buf);
    coap_add_option(
        resp, COAP_OPTION_CONTENT_FORMAT,
        coap_encode_var_safe(buf, sizeof buf, static_cast<unsigned>(owner->observe_format)), buf);
    coap_add_data(resp, it->second.size(), reinterpret_cast<const uint8_t*>(it->second.data()));
  }

  void Setup(int port, bool dtls) {
    static std::once_flag once;
    std::call_once(once, [] {
      coap_startup();
      coap_set_log_level(LOG_ERR);
    });
    ctx = coap_new_context(nullptr);
    coap_set_app_data(ctx, this);
    coap_register_response_handler(ctx, &OnResponse);
    coap_register_nack_handler(ctx, &OnNack);
    coap_resource_t* any = coap_resource_unknown_init2(&OnRequest, 0);
    coap_register_request_handler(any, COAP_REQUEST_GET, &OnRequest);
    coap_register_request_handler(any, COAP_REQUEST_POST, &OnRequest);
    coap_add_resource(ctx, any);
    coap_address_t dst;
    coap_address_init(&dst);
    dst.addr.sin.sin_family = AF_INET;
    dst.addr.sin.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, "127.0.0.1", &dst.addr.sin.sin_addr);
    dst.size = sizeof(sockaddr_in);
    if (!dtls) {
      session = coap_new_client_session(ctx, nullptr, &dst, COAP_PROTO_UDP);
      return;
    }
    coap_dtls_cpsk_t psk{};
    psk.version = COAP_DTLS_CPSK_SETUP_VERSION;
    psk.psk_info.identity.s = reinterpret_cast<const uint8_t*>(identity.data());
    psk.psk_info.identity.length = identity.size();
    psk.psk_info.key.s = reinterpret_cast<const uint8_t*>(key.data());
    psk.psk_info.key.length = key.size();
    session = coap_new_client_session_psk2(ctx, nullptr, &dst, COAP_PROTO_DTLS, &psk);
  }
};

Lwm2mClient::Lwm2mClient(int port) : impl_(std::make_unique<Impl>()) {
  impl_->owner = this;
  impl_->Setup(port, false);
}

Lwm2mClient::Lwm2mClient(int port, const std::string& identity, const std::string& key)
    : impl_(std::make_unique<Impl>()) {
  impl_->owner = this;
  impl_->identity = identity;
  impl_->key = key;
  impl_->Setup(port, true);
}

Lwm2mClient::~Lwm2mClient() {
  if (impl_->session) coap_session_release(impl_->session);
  if (impl_->ctx) coap_free_context(impl_->ctx);
}

Lwm2mClient::Reply Lwm2mClient::Request(int method, const std::vector<std::string>& path,
                                        const std::vector<std::string>& query, int content_format,
                                        const std::string& payload, int timeout_ms) {
  Impl& m = *impl_;
  if (!m.session) return {};
  coap_pdu_t* pdu =
      coap_pdu_init(COAP_MESSAGE_CON, static_cast<coap_pdu_code_t>(method),
                    coap_new_message_id(m.session), coap_session_max_pdu_size(m.session));
  uint8_t token[8];
  size_t token_len = 0;
  coap_session_new_token(m.session, &token_len, token);
  coap_add_token(pdu, token_len, token);
  m.token.assign(reinterpret_cast<const char*>(token), token_len);
  for (const std::string& p : path)
    coap_add_option(pdu, COAP_OPTION_URI_PATH, p.size(),
                    reinterpret_cast<const uint8_t*>(p.data()));
  uint8_t buf[4];
  if (content_format >= 0)
    coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                    coap_encode_var_safe(buf, sizeof buf, static_cast<unsigned>(content_format)),
                    buf);
  for (const std::string& q : query)
    coap_add_option(pdu, COAP_OPTION_URI_QUERY, q.size(),
                    reinterpret_cast<const uint8_t*>(q.data()));
  if (!payload.empty())
    coap_add_data(pdu, payload.size(), reinterpret_cast<const uint8_t*>(payload.data()));
  m.answered = false;
  if (coap_send(m.session, pdu) == COAP_INVALID_MID) return {};
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!m.answered && std::chrono::steady_clock::now() < until) coap_io_process(m.ctx, 100);
  if (!m.answered) return {};
  return m.reply;
}

Lwm2mClient::Reply Lwm2mClient::Register(const std::vector<std::string>& query,
                                         const std::string& links) {
  Reply r = Request(COAP_REQUEST_CODE_POST, {"rd"}, query, 40, links);
  if (r.code == 201 && r.location.size() == 2) registration_id = r.location[1];
  return r;
}

Lwm2mClient::Reply Lwm2mClient::Update(const std::vector<std::string>& query,
                                       const std::string& links) {
  return Request(COAP_REQUEST_CODE_POST, {"rd", registration_id}, query, links.empty() ? -1 : 40,
                 links);
}

Lwm2mClient::Reply Lwm2mClient::Deregister(const std::vector<std::string>& query) {
  return Request(COAP_REQUEST_CODE_DELETE, {"rd", registration_id}, query, -1, "");
}

Lwm2mClient::Reply Lwm2mClient::Send(int content_format, const std::string& senml,
                                     const std::vector<std::string>& query) {
  return Request(COAP_REQUEST_CODE_POST, {"dp"}, query, content_format, senml);
}

void Lwm2mClient::Pump(int ms, size_t until) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (received_.size() < until && std::chrono::steady_clock::now() < end)
    coap_io_process(impl_->ctx, 50);
}

bool Lwm2mClient::Observed(const std::string& path) const {
  return impl_->observations.count(path) > 0;
}

bool Lwm2mClient::WaitObserved(const std::string& path, int ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!Observed(path) && std::chrono::steady_clock::now() < end) coap_io_process(impl_->ctx, 50);
  return Observed(path);
}

std::string Lwm2mClient::Token(const std::string& path) const {
  auto it = impl_->observations.find(path);
  return it == impl_->observations.end() ? std::string() : it->second;
}

bool Lwm2mClient::Notify(const std::string& path, const std::string& payload, int wait_ms) {
  if (!Observed(path)) return false;
  if (NotifyToken(Token(path), payload, wait_ms)) return true;
  impl_->observations.erase(path);  // the server ended it (RFC 7641 §3.6)
  return false;
}

bool Lwm2mClient::NotifyToken(const std::string& token, const std::string& payload, int wait_ms) {
  Impl& m = *impl_;
  if (!m.session) return false;
  const coap_mid_t mid = coap_new_message_id(m.session);
  coap_pdu_t* pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_RESPONSE_CODE_CONTENT, mid,
                                  coap_session_max_pdu_size(m.session));
  coap_add_token(pdu, token.size(), reinterpret_cast<const uint8_t*>(token.data()));
  uint8_t buf[4];
  coap_add_option(pdu, COAP_OPTION_OBSERVE, coap_encode_var_safe(buf, sizeof buf, m.observe_seq++),
                  buf);
  coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                  coap_encode_var_safe(buf, sizeof buf, static_cast<unsigned>(observe_format)),
                  buf);
  coap_add_data(pdu, payload.size(), reinterpret_cast<const uint8_t*>(payload.data()));
  if (coap_send(m.session, pdu) == COAP_INVALID_MID) return false;
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (std::chrono::steady_clock::now() < end) {
    coap_io_process(m.ctx, 20);
    for (coap_mid_t r : m.reset_mids) {
      if (r == mid) return false;
    }
  }
  return true;
}

}  // namespace bysans::testing

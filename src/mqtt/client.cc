#include "mqtt/client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/thread_name.h"
#include "core/wake_batch.h"
#include "mqtt/packet.h"

namespace bysans::mqtt {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using boost::system::error_code;
using namespace asio::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)

namespace {

constexpr auto kAsTuple = asio::as_tuple(use_awaitable);

Status ConnackError(int protocol, uint8_t rc) {
  if (protocol == kProtocol5) {
    switch (rc) {
      case 0x86:
        return Unauthenticated("broker refused the connection: bad user name or password");
      case 0x87:
        return PermissionDenied("broker refused the connection: not authorized");
      case 0x85:
        return InvalidArgument("broker refused the connection: client id not valid");
      default:
        return Unavailable(fmt::format("broker refused the connection: reason code 0x{:02x}", rc));
    }
  }
  switch (rc) {
    case 1:
      return FailedPrecondition("broker refused the connection: unacceptable protocol");
    case 2:
      return InvalidArgument("broker refused the connection: identifier rejected");
    case 3:
      return Unavailable("broker refused the connection: server unavailable");
    case 4:
      return Unauthenticated("broker refused the connection: bad user name or password");
    case 5:
      return PermissionDenied("broker refused the connection: not authorized");
    default:
      return Unavailable(fmt::format("broker refused the connection: return code {}", rc));
  }
}

}  // namespace

struct AckHandle::State {
  std::weak_ptr<MqttClient::Impl> impl;
  uint64_t generation = 0;
  uint16_t packet_id = 0;
  size_t bytes = 0;  // topic and payload: its share of the receive window's bytes
  std::atomic<bool> released{false};
};

class MqttClient::Impl : public std::enable_shared_from_this<MqttClient::Impl> {
 public:
  explicit Impl(ClientOptions options)
      : opts_(std::move(options)), ssl_ctx_(asio::ssl::context::tls_client), backoff_timer_(io_) {
    if (opts_.random == nullptr) {
      owned_random_ = std::make_unique<SystemRandom>();
      opts_.random = owned_random_.get();
    }
  }

  ~Impl() { Stop(); }  // NOLINT(bugprone-exception-escape): only a failed join throws

  Status Start() {
    if (opts_.protocol != kProtocol311 && opts_.protocol != kProtocol5) {
      return InvalidArgument("mqtt protocol must be 4 (3.1.1) or 5");
    }
    if (opts_.client_id.empty() && !opts_.clean_session) {
      return InvalidArgument("a persistent session (clean_session=false) needs a client_id");
    }
    if (opts_.max_inflight == 0) return InvalidArgument("max_inflight must be at least 1");
    if (opts_.reconnect_min_ms <= 0 || opts_.reconnect_max_ms < opts_.reconnect_min_ms) {
      return InvalidArgument("reconnect backoff needs 0 < min <= max");
    }
    bool expected = false;
    if (!started_.compare_exchange_strong(expected, true)) {
      return FailedPrecondition("client already started");
    }
    if (opts_.tls) {  // after the check above: a running client's context is never touched
      error_code ec;
      if (!opts_.tls_ca_file.empty()) {
        ssl_ctx_.load_verify_file(opts_.tls_ca_file, ec);
        if (ec) {
          started_ = false;
          return InvalidArgument("cannot load TLS CA file: " + ec.message());
        }
      }
      if (!opts_.tls_ca_pem.empty()) {
        // Adds every certificate of the bundle (asio loops PEM_read_bio_X509 until the end).
        ssl_ctx_.add_certificate_authority(asio::buffer(opts_.tls_ca_pem), ec);
        if (ec) {
          started_ = false;
          return InvalidArgument("cannot load the TLS CA certificates (PEM text): " + ec.message());
        }
      }
      if (opts_.tls_ca_file.empty() && opts_.tls_ca_pem.empty()) {
        ssl_ctx_.set_default_verify_paths(ec);
        if (ec) {
          started_ = false;
          return InvalidArgument("cannot load the system's TLS CA paths: " + ec.message());
        }
      }
      if (!opts_.tls_cert_pem.empty() || !opts_.tls_key_pem.empty()) {
        // Mutual TLS: the certificate (and chain) and key bysans presents when asked.
        ssl_ctx_.use_certificate_chain(asio::buffer(opts_.tls_cert_pem), ec);
        if (!ec)
          ssl_ctx_.use_private_key(asio::buffer(opts_.tls_key_pem), asio::ssl::context::pem, ec);
        if (!ec && SSL_CTX_check_private_key(ssl_ctx_.native_handle()) != 1)
          ec = error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
        if (ec) {
          started_ = false;
          return InvalidArgument("cannot use the TLS client certificate and key: " + ec.message());
        }
      }
      // Nothing older than TLS 1.2 (RFC 8996 deprecates 1.0 and 1.1).
      SSL_CTX_set_min_proto_version(ssl_ctx_.native_handle(), TLS1_2_VERSION);
      ssl_ctx_.set_verify_mode(asio::ssl::verify_peer);
    }
    asio::co_spawn(io_, Run(), [](const std::exception_ptr& e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::error("mqtt client loop ended with an exception: {}", ex.what());
      }
    });
    try {
      thread_ = std::thread([this] {
        NameThisThread("mqtt-io");
        io_.run();
      });
    } catch (const std::system_error& e) {  // no thread to be had (resource limits)
      // The client stays "started" and unusable: its loop is queued on an io_context nothing
      // runs, and a second Start would queue another. Stop() and the destructor still work.
      spdlog::error("mqtt: cannot start the client's I/O thread: {}", e.what());
      return Unavailable(std::string("cannot start the MQTT client's thread: ") + e.what());
    }
    return Status::Ok();
  }

  void Stop() {
    if (!started_.load() || stop_requested_.exchange(true)) {
      if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
      return;
    }
    asio::post(io_, [this] {
      stopping_ = true;
      backoff_timer_.cancel();
      if (conn_) {
        if (connected_) {
          conn_->close_after_flush = true;
          Enqueue(*conn_, Disconnect{});
          conn_->guard.expires_after(std::chrono::seconds(2));
          conn_->guard.async_wait([c = conn_](const error_code& ec) {
            if (!ec) c->Close(Status::Ok());
          });
        } else {
          conn_->Close(Unavailable("client stopped"));
        }
      }
    });
    // Called from a callback on the I/O thread: the stop is posted; the destructor joins.
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  }

  void set_on_message(MessageHandler h) { on_message_ = std::move(h); }
  void set_on_connect(ConnectHandler h) { on_connect_ = std::move(h); }
  void set_on_disconnect(DisconnectHandler h) { on_disconnect_ = std::move(h); }

  Status Subscribe(std::vector<SubscribeFilter> filters, SubscribeDone done) {
    if (filters.empty()) return InvalidArgument("subscribe needs at least one filter");
    for (const auto& f : filters) {
      BYSANS_RETURN_IF_ERROR(ValidateTopicFilter(f.filter));
      if (f.qos > 1) return InvalidArgument("subscription QoS must be 0 or 1");
    }
    asio::post(io_, [this, filters = std::move(filters), done = std::move(done)]() mutable {
      auto group = std::make_shared<SubGroup>();
      group->done = std::move(done);
      group->remaining = filters.size();
      group->codes.assign(filters.size(), 0);
      for (size_t i = 0; i < filters.size(); ++i) {
        subs_.push_back(SubEntry{std::move(filters[i]), false, false, group, i});
      }
      if (connected_ && conn_) SendPendingSubscriptions(*conn_);
    });
    return Status::Ok();
  }

  Status Unsubscribe(std::vector<std::string> filters, UnsubscribeDone done) {
    if (filters.empty()) return InvalidArgument("unsubscribe needs at least one filter");
    for (const auto& f : filters) BYSANS_RETURN_IF_ERROR(ValidateTopicFilter(f));
    asio::post(io_, [this, filters = std::move(filters), done = std::move(done)]() mutable {
      for (const SubEntry& e : subs_)
        if (e.in_flight && std::count(filters.begin(), filters.end(), e.filter.filter)) {
          if (done) done(FailedPrecondition("a subscription to that filter is being sent"));
          return;
        }
      std::erase_if(subs_, [&](const SubEntry& e) {
        return std::count(filters.begin(), filters.end(), e.filter.filter) > 0;
      });
      if (!connected_ || !conn_) {
        if (done) done(Unavailable("not connected: nothing unsubscribed at the broker"));
        return;
      }
      mqtt::Unsubscribe u;
      u.packet_id = AllocatePacketId();
      u.filters = std::move(filters);
      unsub_in_flight_[u.packet_id] = std::move(done);
      Enqueue(*conn_, u);
    });
    return Status::Ok();
  }

  Status Publish(std::string topic, std::string payload, uint8_t qos, bool retain,
                 PublishDone done) {
    BYSANS_RETURN_IF_ERROR(ValidateTopicName(topic));
    if (qos > 1) return InvalidArgument("publish QoS must be 0 or 1");
    mqtt::Publish p;
    p.topic = std::move(topic);
    p.payload = std::move(payload);
    p.qos = qos;
    p.retain = retain;
    asio::post(io_, [this, p = std::move(p), done = std::move(done)]() mutable {
      EnqueuePublish(std::move(p), std::move(done));
      if (connected_ && conn_) PumpPublishes(*conn_);
    });
    return Status::Ok();
  }

  // One post for the whole batch and one `done` when every message has its answer: a
  // publisher of thousands of messages a second is not woken once per PUBACK.
  Status PublishBatch(std::vector<OutgoingMessage> messages, uint8_t qos, bool retain,
                      PublishDone done) {
    for (const OutgoingMessage& m : messages) BYSANS_RETURN_IF_ERROR(ValidateTopicName(m.topic));
    if (qos > 1) return InvalidArgument("publish QoS must be 0 or 1");
    if (messages.empty()) {
      if (done) done(Status::Ok());
      return Status::Ok();
    }
    asio::post(io_, [this, messages = std::move(messages), qos, retain,
                     done = std::move(done)]() mutable {
      // Every callback runs on this I/O thread: the count needs no lock.
      struct Batch {
        size_t left;
        Status first_error;
        PublishDone done;
      };
      auto batch = std::make_shared<Batch>(Batch{messages.size(), Status::Ok(), std::move(done)});
      for (OutgoingMessage& m : messages) {
        mqtt::Publish p;
        p.topic = std::move(m.topic);
        p.payload = std::move(m.payload);
        p.qos = qos;
        p.retain = retain;
        EnqueuePublish(std::move(p), [batch](const Status& st) {
          if (!st.ok() && batch->first_error.ok()) batch->first_error = st;
          if (--batch->left == 0 && batch->done) batch->done(batch->first_error);
        });
      }
      if (connected_ && conn_) PumpPublishes(*conn_);
    });
    return Status::Ok();
  }

  // On the I/O thread: QoS 0 goes out now (or fails when not connected); QoS 1 joins the
  // ordered outgoing queue that PumpPublishes() sends within the broker's Receive Maximum.
  void EnqueuePublish(mqtt::Publish p, PublishDone done) {
    if (stopping_) {
      if (done) done(Unavailable("mqtt client stopped"));
      return;
    }
    if (p.qos == 0) {
      if (connected_ && conn_) {
        Enqueue(*conn_, p);
        if (done) done(Status::Ok());
      } else if (done) {
        done(Unavailable("not connected to the MQTT broker"));
      }
      return;
    }
    if (out_by_id_.size() >= 60000) {
      if (done) done(Unavailable("too many unacknowledged publishes"));
      return;
    }
    p.packet_id = AllocatePacketId();
    uint64_t seq = next_seq_++;
    out_by_id_[p.packet_id] = seq;
    auto& entry = out_[seq];
    entry.packet = std::move(p);
    entry.done = std::move(done);
  }

  // Acks arrive from other threads (the store's writer, after a group commit): they are
  // queued in call order and handed to the I/O thread in batches, one post per batch rather
  // than one post (and wake-up) per message.
  void PostAck(uint64_t generation, uint16_t packet_id, size_t bytes, bool send) {
    bool post = false;
    {
      std::lock_guard lock(ack_mu_);
      pending_acks_.push_back(PendingAck{generation, packet_id, bytes, send});
      post = !ack_drain_posted_;
      ack_drain_posted_ = true;
    }
    // Inside a WakeBatch (the store's writer completing a group commit) one post per batch
    // wakes this client's I/O thread, not one per ack it happened to drain in between.
    if (post) {
      WakeBatch::Defer(this, [weak = weak_from_this()] {
        if (auto self = weak.lock()) asio::post(self->io_, [p = self.get()] { p->DrainAcks(); });
      });
    }
  }

  void DrainAcks() {
    std::vector<PendingAck> acks;
    {
      std::lock_guard lock(ack_mu_);
      acks.swap(pending_acks_);
      ack_drain_posted_ = false;
    }
    for (const PendingAck& a : acks) {
      if (unacked_ > 0) unacked_--;
      unacked_bytes_ -= std::min(unacked_bytes_, a.bytes);
      if (conn_ && a.send && conn_->generation == a.generation && !conn_->closed) {
        Enqueue(*conn_, Ack{PacketType::kPuback, a.packet_id, 0, {}});
      }
    }
    if (conn_) conn_->window.cancel();
  }

  // The receive window is full at max_inflight messages or max_inflight_bytes of them (I/O
  // thread): one message is always admitted below the byte bound, however large.
  bool WindowFull() const {
    return unacked_ >= opts_.max_inflight ||
           (opts_.max_inflight_bytes > 0 && unacked_bytes_ >= opts_.max_inflight_bytes);
  }

  bool connected() const { return connected_.load(); }
  size_t unacked_incoming() const { return unacked_.load(); }
  bool reading_paused() const { return paused_.load(); }

 private:
  struct Conn {
    Conn(asio::io_context& io, asio::ssl::context& ctx, bool use_tls, int protocol,
         size_t max_packet, uint64_t gen)
        : stream(io, ctx),
          tls(use_tls),
          write_signal(io),
          window(io),
          read_flush(io),
          keepalive(io),
          guard(io),
          decoder(protocol, max_packet),
          generation(gen) {}

    void Close(Status why) {
      if (closed) return;
      closed = true;
      reason = std::move(why);
      error_code ec;
      stream.next_layer().shutdown(tcp::socket::shutdown_both, ec);
      stream.next_layer().close(ec);
      write_signal.cancel();
      window.cancel();
      read_flush.cancel();
      keepalive.cancel();
      guard.cancel();
    }

    asio::ssl::stream<tcp::socket> stream;
    bool tls;
    asio::steady_timer write_signal;
    asio::steady_timer window;
    asio::steady_timer read_flush;  // ends a batched read's wait (ClientOptions::read_batch_*)
    int rcvlowat = 1;               // the socket's SO_RCVLOWAT
    bool read_busy = false;         // batching reads (PaceReads)
    // Bytes read since read_window_start (the stream's rate decides whether to batch).
    int64_t read_window_bytes = 0;
    std::chrono::steady_clock::time_point read_window_start = std::chrono::steady_clock::now();
    asio::steady_timer keepalive;
    asio::steady_timer guard;
    StreamDecoder decoder;
    uint64_t generation;
    std::deque<std::string> out;
    bool closed = false;
    bool close_after_flush = false;
    bool ping_outstanding = false;
    Status reason;
  };

  struct SubGroup {
    SubscribeDone done;
    size_t remaining = 0;
    std::vector<uint8_t> codes;
  };
  struct SubEntry {
    SubscribeFilter filter;
    bool granted = false;
    bool in_flight = false;
    std::shared_ptr<SubGroup> group;  // reset once reported
    size_t index_in_group = 0;
  };
  struct OutPublish {
    mqtt::Publish packet;
    PublishDone done;
  };

  uint16_t AllocatePacketId() {
    while (true) {
      next_id_ = static_cast<uint16_t>(next_id_ == 65535 ? 1 : next_id_ + 1);
      if (!out_by_id_.count(next_id_) && !sub_in_flight_.count(next_id_) &&
          !unsub_in_flight_.count(next_id_))
        return next_id_;
    }
  }

  void Enqueue(Conn& c, const Packet& packet) {
    if (c.closed) return;
    auto bytes = Encode(packet, opts_.protocol);
    if (!bytes.ok()) {
      spdlog::error("mqtt: cannot encode {}: {}", PacketTypeName(TypeOf(packet)),
                    bytes.status().message());
      return;
    }
    c.out.push_back(std::move(bytes).value());
    c.write_signal.cancel();
  }

  // Sends queued QoS 1 publishes in order while the broker's Receive Maximum allows.
  void PumpPublishes(Conn& c) {
    for (auto it = out_.lower_bound(next_send_seq_);
         it != out_.end() && send_inflight_ < send_quota_ && !c.closed; ++it) {
      Enqueue(c, it->second.packet);
      it->second.packet.dup = true;  // any later send of it is a resend
      next_send_seq_ = it->first + 1;
      ++send_inflight_;
    }
  }

  void SendPendingSubscriptions(Conn& c) {
    mqtt::Subscribe s;
    std::vector<size_t> idx;
    for (size_t i = 0; i < subs_.size(); ++i) {
      SubEntry& e = subs_[i];
      if (e.granted || e.in_flight) continue;
      e.in_flight = true;
      idx.push_back(i);
      s.subscriptions.push_back(
          Subscription{e.filter.filter, e.filter.qos, e.filter.no_local, false, 0});
    }
    if (idx.empty()) return;
    s.packet_id = AllocatePacketId();
    sub_in_flight_[s.packet_id] = std::move(idx);
    Enqueue(c, s);
  }

  void OnSuback(const Suback& ack) {
    auto it = sub_in_flight_.find(ack.packet_id);
    if (it == sub_in_flight_.end()) return;
    for (size_t k = 0; k < it->second.size(); ++k) {
      SubEntry& e = subs_[it->second[k]];
      e.in_flight = false;
      uint8_t code = k < ack.reason_codes.size() ? ack.reason_codes[k] : 0x80;
      e.granted = code < 0x80;
      if (!e.granted) {
        spdlog::warn("mqtt: broker refused subscription to '{}' (code 0x{:02x})", e.filter.filter,
                     code);
      }
      if (auto g = std::move(e.group)) {
        g->codes[e.index_in_group] = code;
        if (--g->remaining == 0 && g->done) g->done(g->codes);
      }
    }
    sub_in_flight_.erase(it);
  }

  void OnPuback(const Ack& ack) {
    auto it = out_by_id_.find(ack.packet_id);
    if (it == out_by_id_.end()) return;
    const uint64_t seq = it->second;
    auto node = out_.extract(seq);
    out_by_id_.erase(it);
    if (node.empty()) return;
    if (seq < next_send_seq_ && send_inflight_ > 0) --send_inflight_;
    if (conn_ && connected_) PumpPublishes(*conn_);
    if (node.mapped().done) {
      if (ack.reason_code >= 0x80) {
        node.mapped().done(PermissionDenied(
            fmt::format("broker rejected the publish (reason code 0x{:02x})", ack.reason_code)));
      } else {
        node.mapped().done(Status::Ok());
      }
    }
  }

  // Returns false when the connection must close.
  bool HandlePacket(const std::shared_ptr<Conn>& c, Packet&& packet) {
    if (auto* p = std::get_if<mqtt::Publish>(&packet)) {
      if (p->qos == 2) {
        c->Close(FailedPrecondition("broker sent a QoS 2 message; only QoS 0/1 are subscribed"));
        return false;
      }
      IncomingMessage msg{
          std::move(p->topic), std::move(p->payload), p->qos, p->packet_id, p->dup, p->retain};
      if (p->qos == 0) {
        if (on_message_) on_message_(std::move(msg), AckHandle());
        return true;
      }
      auto state = std::make_shared<AckHandle::State>();
      state->impl = weak_from_this();
      state->generation = c->generation;
      state->packet_id = msg.packet_id;
      state->bytes = msg.topic.size() + msg.payload.size();
      unacked_++;
      unacked_bytes_ += state->bytes;
      AckHandle handle(std::move(state));
      if (on_message_) {
        on_message_(std::move(msg), std::move(handle));
      } else {
        handle.Ack();
      }
      return true;
    }
    if (auto* a = std::get_if<Ack>(&packet)) {
      if (a->type == PacketType::kPuback) {
        OnPuback(*a);
        return true;
      }
      c->Close(FailedPrecondition(fmt::format("unexpected {}", PacketTypeName(a->type))));
      return false;
    }
    if (auto* s = std::get_if<Suback>(&packet)) {
      OnSuback(*s);
      return true;
    }
    if (std::holds_alternative<Pingresp>(packet)) {
      c->ping_outstanding = false;
      return true;
    }
    if (auto* u = std::get_if<Unsuback>(&packet)) {
      auto it = unsub_in_flight_.find(u->packet_id);
      if (it != unsub_in_flight_.end()) {
        UnsubscribeDone done = std::move(it->second);
        unsub_in_flight_.erase(it);
        if (done) done(Status::Ok());
      }
      return true;
    }
    if (auto* d = std::get_if<Disconnect>(&packet)) {
      auto why = FindText(d->props, PropId::kReasonString).value_or("");
      c->Close(Unavailable(
          fmt::format("broker sent DISCONNECT (reason 0x{:02x}) {}", d->reason_code, why)));
      return false;
    }
    c->Close(FailedPrecondition(
        fmt::format("unexpected {} from broker", PacketTypeName(TypeOf(packet)))));
    return false;
  }

  // Linux clears TCP_QUICKACK on its own, so it is set again after every read.
  static void ArmQuickAck(Conn& c) {
    using QuickAck = asio::detail::socket_option::boolean<IPPROTO_TCP, TCP_QUICKACK>;
    error_code ignored;
    c.stream.next_layer().set_option(QuickAck(true), ignored);
  }

  awaitable<std::tuple<error_code, size_t>> ReadSome(Conn& c, asio::mutable_buffer b) {
    if (c.tls) co_return co_await c.stream.async_read_some(b, kAsTuple);
    co_return co_await c.stream.next_layer().async_read_some(b, kAsTuple);
  }

  awaitable<std::tuple<error_code, size_t>> WriteAll(Conn& c, asio::const_buffer b) {
    if (c.tls) co_return co_await asio::async_write(c.stream, b, kAsTuple);
    co_return co_await asio::async_write(c.stream.next_layer(), b, kAsTuple);
  }

  // Reads the next packet during the handshake (CONNACK); nullopt on error (conn closed).
  awaitable<std::optional<Packet>> ReadPacket(std::shared_ptr<Conn> c) {
    std::array<char, 4096> buf;
    while (!c->closed) {
      auto next = c->decoder.Next();
      if (!next.ok()) {
        c->Close(next.status());
        co_return std::nullopt;
      }
      if (*next) co_return std::move(**next);
      auto [ec, n] = co_await ReadSome(*c, asio::buffer(buf));
      if (ec) {
        c->Close(Unavailable("connection lost: " + ec.message()));
        co_return std::nullopt;
      }
      c->decoder.Feed(std::string_view(buf.data(), n));
    }
    co_return std::nullopt;
  }

  awaitable<void> Reader(std::shared_ptr<Conn> c) {
    std::array<char, 16384> buf;
    while (!c->closed) {
      // Back-pressure: never hold more than max_inflight un-acked messages.
      while (WindowFull() && !c->closed) {
        paused_ = true;
        c->window.expires_at(asio::steady_timer::time_point::max());
        co_await c->window.async_wait(kAsTuple);
      }
      paused_ = false;
      if (c->closed) break;
      if (!HandleReceived(c)) break;
      if (WindowFull()) continue;  // the window filled: wait above
      ArmReadFlush(c);
      auto [ec, n] = co_await ReadSome(*c, asio::buffer(buf));
      if (ec) {
        c->Close(Unavailable("connection lost: " + ec.message()));
        break;
      }
      c->decoder.Feed(std::string_view(buf.data(), n));
      if (opts_.quick_ack) ArmQuickAck(*c);
      PaceReads(*c, n);
    }
    paused_ = false;
  }

  // Handles the complete packets already received, while the receive window has room, as one
  // batch of wake-ups (core/wake_batch.h): the pipeline wakes a decode worker once for all the
  // messages of a read, not once per message. False when the connection must close; true when
  // more bytes are needed or the window is full.
  bool HandleReceived(const std::shared_ptr<Conn>& c) {
    WakeBatch wakes;
    while (!c->closed && !WindowFull()) {
      auto next = c->decoder.Next();
      if (!next.ok()) {
        spdlog::warn("mqtt: protocol error from broker: {}", next.status().message());
        c->Close(next.status());
        return false;
      }
      if (!*next) return true;
      if (!HandlePacket(c, std::move(**next))) return false;
    }
    return !c->closed;
  }

  // Read batching. Each wake-up of the I/O thread for a few small messages costs more than
  // reading them (a context switch, epoll, and over TCP an ACK per read): while the stream
  // is busy the socket's SO_RCVLOWAT holds the wake-up until read_batch_bytes are waiting,
  // and a timer ends the wait after read_batch_wait_us whatever has arrived.
  void PaceReads(Conn& c, size_t n) {
    if (opts_.read_batch_bytes <= 1) return;
    c.read_window_bytes += static_cast<int64_t>(n);
    const auto now = std::chrono::steady_clock::now();
    const auto elapsed = now - c.read_window_start;
    if (elapsed >= std::chrono::milliseconds(20)) {
      // Busy: one wait would gather at least read_busy_bytes.
      const double per_wait =
          static_cast<double>(c.read_window_bytes) * opts_.read_batch_wait_us /
          static_cast<double>(
              std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
      c.read_busy = per_wait >= opts_.read_busy_bytes;
      c.read_window_bytes = 0;
      c.read_window_start = now;
    }
    // (Again after the flush timer lowered it.)
    SetRcvLowat(c, c.read_busy ? opts_.read_batch_bytes : 1);
  }

  void ArmReadFlush(const std::shared_ptr<Conn>& c) {
    if (!c->read_busy) return;
    c->read_flush.expires_after(std::chrono::microseconds(opts_.read_batch_wait_us));
    c->read_flush.async_wait([c](const error_code& ec) {
      // Lowering the mark makes the kernel report the waiting bytes at once.
      if (!ec && !c->closed) SetRcvLowat(*c, 1);
    });
  }

  static void SetRcvLowat(Conn& c, int bytes) {
    if (bytes == c.rcvlowat) return;
    error_code ignored;
    c.stream.next_layer().set_option(asio::socket_base::receive_low_watermark(bytes), ignored);
    c.rcvlowat = bytes;
  }

  awaitable<void> Writer(std::shared_ptr<Conn> c) {
    std::string batch;
    while (!c->closed) {
      if (c->out.empty()) {
        if (c->close_after_flush) {
          c->Close(Status::Ok());
          break;
        }
        c->write_signal.expires_at(asio::steady_timer::time_point::max());
        co_await c->write_signal.async_wait(kAsTuple);
        continue;
      }
      batch.clear();
      while (!c->out.empty() && batch.size() < 65536) {
        batch += c->out.front();
        c->out.pop_front();
      }
      auto [ec, n] = co_await WriteAll(*c, asio::buffer(batch));
      if (ec) {
        c->Close(Unavailable("connection lost while writing: " + ec.message()));
        break;
      }
    }
  }

  awaitable<void> Keepalive(std::shared_ptr<Conn> c, uint16_t keepalive_s) {
    if (keepalive_s == 0) co_return;
    while (!c->closed) {
      c->keepalive.expires_after(std::chrono::seconds(keepalive_s));
      co_await c->keepalive.async_wait(kAsTuple);
      if (c->closed) break;
      // While reading is paused a PINGRESP cannot be seen; keep pinging so the broker keeps
      // the session, and judge liveness only while reading.
      if (c->ping_outstanding && !paused_) {
        c->Close(
            Unavailable(fmt::format("keep-alive timeout: no PINGRESP within {} s", keepalive_s)));
        break;
      }
      c->ping_outstanding = true;
      Enqueue(*c, Pingreq{});
    }
  }

  // One connection from TCP connect to close. Returns why it ended.
  // A failure to reach the broker: for a user-configured broker one neutral message (so its
  // status is no port scanner), the detail in the server log.
  Status Unreachable(const std::string& detail) const {
    if (opts_.trusted) return Unavailable(detail);
    spdlog::warn("mqtt: {}:{}: {}", opts_.host, opts_.port, detail);
    return Unavailable(CouldNotConnectMessage(opts_.host + ":" + std::to_string(opts_.port)));
  }

  awaitable<Status> Session(std::shared_ptr<Conn> c, bool& established) {
    c->guard.expires_after(std::chrono::milliseconds(opts_.connect_timeout_ms));
    c->guard.async_wait([this, c](const error_code& ec) {
      if (!ec) c->Close(Unreachable("timed out connecting to the MQTT broker"));
    });
    tcp::resolver resolver(io_);
    auto [rec, resolved] =
        co_await resolver.async_resolve(opts_.host, std::to_string(opts_.port), kAsTuple);
    if (c->closed) co_return c->reason;
    if (rec) {
      c->Close(Unreachable(fmt::format("cannot resolve {}: {}", opts_.host, rec.message())));
      co_return c->reason;
    }
    // The outbound-address policy, on every resolved address (after DNS, before connect).
    std::vector<tcp::endpoint> endpoints;
    std::string refused;
    for (const auto& entry : resolved) {
      tcp::endpoint ep = entry.endpoint();
      Status allowed = opts_.trusted ? Status::Ok() : opts_.outbound.Check(ep.data(), ep.size());
      if (allowed.ok()) {
        endpoints.push_back(ep);
      } else {
        refused = allowed.message();
      }
    }
    if (endpoints.empty()) {
      c->Close(Unreachable(refused.empty() ? "no address" : refused));
      co_return c->reason;
    }
    auto [cec, ep] = co_await asio::async_connect(c->stream.next_layer(), endpoints, kAsTuple);
    if (c->closed) co_return c->reason;
    if (cec) {
      c->Close(Unreachable(
          fmt::format("cannot connect to {}:{}: {}", opts_.host, opts_.port, cec.message())));
      co_return c->reason;
    }
    error_code ignored;
    c->stream.next_layer().set_option(tcp::no_delay(true), ignored);
    if (c->tls) {
      // OpenSSL checks the name (or address) against the certificate, so a failure
      // carries its reason (e.g. "hostname mismatch") in the verify result.
      SSL* ssl = c->stream.native_handle();
      error_code not_ip;
      (void)asio::ip::make_address(opts_.host, not_ip);
      if (not_ip) {
        SSL_set_tlsext_host_name(ssl, opts_.host.c_str());
        SSL_set1_host(ssl, opts_.host.c_str());
      } else {  // an address: no SNI (RFC 6066), the certificate must name the address
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), opts_.host.c_str());
      }
      auto [hec] = co_await c->stream.async_handshake(asio::ssl::stream_base::client, kAsTuple);
      if (hec) {
        std::string why = "TLS handshake failed: " + hec.message();
        const long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK)
          why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
        c->Close(Unavailable(why));
        co_return c->reason;
      }
    }
    mqtt::Connect connect;
    connect.protocol = opts_.protocol;
    connect.client_id = opts_.client_id;
    connect.username = opts_.username;
    connect.password = opts_.password;
    connect.keepalive_s = opts_.keepalive_s;
    connect.clean_start = opts_.clean_session;
    if (opts_.protocol == kProtocol5) {
      if (!opts_.clean_session) {
        connect.props.push_back(
            {static_cast<uint8_t>(PropId::kSessionExpiry), opts_.session_expiry_s, {}, {}});
      }
      connect.props.push_back({static_cast<uint8_t>(PropId::kReceiveMaximum),
                               static_cast<uint32_t>(std::min<size_t>(opts_.max_inflight, 65535)),
                               {},
                               {}});
      connect.props.push_back(
          {static_cast<uint8_t>(PropId::kMaximumPacketSize),
           static_cast<uint32_t>(std::min<size_t>(opts_.max_packet_size, kMaxRemainingLength)),
           {},
           {}});
    }
    auto bytes = Encode(connect, opts_.protocol);
    if (!bytes.ok()) {
      c->Close(bytes.status());
      co_return c->reason;
    }
    auto [wec, wn] = co_await WriteAll(*c, asio::buffer(*bytes));
    if (wec) {
      c->Close(Unavailable("connection lost sending CONNECT: " + wec.message()));
      co_return c->reason;
    }
    auto first = co_await ReadPacket(c);
    if (!first) co_return c->reason;
    auto* connack = std::get_if<Connack>(&*first);
    if (connack == nullptr) {
      c->Close(FailedPrecondition("broker answered CONNECT with " +
                                  std::string(PacketTypeName(TypeOf(*first)))));
      co_return c->reason;
    }
    if (connack->reason_code != 0) {
      c->Close(ConnackError(opts_.protocol, connack->reason_code));
      co_return c->reason;
    }
    c->guard.cancel();
    established = true;
    connected_ = true;
    uint16_t keepalive_s = opts_.keepalive_s;
    if (auto ka = FindNumber(connack->props, PropId::kServerKeepAlive)) {
      keepalive_s = static_cast<uint16_t>(*ka);
    }
    spdlog::info("mqtt: connected to {}:{} as '{}' (session present: {})", opts_.host, opts_.port,
                 opts_.client_id, connack->session_present);
    // Unsubscriptions sent on a connection that ended are unknown: the caller may send them again.
    for (auto& [id, done] : std::exchange(unsub_in_flight_, {}))
      if (done) done(Unavailable("the connection ended before the broker's UNSUBACK"));
    // Subscriptions: the broker forgot them when it has no session for us.
    sub_in_flight_.clear();
    for (SubEntry& e : subs_) {
      e.in_flight = false;
      if (!connack->session_present || opts_.always_resubscribe) e.granted = false;
    }
    SendPendingSubscriptions(*c);
    // Unacknowledged QoS 1 publishes are resent, in order, with DUP (set once first sent),
    // within the broker's Receive Maximum (v5; Mosquitto enforces it).
    send_quota_ = 65535;
    if (auto rm = FindNumber(connack->props, PropId::kReceiveMaximum); rm && *rm > 0) {
      send_quota_ = *rm;
    }
    next_send_seq_ = 0;
    send_inflight_ = 0;
    PumpPublishes(*c);
    if (on_connect_) on_connect_(ConnectInfo{connack->session_present, connack->reason_code});
    co_await (Reader(c) && Writer(c) && Keepalive(c, keepalive_s));
    co_return c->reason;
  }

  int BackoffMs(int attempt) {
    double delay = opts_.reconnect_min_ms;
    for (int i = 0; i < attempt && delay < opts_.reconnect_max_ms; ++i) delay *= 2;
    delay = std::min<double>(delay, opts_.reconnect_max_ms);
    uint32_t r = 0;
    opts_.random->Fill(&r, sizeof(r));
    double jitter = 0.5 + 0.5 * (static_cast<double>(r) / 4294967295.0);  // [0.5, 1.0]
    return std::max(1, static_cast<int>(delay * jitter));
  }

  awaitable<void> Run() {
    int attempt = 0;
    while (!stopping_) {
      auto c = std::make_shared<Conn>(io_, ssl_ctx_, opts_.tls, opts_.protocol,
                                      opts_.max_packet_size, ++generation_);
      conn_ = c;
      bool established = false;
      Status why = co_await Session(c, established);
      c->Close(why);
      conn_.reset();
      const bool was_connected = connected_.exchange(false);
      if (established) attempt = 0;
      if (was_connected || !stopping_) {
        if (why.ok()) {
          spdlog::info("mqtt: disconnected from {}:{}", opts_.host, opts_.port);
        } else {
          spdlog::warn("mqtt: connection to {}:{} ended: {}", opts_.host, opts_.port,
                       why.message());
        }
        if (on_disconnect_) on_disconnect_(why);
      }
      if (stopping_) break;
      int delay = BackoffMs(attempt++);
      backoff_timer_.expires_after(std::chrono::milliseconds(delay));
      co_await backoff_timer_.async_wait(kAsTuple);
    }
    // Fail what can no longer complete.
    for (auto& [seq, entry] : out_) {
      if (entry.done) entry.done(Unavailable("mqtt client stopped before PUBACK"));
    }
    out_.clear();
    out_by_id_.clear();
  }

  ClientOptions opts_;
  std::unique_ptr<Random> owned_random_;
  asio::io_context io_;
  asio::ssl::context ssl_ctx_;
  asio::steady_timer backoff_timer_;
  std::thread thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stop_requested_{false};

  // I/O thread only.
  bool stopping_ = false;
  std::shared_ptr<Conn> conn_;
  uint64_t generation_ = 0;
  uint16_t next_id_ = 0;
  uint64_t next_seq_ = 0;
  uint64_t next_send_seq_ = 0;  // out_ entries below this were sent on this connection
  uint32_t send_inflight_ = 0;
  uint32_t send_quota_ = 65535;
  std::map<uint64_t, OutPublish> out_;
  std::unordered_map<uint16_t, uint64_t> out_by_id_;
  std::vector<SubEntry> subs_;
  std::unordered_map<uint16_t, std::vector<size_t>> sub_in_flight_;
  std::unordered_map<uint16_t, UnsubscribeDone> unsub_in_flight_;
  MessageHandler on_message_;
  ConnectHandler on_connect_;
  DisconnectHandler on_disconnect_;

  std::atomic<bool> connected_{false};
  std::atomic<size_t> unacked_{0};
  size_t unacked_bytes_ = 0;  // I/O thread only
  std::atomic<bool> paused_{false};
  // Acks waiting for the I/O thread (PostAck → DrainAcks).
  struct PendingAck {
    uint64_t generation;
    uint16_t packet_id;
    size_t bytes;
    bool send;
  };
  std::mutex ack_mu_;
  std::vector<PendingAck> pending_acks_;
  bool ack_drain_posted_ = false;
};

// ---- AckHandle ----

AckHandle& AckHandle::operator=(AckHandle&& other) noexcept {  // NOLINT(bugprone-exception-escape)
  if (this != &other) {
    Release(false);
    state_ = std::move(other.state_);
  }
  return *this;
}

AckHandle::~AckHandle() { Release(false); }  // NOLINT(bugprone-exception-escape)

void AckHandle::Ack() { Release(true); }

void AckHandle::Release(bool send) {
  if (!state_) return;
  auto s = std::move(state_);
  if (s->released.exchange(true)) return;
  if (auto impl = s->impl.lock()) impl->PostAck(s->generation, s->packet_id, s->bytes, send);
}

// ---- MqttClient ----

MqttClient::MqttClient(ClientOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}

MqttClient::~MqttClient() { impl_->Stop(); }  // NOLINT(bugprone-exception-escape)

void MqttClient::set_on_message(MessageHandler h) { impl_->set_on_message(std::move(h)); }
void MqttClient::set_on_connect(ConnectHandler h) { impl_->set_on_connect(std::move(h)); }
void MqttClient::set_on_disconnect(DisconnectHandler h) { impl_->set_on_disconnect(std::move(h)); }
Status MqttClient::Start() { return impl_->Start(); }
void MqttClient::Stop() { impl_->Stop(); }
Status MqttClient::Unsubscribe(std::vector<std::string> filters, UnsubscribeDone done) {
  return impl_->Unsubscribe(std::move(filters), std::move(done));
}

Status MqttClient::Subscribe(std::vector<SubscribeFilter> filters, SubscribeDone done) {
  return impl_->Subscribe(std::move(filters), std::move(done));
}
Status MqttClient::Publish(std::string topic, std::string payload, uint8_t qos, bool retain,
                           PublishDone done) {
  return impl_->Publish(std::move(topic), std::move(payload), qos, retain, std::move(done));
}
Status MqttClient::PublishBatch(std::vector<OutgoingMessage> messages, uint8_t qos, bool retain,
                                PublishDone done) {
  return impl_->PublishBatch(std::move(messages), qos, retain, std::move(done));
}
bool MqttClient::connected() const { return impl_->connected(); }
size_t MqttClient::unacked_incoming() const { return impl_->unacked_incoming(); }
bool MqttClient::reading_paused() const { return impl_->reading_paused(); }

}  // namespace bysans::mqtt

// MqttClient: bysans' own MQTT 3.1.1 / 5.0 client. Unlike libmosquitto and Paho C it does NOT
// acknowledge an incoming QoS 1 message by itself: the application receives an AckHandle with
// each message and the PUBACK goes out only when it calls Ack() (after its commit). The number
// of un-acked incoming messages is bounded by `max_inflight` and their bytes by
// `max_inflight_bytes`; at either bound the client stops reading from the socket until acks
// arrive.
//
// Threading: the client owns one I/O thread. All callbacks run on it and must not block for
// long. Every public method is thread-safe; AckHandle::Ack() may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/outbound_policy.h"
#include "core/random.h"
#include "core/status.h"

namespace bysans::mqtt {

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 1883;
  std::string client_id;  // fixed and configurable; required for a persistent session
  std::optional<std::string> username;
  std::optional<std::string> password;
  bool clean_session = false;  // false: persistent session (3.1.1 clean session / 5 clean start)
  // Send the subscriptions at every connect, also when the broker kept the session (a session
  // another client changed meanwhile: mqtt/session_rescue.h). Only for filters without retained
  // messages to repeat (shared subscriptions get none).
  bool always_resubscribe = false;
  uint32_t session_expiry_s = 0xFFFFFFFF;  // v5 with clean_session=false: never expire
  uint16_t keepalive_s = 30;
  int protocol = 4;  // 4 = MQTT 3.1.1, 5 = MQTT 5.0
  bool tls = false;
  std::string tls_ca_file;  // PEM file of trusted CAs
  std::string tls_ca_pem;   // PEM text of trusted CAs (every certificate of a bundle)
  // Both empty: the system default verify paths; either or both: only those CAs.
  std::string tls_cert_pem;  // mutual TLS: PEM certificate (then its chain) presented to the broker
  std::string tls_key_pem;   // ... and its PEM private key (no passphrase); both or neither
  int reconnect_min_ms = 200;
  int reconnect_max_ms = 30000;
  int connect_timeout_ms = 10000;
  size_t max_inflight = 1000;  // receive window: un-acked incoming QoS 1 messages
  // ... and their topics' and payloads' bytes (0: no byte bound). What the window holds in
  // memory while the store commits is bounded by this, whatever max_inflight allows.
  size_t max_inflight_bytes = 64 << 20;
  // ACK every TCP segment at once (Linux TCP_QUICKACK, set again after each read). For a
  // publisher: a broker with Nagle's algorithm on (Mosquitto's default) holds its PUBACKs
  // until our ACK, which the kernel otherwise delays up to 40 ms after each burst.
  bool quick_ack = false;
  size_t max_packet_size = 1 << 20;  // incoming packets above this close the connection
  // Read batching while the incoming stream is busy (client.cc PaceReads): wake for reading
  // only once this many bytes wait, or after read_batch_wait_us. <= 1: wake for every arrival.
  // bench/mqtt at 35k msg/s: the I/O thread's CPU per message 6.3 -> 4.6 us, publish-to-commit
  // p50 +1 ms.
  int read_batch_bytes = 16384;
  int read_batch_wait_us = 2000;
  // A stream is busy while one wait would gather at least this many bytes (here from 512 KB/s,
  // ~3,500 small messages/s); a quieter one is read as it arrives. It was a quarter of the
  // batch (~10k messages/s): each of two nodes sharing a stream of 15-20k messages/s then read
  // every arrival on its own, at twice one node's I/O CPU per message (bench/mqtt BENCH_NODES=2).
  int read_busy_bytes = 1024;
  Random* random = nullptr;  // backoff jitter; nullptr: an owned SystemRandom
  // A user-configured broker (integrations) is reached only where the outbound-address policy
  // admits the resolved address (core/outbound_policy.h), and its connection errors read as
  // the neutral "could not connect to <host>" (details in the server log). `trusted` skips the
  // policy: only for bysans' own connection (the supervised broker or the operator's mqtt.url).
  bool trusted = false;
  OutboundPolicy outbound;  // public addresses only unless it admits more
};

struct IncomingMessage {
  std::string topic;
  std::string payload;
  uint8_t qos = 0;
  uint16_t packet_id = 0;
  bool dup = false;
  bool retain = false;
};

// Sends the PUBACK for one incoming QoS 1 message. Move-only. Ack() is idempotent and
// thread-safe. Destroying an un-acked handle frees its slot in the receive window WITHOUT
// sending a PUBACK: the broker redelivers the message after the next reconnect. An ack for a
// message received on an earlier connection is dropped (the broker redelivers it on the new
// one, where it must be acked again). For QoS 0 messages the handle does nothing.
class AckHandle {
 public:
  AckHandle() = default;
  AckHandle(AckHandle&&) noexcept = default;
  AckHandle& operator=(AckHandle&& other) noexcept;  // NOLINT(bugprone-exception-escape)
  AckHandle(const AckHandle&) = delete;
  AckHandle& operator=(const AckHandle&) = delete;
  ~AckHandle();  // NOLINT(bugprone-exception-escape): only a failed join throws

  void Ack();
  bool valid() const { return state_ != nullptr; }

  struct State;  // implementation detail

 private:
  friend class MqttClient;
  explicit AckHandle(std::shared_ptr<State> state) : state_(std::move(state)) {}
  void Release(bool send);
  std::shared_ptr<State> state_;
};

struct SubscribeFilter {
  std::string filter;     // may be "$share/{group}/{filter}"
  uint8_t qos = 1;        // 0 or 1
  bool no_local = false;  // v5 only
};

struct OutgoingMessage {
  std::string topic;
  std::string payload;
};

struct ConnectInfo {
  bool session_present = false;
  uint8_t reason_code = 0;
};

class MqttClient {
 public:
  using MessageHandler = std::function<void(IncomingMessage, AckHandle)>;
  using ConnectHandler = std::function<void(const ConnectInfo&)>;
  // Called when a connection ends or a connection attempt fails; the status says why
  // (kUnauthenticated / kPermissionDenied for a refused CONNECT).
  using DisconnectHandler = std::function<void(const Status&)>;
  using PublishDone = std::function<void(const Status&)>;
  using SubscribeDone = std::function<void(Result<std::vector<uint8_t>>)>;
  using UnsubscribeDone = std::function<void(const Status&)>;

  explicit MqttClient(ClientOptions options);
  ~MqttClient();  // NOLINT(bugprone-exception-escape): Stop()s; only a failed join throws
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Set handlers before Start().
  void set_on_message(MessageHandler h);
  void set_on_connect(ConnectHandler h);
  void set_on_disconnect(DisconnectHandler h);

  // Starts the I/O thread, which connects and keeps reconnecting (exponential backoff with
  // jitter) until Stop(). Returns an error for invalid options.
  Status Start();
  // Sends DISCONNECT if connected, closes the connection, joins the thread. Pending publish
  // callbacks complete with kUnavailable. Idempotent. From a callback it only requests the
  // stop (the destructor joins).
  void Stop();

  // Adds subscriptions. They are (re)sent on every connect where the broker has no session
  // for us, and on the next connect if not yet granted. `done` gets the SUBACK codes.
  Status Subscribe(std::vector<SubscribeFilter> filters, SubscribeDone done = nullptr);

  // Removes subscriptions (no longer sent at a reconnect) and sends UNSUBSCRIBE; `done` runs on
  // the broker's UNSUBACK, or with kUnavailable when not connected or the connection ends first.
  Status Unsubscribe(std::vector<std::string> filters, UnsubscribeDone done = nullptr);

  // Publishes. QoS 1: `done` runs on PUBACK; unacked publishes are resent with DUP after a
  // reconnect. QoS 0: sent if connected (done(Ok)) else done(kUnavailable).
  Status Publish(std::string topic, std::string payload, uint8_t qos, bool retain,
                 PublishDone done = nullptr);
  // Publishes every message in order with one QoS and retain flag; `done` runs once, when
  // each has its answer (QoS 1: its PUBACK), with the first error or Ok. An invalid topic
  // refuses the whole batch before anything is sent.
  Status PublishBatch(std::vector<OutgoingMessage> messages, uint8_t qos, bool retain,
                      PublishDone done);

  bool connected() const;
  // Un-acked incoming QoS 1 messages currently held by the application.
  size_t unacked_incoming() const;
  // True while reading is paused because the receive window is full.
  bool reading_paused() const;

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace bysans::mqtt

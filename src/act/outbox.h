// The durable outbox: delivers the pending rows of RuleStore's outbox table
// (webhooks over HTTP(S), e-mail over SMTP(S) with libcurl, SMS through the organisation's
// SMS gateway (act/sms.h), MQTT publishes and LoRaWAN/MQTT downlinks through the publishers
// the server registers). Rows are written
// by the rules runtime in the same transaction as their alarm, so a crash
// (kill -9) loses nothing: pending rows are sent after the restart.
//
// Isolation: every target (an endpoint: URL origin or SMTP server) has its own
// queue; a bounded pool of `workers` threads serves the targets round-robin, at
// most `per_target_concurrency` deliveries of one target at once, so one hanging
// endpoint holds at most that many workers and never delays another target's
// order. A target whose queue is empty and idle is dropped (no thread or state
// per target is kept). Failures are retried with exponential backoff
// (base × 2^(attempt-1), capped) up to max_attempts, then the row is "failed".
// Every attempt is in the delivery log.
//
// Several nodes on one database (issue 19): each row is delivered by one node at a time. The
// poll claims due rows (RuleStore::ClaimDueOutbox) for `lease_ms` instead of listing them; the
// rows the rules runtime writes are written claimed by their writer
// (RuleStore::SetOutboxWriteLease, set by the server to the same lease) and handed to this
// node's queue by Submit. While rows wait in a queue or are delivered, their claims are
// extended every lease/4; recording an attempt ends a claim (a retry is claimable by any node
// when due); Stop releases the claims of what it did not deliver. A node that dies leaves its
// rows to the others after the lease: delivery at least once, so every webhook carries the
// header `Idempotency-Key: "bysans-outbox-<row id>"` and every e-mail the Message-ID
// `<bysans-outbox-<row id>@<from domain>>`, the same on every attempt.
//
// Outgoing connections (webhooks, SMTP) pass the outbound-address policy on the
// resolved address (core/outbound_policy.h); every failure to connect is logged
// for users as the one neutral "could not connect to <target>" (details in the
// server log). Sealed action secrets (act/action_secrets.h) are opened only for
// the delivery. Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/outbound_policy.h"
#include "core/secret_box.h"
#include "store/contact_store.h"
#include "store/rule_store.h"

namespace bysans::act {

struct OutboxOptions {
  int workers = 8;  // delivery threads for every target together
  int per_target_concurrency = 2;
  TimeMs base_backoff_ms = 1000;
  TimeMs max_backoff_ms = 300'000;
  int max_attempts = 15;
  TimeMs poll_ms = 1000;  // how often due rows (retries, after a restart) are claimed
  // How long a claimed row stays this node's: longer than one delivery (timeouts are at most
  // default_timeout_ms, 10 s) with room for a stalled database; claims of rows still queued here
  // are extended every lease_ms / 4. A dead node's rows wait this long for another node.
  TimeMs lease_ms = 60'000;
  int max_claimed = 10'000;  // rows queued or in flight on this node at most (claims held)
  TimeMs default_timeout_ms = 10'000;
  OutboundPolicy outbound;             // which addresses webhooks and SMTP may reach
  const SecretBox* secrets = nullptr;  // opens sealed action secrets; outlives the Outbox
};

// The idempotency key of an outbox row: "bysans-outbox-<id>" (unique in one bysans database).
// Webhooks send it as the header `Idempotency-Key: "<key>"` (a structured-field string, as the
// IETF draft "The Idempotency-Key HTTP Header Field" defines it); e-mails as the Message-ID
// <key@domain of the sender>.
std::string IdempotencyKey(Id outbox_id);

// The queue a delivery belongs to: scheme://host:port of its URL.
std::string TargetKeyOf(const std::string& url);

// The queue of "mqtt" and "downlink" actions: bysans' own broker connection.
inline constexpr const char* kMqttTargetKey = "mqtt://bysans";

// An address for SMTP "from"/"to": 1..320 bytes, no spaces, control characters (CR, LF, NUL,
// ...), '<', '>' or ',' (they would inject SMTP commands, headers or recipients).
bool IsMailAddress(std::string_view address);

// An organisation's namespace on bysans' broker, the only topics its rules' "mqtt" actions
// publish to: "orgs/<organisation id>/". The actions are published by bysans' own broker user,
// which may publish anywhere, and bysans itself trusts what arrives on some topics (device
// uplinks, ChirpStack events, gateway events, SensorThings Observations of any Datastream), so a
// list of forbidden topics would have to know every such topic, now and later; a namespace per
// organisation is an allow-list, and also keeps one organisation's actions off the topics another
// organisation's consumers read (API keys with "mqtt" may read their organisation's namespace).
std::string ActionTopicPrefix(Id org_id);

// The shape of a topic an "mqtt" action may publish to: 1..1024 bytes, no wildcards or NUL, not a
// system topic ($...) and not bysans' device and ChirpStack topics. InvalidArgument names the
// reason. Checked when a rule is loaded: a rule saved before actions were held to their
// organisation's namespace still loads (and raises its alarms); its action fails at delivery.
Status CheckActionTopic(const std::string& topic);
// Whether the topic lies in the organisation's namespace (ActionTopicPrefix and at least one more
// character).
bool InActionNamespace(Id org_id, const std::string& topic);
// CheckActionTopic and InActionNamespace: what saving a rule and every delivery require.
Status CheckActionTopicOf(Id org_id, const std::string& topic);

// Publishes with QoS 1 on bysans' MQTT connection; `done` runs on the broker's
// PUBACK or a failure (possibly on another thread, possibly after a timeout).
using MqttPublisher = std::function<Status(std::string topic, std::string payload,
                                           std::function<void(const Status&)> done)>;

// A downlink to one device, recorded in the device's downlink history.
struct DownlinkRequest {
  Id org_id = 0;   // the sending rule's organisation: the device must belong to it
  Id rule_id = 0;  // the sending rule (for the audit log)
  Id device_id = 0;
  int fport = 0;     // -1: not given (MQTT devices)
  std::string data;  // the frame bytes
  // Instead of `data`: a JSON object for the device's decoder to encode (encodeDownlink).
  std::string object_json;
  bool confirmed = false;
};
// Sends it; an error status that is not kUnavailable/kInternal is permanent (no retry).
// `done` as for MqttPublisher.
using DownlinkSender =
    std::function<Status(const DownlinkRequest& request, std::function<void(const Status&)> done)>;

// What "sms" and "notify_contacts" rows need at delivery, resolved by the server from the store
// (never copied into outbox rows): the organisation's SMS gateway with its secret opened and,
// for notify_contacts, the effective contacts of the alarm's device (model/contact.h).
struct ContactRoute {
  std::optional<SmsGateway> gateway;  // nullopt: the organisation has none
  std::string secret;                 // the gateway's secret, opened ("" none)
  std::vector<std::string> phones;    // notify_contacts: the contacts' phone numbers
  std::vector<std::string> emails;    // notify_contacts: their e-mail addresses
};
// `with_contacts`: also resolve the alarm device's contacts. An error that is not
// kUnavailable/kInternal is permanent.
using ContactResolver =
    std::function<Result<ContactRoute>(const OutboxEntry& entry, bool with_contacts)>;

// The queue of an organisation's "sms" and "notify_contacts" rows.
std::string ContactsTargetKey(Id org_id);

// The RFC 5322 message of an e-mail action (CR and LF in the subject become spaces).
std::string MailPayload(const std::string& from, const std::vector<std::string>& to,
                        std::string subject, const std::string& body);

// Checked before every attempt of every row (defence in depth, e.g. that the alarm's device
// belongs to the row's organisation): an error refuses the row, which fails at once with the
// refusal logged and in the delivery log.
using ActionGuard = std::function<Status(const OutboxEntry& entry)>;

class Outbox {
 public:
  Outbox(RuleStore& store, const Clock& clock, OutboxOptions options);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Where "mqtt" and "downlink" actions go; until set they fail and are retried.
  void SetMqttPublisher(MqttPublisher publisher);
  void SetDownlinkSender(DownlinkSender sender);
  // Where "sms" and "notify_contacts" rows find their gateway and contacts; until set they
  // fail and are retried.
  void SetContactResolver(ContactResolver resolver);
  // Until set, every row is delivered unchecked.
  void SetGuard(ActionGuard guard);

  void Start();
  // Stops dispatching and aborts deliveries in progress (they stay pending); the claims of the
  // rows not delivered are released, for another node (or this one after a restart).
  void Stop();
  // Rows just committed to the store (ids set): queued on their targets at once,
  // without reading the store. The store poll stays the recovery and retry path
  // (rows left pending by a restart, a failure or a full stop).
  void Submit(std::vector<OutboxEntry> entries);
  // New rows were written: look now instead of at the next poll.
  void Wake();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bysans::act

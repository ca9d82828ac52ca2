// What the MQTT and LoRaWAN transports keep in the database: device broker
// credentials (only the Mosquitto PBKDF2 hash), LoRaWAN gateways seen and
// uplinks from unknown DevEUIs (for onboarding). Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans {

struct MqttCredential {
  Id device_id = 0;
  std::string username;
  std::string password_hash;  // Mosquitto "$7$..." hash; the password is never stored
  TimeMs created_ms = 0;
};

struct LorawanGateway {
  Id org_id = 0;
  std::string gateway_id;
  TimeMs first_seen_ms = 0;
  TimeMs last_seen_ms = 0;
  int64_t uplinks = 0;
  // Whether an uplink through bysans' own broker named it (UplinkSource::kLocalBroker); only
  // then does the organisation take the gateway's events on that broker
  // (GatewayStore::OrganizationsOfGateway).
  bool seen_locally = false;
};

// Where the ChirpStack uplink that named a gateway arrived. bysans' own (supervised or
// configured) broker is fed by the operator's ChirpStack, so what it says decides which
// organisation a gateway event on that broker belongs to. An organisation's own ChirpStack
// integration is a broker that organisation controls: what it reports is that organisation's
// claim only, and must never take another organisation's gateway events on bysans' broker away
// (docs/gateways.md).
enum class UplinkSource { kLocalBroker, kIntegration };

struct UnknownLorawanDevice {
  std::string dev_eui;
  std::string application_id;  // ChirpStack application id from the topic
  TimeMs first_seen_ms = 0;
  TimeMs last_seen_ms = 0;
  int64_t uplinks = 0;
  Id integration_id = 0;  // per-organisation list: the integration that received it
};

// A downlink sent to a device (history per device).
struct Downlink {
  Id id = 0;
  Id device_id = 0;
  TimeMs created_ms = 0;
  int fport = 0;
  std::string data;  // the frame bytes
  // The object the bytes were encoded from by the device's decoder (encodeDownlink), as JSON
  // text; empty when the bytes were given as they are.
  std::string object_json;
  bool confirmed = false;
  std::string topic;
  std::string status;  // queued | published | sent | failed
  std::string error;
};

// The `topic` of a downlink to an HTTP-transport device: it waits ("queued") until the answer
// to the device's next CoAP uplink carries it ("sent"; coap/README.md).
inline constexpr const char* kCoapDownlinkTopic = "coap";

// TakeQueuedDownlink's answer: the downlink taken (none when nothing is queued) and how many
// stay queued after it.
struct TakenDownlink {
  std::optional<Downlink> downlink;
  int64_t still_queued = 0;
};

// A connection of bysans to a third-party broker (api/integrations.cc, mqtt/integrations.h):
//  kind "chirpstack": a ChirpStack v4 MQTT integration of organisation `org_id`
//    (application/+/device/+/event/+); uplinks go only to that organisation's devices.
//  kind "mqtt": an external broker of application `app_id` ("OS2iot MQTT external broker"):
//    `topic_filter`, the device id at topic level `device_topic_level` (0-based), matched by
//    `device_match` (id | name | devEui) within the application.
// The password is kept encrypted (libsodium crypto_secretbox under <data_dir>/secret.key) and
// is never part of this struct; `has_password` says whether one is set.
struct MqttIntegration {
  Id id = 0;
  std::string kind;
  Id org_id = 0;
  Id app_id = 0;  // kind "mqtt" only
  std::string name;
  std::string url;  // mqtt://host[:port] or mqtts://host[:port]
  std::string username;
  bool has_password = false;
  std::string client_id;  // empty at creation: "bysans-<kind>-<id>" (stable)
  bool enabled = true;
  std::string topic_filter;    // kind "mqtt"
  int device_topic_level = 0;  // kind "mqtt"
  std::string device_match;    // kind "mqtt": id | name | devEui
  // PEM text of the CAs trusted for an mqtts:// broker (mqtt/tls_ca.h checks it); empty = the
  // system's CAs. Public data, stored and returned in clear.
  std::string ca_cert;
  // Mutual TLS (mqtt/tls_client_cert.h): the PEM certificate (then its chain) bysans presents to
  // an mqtts:// broker that asks for one; public, stored in clear. Its private key is kept
  // encrypted like the password (SetIntegrationClientKey); `has_client_key` says whether one is
  // set.
  std::string client_cert;
  bool has_client_key = false;
  TimeMs created_ms = 0;
  TimeMs updated_ms = 0;
};

// What the connection of an integration is doing (process-local, not stored).
struct IntegrationState {
  std::string status = "stopped";  // stopped | disabled | connecting | connected | error
  std::string last_error;
  TimeMs since_ms = 0;
};

class MqttStore {
 public:
  virtual ~MqttStore() = default;

  // Creates or replaces the broker credentials of a device.
  virtual Status PutCredential(const MqttCredential& c) = 0;
  // Removes a device's broker credentials (none: Ok); bumps the generation either way, so the
  // broker reloads without them.
  virtual Status DeleteCredential(Id device_id) = 0;
  // Credentials of all devices that still exist.
  virtual Result<std::vector<MqttCredential>> ListCredentials() = 0;
  // Increases whenever credentials change in this process (the broker
  // supervisor's watcher reloads the broker's password file on a change).
  virtual int64_t credentials_generation() const = 0;
  // Bumps the generation for broker users kept elsewhere (SensorThings API keys,
  // server/sta_mqtt.h) and returns the new one.
  virtual int64_t BumpCredentialsGeneration() = 0;
  // Process-local: the supervised broker's watcher reports the generation whose credentials the
  // broker has taken up (it accepts them from now on).
  virtual void SetCredentialsApplied(int64_t generation) = 0;
  // Waits until credentials of `generation` (or later) are taken up, at most `timeout_ms`.
  // True when they are, or when no supervised broker reports (an external broker, or MQTT
  // not started yet): then there is nothing to wait for.
  virtual bool WaitCredentialsApplied(int64_t generation, int timeout_ms) = 0;
  // Where devices reach the broker: set by the server when the broker is up
  // (process-local, not stored); port 0 = no broker yet.
  virtual void SetBrokerEndpoint(std::string host, int port) = 0;
  virtual std::pair<std::string, int> broker_endpoint() const = 0;

  // Records one uplink received through gateway `gateway_id` of organisation `org_id`, which
  // arrived from `source`: a touch from kLocalBroker marks the gateway seen locally for good, one
  // from kIntegration never does (a new gateway is recorded as not seen locally).
  virtual Status TouchGateway(Id org_id, const std::string& gateway_id, TimeMs now,
                              UplinkSource source) = 0;
  // The same for an uplink of device `device_id` (of `org_id`), heard with that RSSI and SNR
  // (GatewayStore::HeardDevices). Batched: no transaction per call.
  virtual Status TouchGateway(Id org_id, const std::string& gateway_id, TimeMs now,
                              UplinkSource source, Id device_id, std::optional<double> rssi,
                              std::optional<double> snr) = 0;
  virtual Result<std::vector<LorawanGateway>> ListGateways(Id org_id) = 0;

  // Counts an uplink from a DevEUI no device has.
  virtual Status CountUnknownDevice(const std::string& dev_eui, const std::string& application_id,
                                    TimeMs now) = 0;
  virtual Result<std::vector<UnknownLorawanDevice>> ListUnknownDevices() = 0;

  // The ChirpStack application id last seen in a device's uplink topic (downlinks need it);
  // kNotFound before the first uplink.
  virtual Status SetLorawanApplication(Id device_id, const std::string& application_id) = 0;
  virtual Result<std::string> LorawanApplication(Id device_id) = 0;

  // Third-party broker integrations. Create assigns id, created/updated times and the default
  // client id. `password`: nullopt = none / unchanged (Update), "" = remove. kNotFound for an
  // unknown id. Every change bumps integrations_generation() (the integration manager
  // reconciles its connections on a change).
  virtual Result<MqttIntegration> CreateIntegration(MqttIntegration i,
                                                    const std::optional<std::string>& password) = 0;
  virtual Result<MqttIntegration> GetIntegration(Id id) = 0;
  // kind "" = all kinds; org_id 0 = all organisations; app_id 0 = any application.
  virtual Result<std::vector<MqttIntegration>> ListIntegrations(const std::string& kind, Id org_id,
                                                                Id app_id) = 0;
  virtual Status UpdateIntegration(const MqttIntegration& i,
                                   const std::optional<std::string>& password) = 0;
  virtual Status DeleteIntegration(Id id) = 0;
  // The decrypted password ("" when none). kInternal when it cannot be decrypted (secret.key
  // replaced or the stored box altered).
  virtual Result<std::string> IntegrationPassword(Id id) = 0;
  // The private key of the integration's client certificate, kept encrypted like the password:
  // "" removes it. Bumps integrations_generation(). kNotFound for an unknown id.
  virtual Status SetIntegrationClientKey(Id id, const std::string& key_pem) = 0;
  // The decrypted key ("" when none); kInternal when it cannot be decrypted.
  virtual Result<std::string> IntegrationClientKey(Id id) = 0;
  virtual int64_t integrations_generation() const = 0;
  virtual void SetIntegrationState(Id id, IntegrationState state) = 0;
  virtual IntegrationState integration_state(Id id) const = 0;

  // Uplinks from DevEUIs that no device of organisation `org_id` has, received through that
  // organisation's ChirpStack integration `integration_id`.
  virtual Status CountUnknownOrgDevice(Id org_id, Id integration_id, const std::string& dev_eui,
                                       const std::string& application_id, TimeMs now) = 0;
  virtual Result<std::vector<UnknownLorawanDevice>> ListUnknownOrgDevices(Id org_id) = 0;

  // Which connection last delivered a device's uplink (downlinks go back through it):
  // the ChirpStack application id and the integration id (0 = bysans' own broker client).
  virtual Status SetLorawanRoute(Id device_id, const std::string& application_id,
                                 Id integration_id) = 0;
  virtual Result<Id> LorawanIntegration(Id device_id) = 0;

  // Downlink history: appended when queued (id assigned), status set on the broker's answer.
  virtual Result<Downlink> AppendDownlink(Downlink d) = 0;
  virtual Status SetDownlinkStatus(Id id, const std::string& status, const std::string& error) = 0;
  virtual Result<std::vector<Downlink>> ListDownlinks(Id device_id, int64_t limit) = 0;
  // The oldest downlink of `device_id` with status "queued" and this topic, marked "sent"
  // (error cleared) before it is returned, and the count of those still queued after it.
  // Reads only (no write transaction) when none is queued. Thread-safe; two concurrent calls
  // for the same device may both see the same downlink: call it from one thread.
  virtual Result<TakenDownlink> TakeQueuedDownlink(Id device_id, const std::string& topic) = 0;
  // The devices with at least one downlink of this topic with status "queued", at most `limit`
  // of them (any order). Reads only. Lets the CoAP server skip TakeQueuedDownlink for the
  // devices of a batch of answers that have none (one query per batch, not per answer).
  virtual Result<std::vector<Id>> DevicesWithQueuedDownlinks(const std::string& topic,
                                                             size_t limit) = 0;
};

}  // namespace bysans

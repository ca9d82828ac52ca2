// What the MQTT and LoRaWAN transports keep in the database: device broker
// credentials (only the Mosquitto PBKDF2 hash), LoRaWAN gateways seen and
// uplinks from unknown DevEUIs (for onboarding). Thread-safe.
#pragma once

#include <cstdint>
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
};

struct UnknownLorawanDevice {
  std::string dev_eui;
  std::string application_id;  // ChirpStack application id from the topic
  TimeMs first_seen_ms = 0;
  TimeMs last_seen_ms = 0;
  int64_t uplinks = 0;
};

// A downlink sent to a device (history per device).
struct Downlink {
  Id id = 0;
  Id device_id = 0;
  TimeMs created_ms = 0;
  int fport = 0;
  std::string data;  // the frame bytes
  bool confirmed = false;
  std::string topic;
  std::string status;  // queued | published | failed
  std::string error;
};

class MqttStore {
 public:
  virtual ~MqttStore() = default;

  // Creates or replaces the broker credentials of a device.
  virtual Status PutCredential(const MqttCredential& c) = 0;
  // Credentials of all devices that still exist.
  virtual Result<std::vector<MqttCredential>> ListCredentials() = 0;
  // Increases whenever credentials change in this process (the broker
  // supervisor's watcher reloads the broker's password file on a change).
  virtual int64_t credentials_generation() const = 0;
  // Where devices reach the broker: set by the server when the broker is up
  // (process-local, not stored); port 0 = no broker yet.
  virtual void SetBrokerEndpoint(std::string host, int port) = 0;
  virtual std::pair<std::string, int> broker_endpoint() const = 0;

  // Records one uplink received through gateway `gateway_id` of organisation `org_id`.
  virtual Status TouchGateway(Id org_id, const std::string& gateway_id, TimeMs now) = 0;
  virtual Result<std::vector<LorawanGateway>> ListGateways(Id org_id) = 0;

  // Counts an uplink from a DevEUI no device has.
  virtual Status CountUnknownDevice(const std::string& dev_eui, const std::string& application_id,
                                    TimeMs now) = 0;
  virtual Result<std::vector<UnknownLorawanDevice>> ListUnknownDevices() = 0;

  // The ChirpStack application id last seen in a device's uplink topic (downlinks need it);
  // kNotFound before the first uplink.
  virtual Status SetLorawanApplication(Id device_id, const std::string& application_id) = 0;
  virtual Result<std::string> LorawanApplication(Id device_id) = 0;

  // Downlink history: appended when queued (id assigned), status set on the broker's answer.
  virtual Result<Downlink> AppendDownlink(Downlink d) = 0;
  virtual Status SetDownlinkStatus(Id id, const std::string& status, const std::string& error) = 0;
  virtual Result<std::vector<Downlink>> ListDownlinks(Id device_id, int64_t limit) = 0;
};

}  // namespace bysans

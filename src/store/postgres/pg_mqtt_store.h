// MqttStore on PostgreSQL 15 (issue 19; tables of migration 5, schema_mqtt.cc): MQTT
// credentials, third-party broker integrations (password and client key sealed with the
// SecretBox), LoRaWAN gateways, routes and unknown devices, downlinks. Same contract as
// store/mqtt_store.h and the SQLite store; the differences are in README.md ("MQTT and gateways").
// Not wired into the server yet.
#pragma once

#include <cstdint>
#include <memory>

#include "store/mqtt_store.h"

namespace bysans {

class SecretBox;
namespace pg {
class Pool;
}

// Gateways seen (TouchGateway) and LoRaWAN routes (SetLorawanRoute) are kept in memory and
// written together by FlushPending (pg_lorawan_pending.h): by the store's own flusher thread
// every `flush_interval_ms`, before the listings that need them (ListGateways, and the
// GatewayStore's through its flush function) and when the store is destroyed.
class PostgresMqttStore : public MqttStore {
 public:
  virtual Status FlushPending() = 0;
  // Bump credentials_generation() / integrations_generation() for a change another node made
  // (the change feed, change_feed.h); they send nothing to other nodes.
  virtual void BumpCredentialsLocal() = 0;
  virtual void BumpIntegrationsLocal() = 0;
};

struct PostgresMqttOptions {
  int flush_interval_ms = 1000;  // 0: no flusher thread (the owner calls FlushPending)
};

// `pool` and `box` must outlive the store.
std::unique_ptr<PostgresMqttStore> NewPostgresMqttStore(pg::Pool& pool, const SecretBox& box,
                                                        PostgresMqttOptions options = {});

}  // namespace bysans

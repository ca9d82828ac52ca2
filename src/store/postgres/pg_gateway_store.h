// GatewayStore on PostgreSQL 15 (issue 19; tables of migration 5, schema_mqtt.cc): gateway
// health, state transitions, hourly stats, and the devices each gateway heard (written by
// PostgresMqttStore's batched touches, read here). Same contract as store/gateway_store.h and the
// SQLite store. Not wired into the server yet.
#pragma once

#include <functional>
#include <memory>

#include "store/gateway_store.h"

namespace bysans {

namespace pg {
class Pool;
}

// `flush_touches` writes the gateways and heard devices seen in uplinks so far
// (PostgresMqttStore::FlushPending) before a read that lists them. `pool` must outlive the store.
std::unique_ptr<GatewayStore> NewPostgresGatewayStore(pg::Pool& pool,
                                                      std::function<Status()> flush_touches);

}  // namespace bysans

// Defence in depth for alarm actions (issue 14, finding 1): whatever the engine matched,
// an outbox row acts only on a device of its own organisation. The server installs
// CheckActionTenancy as the outbox's guard (act::Outbox::SetGuard), so it runs before
// every attempt of every action type (webhook, e-mail, MQTT publish, downlink).
#pragma once

#include "core/status.h"
#include "store/rule_store.h"
#include "store/store.h"

namespace bysans::rules {

// Ok when the row's alarm, the alarm's device and the row's rule (if still stored) all
// belong to entry.org_id, and a downlink names the alarm's device; for a gateway alarm, the
// alarm's gateway is one of entry.org_id (GatewayStore) and the row is no downlink or
// notify_contacts (a gateway has no device or contacts). PermissionDenied naming
// what differs otherwise (also when the alarm or the device is gone). Thread-safe.
Status CheckActionTenancy(Store& store, const OutboxEntry& entry);

}  // namespace bysans::rules

// The "downlink" action of rules (act/outbox.h) wired to the API's downlink path
// (api/downlink.h): the same validation and downlink history as POST .../downlink, plus
// the checks a rule needs that a user's request gets from its principal.
#pragma once

#include "act/outbox.h"
#include "api/downlink.h"
#include "core/clock.h"
#include "store/store.h"

namespace bysans {

// Sends a rule's downlink to request.device_id only if the device belongs to
// request.org_id (PermissionDenied otherwise: permanent, logged in the delivery log), and
// records it in the organisation's audit log (no user or key: the actor is the rule the
// detail names, {"ruleId", "downlinkId", "fPort", "bytes"}). A request with an `object_json`
// is first encoded by the device's decoder (its encodeDownlink, under the organisation's decoder
// time limit, on the sender's own decode threads); no such decoder or the encoder's errors fail
// it permanently. `store`, `clock` and `publish` must outlive the sender.
act::DownlinkSender RuleDownlinkSender(Store& store, const Clock& clock,
                                       api::RoutedPublisher publish);

}  // namespace bysans

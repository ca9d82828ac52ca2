// Server-initiated LwM2M operations (Device Management interface, Core §6.3): a Read, Write or
// Execute of a path, queued by the API, sent as a CoAP request when the device can be reached,
// and finished by its answer. The request each kind becomes and the state machine
// queued → sent → done | failed, without sockets.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "coap/hooks.h"
#include "core/status.h"
#include "store/lwm2m_store.h"

namespace bysans::lwm2m {

// At most this many operations of a device are open (queued or sent) at a time: the API refuses
// more (429) until the device answers some or they expire (Lwm2mOptions::operation_expiry_ms).
inline constexpr int kMaxOpenOperations = 100;

// "/3/0/4" → {3, 0, 4}: 1 to 4 integers 0..65535 (object, instance, resource, resource
// instance). kInvalidArgument otherwise.
Result<std::vector<int>> ParsePath(std::string_view path);

// "read" | "write" | "execute" | "observe" | "cancel-observe". kInvalidArgument otherwise.
Result<Lwm2mOpKind> ParseKind(std::string_view kind);

// A new operation is valid: a read names an object, instance or resource; a write and an
// execute name a resource (3 or 4 segments for a write, exactly 3 for an execute); a write has
// a value of at most 512 bytes (an execute's arguments too); an observe and a cancel-observe
// name any path and take no value.
Status ValidateOperation(Lwm2mOpKind kind, std::string_view path, std::string_view value);

// The CoAP request of an operation (Core §6.3, Transport §6.4.2 and §7.3): Read = GET of the
// path; Write = PUT (replace) with the value as text/plain (Content-Format 0), which LwM2M 1.1
// clients accept for a single resource; Execute = POST with the arguments as its payload;
// Observe = GET with Observe=0 and Accept SenML CBOR (keep_for_notifications).
coap::OutgoingRequest RequestFor(const Lwm2mOperation& op);

// An answer's payload as an operation's result text (at most its first 1,024 bytes): as it is
// when it is UTF-8 text without NUL (a plain-text value), else "hex:" and its bytes in hex (CBOR,
// TLV, opaque): JSON and PostgreSQL text both need valid UTF-8.
std::string ResultText(std::string_view payload);

// The transitions. Sent: queued → sent. Answered: sent → done, with the device's code and
// payload (any code: a 4.04 from the device is a done operation with result 404). NoAnswer:
// queued or sent → failed with the reason. Other transitions are refused (kFailedPrecondition):
// a finished operation never changes.
Status MarkSent(Lwm2mOperation& op, TimeMs now);
Status MarkAnswered(Lwm2mOperation& op, const coap::PeerResponse& response, TimeMs now);
Status MarkFailed(Lwm2mOperation& op, std::string reason, TimeMs now);

}  // namespace bysans::lwm2m

// LwM2M Observe (Information Reporting interface, Core §6.4; RFC 7641): which object instances
// bysans observes on a registration, and the readings of a notification. Pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans::lwm2m {

constexpr int kTextPlain = 0;

// The paths observed for a registration's object instances ("/3303/0,/3/0,/3428" as
// ObjectsText gives): every instance of an object whose resources become readings (3303, 3304,
// 3301, 3315, 3200, 3428, 3424) and, for the Device object's instance, its battery level
// (/3/0/9). Objects without an instance are not observed.
std::vector<std::string> ObservedPaths(std::string_view objects_text);

// The readings of a response to an Observe, or a notification, of `path` ("/3303/0"): SenML
// JSON (110) or CBOR (112) as a Send; plain text (0) for a single resource (a number, else the
// text); TLV (11542), whose values are typed by the known resources' types (unknown resources
// of a TLV payload are skipped: their type is not known). Errors: kUnsupportedMedia for another
// Content-Format; kInvalidArgument for a malformed payload.
Result<std::vector<Reading>> ParseNotification(int content_format, std::string_view payload,
                                               std::string_view path, Id device_id, TimeMs now);

// The raw message's content type of a notification's Content-Format.
std::string NotificationContentType(int content_format);

}  // namespace bysans::lwm2m

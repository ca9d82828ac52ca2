// One blocking MQTT 3.1.1 CONNECT to a broker, to learn whether it accepts a user name and
// password now (the broker supervisor confirms a credentials reload this way). Thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace bysans::mqtt {

// Connects to host:port (IPv4), sends CONNECT (clean session, client id = `username`) and
// returns the CONNACK return code (0 accepted, 4 bad user name or password, 5 not
// authorised); sends DISCONNECT after an accepted one. kUnavailable when the broker cannot be
// reached or does not answer within `timeout_ms`.
Result<int> ProbeConnect(const std::string& host, uint16_t port, const std::string& username,
                         const std::string& password, int timeout_ms);

}  // namespace bysans::mqtt

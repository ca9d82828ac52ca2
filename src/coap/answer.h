// What the CoAP server answers to an ingest request, kept by (endpoint, message id) so that a
// retransmission gets the same answer, and written into a libcoap PDU by answer.cc (libcoap
// types stay in the .cc files). A 2.04 may carry the device's oldest queued downlink.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/model.h"

struct coap_pdu_t;

namespace bysans::coap {

// Elective option (experimental range, RFC 7252 §12.2) on a 2.04 that carries a downlink: how
// many more downlinks stay queued for the device (absent when none). Each of its next uplinks'
// answers carries one.
inline constexpr uint16_t kDownlinksPendingOption = 65000;

struct Answer {
  int code = 0;         // CoAP code as class*32+detail (libcoap's coap_pdu_code_t); 0 = in flight
  std::string payload;  // diagnostic text for errors; the downlink's bytes on a 2.04
  int content_format = -1;                    // -1 = none
  std::optional<uint32_t> max_age;            // 5.03: retry after (s)
  std::optional<uint32_t> size1;              // 4.13: the limit
  std::optional<uint32_t> downlinks_pending;  // 2.04 with a downlink: more queued
  Id downlink_id = 0;                         // the downlink carried, 0 = none
};

// Sets code, options (in number order) and payload of `pdu` (its token already set).
void WriteAnswer(const Answer& a, coap_pdu_t* pdu);

}  // namespace bysans::coap

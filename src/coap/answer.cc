#include "coap/answer.h"

#include <coap3/coap.h>

namespace bysans::coap {

void WriteAnswer(const Answer& a, coap_pdu_t* pdu) {
  coap_pdu_set_code(pdu, static_cast<coap_pdu_code_t>(a.code));
  uint8_t buf[4];
  // libcoap keeps options sorted whatever the order of coap_add_option calls.
  if (a.content_format >= 0)
    coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                    coap_encode_var_safe(buf, sizeof buf, static_cast<unsigned>(a.content_format)),
                    buf);
  if (a.max_age)
    coap_add_option(pdu, COAP_OPTION_MAXAGE, coap_encode_var_safe(buf, sizeof buf, *a.max_age),
                    buf);
  if (a.size1)
    coap_add_option(pdu, COAP_OPTION_SIZE1, coap_encode_var_safe(buf, sizeof buf, *a.size1), buf);
  if (a.downlinks_pending)
    coap_add_option(pdu, kDownlinksPendingOption,
                    coap_encode_var_safe(buf, sizeof buf, *a.downlinks_pending), buf);
  if (!a.payload.empty())
    coap_add_data(pdu, a.payload.size(), reinterpret_cast<const uint8_t*>(a.payload.data()));
}

}  // namespace bysans::coap

// The "sms" and "notify_contacts" actions of rules (act/outbox.h ContactResolver) wired to the
// store: the row's organisation's SMS gateway with its secret opened, and the effective
// contacts (model/contact.h) of the device of the row's alarm — read at delivery, so outbox
// rows never hold a contact's phone number or e-mail.
#pragma once

#include "act/outbox.h"
#include "store/store.h"

namespace bysans {

// The alarm must be of the row's organisation and its device too (PermissionDenied otherwise:
// permanent). No gateway is not an error here (ContactRoute::gateway empty). `store` must
// outlive the resolver.
act::ContactResolver RuleContactResolver(Store& store);

}  // namespace bysans

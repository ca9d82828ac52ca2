#include "server/rule_contacts.h"

#include "model/contact.h"
#include "store/contact_store.h"

namespace bysans {

act::ContactResolver RuleContactResolver(Store& store) {
  return [&store](const OutboxEntry& e, bool with_contacts) -> Result<act::ContactRoute> {
    act::ContactRoute route;
    auto gateway = store.contacts().GetSmsGateway(e.org_id);
    if (gateway.ok()) {
      if (!gateway->secret_sealed.empty()) {
        BYSANS_ASSIGN_OR_RETURN(route.secret, store.secrets().UnsealText(gateway->secret_sealed));
      }
      route.gateway = std::move(gateway).value();
    } else if (gateway.status().code() != Code::kNotFound) {
      return Unavailable(gateway.status().message());
    }
    if (!with_contacts) return route;
    BYSANS_ASSIGN_OR_RETURN(AlarmRecord alarm, store.rules().GetAlarm(e.alarm_id));
    BYSANS_ASSIGN_OR_RETURN(Device device, store.GetDevice(alarm.device_id));
    if (alarm.org_id != e.org_id || device.org_id != e.org_id) {
      return PermissionDenied("the alarm's device is of another organisation");
    }
    BYSANS_ASSIGN_OR_RETURN(auto own,
                            store.contacts().ListContacts(ContactOwner::kDevice, device.id));
    BYSANS_ASSIGN_OR_RETURN(
        auto app, store.contacts().ListContacts(ContactOwner::kApplication, device.app_id));
    for (const EffectiveContact& c : Effective(own, app)) {
      if (!c.contact.phone.empty()) route.phones.push_back(c.contact.phone);
      if (!c.contact.email.empty()) route.emails.push_back(c.contact.email);
    }
    return route;
  };
}

}  // namespace bysans

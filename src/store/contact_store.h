// Who to reach in the field and how (issue 20): the responsible contacts of applications and
// devices (model/contact.h) and each organisation's SMS gateway (the HTTP API of an SMS
// provider, act/sms.h). Same contracts as store.h: thread-safe, Status errors. Contacts go with
// their application or device, a gateway with its organisation. The store keeps what it is
// given; the API validates it (ValidateContacts, act::ValidateSmsGateway).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "model/contact.h"
#include "model/model.h"

namespace bysans {

// What a contact list belongs to.
enum class ContactOwner { kApplication, kDevice };

struct SmsGateway {
  Id org_id = 0;
  std::string url;              // http(s); may hold {{to}}, {{message}}, {{secret}} (URL-encoded)
  std::string method = "POST";  // POST | GET
  std::map<std::string, std::string> headers;  // values may hold the placeholders
  std::string body_format = "form";            // form | json
  std::string body;                            // template; ignored for GET
  std::string secret_sealed;                   // core/secret_box.h SealText; "" none
  TimeMs updated_ms = 0;
};

class ContactStore {
 public:
  virtual ~ContactStore() = default;

  // The contacts of an application or device in their order (empty when it has none).
  virtual Result<std::vector<Contact>> ListContacts(ContactOwner owner, Id id) = 0;
  // Replaces the list in one transaction. kNotFound when the application or device is unknown.
  virtual Status ReplaceContacts(ContactOwner owner, Id id, const std::vector<Contact>& c) = 0;

  // kNotFound when the organisation has no SMS gateway.
  virtual Result<SmsGateway> GetSmsGateway(Id org_id) = 0;
  // Creates or replaces. kNotFound when the organisation is unknown.
  virtual Status PutSmsGateway(const SmsGateway& g) = 0;
  // kNotFound when there is none.
  virtual Status DeleteSmsGateway(Id org_id) = 0;
};

}  // namespace bysans

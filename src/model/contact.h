// Responsible contacts (issue 20): the people to reach about an application or a device (name,
// e-mail, phone, free-text role such as "tilsynsførende"). Personal data: the API audits every
// read and nothing sends them to decoders, data targets, open data or SensorThings. A device's
// effective contacts are its own followed by its application's (ValidateContacts, Effective).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace bysans {

inline constexpr size_t kMaxContactsPerObject = 20;
inline constexpr size_t kMaxContactField = 200;  // bytes of a name, e-mail or role

struct Contact {
  std::string name;
  std::string email;  // "" or one address
  std::string phone;  // "" or E.164: '+' and 6..15 digits (NormalizePhone)
  std::string role;   // free text
  bool operator==(const Contact&) const = default;
};

// Where an effective contact comes from.
enum class ContactSource { kDevice, kApplication };
const char* ContactSourceName(ContactSource s);

struct EffectiveContact {
  Contact contact;
  ContactSource source = ContactSource::kDevice;
};

// "+45 12 34 56 78" → "+4512345678": spaces, '-', '.', '(' and ')' removed, "00" before the
// country code becomes '+'; then '+' and 6..15 digits. InvalidArgument otherwise.
Result<std::string> NormalizePhone(std::string_view phone);

// An e-mail shape: local@domain with a dot in the domain, at most 254 bytes, no spaces,
// control characters, '<', '>', ',' or ';'.
bool IsEmailShape(std::string_view email);

// Checks each contact (a name of 1..kMaxContactField bytes, an e-mail or a phone, each valid;
// a role of at most kMaxContactField bytes; no control characters) and normalises phones in
// place; at most kMaxContactsPerObject. Errors name the entry ("contacts[2].phone ...").
Status ValidateContacts(std::vector<Contact>& contacts);

// The device's own contacts first, then its application's that are not the same person (same
// name, e-mail and phone) as one before.
std::vector<EffectiveContact> Effective(const std::vector<Contact>& device_contacts,
                                        const std::vector<Contact>& app_contacts);

}  // namespace bysans

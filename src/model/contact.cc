#include "model/contact.h"

#include <algorithm>

namespace bysans {
namespace {

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7f;
  });
}

Status Field(size_t i, const char* field, const std::string& why) {
  return InvalidArgument("field 'contacts[" + std::to_string(i) + "]." + field + "' " + why);
}

}  // namespace

const char* ContactSourceName(ContactSource s) {
  return s == ContactSource::kDevice ? "device" : "application";
}

Result<std::string> NormalizePhone(std::string_view phone) {
  std::string out;
  for (char c : phone) {
    if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') continue;
    out.push_back(c);
  }
  if (out.rfind("00", 0) == 0) out = "+" + out.substr(2);
  const bool digits = out.size() > 1 && std::all_of(out.begin() + 1, out.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
  if (out.empty() || out[0] != '+' || !digits || out.size() < 7 || out.size() > 16) {
    return InvalidArgument(
        "must be a phone number in international form, '+' and the country code (+45 12 34 56 "
        "78)");
  }
  return out;
}

bool IsEmailShape(std::string_view email) {
  if (email.size() < 3 || email.size() > 254) return false;
  const bool bad_char = std::any_of(email.begin(), email.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';';
  });
  const size_t at = email.find('@');
  if (bad_char || at == 0 || at == std::string_view::npos || email.find('@', at + 1) != email.npos)
    return false;
  const std::string_view domain = email.substr(at + 1);
  const size_t dot = domain.find('.');
  return dot != std::string_view::npos && dot > 0 && domain.back() != '.';
}

Status ValidateContacts(std::vector<Contact>& contacts) {
  if (contacts.size() > kMaxContactsPerObject) {
    return InvalidArgument("at most " + std::to_string(kMaxContactsPerObject) +
                           " contacts per application or device");
  }
  const std::string too_long = "must be at most " + std::to_string(kMaxContactField) + " bytes";
  for (size_t i = 0; i < contacts.size(); ++i) {
    Contact& c = contacts[i];
    if (c.name.empty()) return Field(i, "name", "is required");
    if (c.name.size() > kMaxContactField) return Field(i, "name", too_long);
    if (c.role.size() > kMaxContactField) return Field(i, "role", too_long);
    if (HasControl(c.name) || HasControl(c.role)) {
      return Field(i, HasControl(c.name) ? "name" : "role", "must not contain control characters");
    }
    if (c.email.empty() && c.phone.empty()) return Field(i, "email", "or 'phone' is required");
    if (!c.email.empty() && !IsEmailShape(c.email)) {
      return Field(i, "email", "must be one e-mail address (name@example.dk)");
    }
    if (!c.phone.empty()) {
      auto phone = NormalizePhone(c.phone);
      if (!phone.ok()) return Field(i, "phone", phone.status().message());
      c.phone = std::move(phone).value();
    }
  }
  return Status::Ok();
}

std::vector<EffectiveContact> Effective(const std::vector<Contact>& device_contacts,
                                        const std::vector<Contact>& app_contacts) {
  std::vector<EffectiveContact> out;
  for (const Contact& c : device_contacts) out.push_back({c, ContactSource::kDevice});
  for (const Contact& c : app_contacts) {
    const bool seen = std::any_of(out.begin(), out.end(), [&c](const EffectiveContact& e) {
      return e.contact.name == c.name && e.contact.email == c.email && e.contact.phone == c.phone;
    });
    if (!seen) out.push_back({c, ContactSource::kApplication});
  }
  return out;
}

}  // namespace bysans

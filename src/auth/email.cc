#include "auth/email.h"

#include <algorithm>
#include <cctype>

namespace bysans::auth {

Result<std::string> NormalizeEmail(std::string email) {
  std::transform(email.begin(), email.end(), email.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  size_t at = email.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == email.size() ||
      email.find_first_of(" \t\r\n") != std::string::npos)
    return InvalidArgument("field 'email' is not an email address");
  return email;
}

}  // namespace bysans::auth

#include "auth/password_policy.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace bysans::auth {

bool IsCommonPassword(std::string_view password) {
  std::string needle = "\n";
  needle.reserve(password.size() + 2);
  for (char c : password) needle += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  needle += '\n';
  return CommonPasswordList().find(needle) != std::string_view::npos;
}

Status CheckPasswordPolicy(std::string_view password) {
  if (password.size() < kMinPasswordLength)
    return InvalidArgument("the password must have at least " + std::to_string(kMinPasswordLength) +
                           " characters");
  if (password.size() > kMaxPasswordLength)
    return InvalidArgument("the password must have at most " + std::to_string(kMaxPasswordLength) +
                           " characters");
  if (IsCommonPassword(password))
    return InvalidArgument(
        "the password is one of the most common passwords; choose another (a few unrelated "
        "words make a good one)");
  return Status::Ok();
}

}  // namespace bysans::auth

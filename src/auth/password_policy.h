// The one password rule of bysans (API, CLI, first administrator): at least
// kMinPasswordLength characters, at most kMaxPasswordLength, and not one of the
// common passwords shipped in common_passwords.txt (compared case-insensitively).
#pragma once

#include <cstddef>
#include <string_view>

#include "core/status.h"

namespace bysans::auth {

inline constexpr size_t kMinPasswordLength = 12;
inline constexpr size_t kMaxPasswordLength = 1024;

// Ok, or kInvalidArgument saying why (never repeating the password).
Status CheckPasswordPolicy(std::string_view password);

// True if `password` (any case) is on the shipped list of common passwords.
bool IsCommonPassword(std::string_view password);

// The shipped list: one lower-case password per line, starting and ending with '\n'
// (generated from common_passwords.txt at build time).
std::string_view CommonPasswordList();

}  // namespace bysans::auth

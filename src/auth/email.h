// Email addresses as bysans stores and compares them.
#pragma once

#include <string>

#include "core/status.h"

namespace bysans::auth {

// Lower-cased; kInvalidArgument ("field 'email' ...") unless it has a local
// part, an '@' and a domain, and no blanks.
Result<std::string> NormalizeEmail(std::string email);

}  // namespace bysans::auth

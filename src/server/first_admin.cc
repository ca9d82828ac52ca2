#include "server/first_admin.h"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "auth/auth.h"
#include "auth/email.h"
#include "auth/password_policy.h"

namespace bysans {

Result<User> CreateUser(Store& store, const Clock& clock, const std::string& email,
                        const std::string& password, bool global_admin) {
  User u;
  BYSANS_ASSIGN_OR_RETURN(u.email, auth::NormalizeEmail(email));
  BYSANS_RETURN_IF_ERROR(auth::CheckPasswordPolicy(password));
  u.name = u.email.substr(0, u.email.find('@'));
  u.password_hash = auth::HashPassword(password);
  u.global_admin = global_admin;
  u.created_ms = clock.NowMs();
  return store.CreateUser(std::move(u));
}

Result<Id> EnsureFirstAdmin(Store& store, Random& random, const Clock& clock, const Config& c) {
  BYSANS_ASSIGN_OR_RETURN(auto users, store.ListUsers(Page{10000, 0}));
  if (users.total > 0) {
    for (const auto& u : users.items)
      if (u.global_admin) return u.id;
    return Id{0};
  }
  std::string email = c.admin_email.empty() ? "admin@bysans.local" : c.admin_email;
  std::string password = c.admin_password.empty() ? random.Token(12) : c.admin_password;
  BYSANS_ASSIGN_OR_RETURN(User u, CreateUser(store, clock, email, password, true));
  if (c.log_format == "json") {  // one JSON line like every other line of the output
    if (c.admin_password.empty()) {
      spdlog::info("first administrator created (shown once, write it down): {} password {}", email,
                   password);
    } else {
      spdlog::info("first administrator created: {} (password from admin.password)", email);
    }
  } else if (c.admin_password.empty()) {
    std::printf(
        "\n  First administrator created (shown once, write it down):\n"
        "    email:    %s\n    password: %s\n\n",
        email.c_str(), password.c_str());
  } else {
    std::printf("\n  First administrator created: %s (password from admin.password)\n\n",
                email.c_str());
  }
  std::fflush(stdout);
  return u.id;
}

}  // namespace bysans

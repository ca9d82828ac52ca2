// Slows password guessing without letting anyone lock an account for long.
//  - Per account: the first `free_failures` wrong passwords cost nothing; after
//    that each further attempt must wait 2^k seconds (k = failures beyond the
//    free ones, so 2, 4, 8, ... s) after the last failure, capped at
//    `max_delay_ms`. Attempts during the wait are refused without being
//    checked and do not lengthen it; the right password once the wait is over
//    logs in and resets the account.
//  - Per client address: at most `attempts_per_minute` attempts in any minute.
// Thread-safe; times from the caller (the injected Clock).
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace bysans::auth {

struct LoginThrottleOptions {
  int free_failures = 5;
  TimeMs max_delay_ms = 15 * 60'000;
  int attempts_per_minute = 10;  // per client address
};

class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleOptions options) : options_(options) {}

  // 0 when an attempt for `account` from `address` may be checked now (it is
  // then counted against the address), else how many ms to wait.
  TimeMs Admit(const std::string& account, const std::string& address, TimeMs now);
  void Failed(const std::string& account, TimeMs now);
  void Succeeded(const std::string& account);

 private:
  struct Account {
    int failures = 0;
    TimeMs last_failure_ms = 0;
  };
  TimeMs DelayAfter(int failures) const;
  void Prune(TimeMs now);

  const LoginThrottleOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Account> accounts_;
  std::unordered_map<std::string, std::deque<TimeMs>> addresses_;
};

}  // namespace bysans::auth

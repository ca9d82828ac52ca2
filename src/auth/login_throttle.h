// Slows password guessing without letting anyone keep an account's owner out.
//  - Per account and client address: the first `free_failures` wrong passwords cost nothing;
//    after that each further attempt from that address must wait 2^k seconds (k = failures
//    beyond the free ones, so 2, 4, 8, ... s) after the last failure, capped at `max_delay_ms`.
//    Attempts during the wait are refused without being checked and do not lengthen it; the
//    right password once the wait is over logs in and resets that address's count.
//  - Per account, from every address together (guessing spread over many addresses): after
//    kAccountFreeFactor × `free_failures` wrong passwords the same growing waits apply to
//    attempts from any address the account has not logged in from lately. An address that
//    logged in successfully (kept kKnownAddressMs, at most kKnownAddresses per account) is
//    spared this wait: failures from elsewhere never keep the owner out of their usual place.
//    (Before, one failure every 15 minutes from anywhere kept any account's owner out.)
//  - Per client address: at most `attempts_per_minute` attempts in any minute.
// Thread-safe; times from the caller (the injected Clock). In memory: a restart forgets it.
#pragma once

#include <deque>
#include <map>
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
  // Wrong passwords of an account from all addresses together before its waits begin, in
  // units of `free_failures`.
  static constexpr int kAccountFreeFactor = 4;
  static constexpr TimeMs kKnownAddressMs = 30LL * 24 * 3'600'000;
  static constexpr size_t kKnownAddresses = 16;

  explicit LoginThrottle(LoginThrottleOptions options) : options_(options) {}

  // 0 when an attempt for `account` from `address` may be checked now (it is
  // then counted against the address), else how many ms to wait.
  TimeMs Admit(const std::string& account, const std::string& address, TimeMs now);
  void Failed(const std::string& account, const std::string& address, TimeMs now);
  void Succeeded(const std::string& account, const std::string& address, TimeMs now);

 private:
  struct Failures {
    int count = 0;
    TimeMs last_ms = 0;
  };
  TimeMs DelayAfter(int failures, int free) const;
  TimeMs Ready(const Failures& f, int free) const { return f.last_ms + DelayAfter(f.count, free); }
  bool Known(const std::string& account, const std::string& address, TimeMs now) const;
  void Prune(TimeMs now);

  const LoginThrottleOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Failures> pairs_;     // account "\n" address
  std::unordered_map<std::string, Failures> accounts_;  // every address together
  // Addresses each account logged in from, with the time of the last success.
  std::unordered_map<std::string, std::map<std::string, TimeMs>> known_;
  std::unordered_map<std::string, std::deque<TimeMs>> addresses_;
};

}  // namespace bysans::auth

// OAuth2 access tokens cached per key: a token is used until shortly before it expires
// (a tenth of its lifetime, at most 30 s, earlier) and renewed then, or at once after the
// broker refused it (Invalidate). Callers asking for the same key while a token is fetched
// wait for that one fetch. The key must stand for everything the token was issued for: the
// client (NgsiLdClient::TokenKey) keys by owner and every credential, the secret included, so
// no one gets a token by naming another's token URL and client id. Expired entries nobody uses
// are dropped as new keys come. Thread-safe; time from the injected Clock.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/clock.h"
#include "core/status.h"

namespace bysans::ngsild {

struct IssuedToken {
  std::string access_token;
  int64_t expires_in_s = 0;  // 0 or less = not said: one minute
};

class TokenCache {
 public:
  using Fetch = std::function<Result<IssuedToken>()>;

  static constexpr size_t kKeptKeys = 64;  // entries kept before expired ones are dropped

  explicit TokenCache(const Clock& clock) : clock_(clock), drop_at_(kKeptKeys) {}

  // The cached token of `key`, or a new one from `fetch` (whose error is returned as it is).
  Result<std::string> Get(const std::string& key, const Fetch& fetch);
  // Forgets `token` of `key` (the broker answered 401 to it); a newer one is kept.
  void Invalidate(const std::string& key, const std::string& token);
  // How many keys are held (tests).
  size_t size();

 private:
  struct Slot {
    std::mutex mu;  // held while fetching
    std::string token;
    TimeMs renew_at = 0;
  };
  std::shared_ptr<Slot> SlotOf(const std::string& key);
  void DropStale();  // under mu_

  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;
  size_t drop_at_;  // DropStale when a new key would make this many
};

}  // namespace bysans::ngsild

// OAuth2 access tokens cached per target: a token is used until shortly before it expires
// (a tenth of its lifetime, at most 30 s, earlier) and renewed then, or at once after the
// broker refused it (Invalidate). Callers asking for the same key while a token is fetched
// wait for that one fetch. Thread-safe; time from the injected Clock.
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

  explicit TokenCache(const Clock& clock) : clock_(clock) {}

  // The cached token of `key`, or a new one from `fetch` (whose error is returned as it is).
  Result<std::string> Get(const std::string& key, const Fetch& fetch);
  // Forgets `token` of `key` (the broker answered 401 to it); a newer one is kept.
  void Invalidate(const std::string& key, const std::string& token);

 private:
  struct Slot {
    std::mutex mu;  // held while fetching
    std::string token;
    TimeMs renew_at = 0;
  };
  std::shared_ptr<Slot> SlotOf(const std::string& key);

  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;
};

}  // namespace bysans::ngsild

// The live stream across nodes on PostgreSQL (store/live_relay.h). Folder-private (libpqxx).
//
// Asking: a node with live subscribers sends the change "live_wanted" (change_feed.h) now and
// every `ask_every_ms` while it has them; every other node that hears it relays for
// `wanted_for_ms` after.
// Relaying: the series writer, in each group commit while relaying, sends the rule-feed records
// (device and readings, store/rule_feed.h) of the commit's messages on the channel kLiveChannel,
// packed into payloads "<node> <hex>,<hex>,…" below PostgreSQL's 8000-byte limit (a message too
// big for one payload is split by readings). PostgreSQL delivers them at the commit, in commit
// order, and not at all for a rolled-back commit.
// Receiving: the change feed hands other nodes' payloads to Deliver, which decodes them only
// while this node wants them and calls the listener once per message.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "store/live_relay.h"
#include "store/postgres/live_payload.h"
#include "store/postgres/pool.h"

namespace bysans::pg {

inline constexpr char kLiveChannel[] = "bysans_live";

// Sends them in `tx` (delivered when it commits).
void NotifyLive(pqxx::transaction_base& tx, const std::vector<std::string>& payloads);

struct LiveRelayOptions {
  int64_t ask_every_ms = 5000;
  int64_t wanted_for_ms = 15000;
};

class PgLiveRelay final : public LiveRelay {
 public:
  PgLiveRelay(Pool& pool, const Clock& clock, LiveRelayOptions options = {});
  ~PgLiveRelay() override;
  PgLiveRelay(const PgLiveRelay&) = delete;
  PgLiveRelay& operator=(const PgLiveRelay&) = delete;

  void SetListener(Listener listener) override;
  void SetWanted(bool wanted) override;

  // Another node asked: this node relays its commits for the next wanted_for_ms.
  void WantedElsewhere();
  // The series writer's question, once per group commit.
  bool Relaying() const;
  // The body (after "<node> ") of another node's payload; on the change feed's thread.
  void Deliver(std::string_view body);
  // Stops asking and joins the thread. Idempotent.
  void Stop();

 private:
  void AskLoop();

  Pool& pool_;
  const Clock& clock_;
  const LiveRelayOptions options_;
  std::atomic<TimeMs> relay_until_{0};
  std::atomic<bool> wanted_{false};
  Listener listener_;  // set before SetWanted(true): read by Deliver only while wanted
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;       // guarded by mu_
  bool asked_now_ = false;  // guarded by mu_: SetWanted(true) wakes the loop to ask at once
  std::thread asker_;
};

}  // namespace bysans::pg

// SessionRescue (issue 19, several nodes on one external broker with a shared-subscription
// group): a node's persistent session goes on receiving its share of the group's messages while
// the node is down (Mosquitto queues them for the session instead of handing them to the other
// members), so without this they wait until that node comes back — for ever, if it never does.
//
// - Each node holds the lease "mqtt-session/<its client id>" (store/lease_store.h) while it
//   runs, renewed every renew_ms, and connects its own client only once it holds it (`Start`
//   returns whether it does; `on_own_session` runs when it is taken later). A stopping node does
//   not give it up: its session is left to the others.
// - A lease of that kind that ran out belongs to a node that died or stopped. A surviving node
//   takes it and drains the session: it connects as that client id (persistent session: its
//   queued messages come), unsubscribes the group's filters (no new messages come to the
//   session), hands every message to the usual ingest handler (acknowledged after its commit,
//   as any other) until nothing has arrived for idle_ms and nothing is unacknowledged, then ends
//   the session (a clean-session connect) and gives the lease up. A drain that fails (broker
//   unreachable, lease lost, node stopping) stops; the lease runs out and a node tries again.
// - The node, back, takes its lease again (once no drain holds it) and starts a new session; its
//   client subscribes again at every connect (ClientOptions::always_resubscribe).
// Needs every node to be allowed the others' client ids at the broker (no client-id-to-user
// binding); docs/SCALE.md.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "mqtt/client.h"
#include "store/lease_store.h"

namespace bysans::mqtt {

inline constexpr const char* kSessionLeasePrefix = "mqtt-session/";

struct SessionRescueOptions {
  LeaseStore* leases = nullptr;
  std::string holder;                // this node's lease holder ("<node>#<instance>")
  ClientOptions client;              // this node's client: broker, credentials, its client id
  std::vector<std::string> filters;  // the group's filters as subscribed ($share/<group>/…)
  TimeMs lease_ttl_ms = 6000;
  TimeMs renew_ms = 2000;
  TimeMs idle_ms = 1000;  // a drained session: nothing arrived for this long
};

class SessionRescue {
 public:
  SessionRescue(SessionRescueOptions options, MqttClient::MessageHandler handler,
                std::function<void()> on_own_session);
  ~SessionRescue();  // Stop()
  SessionRescue(const SessionRescue&) = delete;
  SessionRescue& operator=(const SessionRescue&) = delete;

  // Asks for this node's session lease once, then runs the rounds on a thread. True when the
  // lease is held now (connect at once); otherwise on_own_session runs when it is taken.
  Result<bool> Start();
  // Ends a drain under way (its lease runs out) and joins the thread.
  void Stop();

  size_t sessions_drained() const { return drained_.load(); }

 private:
  void Loop();
  void KeepOwnSession();
  void RescueExpired();
  bool Drain(const std::string& lease, const std::string& client_id);
  bool WaitUntil(const std::function<bool()>& done, TimeMs within_ms, const std::string& lease);
  bool Stopping();

  SessionRescueOptions o_;
  MqttClient::MessageHandler handler_;
  std::function<void()> on_own_session_;
  std::string own_lease_;
  bool own_held_ = false;  // the rescue thread's
  std::atomic<size_t> drained_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace bysans::mqtt

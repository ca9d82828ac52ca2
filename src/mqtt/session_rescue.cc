#include "mqtt/session_rescue.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <future>

#include "core/thread_name.h"

namespace bysans::mqtt {
namespace {

using Steady = std::chrono::steady_clock;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now().time_since_epoch())
      .count();
}

}  // namespace

SessionRescue::SessionRescue(SessionRescueOptions options, MqttClient::MessageHandler handler,
                             std::function<void()> on_own_session)
    : o_(std::move(options)),
      handler_(std::move(handler)),
      on_own_session_(std::move(on_own_session)),
      own_lease_(kSessionLeasePrefix + o_.client.client_id) {}

SessionRescue::~SessionRescue() { Stop(); }

Result<bool> SessionRescue::Start() {
  if (o_.leases == nullptr || o_.holder.empty() || o_.client.client_id.empty())
    return InvalidArgument("the MQTT session rescue needs leases, a holder and a client id");
  BYSANS_ASSIGN_OR_RETURN(own_held_,
                          o_.leases->AcquireLease(own_lease_, o_.holder, o_.lease_ttl_ms));
  if (!own_held_)
    spdlog::warn(
        "mqtt: the session of client id {} is being drained by another node; this node "
        "connects once it is done",
        o_.client.client_id);
  thread_ = std::thread([this] { Loop(); });
  return own_held_;
}

void SessionRescue::Stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool SessionRescue::Stopping() {
  std::lock_guard lk(mu_);
  return stop_;
}

void SessionRescue::Loop() {
  NameThisThread("mqtt-rescue");
  for (;;) {
    {
      std::unique_lock lk(mu_);
      if (cv_.wait_for(lk, std::chrono::milliseconds(o_.renew_ms), [&] { return stop_; })) return;
    }
    KeepOwnSession();
    RescueExpired();
  }
}

// Also called during a drain (WaitUntil): however long a drain takes, this node's own lease never
// runs out meanwhile (another node would then drain the session this node is connected with).
void SessionRescue::KeepOwnSession() {
  Result<bool> got = o_.leases->AcquireLease(own_lease_, o_.holder, o_.lease_ttl_ms);
  if (!got.ok()) {
    spdlog::warn("mqtt: the lease of this node's MQTT session was not renewed: {}",
                 got.status().message());
    return;  // judged again at the next round
  }
  // Once connected the client stays connected: a lease lost while held (the database out of
  // reach longer than its time to live) is logged, not acted on (docs/SCALE.md).
  if (own_held_ && !*got)
    spdlog::error("mqtt: another node took this node's MQTT session lease {}", own_lease_);
  if (!own_held_ && *got) {
    own_held_ = true;
    spdlog::info("mqtt: this node holds the session of client id {} again; connecting",
                 o_.client.client_id);
    if (on_own_session_) on_own_session_();
  }
}

void SessionRescue::RescueExpired() {
  Result<std::vector<Lease>> expired = o_.leases->ListExpiredLeases(kSessionLeasePrefix);
  if (!expired.ok()) return;  // the next round tries again
  for (const Lease& l : *expired) {
    if (l.name == own_lease_ || Stopping()) continue;
    Result<bool> got = o_.leases->AcquireLease(l.name, o_.holder, o_.lease_ttl_ms);
    if (!got.ok() || !*got) continue;  // another node is draining it
    const std::string client_id = l.name.substr(std::string(kSessionLeasePrefix).size());
    spdlog::warn("mqtt: the session of client id {} (node {}) ran out; draining it", client_id,
                 l.holder);
    if (Drain(l.name, client_id)) {
      ++drained_;
      (void)o_.leases->ReleaseLease(l.name, o_.holder);
    }
  }
}

// Waits until done() (polled every 50 ms), renewing the lease being drained and this node's own;
// false when the time is up, the drained lease is lost or the node is stopping.
bool SessionRescue::WaitUntil(const std::function<bool()>& done, TimeMs within_ms,
                              const std::string& lease) {
  const int64_t end = SteadyMs() + within_ms;
  int64_t renew_at = SteadyMs() + o_.renew_ms;
  while (!done()) {
    if (SteadyMs() >= end || Stopping()) return false;
    if (SteadyMs() >= renew_at) {
      KeepOwnSession();
      Result<bool> kept = o_.leases->AcquireLease(lease, o_.holder, o_.lease_ttl_ms);
      if (!kept.ok() || !*kept) return false;
      renew_at = SteadyMs() + o_.renew_ms;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

bool SessionRescue::Drain(const std::string& lease, const std::string& client_id) {
  ClientOptions co = o_.client;
  co.client_id = client_id;
  co.clean_session = false;
  auto client = std::make_unique<MqttClient>(co);
  std::atomic<int64_t> last_ms{SteadyMs()};
  std::atomic<size_t> received{0};
  std::atomic<bool> connected{false};
  client->set_on_connect([&](const ConnectInfo&) { connected = true; });
  client->set_on_disconnect([&](const Status&) { connected = false; });
  client->set_on_message([&](IncomingMessage m, AckHandle ack) {
    last_ms = SteadyMs();
    ++received;
    handler_(std::move(m), std::move(ack));
  });
  auto fail = [&](const std::string& why) {
    client->Stop();
    spdlog::warn("mqtt: draining the session of client id {} stopped: {}", client_id, why);
    return false;
  };
  if (Status s = client->Start(); !s.ok()) return fail(s.message());
  if (!WaitUntil([&] { return connected.load(); }, co.connect_timeout_ms, lease))
    return fail("not connected");
  // No new messages for the session: what it holds is all there is to drain.
  auto unsubscribed = std::make_shared<std::promise<Status>>();
  auto answer = unsubscribed->get_future();
  if (Status s = client->Unsubscribe(
          o_.filters, [unsubscribed](const Status& st) { unsubscribed->set_value(st); });
      !s.ok())
    return fail(s.message());
  if (!WaitUntil(
          [&] { return answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready; },
          co.connect_timeout_ms, lease))
    return fail("no UNSUBACK");
  if (Status s = answer.get(); !s.ok()) return fail(s.message());
  last_ms = SteadyMs();
  if (!WaitUntil(
          [&] {
            return SteadyMs() - last_ms.load() >= o_.idle_ms && client->unacked_incoming() == 0 &&
                   connected.load();
          },
          INT64_MAX / 4, lease))
    return fail("the drain did not finish");
  client->Stop();  // DISCONNECT: the session stays, with no subscription and nothing queued
  // End it: a clean-session connect (MQTT 5: no expiry) leaves nothing for the client id.
  co.clean_session = true;
  co.session_expiry_s = 0;
  auto ender = std::make_unique<MqttClient>(co);
  std::atomic<bool> ended{false};
  ender->set_on_connect([&](const ConnectInfo&) { ended = true; });
  if (Status s = ender->Start(); !s.ok()) return fail(s.message());
  const bool ok = WaitUntil([&] { return ended.load(); }, co.connect_timeout_ms, lease);
  ender->Stop();
  if (!ok) return fail("the drained session could not be ended");
  spdlog::info("mqtt: drained the session of client id {}: {} message(s)", client_id,
               received.load());
  return true;
}

}  // namespace bysans::mqtt

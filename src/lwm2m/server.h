// Lwm2mServer: the LwM2M 1.1 server side on bysans' CoAP server (a coap::CoapExtension serving
// /rd and /dp): Register, Update, De-register (Core §6.2), Send (§6.4.3) into the ingest
// pipeline, and the API's queued Read/Write/Execute operations sent on the device's session
// when it can be reached (queue mode: after it spoke). README.md has the rules.
// Thread-safety: every method runs on the CoAP server's thread (hooks.h).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "coap/hooks.h"
#include "core/clock.h"
#include "core/log_budget.h"
#include "core/random.h"
#include "core/token_bucket.h"
#include "store/lwm2m_store.h"

namespace bysans::lwm2m {

struct Lwm2mOptions {
  // A queue-mode device is sent its pending operations for this long after its last message
  // (the client stays awake for MAX_TRANSMIT_WAIT, 93 s, after it sent; Core §6.5).
  int64_t awake_ms = 30'000;
  // Open operations looked at per tick and device that can be sent to now (its oldest first);
  // only such devices' are read, so no device's backlog hides another's.
  int operations_per_device = 10;
  // An operation still queued this long after it was queued, or still sent (unanswered) this long
  // after it was sent, fails as expired (coap.lwm2m_operation_expiry_s): a device that never
  // registers again does not keep its operations open, nor its place under kMaxOpenOperations.
  int64_t operation_expiry_ms = 86'400'000;
  // A finished (done or failed) operation is deleted this long after it finished
  // (coap.lwm2m_operation_history_days), so a device's history stays bounded.
  int64_t finished_kept_ms = 30 * int64_t{86'400'000};
  // Observe the registered object instances whose resources become readings (observe.h) and
  // submit their notifications (coap.lwm2m_observe). Needs SetNotificationSink.
  bool observe = true;
  // Paths one device may have observed through the API at once (coap.lwm2m_max_api_observations):
  // each is an observation held here and on the device, so an editor cannot grow this server's
  // memory without bound; an observe beyond fails, saying so.
  size_t max_api_observations = 256;
};

// Where a notification's readings go (the pipeline's Submit); called on the CoAP thread.
using NotificationSink = std::function<void(pipeline::Uplink)>;

class Lwm2mServer final : public coap::CoapExtension {
 public:
  Lwm2mServer(Lwm2mStore& store, Random& random, const Clock& clock, Lwm2mOptions options = {});

  std::vector<std::string> Resources() const override { return {"rd", "dp"}; }
  coap::CoapAnswer Handle(const coap::CoapRequest& request,
                          std::shared_ptr<coap::CoapPeer> peer) override;
  // Sends the pending operations of reachable devices; forgets expired registrations' sessions.
  void Tick() override;
  void Shutdown() override;
  // Before the CoAP server starts: where notifications' readings go (observation is off without).
  void SetNotificationSink(NotificationSink sink) { sink_ = std::move(sink); }

 private:
  struct Observation {
    uint64_t serial = 0;  // tells a current observation's callbacks from a cancelled one's
    std::string token;
    std::shared_ptr<coap::CoapPeer> peer;  // the session it was made on
    TimeMs since_ms = 0;
    int64_t notifications = 0;
    TimeMs last_ms = 0;
    bool counts_dirty = false;         // notifications not yet written to the store (FlushCounts)
    std::optional<Lwm2mOperation> op;  // an API observe, done by the first response
  };
  struct Session {
    std::shared_ptr<const Device> device;  // as identified at Register
    std::shared_ptr<coap::CoapPeer> peer;
    std::string peer_key;
    bool queue_mode = false;
    TimeMs expires_ms = 0;
    TimeMs awake_until_ms = 0;
    std::string objects;                              // "/3303/0,/3/0" (ObjectsText)
    bool observe_due = false;                         // observations to (re)make at the next tick
    std::map<std::string, Observation> observations;  // by path ("/3303/0")
    std::set<std::string> api_observed;               // paths observed through the API as well
    std::set<std::string> api_cancelled;              // paths the API cancelled: not observed again
  };

  coap::CoapAnswer Register(const coap::CoapRequest& r, std::shared_ptr<coap::CoapPeer> peer);
  coap::CoapAnswer Update(const coap::CoapRequest& r, std::shared_ptr<coap::CoapPeer> peer);
  coap::CoapAnswer Deregister(const coap::CoapRequest& r);
  coap::CoapAnswer Send(const coap::CoapRequest& r, std::shared_ptr<coap::CoapPeer> peer);
  // False (and the 4.29 in *refusal) when the device has registered or updated too often.
  bool WithinRegistrationBudget(Id device_id, coap::CoapAnswer* refusal);
  // The registration a request to /rd/<id> may act on: its own device's, not expired.
  Result<Lwm2mRegistration> OwnRegistration(const coap::CoapRequest& r);
  void Remember(const Lwm2mRegistration& reg, std::shared_ptr<const Device> device,
                std::shared_ptr<coap::CoapPeer> peer, const std::string& peer_key, bool fresh);
  // The device of a plain-UDP request without `k=` from an endpoint that registered; null if none.
  std::shared_ptr<const Device> RegisteredPeer(const coap::CoapRequest& r) const;
  void Forget(Id device_id);
  // Fails the expired open operations of every device (operation_expiry_ms) and deletes the
  // finished ones older than finished_kept_ms: once a minute (a tenth of the expiry when
  // shorter), a bounded batch of each every time (again at the next tick while there are more).
  void ExpireOperations(TimeMs now);
  void Dispatch(Lwm2mOperation op, Session& session);
  // Observations: made for ObservedPaths(objects) when the device can be reached, all cancelled
  // when it re-registers from elsewhere, de-registers or expires.
  void SyncObservations(Id device_id, Session& session);
  void StartObservation(Id device_id, Session& session, const std::string& path,
                        std::optional<Lwm2mOperation> op = std::nullopt);
  // Ends one (true if there was one) or all; the device's next notification is reset.
  bool EndObservation(Id device_id, Session& session, const std::string& path);
  void CancelObservations(Id device_id, Session& session);
  // The API's observe and cancel-observe operations.
  void ObserveOperation(Lwm2mOperation op, Id device_id, Session& session);
  void FinishOperation(Lwm2mOperation& op, const coap::PeerResponse& response);
  void OnNotification(Id device_id, const std::string& path, uint64_t serial,
                      const coap::PeerResponse& response);
  // Writes the notification counts that changed since the last call: once a tick, not once a
  // notification, so a device notifying fast costs no store write per datagram.
  void FlushCounts();
  // A notification dropped (bad payload, error answer): logged within a per-device budget, the
  // rest counted and reported with the next line logged, so a device cannot flood the log.
  void LogDroppedNotification(Id device_id, const std::string& line);

  Lwm2mStore& store_;
  Random& random_;
  const Clock& clock_;
  Lwm2mOptions opts_;
  NotificationSink sink_;
  uint64_t next_serial_ = 1;
  TimeMs next_expiry_ms_ = 0;                         // when ExpireOperations looks again
  std::unordered_map<Id, Session> sessions_;          // registered devices
  std::unordered_map<std::string, Id> peer_devices_;  // peer endpoint → device
  std::unordered_set<Id> busy_devices_;               // one operation in flight per device
  std::unordered_set<Id> inflight_;                   // operation ids sent, not answered yet
  LogBudget<Id> drop_log_budget_{0.1, 5};             // per device: 5 lines, then one per 10 s
  // Register and Update write to the store on the CoAP thread and remake observations: per
  // device 10 at once, then one per 5 s; beyond that 4.29, so a device cannot hold up others'.
  KeyedTokenBucket<Id> registration_budget_{0.2, 10};
};

}  // namespace bysans::lwm2m

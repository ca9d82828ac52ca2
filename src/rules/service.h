// RulesService: the rules runtime. Loads rules, devices, silences and open
// alarms at start; receives committed readings from the pipeline (commit
// listener → bounded queue, never blocking the store writer) and runs ONE
// rules thread that feeds the RuleEngine and calls OnTick on the injected
// Clock. Each AlarmEvent becomes a persisted alarm plus its outbox rows (one
// transaction); the act::Outbox delivers them. Rule and silence changes made
// through the RuleStore reach the engine through the store's listener.
// Rules with a gateway scope go to a GatewayRuleEngine instead, judged every
// gateway_eval_ms from the GatewayStore (their alarms carry the gateway's id and
// device 0; downlink and notify_contacts rows are never made for them).
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "model/model.h"
#include "store/rule_feed.h"
#include "store/rule_store.h"
#include "store/store.h"

namespace bysans::rules {

struct RulesServiceOptions {
  // Committed batches waiting, of all organisations. When it is full, the organisation with the
  // most waiting loses its newest one (logged and counted): a flood costs only its own rules.
  size_t queue_capacity = 100'000;
  // Batches are evaluated in turn by organisation, the one that used the least evaluation time
  // first (core/fair_queue.h), and a wake-up evaluates for at most this long (real time) before
  // its events are stored: another organisation's batch waits behind at most one such round of
  // a flood, not behind the flood.
  TimeMs round_ms = 10;
  TimeMs tick_ms = 250;  // how often (real time) OnTick runs at the latest
  // After waking for new readings, gather those committed within this time before evaluating
  // them: under load one wake-up per window instead of one per commit (0 = none).
  TimeMs gather_ms = 1;
  // How often (clock time) the gateway rules (gateway_engine.h) judge the gateways of the
  // organisations that have them, from GatewayStore; nothing is read without gateway rules.
  TimeMs gateway_eval_ms = 1000;
};

// Several nodes on one database (issue 19): the rules of a device are evaluated by the node that
// holds its partition (server/node_coordinator.h), from the rule feed its readings were committed
// with (store/rule_feed.h), not from this node's commits. When what the node holds changes, the
// devices of the partitions it lost are forgotten, and those of the partitions it gained are
// loaded with their open alarms (so none is raised twice), their last reading's time (so a
// silence rule goes on counting from the device's last message, not from the takeover) and their
// for-duration waits in progress (so a wait goes on from its start: RuleStore::ListRuleWaits,
// written with each wake-up's alarms).
struct RulePartitions {
  RuleFeed* feed = nullptr;                       // required
  std::function<std::vector<int>()> owned;        // the partitions this node holds now
  std::function<int(Id device_id)> partition_of;  // every node agrees
  std::function<uint64_t()> generation;           // changes when what this node holds changes
  std::function<bool()> gateway_rules;            // whether this node judges the gateway rules now
  TimeMs poll_ms = 100;                           // how often the feed is read
  int64_t feed_rows_per_read = 128;  // of each organisation, at most, per read of the feed
  // Rows of one organisation waiting in the feed of this node's partitions, at most: beyond, its
  // newest are deleted unevaluated (logged, and counted in dropped()), as a full queue of one node
  // drops the newest batch of the organisation with the most waiting (RulesServiceOptions).
  int64_t feed_capacity = 100'000;
  TimeMs started_ms = 0;  // silence rules never count from before this node started
};

class RulesService {
 public:
  // `on_outbox` gets the outbox rows just committed (ids filled in), on the
  // rules thread, e.g. Outbox::Submit: they are sent without a store read.
  RulesService(Store& store, const Clock& clock, RulesServiceOptions options,
               std::function<void(std::vector<OutboxEntry>)> on_outbox);
  ~RulesService();
  RulesService(const RulesService&) = delete;
  RulesService& operator=(const RulesService&) = delete;

  // Before Start: evaluate only this node's partitions, from the rule feed (see RulePartitions);
  // OnCommitted is then not used.
  void SetPartitions(RulePartitions partitions);

  Status Start();
  void Stop();

  // The pipeline's commit listener (pipeline::SharedCommitListener): keeps the
  // pointers and enqueues, never blocks, copies nothing.
  void OnCommitted(std::shared_ptr<const Device> device,
                   std::shared_ptr<const std::vector<Reading>> readings);
  // The same for callers holding plain values (tests): copies them once.
  void OnCommitted(const Device& device, const std::vector<Reading>& readings);

  // Blocks until every batch and change handed over so far is processed
  // (tests that move a ManualClock use it between steps).
  void Drain();

  // Batches dropped because the queue was full, and rule-feed rows beyond feed_capacity.
  uint64_t dropped() const;

 private:
  struct Impl;
  // The store keeps the listener Start registers for as long as it lives, which may be longer
  // than this service: the listener reaches the service only through this guard, emptied (under
  // its lock) before the service goes.
  struct ListenerGuard;
  std::shared_ptr<ListenerGuard> listener_guard_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bysans::rules

// FeedBacklog: the rule feed's entries a node has read and not yet evaluated (several nodes,
// store/rule_feed.h), taken by organisation in turn.
//
// The holder of a rule partition reads each organisation's oldest feed rows (RuleFeed::ReadFeed),
// adds them here, and evaluates entries for at most a round before it stores the alarms they
// raised; the organisation that used the least evaluation time goes first (core/fair_queue.h),
// so another organisation's reading does not wait behind one organisation's flood of costly rules.
// A row is acknowledged once every one of its entries was evaluated and their alarms stored
// (TakeFinished after the store); a row read again while its entries wait here is not added
// twice. An entry dropped unevaluated (its partition is no longer this node's) keeps its row
// unacknowledged: the partition's next holder reads it again.
//
// Not thread-safe: the rules thread owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/fair_queue.h"
#include "store/rule_feed.h"

namespace bysans::rules {

class FeedBacklog {
 public:
  struct Taken {
    Id org = 0;
    Id lane = 0;  // the device
    RuleFeedEntry entry;
  };

  // Adds the entries of rows not held yet, in order (a row's entries are consecutive). Returns
  // the number of rows added.
  size_t Add(std::vector<RuleFeedEntry> entries);
  // The next entry to evaluate: of the organisation that used the least time, its oldest.
  std::optional<Taken> Next();
  // The entry Next() gave was evaluated after `cost_ns`, or dropped (evaluated = false).
  void Done(const Taken& t, int64_t cost_ns, bool evaluated);
  // The rows whose entries were all evaluated since the last call, to acknowledge once the
  // alarms they raised are stored.
  std::vector<int64_t> TakeFinished();

  bool empty() const { return queue_.empty(); }
  size_t rows() const { return rows_.size(); }  // rows held: entries waiting or running

 private:
  struct Row {
    int left = 0;       // entries not yet done
    bool whole = true;  // none dropped: acknowledge when done
  };
  FairQueue<RuleFeedEntry> queue_{1};  // lanes are devices: one thread takes them in order
  std::unordered_map<int64_t, Row> rows_;
  std::vector<int64_t> finished_;
};

}  // namespace bysans::rules

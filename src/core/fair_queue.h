// FairQueue: work of many organisations shared fairly by a few workers.
//
// Each organisation has its own FIFO. A free worker takes the next item of the organisation that
// has used the least decode time so far (start-time fair queuing: an organisation's "virtual
// time" grows by the time its items took; one that was idle starts level with the busiest
// recent one, so idling earns no credit). An organisation never runs more than
// `max_running_per_org` items at once, so with two or more workers a looping decoder can hold at
// most all but one of them. Items of one lane (a device) run one at a time and in order.
//
// Not thread-safe: the owner holds its own lock around every call.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bysans {

template <class T>
class FairQueue {
 public:
  using Id = int64_t;  // an organisation's or a lane's id (model/model.h: Id)

  struct Ticket {
    Id org = 0;
    Id lane = 0;
    T item;
  };

  // `one_off_floor`: see Done().
  explicit FairQueue(int max_running_per_org, int64_t one_off_floor = 1000)
      : max_running_(std::max(1, max_running_per_org)), one_off_floor_(one_off_floor) {}

  // Queues `item` behind the earlier items of its organisation.
  void Push(Id org, Id lane, T item) {
    Org& o = orgs_[org];
    if (o.queue.empty()) {
      if (o.running == 0) o.vtime = std::max(o.vtime, virtual_now_);  // no credit for idling
      active_.push_back(org);
    }
    o.queue.push_back({lane, std::move(item)});
    ++size_;
  }

  // The next item a worker may run, or nothing when every queued item waits for its
  // organisation's share or for its lane. Call Done(ticket.org, ticket.lane, cost) after it ran.
  std::optional<Ticket> Pop() {
    Org* best = nullptr;
    size_t best_active = 0, best_pos = 0;
    for (size_t i = 0; i < active_.size(); ++i) {
      Org& o = orgs_[active_[i]];
      if (o.running >= max_running_ || (best && o.vtime >= best->vtime)) continue;
      if (auto pos = FirstRunnable(o)) {
        best = &o;
        best_active = i;
        best_pos = *pos;
      }
    }
    if (!best) return std::nullopt;
    Id org = active_[best_active];
    Entry e = std::move(best->queue[best_pos]);
    best->queue.erase(best->queue.begin() + static_cast<std::ptrdiff_t>(best_pos));
    --size_;
    ++best->running;
    ++best->lanes[e.lane];
    virtual_now_ = std::max(virtual_now_, best->vtime);
    if (best->queue.empty())
      active_.erase(active_.begin() + static_cast<std::ptrdiff_t>(best_active));
    return Ticket{org, e.lane, std::move(e.item)};
  }

  // Whether Pop() would give an item now.
  bool HasRunnable() const {
    for (Id id : active_) {
      const Org& o = orgs_.at(id);
      if (o.running < max_running_ && FirstRunnable(o)) return true;
    }
    return false;
  }

  // The item taken by Pop() finished after `cost` (any unit, e.g. microseconds), of which
  // `one_off` was set-up that later items will not pay again (a decoder's compile). The whole
  // cost counts for fairness; the backlog's average takes the set-up only up to twice the
  // average plus `one_off_floor`, so that one slow compile (the first sample above all) does
  // not make a healthy organisation look slow and shed its uplinks. Set-up paid on every item
  // (a decoder cache churned on purpose) still raises the average, by at most that much per
  // item. The average takes the smaller of an item's cost and the one before it: one stall
  // that is not the decoder's (the worker preempted on a busy machine, a garbage collection)
  // does not count, and 1,000 queued uplinks of a healthy organisation behind one 0.5 s stall
  // are not shed as if each would take that long; a decoder that is slow on two items in a row
  // counts whole from the second.
  void Done(Id org, Id lane, int64_t cost, int64_t one_off = 0) {
    Org& o = orgs_[org];
    --o.running;
    if (auto it = o.lanes.find(lane); it != o.lanes.end() && --it->second == 0) o.lanes.erase(it);
    cost = std::max<int64_t>(cost, 1);
    o.vtime += cost;
    one_off = std::clamp<int64_t>(one_off, 0, cost);
    int64_t sample = cost - one_off + std::min(one_off, 2 * o.avg_cost + one_off_floor_);
    sample = std::max<int64_t>(sample, 1);
    const int64_t counted = o.last_sample == 0 ? sample : std::min(sample, o.last_sample);
    o.last_sample = sample;
    o.avg_cost = o.avg_cost == 0 ? counted : o.avg_cost - o.avg_cost / 8 + counted / 8;
  }

  // The organisation's recent average cost of an item (0 without history) and its items queued
  // or running: what Backlog() is made of, for a log line.
  int64_t AverageCost(Id org) const {
    auto it = orgs_.find(org);
    return it == orgs_.end() ? 0 : it->second.avg_cost;
  }
  size_t Pending(Id org) const {
    auto it = orgs_.find(org);
    return it == orgs_.end() ? 0
                             : it->second.queue.size() + static_cast<size_t>(it->second.running);
  }

  // How long (in the unit of the costs) a new item of `org` would wait behind the organisation's
  // own items at its recent average cost; 0 for an organisation without history.
  int64_t Backlog(Id org) const {
    auto it = orgs_.find(org);
    if (it == orgs_.end()) return 0;
    const Org& o = it->second;
    return static_cast<int64_t>(o.queue.size() + static_cast<size_t>(o.running)) * o.avg_cost /
           max_running_;
  }

  // The organisation with the most items queued (the lowest id among equals), nothing when the
  // queue is empty: whose work a full queue sheds, so one organisation's flood costs only itself.
  std::optional<Id> Largest() const {
    std::optional<Id> best;
    size_t most = 0;
    for (Id id : active_) {
      const size_t n = orgs_.at(id).queue.size();
      if (n > most || (n == most && best && id < *best)) {
        best = id;
        most = n;
      }
    }
    return best;
  }

  // Removes and returns the newest queued item of `org` (nothing if it has none queued).
  std::optional<T> DropNewest(Id org) {
    auto it = orgs_.find(org);
    if (it == orgs_.end() || it->second.queue.empty()) return std::nullopt;
    Org& o = it->second;
    T item = std::move(o.queue.back().item);
    o.queue.pop_back();
    --size_;
    if (o.queue.empty()) active_.erase(std::find(active_.begin(), active_.end(), org));
    return item;
  }

  size_t size() const { return size_; }  // queued, not running
  bool empty() const { return size_ == 0; }

 private:
  // Lanes whose items are behind a running one are skipped; beyond this many skipped items the
  // organisation waits (keeps Pop cheap when one device floods its queue).
  static constexpr size_t kMaxScan = 64;

  struct Entry {
    Id lane;
    T item;
  };
  struct Org {
    std::deque<Entry> queue;
    int running = 0;
    int64_t vtime = 0;
    int64_t avg_cost = 0;               // moving average of the last ~8 costs (see Done)
    int64_t last_sample = 0;            // the previous item's cost as Done counted it
    std::unordered_map<Id, int> lanes;  // lane → items running
  };

  // The first queued item whose lane has nothing running. Taking the first such item keeps each
  // lane in order: every earlier item belongs to a lane that is running, hence not this one.
  static std::optional<size_t> FirstRunnable(const Org& o) {
    if (o.lanes.empty()) return o.queue.empty() ? std::nullopt : std::optional<size_t>(0);
    size_t n = std::min(o.queue.size(), kMaxScan);
    for (size_t i = 0; i < n; ++i)
      if (!o.lanes.contains(o.queue[i].lane)) return i;
    return std::nullopt;
  }

  int max_running_;
  int64_t one_off_floor_;
  int64_t virtual_now_ = 0;
  size_t size_ = 0;
  std::unordered_map<Id, Org> orgs_;
  std::vector<Id> active_;  // organisations with queued items
};

}  // namespace bysans

#include "server/node_coordinator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <set>
#include <utility>

#include "core/thread_name.h"
#include "store/node_leases.h"

namespace bysans {
namespace {

constexpr const char* kRolePrefix = "role/";
constexpr const char* kPartitionPrefix = "rules/";

std::string PartitionLease(int p) { return kPartitionPrefix + std::to_string(p); }

}  // namespace

NodeCoordinator::NodeCoordinator(LeaseStore& leases, const Clock& clock,
                                 NodeCoordinatorOptions options)
    : leases_(leases),
      clock_(clock),
      opts_(std::move(options)),
      holder_(opts_.node_id + "#" + opts_.instance) {
  opts_.partitions = std::max(1, opts_.partitions);
  opts_.lease_ttl_ms = std::max<TimeMs>(opts_.lease_ttl_ms, 4);
}

NodeCoordinator::~NodeCoordinator() { Stop(); }

Status NodeCoordinator::Start() {
  if (Status st = RunRound(); !st.ok()) {
    if (st.code() != Code::kFailedPrecondition) return st;
    spdlog::warn("{}; waiting for it to go", st.message());
  }
  thread_ = std::thread([this] {
    NameThisThread("coordinator");
    std::unique_lock lk(mu_);
    while (!stop_) {
      // A periodic task, not synchronisation: wakes early only to stop.
      cv_.wait_for(lk, std::chrono::milliseconds(opts_.renew_ms), [&] { return stop_; });
      if (stop_) break;
      lk.unlock();
      if (Status st = RunRound(); !st.ok())
        spdlog::warn("node {}: leases not renewed: {}", opts_.node_id, st.message());
      lk.lock();
    }
  });
  return Status::Ok();
}

void NodeCoordinator::Stop(bool give_up) {
  {
    std::lock_guard lk(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::map<std::string, Held> held;
  {
    std::lock_guard lk(mu_);
    held.swap(held_);
  }
  if (!give_up) held.clear();
  // Partitions and roles first, the heartbeat last: the others see this node gone at once.
  for (auto it = held.rbegin(); it != held.rend(); ++it) {
    if (Status st = leases_.ReleaseLease(it->first, holder_); !st.ok())
      spdlog::warn("node {}: lease {} not given up (it expires by itself): {}", opts_.node_id,
                   it->first, st.message());
  }
  if (!held.empty()) generation_.fetch_add(1);
}

bool NodeCoordinator::HeldNow(const std::string& name) const {
  auto it = held_.find(name);
  return it != held_.end() && it->second.valid_until_ms > clock_.NowMs();
}

Result<bool> NodeCoordinator::Renew(const std::string& name) {
  const TimeMs asked_ms = clock_.NowMs();
  Result<bool> got = leases_.AcquireLease(name, holder_, opts_.lease_ttl_ms);
  std::lock_guard lk(mu_);
  if (!got.ok()) return got;  // an entry held keeps its deadline: held until then, not after
  if (*got) {
    // Alone on the store (SQLite), nobody can take a lease over: a late renewal (a starved
    // thread) must not make this node drop its work.
    held_[name].valid_until_ms = leases_.shared()
                                     ? asked_ms + opts_.lease_ttl_ms - opts_.lease_ttl_ms / 4
                                     : std::numeric_limits<TimeMs>::max();
  } else {
    held_.erase(name);
  }
  return got;
}

Status NodeCoordinator::RunRound() {
  std::set<std::string> before;
  {
    std::lock_guard lk(mu_);
    for (const auto& [name, h] : held_)
      if (HeldNow(name)) before.insert(name);
  }
  BYSANS_ASSIGN_OR_RETURN(bool alive, Renew(std::string(kNodeLeasePrefix) + opts_.node_id));
  if (!alive) {
    // Hold nothing: the other process with this id does the work.
    {
      std::lock_guard lk(mu_);
      held_.clear();
    }
    if (!before.empty()) generation_.fetch_add(1);
    return FailedPrecondition("another process holds the node id \"" + opts_.node_id +
                              "\" (a node started twice, or this node's previous process until "
                              "its leases expire): give every node its own node.id");
  }
  Status result = Status::Ok();
  for (const std::string& role : opts_.roles) {
    if (Result<bool> r = Renew(kRolePrefix + role); !r.ok()) result = r.status();
  }
  if (Status st = BalancePartitions(); !st.ok()) result = st;
  std::set<std::string> after;
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard lk(mu_);
    for (const auto& [name, h] : held_)
      if (HeldNow(name)) after.insert(name);
    if (after != before) callbacks = callbacks_;
  }
  if (after != before) {
    generation_.fetch_add(1);
    spdlog::info("node {}: now holds {} lease(s) ({} rule partition(s))", opts_.node_id,
                 after.size(), OwnedPartitions().size());
    for (const auto& cb : callbacks) cb();
  }
  return result;
}

Status NodeCoordinator::BalancePartitions() {
  BYSANS_ASSIGN_OR_RETURN(std::vector<Lease> nodes,
                          leases_.ListLeases(std::string(kNodeLeasePrefix)));
  BYSANS_ASSIGN_OR_RETURN(std::vector<Lease> running, leases_.ListLeases(kPartitionPrefix));
  const int alive = std::max<int>(1, static_cast<int>(nodes.size()));
  const int share = (opts_.partitions + alive - 1) / alive;
  std::set<std::string> taken;  // by another node, still running
  for (const Lease& l : running)
    if (l.holder != holder_) taken.insert(l.name);
  std::vector<int> owned;
  for (int p : OwnedPartitions()) {
    Result<bool> r = Renew(PartitionLease(p));
    if (r.ok() && *r) owned.push_back(p);
  }
  // Above its share (a node joined): give the last ones up for the newcomer to take.
  while (static_cast<int>(owned.size()) > share) {
    const std::string name = PartitionLease(owned.back());
    owned.pop_back();
    {
      std::lock_guard lk(mu_);
      held_.erase(name);
    }
    BYSANS_RETURN_IF_ERROR(leases_.ReleaseLease(name, holder_));
  }
  // Below it: free or expired partitions, starting at a place of this node's own so that nodes
  // starting together do not all ask for the same ones.
  const int start = static_cast<int>(std::hash<std::string>{}(opts_.node_id) %
                                     static_cast<size_t>(opts_.partitions));
  for (int i = 0; i < opts_.partitions && static_cast<int>(owned.size()) < share; ++i) {
    const int p = (start + i) % opts_.partitions;
    const std::string name = PartitionLease(p);
    if (taken.count(name) || std::find(owned.begin(), owned.end(), p) != owned.end()) continue;
    BYSANS_ASSIGN_OR_RETURN(bool got, Renew(name));
    if (got) owned.push_back(p);
  }
  return Status::Ok();
}

bool NodeCoordinator::Holds(std::string_view role) const {
  std::lock_guard lk(mu_);
  return HeldNow(kRolePrefix + std::string(role));
}

int NodeCoordinator::PartitionOf(Id device_id) const {
  return static_cast<int>(static_cast<uint64_t>(device_id) %
                          static_cast<uint64_t>(opts_.partitions));
}

bool NodeCoordinator::OwnsPartition(int partition) const {
  std::lock_guard lk(mu_);
  return HeldNow(PartitionLease(partition));
}

std::vector<int> NodeCoordinator::OwnedPartitions() const {
  std::vector<int> out;
  std::lock_guard lk(mu_);
  for (int p = 0; p < opts_.partitions; ++p)
    if (HeldNow(PartitionLease(p))) out.push_back(p);
  return out;
}

void NodeCoordinator::OnChange(std::function<void()> callback) {
  std::lock_guard lk(mu_);
  callbacks_.push_back(std::move(callback));
}

}  // namespace bysans

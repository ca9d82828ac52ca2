// PostgreSQL only (issue 19): two act::Outbox instances, each on its own pool and RuleStore of one
// database, as two bysans nodes, delivering to a real loopback HTTP receiver. Each outbox row is
// delivered by one node (counted by the Idempotency-Key the receiver gets) and logged once; the
// rows a node wrote and handed to its own outbox are not taken by the other; a node that dies
// (rows written or claimed and never delivered) leaves its rows to the other after the lease; a
// node that stops hands them over at once.
#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "act/outbox.h"
#include "core/outbound_policy.h"
#include "integration/rules_receiver.h"
#include "store/postgres/pg_lease_store.h"
#include "unit/store_postgres/rules_backend_fixture.h"

namespace bysans::testing {
namespace {

using namespace std::chrono_literals;

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = 60s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// The key of a request's `Idempotency-Key: "…"` header ("" without one).
std::string KeyOf(const std::string& head) {
  const std::string name = "Idempotency-Key: \"";
  const size_t at = head.find(name);
  if (at == std::string::npos) return "";
  const size_t from = at + name.size();
  return head.substr(from, head.find('"', from) - from);
}

// One node: its own connections, RuleStore (rows it writes claimed for `lease_ms`, as the server
// sets it) and outbox. Records which rows its outbox attempted (the guard runs before each).
struct Node {
  Node(const std::string& url, const Clock& clock, TimeMs lease_ms, bool start = true) {
    pool = std::make_unique<pg::Pool>(url, 4);
    store = NewPostgresRuleStore(*pool);
    store->SetOutboxWriteLease(lease_ms);
    act::OutboxOptions o;
    o.poll_ms = 10;
    o.lease_ms = lease_ms;
    o.base_backoff_ms = 20;
    o.max_backoff_ms = 100;
    o.outbound = *OutboundPolicy::Parse("127.0.0.0/8");
    outbox = std::make_unique<act::Outbox>(*store, clock, o);
    outbox->SetGuard([this](const OutboxEntry& e) {
      std::lock_guard lk(mu);
      attempted.insert(e.id);
      return Status::Ok();
    });
    if (start) outbox->Start();
  }
  ~Node() {
    outbox.reset();
    store.reset();
    pool.reset();
  }
  std::set<Id> Attempted() {
    std::lock_guard lk(mu);
    return attempted;
  }

  std::unique_ptr<pg::Pool> pool;
  std::unique_ptr<PostgresRuleStore> store;
  std::unique_ptr<act::Outbox> outbox;
  std::mutex mu;
  std::set<Id> attempted;
};

class OutboxNodesTest : public RulesBackendTest {
 protected:
  // `n` alarms, each with one webhook row to `url` (body {"n":…,"retry":…}), written by `store`
  // in batches of 10; the rows, ids filled in. `retry_every`: every such row asks the receiver
  // (fail_matching) to fail its first attempt.
  std::vector<OutboxEntry> Write(RuleStore& store, Id org, const std::string& url, int n,
                                 int retry_every = 0, act::Outbox* hand_to = nullptr) {
    std::vector<OutboxEntry> out;
    for (int i = 0; i < n; i += 10) {
      std::vector<RuleStore::AlarmWrite> writes;
      for (int j = i; j < std::min(n, i + 10); ++j) {
        RuleStore::AlarmWrite w;
        w.alarm = {0, org, 1, ++devices_, "active", clock_now_.NowMs(), "{}"};
        OutboxEntry e;
        e.org_id = org;
        e.rule_id = 1;
        e.event = "raise";
        e.target_key = act::TargetKeyOf(url);
        e.spec = R"({"type":"webhook","url":")" + url + "\"}";
        const bool retry = retry_every > 0 && j % retry_every == 0;
        e.payload =
            "{\"n\":" + std::to_string(j) + ",\"retry\":" + (retry ? "true" : "false") + "}";
        e.next_attempt_ms = e.created_ms = clock_now_.NowMs();
        w.outbox.push_back(e);
        writes.push_back(std::move(w));
      }
      Status s = store.WriteAlarms(writes);
      EXPECT_TRUE(s.ok()) << s.message();
      std::vector<OutboxEntry> batch;
      for (auto& w : writes) batch.insert(batch.end(), w.outbox.begin(), w.outbox.end());
      if (hand_to) hand_to->Submit(batch);  // as the rules runtime does after its commit
      out.insert(out.end(), batch.begin(), batch.end());
    }
    return out;
  }

  // Receiver's requests by idempotency key: the statuses answered (0: hung).
  static std::map<std::string, std::vector<int>> ByKey(Receiver& r) {
    std::map<std::string, std::vector<int>> out;
    for (const auto& h : r.hits()) out[KeyOf(h.head)].push_back(h.answered);
    return out;
  }

  std::vector<DeliveryLogEntry> Log(Id org) {
    auto log = rules().ListDeliveryLog(org, Page{10000, 0});
    EXPECT_TRUE(log.ok()) << log.status().message();
    return log.ok() ? log->items : std::vector<DeliveryLogEntry>{};
  }

  bool NonePending() {
    auto p = rules().ListPendingOutbox(10000);
    return p.ok() && p->empty();
  }

  // Every row delivered by exactly one 200 answer to its key, and no other key answered 200.
  static void ExpectEachDeliveredOnce(Receiver& r, const std::vector<OutboxEntry>& rows) {
    auto keys = ByKey(r);
    size_t answered_ok = 0;
    for (const auto& [key, answers] : keys) {
      answered_ok += static_cast<size_t>(std::count(answers.begin(), answers.end(), 200));
    }
    for (const OutboxEntry& e : rows) {
      const auto& answers = keys[act::IdempotencyKey(e.id)];
      EXPECT_EQ(std::count(answers.begin(), answers.end(), 200), 1)
          << "row " << e.id << " answered 200 " << std::count(answers.begin(), answers.end(), 200)
          << " times";
    }
    EXPECT_EQ(answered_ok, rows.size());
  }

  int devices_ = 0;
  SystemClock clock_now_;
};

// ~300 rows, two nodes: 100 written and handed over by each node (claimed by their writer), 100
// written by a third writer without a claim (a node restarted, or retries: both polls compete
// for them; every 5th fails its first attempt and is retried, by either node).
TEST_P(OutboxNodesTest, EachRowIsDeliveredByOneNodeAndLoggedOnce) {
  const Id org = NewOrg();
  Receiver hook(Receiver::Mode::kOk);
  hook.fail_matching("\"retry\":true", 20);
  Node a(url_, clock_now_, 60'000), b(url_, clock_now_, 60'000);
  std::vector<OutboxEntry> by_a, by_b, free_rows;
  {
    std::thread ta([&] { by_a = Write(*a.store, org, hook.url(), 100, 0, a.outbox.get()); });
    std::thread tb([&] { by_b = Write(*b.store, org, hook.url(), 100, 0, b.outbox.get()); });
    free_rows = Write(rules(), org, hook.url(), 100, 5);
    ta.join();
    tb.join();
  }
  std::vector<OutboxEntry> all = by_a;
  all.insert(all.end(), by_b.begin(), by_b.end());
  all.insert(all.end(), free_rows.begin(), free_rows.end());
  ASSERT_EQ(all.size(), 300u);
  ASSERT_TRUE(WaitFor([&] { return NonePending(); })) << hook.hits().size() << " requests";
  std::this_thread::sleep_for(200ms);  // 20 more polls of each node: nothing is sent again
  ExpectEachDeliveredOnce(hook, all);
  // Every attempt logged once: one log entry per request, one successful entry per row.
  const auto log = Log(org);
  EXPECT_EQ(log.size(), hook.hits().size());
  std::map<Id, int> ok_per_row;
  std::set<std::pair<Id, int>> attempts;
  for (const auto& l : log) {
    ok_per_row[l.outbox_id] += l.ok;
    EXPECT_TRUE(attempts.insert({l.outbox_id, l.attempt}).second)
        << "attempt " << l.attempt << " of row " << l.outbox_id << " logged twice";
  }
  EXPECT_EQ(ok_per_row.size(), 300u);
  for (const auto& [row, ok] : ok_per_row) EXPECT_EQ(ok, 1) << "row " << row;
  EXPECT_EQ(hook.hits().size(), 320u) << "300 deliveries and 20 failed first attempts";
  // A node's own rows were never attempted by the other (written claimed by their writer).
  const std::set<Id> seen_a = a.Attempted(), seen_b = b.Attempted();
  for (const auto& e : by_a) EXPECT_FALSE(seen_b.contains(e.id)) << "row " << e.id;
  for (const auto& e : by_b) EXPECT_FALSE(seen_a.contains(e.id)) << "row " << e.id;
}

// A node killed after committing rows (written claimed, never handed to its outbox) or after
// claiming rows (never delivered): the other node delivers them once the lease has ended, once.
TEST_P(OutboxNodesTest, ADeadNodesRowsAreDeliveredByTheOtherAfterTheLease) {
  const Id org = NewOrg();
  Receiver hook(Receiver::Mode::kOk);
  constexpr TimeMs kLease = 500;
  const auto before = std::chrono::steady_clock::now();
  Node dead(url_, clock_now_, kLease, false);  // its outbox never runs
  std::vector<OutboxEntry> rows = Write(*dead.store, org, hook.url(), 40);
  std::vector<OutboxEntry> claimed = Write(rules(), org, hook.url(), 20);
  auto taken = dead.store->ClaimDueOutbox(100, clock_now_.NowMs(), kLease);
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  ASSERT_EQ(taken->size(), 20u);  // the dead node's poll had claimed the unclaimed rows
  rows.insert(rows.end(), claimed.begin(), claimed.end());
  Node alive(url_, clock_now_, kLease);
  ASSERT_TRUE(WaitFor([&] { return NonePending(); })) << hook.hits().size() << " requests";
  std::this_thread::sleep_for(100ms);
  ExpectEachDeliveredOnce(hook, rows);
  EXPECT_EQ(Log(org).size(), rows.size());
  // Nothing was taken before the lease ended (some slack for the clocks' granularity).
  for (const auto& h : hook.hits()) EXPECT_GE(h.at - before, kLease * 1ms - 20ms);
  EXPECT_EQ(alive.Attempted().size(), rows.size());
}

// A process killed with rows written claimed for the server's 60 s (RuleStore::SetOutboxHolder):
// while its node lease runs nobody takes them; once the lease has run out (the process no longer
// renews it) the other node delivers them at once, not after the 60 s claim.
TEST_P(OutboxNodesTest, ADeadProcesssRowsGoOutOnceItsNodeLeaseRunsOut) {
  const Id org = NewOrg();
  Receiver hook(Receiver::Mode::kOk);
  Node dead(url_, clock_now_, 60'000, false);  // its outbox never runs
  dead.store->SetOutboxHolder("dead#1");
  auto leases = pg::NewPostgresLeaseStore(*dead.pool);
  ASSERT_TRUE(*leases->AcquireLease("node/dead", "dead#1", 1'000));
  std::vector<OutboxEntry> rows = Write(*dead.store, org, hook.url(), 20);
  Node alive(url_, clock_now_, 60'000);
  alive.store->SetOutboxHolder("alive#1");
  for (int i = 0; i < 5; ++i) {  // 1.5 s of a running node lease: its claims hold
    std::this_thread::sleep_for(300ms);
    ASSERT_TRUE(*leases->AcquireLease("node/dead", "dead#1", 1'000));
  }
  EXPECT_TRUE(hook.hits().empty()) << "taken while the dead node's lease still ran";
  const auto renewed_last = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return NonePending(); }, 20s)) << hook.hits().size() << " requests";
  EXPECT_LT(std::chrono::steady_clock::now() - renewed_last, 10s) << "well before the 60 s claim";
  ExpectEachDeliveredOnce(hook, rows);
  EXPECT_EQ(alive.Attempted().size(), rows.size());
}

// A node that stops while its rows hang at the receiver (claimed, in flight or queued) releases
// them: the other node delivers them at once, long before the 60 s lease; each once at the 200
// level, and a receiver sees the aborted requests' keys again (the one it can drop them by).
TEST_P(OutboxNodesTest, AStoppedNodesRowsAreDeliveredByTheOtherAtOnce) {
  const Id org = NewOrg();
  Receiver hook(Receiver::Mode::kHang);
  auto stopping = std::make_unique<Node>(url_, clock_now_, 60'000);
  std::vector<OutboxEntry> rows = Write(rules(), org, hook.url(), 20);  // claimed by its poll
  ASSERT_TRUE(WaitFor([&] { return hook.hits().size() == 2; }));        // per_target_concurrency
  ASSERT_TRUE(WaitFor([&] { return stopping->Attempted().size() == 2; }));
  const auto stop_at = std::chrono::steady_clock::now();
  stopping.reset();  // Stop: aborts the two, releases all 20
  hook.set_mode(Receiver::Mode::kOk);
  Node other(url_, clock_now_, 60'000);
  ASSERT_TRUE(WaitFor([&] { return NonePending(); }, 20s)) << hook.hits().size() << " requests";
  EXPECT_LT(std::chrono::steady_clock::now() - stop_at, 20s);
  ExpectEachDeliveredOnce(hook, rows);
  EXPECT_EQ(Log(org).size(), rows.size()) << "aborted attempts are not logged";
  int repeated = 0;
  for (const auto& [key, answers] : ByKey(hook)) repeated += answers.size() == 2;
  EXPECT_EQ(repeated, 2) << "the two aborted requests came again with the same key";
}

INSTANTIATE_TEST_SUITE_P(Backends, OutboxNodesTest, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace bysans::testing

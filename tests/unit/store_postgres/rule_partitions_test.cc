// Several nodes evaluating rules (issue 19): two "nodes" — each its own PostgresStore,
// NodeCoordinator and RulesService on one real PostgreSQL — with readings committed through
// either node's store together with their rule-feed entry, as the pipeline does
// (store/rule_feed.h). Each alarm is raised and cleared once; a node that dies (its leases run
// out) has its partitions, and the entries it had not evaluated, taken over by the other.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "rules/service.h"
#include "server/node_coordinator.h"
#include "server/node_wiring.h"
#include "store/postgres/postgres_store.h"
#include "unit/store/temp_store.h"
#include "unit/store_postgres/shared_postgres.h"

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

namespace bysans::testing {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

// One bysans node's rules part: its own store (connections), coordinator and rules runtime.
struct Node {
  std::unique_ptr<Store> store;
  std::unique_ptr<NodeCoordinator> coordinator;
  std::unique_ptr<rules::RulesService> rules;
};

class RulePartitionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = SharedPostgres::NewDatabase();
    ASSERT_FALSE(url_.empty());
    ASSERT_NO_FATAL_FAILURE(OpenStore(&a_));
    org_ = a_.store->CreateOrganization({0, "Kommune", 0})->id;
    Application app;
    app.org_id = org_;
    app.name = "Skoler";
    app_ = a_.store->CreateApplication(app)->id;
    for (int i = 0; i < 20; ++i) {
      Device d;
      d.org_id = org_;
      d.app_id = app_;
      d.name = "Lokale " + std::to_string(i);
      auto created = a_.store->CreateDevice(d, "hash" + std::to_string(i));
      ASSERT_TRUE(created.ok()) << created.status().message();
      devices_.push_back(*created);
    }
    RuleRecord r;
    r.org_id = org_;
    r.definition = json{
        {"name", "CO2"},
        {"scope", {{"kind", "application"}, {"id", app_}}},
        {"expression",
         "co2 > 1000"}}.dump();
    auto rule = a_.store->rules().CreateRule(r);
    ASSERT_TRUE(rule.ok()) << rule.status().message();
    co2_rule_ = rule->id;
    r.definition = json{
        {"name", "Varmt"},
        {"scope", {{"kind", "application"}, {"id", app_}}},
        {"expression", "temperature > 30"},
        {"forMs",
         kWarmForMs}}.dump();
    auto warm = a_.store->rules().CreateRule(r);
    ASSERT_TRUE(warm.ok()) << warm.status().message();
    warm_rule_ = warm->id;
    ASSERT_NO_FATAL_FAILURE(BeforeNodesStart());
    ASSERT_NO_FATAL_FAILURE(StartNode(&a_, "a"));
    ASSERT_NO_FATAL_FAILURE(OpenStore(&b_));
    ASSERT_NO_FATAL_FAILURE(StartNode(&b_, "b"));
    // Both hold their share before the test sends anything.
    ASSERT_TRUE(WaitFor([&] {
      return a_.coordinator->OwnedPartitions().size() == 8 &&
             b_.coordinator->OwnedPartitions().size() == 8;
    })) << "a holds "
        << a_.coordinator->OwnedPartitions().size() << ", b holds "
        << b_.coordinator->OwnedPartitions().size();
  }
  // What a test's fixture adds to the database before the nodes load it.
  virtual void BeforeNodesStart() {}
  // Set by BeforeNodesStart: changes each node's RulePartitions before its rules start.
  std::function<void(rules::RulePartitions&)> tune_partitions_;
  void TearDown() override {
    for (Node* n : {&b_, &a_}) {
      if (n->rules) n->rules->Stop();
      if (n->coordinator) n->coordinator->Stop();
      if (n->store) n->store->Close();
    }
  }

  void OpenStore(Node* n) {
    PostgresStoreOptions o;
    o.url = url_;
    o.clock = &clock_;
    auto s = OpenPostgresStore(o, dir_.path() + "/secret.key");
    ASSERT_TRUE(s.ok()) << s.status().message();
    n->store = std::move(s).value();
  }
  void StartNode(Node* n, const std::string& id) {
    NodeCoordinatorOptions o;
    o.node_id = id;
    o.instance = "1";
    o.lease_ttl_ms = 1500;
    o.renew_ms = 300;
    o.roles = {kHousekeepingRole, kGatewayRulesRole};
    n->coordinator = std::make_unique<NodeCoordinator>(n->store->leases(), clock_, o);
    ASSERT_TRUE(n->coordinator->Start().ok());
    n->rules = std::make_unique<rules::RulesService>(*n->store, rules_clock_,
                                                     rules::RulesServiceOptions{}, nullptr);
    rules::RulePartitions partitions =
        RulePartitionsOf(*n->coordinator, *n->store->rule_feed(), rules_clock_);
    if (tune_partitions_) tune_partitions_(partitions);
    n->rules->SetPartitions(std::move(partitions));
    ASSERT_TRUE(n->rules->Start().ok());
  }

  // Commits a reading of `d` (co2 unless `key` says otherwise) through `via`'s store with its
  // feed entry, as the pipeline.
  void Send(Node& via, const Device& d, double value, const std::string& key = "co2") {
    IngestBatch b;
    RawMessage m;
    m.device_id = d.id;
    m.received_ms = clock_.NowMs();
    m.content_type = "application/json";
    m.payload = "{}";
    b.messages.push_back(m);
    b.readings.push_back({d.id, key, clock_.NowMs() + (++ts_), value, "", Quality::kOk});
    b.feed_device = std::make_shared<const Device>(d);
    b.feed_partition = via.coordinator->PartitionOf(d.id);
    ASSERT_TRUE(via.store->Append(std::move(b)).ok());
  }

  // Alarms per device in `state` ("" every alarm).
  std::map<Id, int> AlarmsPerDevice(const std::string& state = "") {
    AlarmFilter f;
    f.org_id = org_;
    if (!state.empty()) f.states = {state};
    auto page = a_.store->rules().ListAlarms(f, Page{1000, 0});
    EXPECT_TRUE(page.ok());
    std::map<Id, int> out;
    if (page.ok())
      for (const AlarmRecord& a : page->items) ++out[a.device_id];
    return out;
  }

  // The warm rule's alarms of device `d`.
  std::vector<AlarmRecord> WarmAlarms(Id d) {
    AlarmFilter f;
    f.org_id = org_;
    f.device_id = d;
    auto page = a_.store->rules().ListAlarms(f, Page{1000, 0});
    EXPECT_TRUE(page.ok());
    std::vector<AlarmRecord> out;
    if (page.ok())
      for (const AlarmRecord& a : page->items)
        if (a.rule_id == warm_rule_) out.push_back(a);
    return out;
  }
  std::vector<RuleWaitRecord> Waits(Id d) {
    auto w = a_.store->rules().ListRuleWaits(std::vector<Id>{d});
    EXPECT_TRUE(w.ok());
    return w.ok() ? *w : std::vector<RuleWaitRecord>{};
  }
  // A device whose partition `n` holds.
  Device HeldBy(const Node& n) {
    const auto owned = n.coordinator->OwnedPartitions();
    for (const Device& d : devices_)
      if (std::count(owned.begin(), owned.end(), n.coordinator->PartitionOf(d.id))) return d;
    ADD_FAILURE() << "no device in the node's partitions";
    return devices_[0];
  }
  // Whether every feed entry was evaluated and acknowledged.
  bool FeedDone() {
    auto left = a_.store->rule_feed()->ReadFeed(
        std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 100);
    return left.ok() && left->empty();
  }
  // The warm rule's wait on `d` is held on a; a dies (as kill -9) and b takes its partitions.
  void WaitOnAThenAKilled(const Device& d, TimeMs* since) {
    *since = rules_clock_.NowMs();
    Send(a_, d, 35, "temperature");
    ASSERT_TRUE(WaitFor([&] { return Waits(d.id).size() == 1; })) << "a stored the wait it began";
    EXPECT_EQ(Waits(d.id)[0].rule_id, warm_rule_);
    EXPECT_EQ(Waits(d.id)[0].since_ms, *since);
    rules_clock_.Advance(6 * 60'000);  // 6 of the 10 minutes
    a_.rules->Stop();
    a_.coordinator->Stop(/*give_up=*/false);
    ASSERT_TRUE(WaitFor([&] { return b_.coordinator->OwnedPartitions().size() == 16; }, 10s));
    rules_clock_.Advance(60'000);
  }

  template <typename Pred>
  static bool WaitFor(Pred pred, std::chrono::milliseconds within = 20s) {
    const auto end = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < end) {
      if (pred()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return pred();
  }

  TempDir dir_;
  std::string url_;
  static constexpr TimeMs kWarmForMs = 10 * 60'000;
  SystemClock clock_;  // leases on PostgreSQL follow the database server's clock
  ManualClock rules_clock_{SystemClock().NowMs()};  // the rules runtimes' time
  Node a_, b_;
  Id org_ = 0, app_ = 0, co2_rule_ = 0, warm_rule_ = 0;
  std::vector<Device> devices_;
  int64_t ts_ = 0;
};

TEST_F(RulePartitionsTest, EachDevicesAlarmIsRaisedAndClearedOnceWhicheverNodeStoredIt) {
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < devices_.size(); ++i)  // alternately through each node
      Send((i + round) % 2 ? a_ : b_, devices_[i], 1500);
  }
  ASSERT_TRUE(WaitFor([&] { return AlarmsPerDevice("active").size() == devices_.size(); }))
      << AlarmsPerDevice("active").size() << " devices with an active alarm";
  std::this_thread::sleep_for(500ms);  // a second evaluation would have raised again by now
  for (const auto& [device, n] : AlarmsPerDevice()) EXPECT_EQ(n, 1) << "device " << device;
  for (size_t i = 0; i < devices_.size(); ++i) Send(i % 2 ? b_ : a_, devices_[i], 400);
  ASSERT_TRUE(WaitFor([&] { return AlarmsPerDevice("cleared").size() == devices_.size(); }));
  for (const auto& [device, n] : AlarmsPerDevice()) EXPECT_EQ(n, 1) << "device " << device;
  // Every entry was evaluated and acknowledged.
  ASSERT_TRUE(WaitFor([&] {
    auto left = a_.store->rule_feed()->ReadFeed(
        std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, 100);
    return left.ok() && left->empty();
  }));
}

TEST_F(RulePartitionsTest, ADeadNodesPartitionsAndUnevaluatedReadingsAreTakenOver) {
  // a dies: its rules runtime stops and its leases are left to run out, as with kill -9.
  a_.rules->Stop();
  a_.coordinator->Stop(/*give_up=*/false);
  const auto died = std::chrono::steady_clock::now();
  // Readings of every device, half of them stored through a's store just before it died:
  // entries of a's partitions nobody evaluated yet.
  for (size_t i = 0; i < devices_.size(); ++i) Send(i % 2 ? a_ : b_, devices_[i], 1500);
  ASSERT_TRUE(WaitFor([&] { return b_.coordinator->OwnedPartitions().size() == 16; }, 10s))
      << "b holds " << b_.coordinator->OwnedPartitions().size() << " partitions";
  const auto took_over = std::chrono::steady_clock::now() - died;
  EXPECT_LT(took_over, 10s);
  ASSERT_TRUE(WaitFor([&] { return AlarmsPerDevice("active").size() == devices_.size(); }, 10s))
      << AlarmsPerDevice("active").size() << " of " << devices_.size()
      << " devices have their alarm";
  std::this_thread::sleep_for(500ms);
  for (const auto& [device, n] : AlarmsPerDevice()) EXPECT_EQ(n, 1) << "device " << device;
  EXPECT_TRUE(b_.coordinator->Holds(kHousekeepingRole)) << "a's role too";
  std::cout << "takeover of 8 partitions after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took_over).count() << " ms\n";
}

TEST_F(RulePartitionsTest, ATakeOverDoesNotRaiseAnAlarmTheOtherNodeRaisedAgain) {
  for (size_t i = 0; i < devices_.size(); ++i) Send(i % 2 ? a_ : b_, devices_[i], 1500);
  ASSERT_TRUE(WaitFor([&] { return AlarmsPerDevice("active").size() == devices_.size(); }));
  // a leaves cleanly (its partitions go to b at once), then every device reports high again:
  // b restored a's open alarms, so none is raised a second time.
  a_.rules->Stop();
  a_.coordinator->Stop();
  ASSERT_TRUE(WaitFor([&] { return b_.coordinator->OwnedPartitions().size() == 16; }, 10s));
  for (size_t i = 0; i < devices_.size(); ++i) Send(b_, devices_[i], 1600);
  for (size_t i = 0; i < devices_.size(); ++i) Send(b_, devices_[i], 400);
  ASSERT_TRUE(WaitFor([&] { return AlarmsPerDevice("cleared").size() == devices_.size(); }));
  for (const auto& [device, n] : AlarmsPerDevice()) EXPECT_EQ(n, 1) << "device " << device;
}

// Issue 19: a for-duration wait survives the takeover. "temperature > 30 for 10 min" has held
// on a for 6 minutes when a dies; b, taking the device over, raises at the ORIGINAL start + 10
// minutes (not 10 minutes after the takeover, not never), exactly once, also while readings keep
// the condition true.
TEST_F(RulePartitionsTest, AForDurationWaitGoesOnFromItsStartAfterATakeover) {
  const Device d = HeldBy(a_);
  TimeMs since = 0;
  ASSERT_NO_FATAL_FAILURE(WaitOnAThenAKilled(d, &since));
  Send(b_, d, 36, "temperature");  // still holding, evaluated by b (7 minutes in)
  ASSERT_TRUE(WaitFor([&] { return FeedDone(); }));
  rules_clock_.Set(since + kWarmForMs - 1000);
  std::this_thread::sleep_for(700ms);
  EXPECT_TRUE(WarmAlarms(d.id).empty()) << "raised before the 10 minutes";
  rules_clock_.Set(since + kWarmForMs);
  ASSERT_TRUE(WaitFor([&] { return WarmAlarms(d.id).size() == 1; }))
      << "not raised at the original start + 10 min";
  EXPECT_EQ(WarmAlarms(d.id)[0].raised_ms, since + kWarmForMs);
  EXPECT_EQ(WarmAlarms(d.id)[0].state, "active");
  EXPECT_TRUE(Waits(d.id).empty()) << "the wait ended with the raise";
  rules_clock_.Advance(kWarmForMs);
  Send(b_, d, 37, "temperature");
  ASSERT_TRUE(WaitFor([&] { return FeedDone(); }));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(WarmAlarms(d.id).size(), 1u);
}

// The same takeover, but a reading on b makes the condition false before the 10 minutes: the
// wait ends there, nothing is raised.
// The new holder of a dead node's partition starts from the devices' stored latest values: a rule
// naming two keys raises on the first reading of one of them, with the other's value stored
// while the dead node held the device.
TEST_F(RulePartitionsTest, ATakeoverKeepsTheLatestValuesOfOtherKeys) {
  RuleRecord r;
  r.org_id = org_;
  r.definition = json{{"name", "Stuffy"},
                      {"scope", {{"kind", "application"}, {"id", app_}}},
                      {"expression", "co2 > 800 and temperature > 25"}}
                     .dump();
  auto stuffy = a_.store->rules().CreateRule(r);
  ASSERT_TRUE(stuffy.ok()) << stuffy.status().message();
  const Device d = HeldBy(a_);
  Send(a_, d, 28, "temperature");
  ASSERT_TRUE(WaitFor([&] { return FeedDone(); })) << "a evaluated the temperature";
  a_.rules->Stop();
  a_.coordinator->Stop(/*give_up=*/false);
  ASSERT_TRUE(WaitFor([&] { return b_.coordinator->OwnedPartitions().size() == 16; }, 10s));
  Send(b_, d, 900);  // co2 900: the CO2 rule (> 1000) stays quiet, Stuffy raises
  auto stuffy_alarms = [&] {
    AlarmFilter f;
    f.org_id = org_;
    f.device_id = d.id;
    auto page = a_.store->rules().ListAlarms(f, Page{1000, 0});
    EXPECT_TRUE(page.ok());
    size_t n = 0;
    if (page.ok())
      for (const AlarmRecord& a : page->items) n += a.rule_id == stuffy->id;
    return n;
  };
  ASSERT_TRUE(WaitFor([&] { return stuffy_alarms() == 1; }))
      << "b evaluated co2 with the temperature stored before the takeover";
  ASSERT_TRUE(WaitFor([&] { return FeedDone(); }));
  EXPECT_EQ(stuffy_alarms(), 1u);
}

TEST_F(RulePartitionsTest, ATakenOverWaitEndsWhenTheConditionStopsHolding) {
  const Device d = HeldBy(a_);
  TimeMs since = 0;
  ASSERT_NO_FATAL_FAILURE(WaitOnAThenAKilled(d, &since));
  Send(b_, d, 20, "temperature");
  ASSERT_TRUE(WaitFor([&] { return FeedDone(); }));
  ASSERT_TRUE(WaitFor([&] { return Waits(d.id).empty(); })) << "b removed the ended wait";
  rules_clock_.Set(since + kWarmForMs + 1000);
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(WarmAlarms(d.id).empty());
}

// One organisation flooding the rule feed of a partition's holder with readings of a device under
// many costly rules (as rules_fairness_test.cc does to one node's rules thread): another
// organisation's reading, committed after the flood, must not wait for the whole flood's
// evaluation (the feed was read oldest row first and every entry evaluated before any alarm was
// stored: its alarm came after the flood's last one).
class RuleFeedFairnessTest : public RulePartitionsTest {
 protected:
  void BeforeNodesStart() override {
    hog_org_ = a_.store->CreateOrganization({0, "Nabo", 0})->id;
    Application app;
    app.org_id = hog_org_;
    app.name = "Flod";
    const Id app_id = a_.store->CreateApplication(app)->id;
    Device d;
    d.org_id = hog_org_;
    d.app_id = app_id;
    d.name = "Flod";
    auto created = a_.store->CreateDevice(d, "hash-hog");
    ASSERT_TRUE(created.ok()) << created.status().message();
    hog_ = *created;
    // Costly and never true: ~1,000 additions in the longest expression a rule may have.
    std::string costly = "x";
    while (costly.size() < 4000) costly += " + x";
    costly += " > 1e300";
    for (int i = 0; i < 200; ++i) HogRule("Dyr " + std::to_string(i), costly);
    last_rule_ = HogRule("Sidste", "last == 1");
  }
  Id HogRule(const std::string& name, const std::string& expression) {
    RuleRecord r;
    r.org_id = hog_org_;
    r.definition = json{
        {"name", name},
        {"scope", {{"kind", "device"}, {"id", hog_.id}}},
        {"expression",
         expression}}.dump();
    auto rule = a_.store->rules().CreateRule(r);
    EXPECT_TRUE(rule.ok()) << rule.status().message();
    return rule.ok() ? rule->id : 0;
  }
  // The id of the alarm of `rule` in `org`, 0 while there is none.
  Id AlarmOf(Id org, Id rule) {
    AlarmFilter f;
    f.org_id = org;
    auto page = a_.store->rules().ListAlarms(f, Page{1000, 0});
    EXPECT_TRUE(page.ok());
    if (page.ok())
      for (const AlarmRecord& a : page->items)
        if (a.rule_id == rule) return a.id;
    return 0;
  }
  // The node holding the hog's partition.
  Node& HogHolder() {
    const auto held_by_a = a_.coordinator->OwnedPartitions();
    return std::count(held_by_a.begin(), held_by_a.end(), a_.coordinator->PartitionOf(hog_.id))
               ? a_
               : b_;
  }
  // The flood: `n` readings "x" of the hog's device, each through its 200 costly rules (seconds
  // of evaluation), committed together through `holder` (then one "last", which raises
  // "Sidste", when `then_last`).
  void Flood(Node& holder, int n, bool then_last) {
    std::atomic<int> committed{0};
    auto device = std::make_shared<const Device>(hog_);
    const int total = n + (then_last ? 1 : 0);
    for (int i = 0; i < total; ++i) {
      IngestBatch b;
      b.readings.push_back({hog_.id, i < n ? "x" : "last", clock_.NowMs() + (++ts_),
                            i < n ? 1.0 * i : 1.0, "", Quality::kOk});
      b.feed_device = device;
      b.feed_partition = holder.coordinator->PartitionOf(hog_.id);
      holder.store->AppendAsync(std::move(b), [&](Status st) {
        EXPECT_TRUE(st.ok()) << st.message();
        ++committed;
      });
    }
    ASSERT_TRUE(WaitFor([&] { return committed == total; }));
  }
  Id hog_org_ = 0, last_rule_ = 0;
  Device hog_;
};

TEST_F(RuleFeedFairnessTest, AnotherOrganisationsAlarmDoesNotWaitBehindAFloodInTheFeed) {
  Node& holder = HogHolder();
  const Device victim = HeldBy(holder);
  ASSERT_NO_FATAL_FAILURE(Flood(holder, 1000, /*then_last=*/true));
  Send(holder, victim, 1500);  // the victim's co2 reading: "co2 > 1000"
  ASSERT_TRUE(WaitFor([&] { return AlarmOf(org_, co2_rule_) != 0; }, 60s));
  ASSERT_TRUE(WaitFor([&] { return AlarmOf(hog_org_, last_rule_) != 0; }, 120s));
  EXPECT_LT(AlarmOf(org_, co2_rule_), AlarmOf(hog_org_, last_rule_))
      << "the victim's alarm was stored after the whole flood was evaluated";
  ASSERT_TRUE(WaitFor([&] { return FeedDone(); }, 60s)) << "every feed row acknowledged";
}

// One organisation's backlog in the feed is bounded (RulePartitions::feed_capacity, here 8 rows,
// read 4 at a time): beyond it the flood's newest rows are dropped unevaluated and counted, as a
// full queue of one node drops them, instead of waiting in PostgreSQL without end; another
// organisation's reading is still evaluated, and every row ends acknowledged or dropped.
class RuleFeedBoundTest : public RuleFeedFairnessTest {
 protected:
  void BeforeNodesStart() override {
    RuleFeedFairnessTest::BeforeNodesStart();
    tune_partitions_ = [](rules::RulePartitions& p) {
      p.feed_rows_per_read = 4;
      p.feed_capacity = 8;
    };
  }
};

TEST_F(RuleFeedBoundTest, AFloodPastTheBoundIsDroppedAndAnotherOrganisationStillAlarms) {
  Node& holder = HogHolder();
  const Device victim = HeldBy(holder);
  ASSERT_NO_FATAL_FAILURE(Flood(holder, 1000, /*then_last=*/false));
  Send(holder, victim, 1500);
  ASSERT_TRUE(WaitFor([&] { return AlarmOf(org_, co2_rule_) != 0; }, 60s));
  ASSERT_TRUE(WaitFor([&] { return FeedDone(); }, 60s)) << "every feed row acknowledged or dropped";
  EXPECT_GT(holder.rules->dropped(), 0u) << "the flood's rows past the bound were dropped";
}

}  // namespace
}  // namespace bysans::testing

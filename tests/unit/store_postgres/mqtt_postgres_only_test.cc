// What only the PostgreSQL MqttStore and GatewayStore can get wrong: several nodes (here: two
// stores with pools of their own on one database) claiming the same queued downlinks, flushing
// touches of the same gateways, recording states of the same gateway and creating integrations at
// once; the error codes of constraints.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "unit/store_postgres/mqtt_backend_fixture.h"

namespace bysans::testing {
namespace {

// A second node on the test's database: a pool and stores of its own.
struct Node {
  explicit Node(const std::string& url, const SecretBox& box)
      : pool(pg::NewPool(url, 4)),
        mqtt(NewPostgresMqttStore(*pool, box, PostgresMqttOptions{0})),
        gateways(NewPostgresGatewayStore(*pool, [this] { return mqtt->FlushPending(); })) {}
  Node(const Node&) = delete;  // the flush function holds `this`
  Node& operator=(const Node&) = delete;
  std::shared_ptr<pg::Pool> pool;
  std::unique_ptr<PostgresMqttStore> mqtt;
  std::unique_ptr<GatewayStore> gateways;
};

// Runs `a` and `b` on two threads that start together (each after its `warm` step, which opens
// its node's connection, so neither has finished before the other starts).
template <typename Warm, typename A, typename B>
void Together(Warm warm, A a, B b) {
  std::atomic<int> ready{0};
  auto go = [&](int who, auto& f) {
    warm(who);
    ++ready;
    while (ready.load() < 2) std::this_thread::yield();
    f();
  };
  std::thread ta([&] { go(0, a); });
  std::thread tb([&] { go(1, b); });
  ta.join();
  tb.join();
}

class MqttPostgresTest : public MqttBackendTest {
 protected:
  void SetUp() override {
    flush_interval_ms_ = 0;  // the tests flush themselves
    MqttBackendTest::SetUp();
    org_ = MakeOrg("o");
    app_ = MakeApp(org_, "a");
  }
  Id org_ = 0, app_ = 0;
};
INSTANTIATE_TEST_SUITE_P(Postgres, MqttPostgresTest, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

// Two nodes answering the same CoAP device take its queued downlinks at once: each downlink is
// taken exactly once (FOR UPDATE SKIP LOCKED), none is lost. 5 rounds of 60 downlinks.
TEST_P(MqttPostgresTest, TwoNodesNeverTakeTheSameQueuedDownlink) {
  const Id dev = MakeDevice(app_, "coap", "", Transport::kHttp);
  Node other(url_, *box_);
  for (int round = 0; round < 5; ++round) {
    std::set<Id> queued;
    for (int i = 0; i < 60; ++i) {
      Downlink d;
      d.device_id = dev;
      d.data = std::to_string(i);
      d.topic = kCoapDownlinkTopic;
      d.status = "queued";
      auto r = m().AppendDownlink(d);
      ASSERT_TRUE(r.ok()) << r.status().message();
      queued.insert(r->id);
    }
    std::vector<Id> taken[2];
    std::atomic<int> errors{0};
    auto claim = [&](MqttStore& s, std::vector<Id>& out) {
      for (;;) {
        auto t = s.TakeQueuedDownlink(dev, kCoapDownlinkTopic);
        if (!t.ok()) {
          ++errors;
          return;
        }
        if (!t->downlink) {
          if (t->still_queued == 0) return;
          continue;  // the rest is being taken by the other node
        }
        EXPECT_EQ(t->downlink->status, "sent");
        out.push_back(t->downlink->id);
      }
    };
    Together([&](int who) { EXPECT_TRUE((who ? *other.mqtt : m()).ListDownlinks(dev, 1).ok()); },
             [&] { claim(m(), taken[0]); }, [&] { claim(*other.mqtt, taken[1]); });
    EXPECT_EQ(errors.load(), 0);
    std::vector<Id> all = taken[0];
    all.insert(all.end(), taken[1].begin(), taken[1].end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a downlink taken twice";
    EXPECT_EQ(std::set<Id>(all.begin(), all.end()), queued) << "round " << round;
    // Each node took its own downlinks oldest first.
    for (const auto& mine : taken) EXPECT_TRUE(std::is_sorted(mine.begin(), mine.end()));
  }
  EXPECT_EQ(Sql("SELECT count(*) FROM downlinks WHERE status = 'queued'"), "0");
}

// Two nodes flushing touches and routes of the same gateways and devices at once: the sums add
// up (no lost update, no unique clash, no deadlock reported).
TEST_P(MqttPostgresTest, TwoNodesFlushingTheSameGatewaysAddUp) {
  std::vector<Id> devs;
  for (int i = 0; i < 5; ++i) devs.push_back(MakeDevice(app_, "d" + std::to_string(i)));
  Node first(url_, *box_), second(url_, *box_);
  constexpr int kRounds = 40;
  std::atomic<int> errors{0};
  auto run = [&](Node& n, int who) {
    for (int r = 0; r < kRounds; ++r) {
      for (int gw = 0; gw < 6; ++gw)
        for (Id d : devs)
          if (!n.mqtt
                   ->TouchGateway(org_, "gw-" + std::to_string(gw), 1000 + r * 10 + who, kLocal, d,
                                  -90.0, 5.0)
                   .ok())
            ++errors;
      for (Id d : devs)
        if (!n.mqtt->SetLorawanRoute(d, "app-" + std::to_string(who), who).ok()) ++errors;
      if (!n.mqtt->FlushPending().ok()) ++errors;
    }
  };
  Node* nodes[2] = {&first, &second};
  Together([&](int who) { EXPECT_TRUE(nodes[who]->mqtt->LorawanIntegration(devs[0]).ok()); },
           [&] { run(first, 0); }, [&] { run(second, 1); });
  for (Node* n : nodes) ASSERT_TRUE(n->mqtt->FlushPending().ok());  // a failed flush kept its rows
  EXPECT_EQ(errors.load(), 0);
  auto gws = m().ListGateways(org_);
  ASSERT_TRUE(gws.ok()) << gws.status().message();
  ASSERT_EQ(gws->size(), 6u);
  for (const auto& gw : *gws) {
    EXPECT_EQ(gw.uplinks, 2 * kRounds * 5) << gw.gateway_id;
    EXPECT_EQ(gw.last_seen_ms, 1000 + (kRounds - 1) * 10 + 1);
  }
  auto heard = g().HeardDevices(org_, "gw-0");
  ASSERT_TRUE(heard.ok());
  ASSERT_EQ(heard->size(), 5u);
  for (const auto& h : *heard) EXPECT_EQ(h.uplinks, 2 * kRounds);
  auto app = m().LorawanApplication(devs[0]);
  ASSERT_TRUE(app.ok());
  EXPECT_TRUE(*app == "app-0" || *app == "app-1");
}

// Two nodes recording the same gateway's state at once (ChirpStack's state/conn reaching both):
// one transition, not two, for the same state; alternating states all counted.
TEST_P(MqttPostgresTest, TwoNodesRecordingOneGatewayStateKeepOneTransition) {
  Node other(url_, *box_);
  constexpr int kGateways = 200;
  std::atomic<int> errors{0};
  GatewayStore* stores[2] = {&g(), other.gateways.get()};
  auto record = [&](GatewayStore& s) {
    for (int i = 0; i < kGateways; ++i)
      if (!s.RecordGatewayState(org_, "gw-" + std::to_string(i), true, 1000).ok()) ++errors;
  };
  Together([&](int who) { EXPECT_TRUE(stores[who]->GatewayHistory(org_, "none", 0, 1).ok()); },
           [&] { record(*stores[0]); }, [&] { record(*stores[1]); });
  EXPECT_EQ(errors.load(), 0);
  for (int i = 0; i < kGateways; ++i) {
    auto h = g().GatewayHistory(org_, "gw-" + std::to_string(i), 0, INT64_MAX);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->size(), 1u) << "gw-" << i;
  }
}

// Integrations created on two nodes at once get distinct ids and default client ids.
TEST_P(MqttPostgresTest, IntegrationsCreatedOnTwoNodesHaveDistinctClientIds) {
  Node other(url_, *box_);
  std::vector<MqttIntegration> made[2];
  auto create = [&](MqttStore& s, std::vector<MqttIntegration>& out) {
    for (int i = 0; i < 25; ++i) {
      MqttIntegration x;
      x.kind = "chirpstack";
      x.org_id = org_;
      x.name = "cs";
      x.url = "mqtt://127.0.0.1:1883";
      auto r = s.CreateIntegration(x, std::string("pw"));
      ASSERT_TRUE(r.ok()) << r.status().message();
      out.push_back(*r);
    }
  };
  Together(
      [&](int who) {
        EXPECT_TRUE((who ? *other.mqtt : m()).GetIntegration(1).status().code() == Code::kNotFound);
      },
      [&] { create(m(), made[0]); }, [&] { create(*other.mqtt, made[1]); });
  std::set<std::string> ids;
  for (const auto& list : made)
    for (const auto& x : list) {
      ids.insert(x.client_id);
      EXPECT_EQ(x.client_id, "bysans-chirpstack-" + std::to_string(x.id));
      EXPECT_EQ(m().GetIntegration(x.id).value().client_id, x.client_id);
    }
  EXPECT_EQ(ids.size(), 50u);
}

// Constraint errors as codes a caller can act on.
TEST_P(MqttPostgresTest, ConstraintErrorsHaveCodes) {
  const Id a = MakeDevice(app_, "a", "", Transport::kMqtt);
  const Id b = MakeDevice(app_, "b", "", Transport::kMqtt);
  ASSERT_TRUE(m().PutCredential({a, "same", "$7$a", 1}).ok());
  Status clash = m().PutCredential({b, "same", "$7$b", 2});
  EXPECT_EQ(clash.code(), Code::kAlreadyExists);
  EXPECT_NE(clash.message().find("MQTT username"), std::string::npos) << clash.message();
  EXPECT_EQ(m().ListCredentials().value().size(), 1u) << "a's credentials are kept";
  EXPECT_EQ(m().PutCredential({a + 1000, "x", "$7$x", 1}).code(), Code::kNotFound);
  Downlink d;
  d.device_id = a + 1000;
  d.status = "queued";
  EXPECT_EQ(m().AppendDownlink(d).status().code(), Code::kNotFound);
  MqttIntegration x;
  x.kind = "chirpstack";
  x.org_id = org_ + 1000;
  EXPECT_EQ(m().CreateIntegration(x, std::nullopt).status().code(), Code::kNotFound);
}

// Touches of an organisation deleted before the flush are dropped; the rest are written.
TEST_P(MqttPostgresTest, TouchesOfADeletedOrganisationAreSkipped) {
  const Id gone = MakeOrg("gone");
  ASSERT_TRUE(m().TouchGateway(gone, "gw-x", 1000, kLocal).ok());
  ASSERT_TRUE(m().TouchGateway(org_, "gw-x", 1000, kLocal).ok());
  DeleteOrg(gone);
  ASSERT_TRUE(pg_mqtt_->FlushPending().ok());
  EXPECT_EQ(Sql("SELECT count(*) FROM lorawan_gateways"), "1");
  auto orgs = g().OrganizationsOfGateway("gw-x");
  ASSERT_TRUE(orgs.ok());
  EXPECT_EQ(*orgs, std::vector<Id>{org_});
}

// Ids past 32 bits (identities are bigint): every parameter compared with an id is a bigint.
TEST_P(MqttPostgresTest, IdsPast32BitsWork) {
  Sql("ALTER TABLE organizations ALTER COLUMN id RESTART WITH 5000000000");
  Sql("ALTER TABLE applications ALTER COLUMN id RESTART WITH 6000000000");
  Sql("ALTER TABLE devices ALTER COLUMN id RESTART WITH 7000000000");
  const Id org = MakeOrg("big");
  const Id app = MakeApp(org, "big");
  const Id dev = MakeDevice(app, "big", "0909090909090909");
  ASSERT_GE(dev, Id{7'000'000'000});
  MqttIntegration x;
  x.kind = "mqtt";
  x.org_id = org;
  x.app_id = app;
  auto made = m().CreateIntegration(x, std::nullopt);
  ASSERT_TRUE(made.ok()) << made.status().message();
  auto list = m().ListIntegrations("mqtt", org, app);
  ASSERT_TRUE(list.ok()) << list.status().message();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().app_id, app);
  ASSERT_TRUE(m().CountUnknownOrgDevice(org, made->id, "0a0a0a0a0a0a0a0a", "x", 1).ok());
  EXPECT_EQ(m().ListUnknownOrgDevices(org).value().size(), 1u);
  ASSERT_TRUE(m().TouchGateway(org, "gw", 1, kLocal, dev, -1.0, 1.0).ok());
  ASSERT_TRUE(m().SetLorawanRoute(dev, "app", made->id).ok());
  ASSERT_TRUE(pg_mqtt_->FlushPending().ok());
  EXPECT_EQ(g().HeardDevices(org, "gw").value().size(), 1u);
  ASSERT_TRUE(g().RecordGatewayState(org, "gw", true, 5).ok());
  EXPECT_EQ(g().GetGatewayHealth(org, "gw").value().uplinks, 1);
  Downlink d;
  d.device_id = dev;
  d.topic = kCoapDownlinkTopic;
  d.status = "queued";
  ASSERT_TRUE(m().AppendDownlink(d).ok());
  EXPECT_EQ(m().DevicesWithQueuedDownlinks(kCoapDownlinkTopic, 5).value(), std::vector<Id>{dev});
  auto taken = m().TakeQueuedDownlink(dev, kCoapDownlinkTopic);
  ASSERT_TRUE(taken.ok()) << taken.status().message();
  EXPECT_TRUE(taken->downlink.has_value());
  ASSERT_TRUE(m().PutCredential({dev, "big", "$7$", 1}).ok());
  EXPECT_EQ(m().ListCredentials().value().size(), 1u);
}

// A flush that fails (here: the table is away) keeps its rows; touches and routes added meanwhile
// fold into them (the older first-seen time stays, uplinks add up, a local sighting wins over the
// integration's, the newer route wins), and the next flush writes them all.
TEST_P(MqttPostgresTest, AFailedFlushKeepsItsRowsForTheNext) {
  const Id dev = MakeDevice(app_, "d");
  ASSERT_TRUE(m().TouchGateway(org_, "gw", 1000, kViaIntegration, dev, -90.0, 1.0).ok());
  ASSERT_TRUE(m().SetLorawanRoute(dev, "app-old", 1).ok());
  Sql("ALTER TABLE lorawan_gateways RENAME TO lorawan_gateways_away");
  EXPECT_FALSE(pg_mqtt_->FlushPending().ok());
  ASSERT_TRUE(m().TouchGateway(org_, "gw", 500, kLocal, dev, -70.0, 2.0).ok());
  ASSERT_TRUE(m().TouchGateway(org_, "gw", 3000, kViaIntegration, dev, -60.0, 3.0).ok());
  ASSERT_TRUE(m().SetLorawanRoute(dev, "app-new", 2).ok());
  EXPECT_EQ(m().LorawanApplication(dev).value(), "app-new");
  Sql("ALTER TABLE lorawan_gateways_away RENAME TO lorawan_gateways");
  ASSERT_TRUE(pg_mqtt_->FlushPending().ok());
  EXPECT_EQ(Sql("SELECT first_seen_ms || ' ' || last_seen_ms || ' ' || uplinks || ' ' || "
                "seen_locally FROM lorawan_gateways"),
            "1000 3000 3 true");
  EXPECT_EQ(Sql("SELECT rssi || ' ' || snr || ' ' || uplinks FROM gateway_devices"), "-60 3 3");
  EXPECT_EQ(Sql("SELECT application_id || ' ' || integration_id FROM lorawan_device_apps"),
            "app-new 2");
}

}  // namespace
}  // namespace bysans::testing

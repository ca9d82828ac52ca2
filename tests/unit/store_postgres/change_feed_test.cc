// PostgreSQL only: two PostgresStores ("nodes" A and B) on one database. A change made through
// one reaches the other's in-process listeners and caches through LISTEN/NOTIFY
// (src/store/postgres/change_feed.h), each node hears its own change once, and after its
// listening connection is killed a node reconnects and treats every cache as changed.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/ip_address.h"
#include "core/metrics.h"
#include "ingest/device_cache.h"
#include "integration/target_receiver.h"
#include "quality/quality_checker.h"
#include "rules/service.h"
#include "share/service.h"
#include "store/coap_credential_store.h"
#include "store/decoder_store.h"
#include "store/live_relay.h"
#include "store/mqtt_store.h"
#include "store/postgres/postgres_store.h"
#include "store/rule_store.h"
#include "store/target_store.h"
#include "unit/store/temp_store.h"
#include "unit/store_postgres/shared_postgres.h"

namespace bysans::testing {
namespace {

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

constexpr TimeMs kT0 = 1'704'067'200'000;
constexpr auto kWithin = std::chrono::seconds(2);  // the brief's bound for another node

// Polls `pred` until it holds or `limit` has passed; true when it held.
bool Eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds limit = std::chrono::milliseconds(kWithin)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// What a node's RuleStore listeners were called with.
struct Heard {
  RuleStoreChange::Kind kind;
  Id id = 0;
  bool has_alarm = false;
  AlarmRecord alarm;
};

class Recorder {
 public:
  void Listen(RuleStore& rules) {
    rules.AddListener([this](const RuleStoreChange& c) {
      std::lock_guard lk(mu_);
      Heard h{c.kind, c.id, c.alarm != nullptr, c.alarm ? *c.alarm : AlarmRecord{}};
      heard_.push_back(h);
    });
  }
  int Count(RuleStoreChange::Kind kind, Id id) {
    std::lock_guard lk(mu_);
    int n = 0;
    for (const auto& h : heard_) n += h.kind == kind && h.id == id;
    return n;
  }
  int CountKind(RuleStoreChange::Kind kind) {
    std::lock_guard lk(mu_);
    int n = 0;
    for (const auto& h : heard_) n += h.kind == kind;
    return n;
  }
  std::optional<Heard> Last(RuleStoreChange::Kind kind, Id id) {
    std::lock_guard lk(mu_);
    for (auto it = heard_.rbegin(); it != heard_.rend(); ++it)
      if (it->kind == kind && it->id == id) return *it;
    return std::nullopt;
  }
  size_t size() {
    std::lock_guard lk(mu_);
    return heard_.size();
  }

 private:
  std::mutex mu_;
  std::vector<Heard> heard_;
};

class ChangeFeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    PostgresInstance* pg = SharedPostgres::Get();
    ASSERT_NE(pg, nullptr);
    db_ = "cf" + std::to_string(++n);
    auto url = pg->CreateDatabase(db_);
    ASSERT_TRUE(url.ok()) << url.status().message();
    url_ = *url;
    a_ = Open("node_a");
    b_ = Open("node_b");
    ASSERT_TRUE(a_ && b_);
    ASSERT_TRUE(Listening("node_a"));
    ASSERT_TRUE(Listening("node_b"));
    heard_a_.Listen(a_->rules());
    heard_b_.Listen(b_->rules());
    org_ = a_->CreateOrganization({0, "o", 0}).value().id;
    app_ = a_->CreateApplication({0, org_, "a", "", 0}).value().id;
  }
  void TearDown() override {
    if (a_) a_->Close();
    if (b_) b_->Close();
  }

  std::unique_ptr<Store> Open(const std::string& node) {
    PostgresStoreOptions o;
    o.url = url_;
    o.clock = &clock_;
    o.node_id = node;
    auto r = OpenPostgresStore(o, dir_.path() + "/secret.key");  // one key for both nodes
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  std::string Sql(const std::string& sql) {
    auto r = SharedPostgres::Get()->Query(db_, sql);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : "";
  }
  // The node's change feed has issued its LISTEN (its last statement) on a live backend.
  bool Listening(const std::string& node) {
    return Eventually([&] {
      return Sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                 "'bysans-changes-" +
                 node + "' AND query ILIKE 'LISTEN%'") == "1";
    });
  }
  int KillFeed(const std::string& node) {
    return std::stoi(Sql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = "
        "'bysans-changes-" +
        node + "'"));
  }

  Id NewRule(Store& s, const std::string& definition = "{\"name\":\"r\"}") {
    RuleRecord r;
    r.org_id = org_;
    r.definition = definition;
    r.created_ms = r.updated_ms = kT0;
    auto made = s.rules().CreateRule(r);
    EXPECT_TRUE(made.ok()) << made.status().message();
    return made.ok() ? made->id : 0;
  }
  Id NewDevice(Store& s, const std::string& key_hash) {
    Device d;
    d.app_id = app_;
    d.name = "d";
    d.tags = {"floor1"};
    auto made = s.CreateDevice(d, key_hash);
    EXPECT_TRUE(made.ok()) << made.status().message();
    return made.ok() ? made->id : 0;
  }
  // Every notification `from` sent before this call has been handled by `to`'s feed: a marker
  // rule made on `from` reached `to` (one connection delivers in commit order).
  void Drain(Store& from, Recorder& to) {
    const Id marker = NewRule(from);
    ASSERT_TRUE(Eventually([&] { return to.Count(RuleStoreChange::Kind::kRuleUpserted, marker); }))
        << "marker rule " << marker << " never arrived";
  }

  TempDir dir_;
  std::string db_, url_;
  ManualClock clock_{kT0};
  std::unique_ptr<Store> a_, b_;
  Recorder heard_a_, heard_b_;
  Id org_ = 0, app_ = 0;
};

using Kind = RuleStoreChange::Kind;

TEST_F(ChangeFeedTest, RuleAndSilenceChangesOnAReachBAndAHearsItsOwnOnce) {
  const Id rule = NewRule(*a_);
  ASSERT_TRUE(Eventually([&] { return heard_b_.Count(Kind::kRuleUpserted, rule) == 1; }))
      << "a rule created on A did not reach B's listener within 2 s";

  RuleRecord changed = a_->rules().GetRule(rule).value();
  changed.definition = "{\"name\":\"r2\"}";
  ASSERT_TRUE(a_->rules().UpdateRule(changed).ok());
  EXPECT_TRUE(Eventually([&] { return heard_b_.Count(Kind::kRuleUpserted, rule) == 2; }))
      << "the update did not reach B";

  SilenceRecord s;
  s.org_id = org_;
  s.rule_id = rule;
  s.until_ms = kT0 + 3'600'000;
  s.created_by = "test";
  s.created_ms = kT0;
  auto silence = a_->rules().CreateSilence(s);
  ASSERT_TRUE(silence.ok());
  EXPECT_TRUE(Eventually([&] { return heard_b_.Count(Kind::kSilenceAdded, silence->id) == 1; }));
  ASSERT_TRUE(a_->rules().DeleteSilence(silence->id).ok());
  EXPECT_TRUE(Eventually([&] { return heard_b_.Count(Kind::kSilenceDeleted, silence->id) == 1; }));

  // A failed change (no such rule) is rolled back and sends nothing.
  RuleRecord missing = changed;
  missing.id = rule + 1000;
  EXPECT_EQ(a_->rules().UpdateRule(missing).code(), Code::kNotFound);

  ASSERT_TRUE(a_->rules().DeleteRule(rule).ok());
  EXPECT_TRUE(Eventually([&] { return heard_b_.Count(Kind::kRuleDeleted, rule) == 1; }));

  // Everything A sent has been through A's own feed (a marker from B arrived after it): A's
  // listener heard each of its changes exactly once, in-process, and nothing of the failed one.
  Drain(*b_, heard_a_);
  EXPECT_EQ(heard_a_.Count(Kind::kRuleUpserted, rule), 2);
  EXPECT_EQ(heard_a_.Count(Kind::kSilenceAdded, silence->id), 1);
  EXPECT_EQ(heard_a_.Count(Kind::kSilenceDeleted, silence->id), 1);
  EXPECT_EQ(heard_a_.Count(Kind::kRuleDeleted, rule), 1);
  EXPECT_EQ(heard_a_.Count(Kind::kRuleUpserted, rule + 1000), 0);
  EXPECT_EQ(heard_b_.Count(Kind::kRuleUpserted, rule + 1000), 0);
  EXPECT_EQ(heard_b_.Count(Kind::kRuleUpserted, rule), 2);
  EXPECT_EQ(heard_a_.CountKind(Kind::kReloadAll), 0);
}

TEST_F(ChangeFeedTest, AnAlarmRaisedOnBReachesAsListenerWithItsRecord) {
  const Id device = NewDevice(*a_, "");
  const Id rule = NewRule(*a_);
  AlarmRecord alarm;
  alarm.org_id = org_;
  alarm.rule_id = rule;
  alarm.device_id = device;
  alarm.state = "active";
  alarm.raised_ms = kT0;
  alarm.doc = "{\"severity\":\"critical\"}";
  auto made = b_->rules().CreateAlarm(alarm, nullptr);
  ASSERT_TRUE(made.ok()) << made.status().message();
  ASSERT_TRUE(Eventually([&] { return heard_a_.Count(Kind::kAlarmCreated, made->id) == 1; }))
      << "an alarm raised on B did not reach A's listener (the live stream) within 2 s";
  auto heard = heard_a_.Last(Kind::kAlarmCreated, made->id);
  ASSERT_TRUE(heard->has_alarm);
  EXPECT_EQ(heard->alarm.rule_id, rule);
  EXPECT_EQ(heard->alarm.device_id, device);
  EXPECT_EQ(heard->alarm.state, "active");
  EXPECT_EQ(heard->alarm.doc, alarm.doc);

  // Updated on B (acknowledged), and a batch of the rules runtime (WriteAlarms): one each.
  AlarmRecord acked = *made;
  acked.state = "acknowledged";
  ASSERT_TRUE(b_->rules().UpdateAlarm(acked, nullptr).ok());
  ASSERT_TRUE(Eventually([&] { return heard_a_.Count(Kind::kAlarmUpdated, made->id) == 1; }));
  EXPECT_EQ(heard_a_.Last(Kind::kAlarmUpdated, made->id)->alarm.state, "acknowledged");

  std::vector<RuleStore::AlarmWrite> writes(2);
  for (auto& w : writes) w.alarm = alarm;
  writes[1].alarm.device_id = NewDevice(*a_, "");
  ASSERT_TRUE(b_->rules().WriteAlarms(writes).ok());
  for (const auto& w : writes) {
    EXPECT_TRUE(Eventually([&] { return heard_a_.Count(Kind::kAlarmCreated, w.alarm.id) == 1; }))
        << "alarm " << w.alarm.id << " of a batch did not reach A";
  }
  Drain(*a_, heard_b_);
  EXPECT_EQ(heard_b_.Count(Kind::kAlarmCreated, made->id), 1);  // B's own, once
  EXPECT_EQ(heard_b_.Count(Kind::kAlarmUpdated, made->id), 1);
}

TEST_F(ChangeFeedTest, DecoderTargetAndIntegrationGenerationsOfBFollowChangesOnA) {
  const uint64_t dec0 = b_->decoders().generation();
  StoredDecoder d;
  d.org_id = org_;
  d.name = "dec";
  d.code = "function decode(b) { return {}; }";
  auto dec = a_->decoders().CreateDecoder(d, 0, kT0);
  ASSERT_TRUE(dec.ok()) << dec.status().message();
  EXPECT_TRUE(Eventually([&] { return b_->decoders().generation() > dec0; }))
      << "B's decoder cache was not told of a decoder created on A";
  const Id device = NewDevice(*a_, "");
  const uint64_t dec1 = b_->decoders().generation();
  ASSERT_TRUE(a_->decoders().SetDeviceDecoder(device, dec->id).ok());
  EXPECT_TRUE(Eventually([&] { return b_->decoders().generation() > dec1; }))
      << "a device's decoder attached on A not seen by B";
  const uint64_t dec2 = b_->decoders().generation();
  a_->decoders().InvalidateDecoders();  // e.g. an organisation's settings changed on A
  EXPECT_TRUE(Eventually([&] { return b_->decoders().generation() > dec2; }));

  const int64_t tg0 = b_->targets().targets_generation();
  DataTarget t;
  t.org_id = org_;
  t.app_id = app_;
  t.name = "hook";
  t.type = "http";
  t.url = "https://example.dk/hook";
  t.format = "os2iot";
  t.created_ms = kT0;
  auto target = a_->targets().CreateTarget(t, {}, std::nullopt);
  ASSERT_TRUE(target.ok()) << target.status().message();
  EXPECT_TRUE(Eventually([&] { return b_->targets().targets_generation() > tg0; }))
      << "B's data target workers were not told of a target created on A";
  const int64_t tg1 = b_->targets().targets_generation();
  ASSERT_TRUE(a_->targets().SetTargetPaused(target->id, true).ok());
  EXPECT_TRUE(Eventually([&] { return b_->targets().targets_generation() > tg1; }));

  const int64_t ig0 = b_->mqtt().integrations_generation();
  MqttIntegration x;
  x.kind = "chirpstack";
  x.org_id = org_;
  x.name = "cs";
  x.url = "mqtt://127.0.0.1:1883";
  auto integ = a_->mqtt().CreateIntegration(x, std::string("pw"));
  ASSERT_TRUE(integ.ok()) << integ.status().message();
  EXPECT_TRUE(Eventually([&] { return b_->mqtt().integrations_generation() > ig0; }));
  const int64_t ig1 = b_->mqtt().integrations_generation();
  ASSERT_TRUE(a_->mqtt().DeleteIntegration(integ->id).ok());
  EXPECT_TRUE(Eventually([&] { return b_->mqtt().integrations_generation() > ig1; }));
}

// Data targets: B's envelopes name a device as A last saved it. B's share service caches
// devices for 10 s; the clock stands still here, so only the change feed can make it read the
// device again.
TEST_F(ChangeFeedTest, BsShareEnvelopesNameADeviceAsRenamedOnA) {
  const Id device = NewDevice(*a_, "");
  Metrics metrics;
  share::ServiceOptions o;
  o.outbound = OutboundPolicy({*Cidr::Parse("127.0.0.0/8")});
  o.watch_ms = 20;
  o.poll_ms = 20;
  share::TargetService service(*b_, clock_, metrics, o);
  ASSERT_TRUE(service.Start().ok());
  TargetReceiver receiver(TargetReceiver::Mode::kOk);
  DataTarget t;
  t.org_id = org_;
  t.app_id = app_;
  t.name = "envelopes";
  t.url = receiver.url();
  service.WillShare(app_);
  ASSERT_TRUE(b_->targets().CreateTarget(t, {}, std::nullopt).ok());
  service.Changed();
  auto commit = [&](int seq) {
    IngestBatch batch;
    RawMessage m;
    m.device_id = device;
    m.received_ms = kT0 + seq;
    batch.messages.push_back(m);
    batch.readings.push_back(
        Reading{device, "n", kT0 + seq, static_cast<double>(seq), "", Quality::kOk});
    batch.share_app_id = app_;
    ASSERT_TRUE(b_->Append(std::move(batch)).ok());
    service.OnCommitted(*b_->GetDevice(device));
  };
  commit(1);
  ASSERT_TRUE(Eventually([&] { return receiver.hits().size() == 1; }, std::chrono::seconds(10)));
  EXPECT_NE(receiver.hits()[0].body.find(R"("name":"d")"), std::string::npos)
      << receiver.hits()[0].body;

  Device renamed = *a_->GetDevice(device);
  renamed.name = "Plejehjem stue";
  ASSERT_TRUE(a_->UpdateDevice(renamed).ok());
  Drain(*a_, heard_b_);  // B's feed has handled the rename
  commit(2);
  ASSERT_TRUE(Eventually([&] { return receiver.hits().size() == 2; }, std::chrono::seconds(10)));
  EXPECT_NE(receiver.hits()[1].body.find(R"("name":"Plejehjem stue")"), std::string::npos)
      << receiver.hits()[1].body;
  service.Stop();
}

// Credentials: a revoked one must not keep working on another node.
TEST_F(ChangeFeedTest, ACredentialRevokedOnAIsRefusedOnBWithinTwoSeconds) {
  // B's ingest-key cache, as HTTP ingest and CoAP use it. The clock stands still, so its TTL
  // never runs out here: only the change feed can make B forget.
  ingest::DeviceKeyCache keys_b(*b_, clock_);
  const Id device = NewDevice(*a_, "hash-1");
  auto found = keys_b.Find("hash-1");
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ((*found)->tags, std::vector<std::string>{"floor1"});

  // Tags changed on A: B's cached lookup answers the new device.
  Device changed = *a_->GetDevice(device);
  changed.tags = {"floor2"};
  ASSERT_TRUE(a_->UpdateDevice(changed).ok());
  EXPECT_TRUE(Eventually([&] {
    auto f = keys_b.Find("hash-1");
    return f.ok() && (*f)->tags == std::vector<std::string>{"floor2"};
  })) << "B's ingest key cache still answers the old tags";

  // The key rotated on A: the old key is refused on B, the new one works.
  ASSERT_TRUE(a_->SetDeviceIngestKey(device, "hash-2").ok());
  EXPECT_TRUE(Eventually([&] { return keys_b.Find("hash-1").status().code() == Code::kNotFound; }))
      << "a rotated ingest key still works on B after 2 s";
  EXPECT_TRUE(keys_b.Find("hash-2").ok());

  // The device deleted on A: refused on B.
  ASSERT_TRUE(a_->DeleteDevice(device).ok());
  EXPECT_TRUE(Eventually([&] { return keys_b.Find("hash-2").status().code() == Code::kNotFound; }))
      << "a deleted device's ingest key still works on B after 2 s";

  // MQTT: a device's broker credential removed on A, and an API key's broker user (SensorThings
  // over MQTT) gone: B's broker watcher sees its credentials generation move and reloads.
  const Id mqtt_device = NewDevice(*a_, "");
  const int64_t g0 = b_->mqtt().credentials_generation();
  ASSERT_TRUE(a_->mqtt().PutCredential({mqtt_device, "dev", "$7$x", kT0}).ok());
  EXPECT_TRUE(Eventually([&] { return b_->mqtt().credentials_generation() > g0; }));
  const int64_t g1 = b_->mqtt().credentials_generation();
  ASSERT_TRUE(a_->mqtt().DeleteCredential(mqtt_device).ok());
  EXPECT_TRUE(Eventually([&] { return b_->mqtt().credentials_generation() > g1; }))
      << "B's broker was not told that a credential was revoked on A";
  const int64_t g2 = b_->mqtt().credentials_generation();
  a_->mqtt().BumpCredentialsGeneration();
  EXPECT_TRUE(Eventually([&] { return b_->mqtt().credentials_generation() > g2; }));

  // API keys are not cached: one revoked on A is unknown to B at once.
  ApiKey key;
  key.org_id = org_;
  key.name = "k";
  key.prefix = "bys_k";
  key.secret_hash = "secret-hash";
  key.created_ms = kT0;
  auto made = a_->CreateApiKey(key);
  ASSERT_TRUE(made.ok()) << made.status().message();
  ASSERT_TRUE(b_->FindApiKeyByHash("secret-hash").ok());
  ASSERT_TRUE(a_->DeleteApiKey(made->id).ok());
  EXPECT_EQ(b_->FindApiKeyByHash("secret-hash").status().code(), Code::kNotFound);
}

TEST_F(ChangeFeedTest, CoapCredentialsAndDeviceModelsChangedOnAReachBsDeviceCaches) {
  // CoAP PSKs (coap/server.h) and the quality checker's model ranges are cached per node and
  // dropped when the devices generation moves.
  const Id device = NewDevice(*a_, "");
  uint64_t g = b_->devices_generation();
  auto moved = [&] {
    const bool m = Eventually([&] { return b_->devices_generation() > g; });
    g = b_->devices_generation();
    return m;
  };
  ASSERT_TRUE(a_->coap_credentials().PutCoapCredential({device, "psk-id", "sealed", kT0}).ok());
  EXPECT_TRUE(moved()) << "a PSK stored on A: B's CoAP server keeps the old one";
  ASSERT_TRUE(a_->coap_credentials().DeleteCoapCredential(device).ok());
  EXPECT_TRUE(moved()) << "a PSK revoked on A: B's CoAP server keeps accepting it";

  // B's quality checker with a clock that stands still (its 30 s model cache never runs out):
  // ranges changed on A apply on B at once.
  DeviceModel model;
  model.org_id = org_;
  model.name = "co2 sensor";
  model.doc_json = R"({"x-bysans-ranges": {"co2": {"min": 0, "max": 5000}}})";
  auto made = a_->CreateDeviceModel(model);
  ASSERT_TRUE(made.ok()) << made.status().message();
  Device d = *a_->GetDevice(device);
  d.device_model_id = made->id;
  ASSERT_TRUE(a_->UpdateDevice(d).ok());
  EXPECT_TRUE(moved());
  quality::QualityChecker checker_b(*b_, clock_);
  auto flag_of = [&](double co2) {
    std::vector<Reading> r = {Reading{device, "co2", clock_.NowMs(), co2, "", Quality::kOk}};
    checker_b.Check(d, r);
    return r[0].quality;
  };
  ASSERT_EQ(flag_of(6000), Quality::kOutOfRange);
  made->doc_json = R"({"x-bysans-ranges": {"co2": {"min": 0, "max": 10000}}})";
  ASSERT_TRUE(a_->UpdateDeviceModel(*made).ok());
  EXPECT_TRUE(moved()) << "a model changed on A: B keeps its old ranges";
  EXPECT_EQ(flag_of(6001), Quality::kOk) << "B's quality checker used the old ranges";
  ASSERT_TRUE(a_->DeleteDeviceModel(made->id).ok());
  EXPECT_TRUE(moved()) << "a model deleted on A: B keeps its ranges";
}

TEST_F(ChangeFeedTest, AfterItsListeningConnectionIsKilledBReconnectsAndReloadsEverything) {
  ingest::DeviceKeyCache keys_b(*b_, clock_);
  const Id device = NewDevice(*a_, "hash-1");
  ASSERT_TRUE(keys_b.Find("hash-1").ok());
  const uint64_t dec0 = b_->decoders().generation();
  const int64_t cred0 = b_->mqtt().credentials_generation();
  const int64_t tg0 = b_->targets().targets_generation();

  ASSERT_EQ(KillFeed("node_b"), 1);
  // Made while B's feed is (very likely) disconnected: its notification may be lost; the
  // reload after the reconnect covers it.
  ASSERT_TRUE(a_->SetDeviceIngestKey(device, "hash-2").ok());
  const Id during = NewRule(*a_);

  ASSERT_TRUE(Eventually([&] { return heard_b_.CountKind(Kind::kReloadAll) == 1; }))
      << "B did not reload everything after its listening connection was killed";
  EXPECT_TRUE(Listening("node_b"));
  EXPECT_GT(b_->decoders().generation(), dec0);
  EXPECT_GT(b_->mqtt().credentials_generation(), cred0);
  EXPECT_GT(b_->targets().targets_generation(), tg0);
  EXPECT_EQ(keys_b.Find("hash-1").status().code(), Code::kNotFound)
      << "a key rotated while B was disconnected still works on B";
  (void)during;  // its upsert may have arrived or been missed: the reload-all stands for it

  // Changes after the reconnect arrive one by one again.
  const Id after = NewRule(*a_);
  EXPECT_TRUE(Eventually([&] { return heard_b_.Count(Kind::kRuleUpserted, after) == 1; }))
      << "a change after the reconnect did not reach B";
  EXPECT_EQ(heard_a_.CountKind(Kind::kReloadAll), 0);  // A's feed was not touched
}

// The series writer of B caches series ids: a series deleted on A must not be written to by B
// (its readings would be orphans); B's next reading of that (device, key) starts a new series.
TEST_F(ChangeFeedTest, ASeriesDeletedOnAIsForgottenByBsWriter) {
  const Id dev = NewDevice(*a_, "");
  auto append = [&](Store& s, TimeMs ts) {
    IngestBatch b;
    b.readings.push_back(Reading{dev, "t", ts, 20.0, "Cel", Quality::kOk});
    return s.Append(std::move(b));
  };
  ASSERT_TRUE(append(*b_, kT0).ok());
  auto before = b_->ListSeries({dev});
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 1u);
  const int64_t old_id = (*before)[0].id;
  ASSERT_TRUE(a_->DeleteSeries(old_id).ok());
  Drain(*a_, heard_b_);  // B's feed has handled the deletion
  ASSERT_TRUE(append(*b_, kT0 + 1000).ok());
  auto after = b_->ListSeries({dev});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 1u) << "B's writer appended to the series deleted on A";
  EXPECT_NE((*after)[0].id, old_id);
  ASSERT_TRUE((*after)[0].latest.has_value());
  EXPECT_EQ((*after)[0].latest->ts, kT0 + 1000);
}

// The rules runtime of node B (rules/service.h) on B's store: a rule created through A raises
// its alarm for readings handled by B; a rule deleted without any notification (straight in SQL,
// as if the notification had been lost) stops raising on B once B's feed has reconnected (the
// runtime's reload of every rule).
TEST_F(ChangeFeedTest, BsRulesRuntimeFollowsRulesOfAAndReloadsAfterAReconnect) {
  Device d1, d2;
  d1.app_id = d2.app_id = app_;
  d1.name = "d1";
  d2.name = "d2";
  d1 = a_->CreateDevice(d1, "").value();
  d2 = a_->CreateDevice(d2, "").value();
  rules::RulesService runtime_b(*b_, clock_, rules::RulesServiceOptions{}, nullptr);
  ASSERT_TRUE(runtime_b.Start().ok());
  auto co2 = [&](const Device& d, double v) {
    runtime_b.OnCommitted(d, {{d.id, "co2", clock_.NowMs(), v, "", Quality::kOk}});
    runtime_b.Drain();
  };
  auto alarms_of = [&](Id device) {
    AlarmFilter f;
    f.device_id = device;
    return a_->rules().ListAlarms(f, Page{})->total;
  };

  const Id rule = NewRule(*a_, "{\"name\":\"CO2\",\"scope\":{\"kind\":\"application\",\"id\":" +
                                   std::to_string(app_) + "},\"expression\":\"co2 > 1000\"}");
  ASSERT_TRUE(Eventually([&] { return heard_b_.Count(Kind::kRuleUpserted, rule) == 1; }));
  runtime_b.Drain();  // B's runtime has applied the change it was handed
  co2(d1, 1500);
  EXPECT_EQ(alarms_of(d1.id), 1) << "a rule created on A did not raise its alarm on B";

  Sql("DELETE FROM rules WHERE id = " + std::to_string(rule));  // no notification at all
  ASSERT_EQ(KillFeed("node_b"), 1);
  ASSERT_TRUE(Eventually([&] { return heard_b_.CountKind(Kind::kReloadAll) == 1; }));
  runtime_b.Drain();
  co2(d2, 1500);
  EXPECT_EQ(alarms_of(d2.id), 0) << "B's runtime still evaluates a rule deleted meanwhile";
  runtime_b.Stop();
}

// What a node's live relay (store/live_relay.h) handed to its stream: (device, reading).
class LiveHeard {
 public:
  void Listen(LiveRelay& relay) {
    relay.SetListener([this](const Device& d, const std::vector<Reading>& readings) {
      std::lock_guard lk(mu_);
      for (const Reading& r : readings) heard_.emplace_back(d, r);
    });
  }
  std::vector<std::pair<Device, Reading>> Heard() {
    std::lock_guard lk(mu_);
    return heard_;
  }
  size_t size() {
    std::lock_guard lk(mu_);
    return heard_.size();
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<Device, Reading>> heard_;
};

TEST_F(ChangeFeedTest, MessagesCommittedOnAReachBsLiveStreamWhileBWantsThem) {
  ASSERT_NE(a_->live_relay(), nullptr);
  ASSERT_NE(b_->live_relay(), nullptr);
  LiveHeard on_a, on_b;
  on_a.Listen(*a_->live_relay());
  on_b.Listen(*b_->live_relay());
  a_->live_relay()->SetWanted(true);  // A wants too: it must still never hear its own commits
  b_->live_relay()->SetWanted(true);
  auto device = std::make_shared<Device>();
  device->id = 5;
  device->org_id = org_;
  device->app_id = app_;
  device->name = "Måler";
  TimeMs ts = kT0;
  auto put = [&](std::vector<Reading> rs) {
    IngestBatch b;
    b.readings = std::move(rs);
    b.feed_device = device;
    b.feed_partition = 0;
    ASSERT_TRUE(a_->Append(std::move(b)).ok());
  };
  // A relays once its feed heard B ask: readings committed before that are not relayed.
  ASSERT_TRUE(Eventually(
      [&] {
        put({{5, "warmup", ++ts, 1.0, "", Quality::kOk}});
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return on_b.size() > 0;
      },
      std::chrono::seconds(5)))
      << "B's live stream never got a reading committed on A";
  // A message of three readings, and one too big for a NOTIFY payload (split by readings).
  put({{5, "co2", ++ts, 612.0, "ppm", Quality::kOk},
       {5, "temp", ts, 21.5, "°C", Quality::kOk},
       {5, "door", ts, true, "", Quality::kOk}});
  std::vector<Reading> big;
  ++ts;
  for (int i = 0; i < 300; ++i)
    big.push_back({5, "k" + std::to_string(i), ts, std::string(40, 'x'), "", Quality::kOk});
  put(big);
  auto count_after_warmup = [&] {
    size_t n = 0;
    for (const auto& [d, r] : on_b.Heard()) n += r.key != "warmup";
    return n;
  };
  ASSERT_TRUE(Eventually([&] { return count_after_warmup() >= 303; }))
      << "B heard " << count_after_warmup() << " of the 303 readings within 2 s";
  EXPECT_EQ(count_after_warmup(), 303u);  // each once
  for (const auto& [d, r] : on_b.Heard()) {
    EXPECT_EQ(d.id, 5);
    EXPECT_EQ(d.org_id, org_);  // the stream's organisation filter reads these
    EXPECT_EQ(d.app_id, app_);
    if (r.key == "co2") {
      EXPECT_EQ(std::get<double>(r.value), 612.0);
      EXPECT_EQ(r.unit, "ppm");
    }
    if (r.key == "door") {
      EXPECT_EQ(std::get<bool>(r.value), true);
    }
  }
  Drain(*a_, heard_a_);  // A's feed has handled everything A sent before the marker
  EXPECT_EQ(on_a.size(), 0u) << "A heard its own commits back";
}

}  // namespace
}  // namespace bysans::testing

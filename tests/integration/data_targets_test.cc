// Data targets (issue 16) against the real server and real HTTP receivers on loopback:
// at least once, in order per device, through receiver outages, 500s, a hanging target and
// kill -9 with a backlog; on each store (a real SQLite file; a real PostgreSQL 15).
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "core/time_format.h"
#include "integration/backend_fixture.h"
#include "integration/target_receiver.h"

namespace bysans::testing {
namespace {

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

class DataTargetsTest : public BackendServerTest {
 protected:
  void SetUp() override {
    server_env_.push_back("BYSANS_OUTBOUND_ALLOW=127.0.0.0/8");
    BackendServerTest::SetUp();
  }

  json CreateTarget(int64_t app_id, json body) {
    if (!body.contains("name")) body["name"] = "receiver";
    auto r =
        admin_->PostJson("/api/v1/applications/" + std::to_string(app_id) + "/data-targets", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json();
  }

  // A second HTTP device in the application of `d`.
  DeviceHandle AddDevice(const DeviceHandle& d, const std::string& name) {
    DeviceHandle h = d;
    auto dev = admin_->PostJson("/api/v1/applications/" + std::to_string(d.app_id) + "/devices",
                                {{"name", name}, {"transport", "http"}});
    EXPECT_EQ(dev.status, 201) << dev.body;
    h.device_id = dev.Json().value("id", int64_t{0});
    h.ingest_key = dev.Json().value("apiKey", "");
    return h;
  }

  // Posts {"seq": from..to-1} for each device, the devices in parallel, each in order.
  void IngestSeq(const std::vector<DeviceHandle>& devices, int from, int to) {
    std::vector<std::thread> posters;
    for (const DeviceHandle& d : devices) {
      posters.emplace_back([&, d] {
        HttpClient client(server_->url());
        for (int seq = from; seq < to; ++seq) {
          auto r = client.Request("POST", "/api/v1/receive-data?apiKey=" + d.ingest_key,
                                  json{{"seq", seq}}.dump(), {"Content-Type: application/json"});
          ASSERT_EQ(r.status, 204) << r.body;
        }
      });
    }
    for (auto& p : posters) p.join();
  }

  // The envelopes a receiver accepted (200), in arrival order, batches flattened.
  static std::vector<json> Delivered(TargetReceiver& rx) {
    std::vector<json> out;
    for (const auto& h : rx.hits()) {
      if (h.answered != 200) continue;
      json body = json::parse(h.body, nullptr, false);
      if (body.is_array()) {
        for (auto& e : body) out.push_back(e);
      } else {
        out.push_back(body);
      }
    }
    return out;
  }

  static int64_t SeqOf(const json& envelope) {
    for (const auto& r : envelope.value("readings", json::array()))
      if (r.value("key", "") == "seq") return r.value("value", int64_t{-1});
    return -1;
  }

  // Every device's seqs [0, n) arrived, and in order: the first arrival of each seq follows
  // the first arrival of the one before (at least once: repeats are allowed).
  static void ExpectAllInOrder(const std::vector<json>& delivered,
                               const std::vector<DeviceHandle>& devices, int n) {
    std::map<int64_t, std::vector<int64_t>> firsts;
    std::map<int64_t, std::set<int64_t>> seen;
    for (const json& e : delivered) {
      const int64_t dev = e["device"].value("id", int64_t{0});
      const int64_t seq = SeqOf(e);
      if (seen[dev].insert(seq).second) firsts[dev].push_back(seq);
    }
    for (const DeviceHandle& d : devices) {
      const auto& f = firsts[d.device_id];
      ASSERT_EQ(f.size(), static_cast<size_t>(n)) << "device " << d.device_id;
      for (int i = 0; i < n; ++i)
        ASSERT_EQ(f[static_cast<size_t>(i)], i) << "device " << d.device_id;
    }
  }

  size_t CountSeqs(TargetReceiver& rx) {
    std::set<std::pair<int64_t, int64_t>> unique;
    for (const json& e : Delivered(rx))
      unique.insert({e["device"].value("id", int64_t{0}), SeqOf(e)});
    return unique.size();
  }

  json Target(int64_t id) {
    auto r = admin_->Get("/api/v1/data-targets/" + std::to_string(id));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }
};

BYSANS_ON_BOTH_STORES(DataTargetsTest);

TEST_P(DataTargetsTest, ReceiverDownAMinuteWhileIngestContinuesThenUpGetsEverythingInOrder) {
  DeviceHandle d1 = CreateHttpDevice("Aarhus");
  DeviceHandle d2 = AddDevice(d1, "Lokale 2");
  uint16_t port;
  {
    TargetReceiver probe(TargetReceiver::Mode::kOk);
    port = probe.port();
  }  // down: nothing listens on the port now
  json t = CreateTarget(d1.app_id, {{"url", "http://127.0.0.1:" + std::to_string(port) + "/in"},
                                    {"batchSize", 7},
                                    {"maxAttempts", 1000}});
  const auto down_since = std::chrono::steady_clock::now();
  IngestSeq({d1, d2}, 0, 150);
  // The target fails meanwhile, and says so.
  ASSERT_TRUE(WaitFor([&] { return Target(t["id"])["metrics"].value("failed", 0) > 0; }, 30));
  json m = Target(t["id"])["metrics"];
  EXPECT_EQ(m.value("status", ""), "failing");
  EXPECT_NE(m.value("lastError", "").find("could not connect"), std::string::npos) << m;
  EXPECT_EQ(m.value("queueDepth", 0), 300) << m;
  EXPECT_GT(m.value("lagSeconds", 0.0), 0.0) << m;
  IngestSeq({d1, d2}, 150, 200);
  // Down for a whole minute (the outage), retrying with backoff meanwhile.
  std::this_thread::sleep_until(down_since + std::chrono::seconds(60));
  TargetReceiver rx(TargetReceiver::Mode::kOk, port);  // up again, on the same address
  ASSERT_TRUE(rx.bound());
  ASSERT_TRUE(WaitFor([&] { return CountSeqs(rx) >= 400; }, 120)) << CountSeqs(rx);
  ExpectAllInOrder(Delivered(rx), {d1, d2}, 200);
  ASSERT_TRUE(WaitFor([&] { return Target(t["id"])["metrics"].value("queueDepth", -1) == 0; }));
  m = Target(t["id"])["metrics"];
  EXPECT_EQ(m.value("status", ""), "active");
  EXPECT_GE(m.value("sent", 0), 400);
  // Batches are JSON arrays of at most 7 envelopes with the bysans shape.
  for (const auto& h : rx.hits()) {
    json body = json::parse(h.body, nullptr, false);
    ASSERT_TRUE(body.is_array());
    EXPECT_LE(body.size(), 7u);
    EXPECT_TRUE(body[0].contains("receivedAt"));
    EXPECT_EQ(body[0]["decoded"].value("seq", -1), SeqOf(body[0]));
  }
}

TEST_P(DataTargetsTest, ReceiverAnswering500ThenOkGetsEverything) {
  DeviceHandle d = CreateHttpDevice("Vejle");
  TargetReceiver rx(TargetReceiver::Mode::kFail);
  json t = CreateTarget(d.app_id, {{"url", rx.url()}, {"format", "os2iot"}});
  IngestSeq({d}, 0, 20);
  ASSERT_TRUE(WaitFor([&] { return rx.hits().size() >= 2; }, 30));
  for (const auto& h : rx.hits()) EXPECT_EQ(json::parse(h.body).value("seq", -1), 0);  // retried
  rx.set_mode(TargetReceiver::Mode::kOk);
  ASSERT_TRUE(WaitFor([&] {
    std::set<int> seqs;
    for (const auto& h : rx.hits())
      if (h.answered == 200) seqs.insert(json::parse(h.body).value("seq", -1));
    return seqs.size() == 20;
  }));
  // os2iot: the decoded payload (here the device's JSON) as it is, one message per request, in
  // order.
  int expect = 0;
  for (const auto& h : rx.hits()) {
    if (h.answered != 200) continue;
    int seq = json::parse(h.body).value("seq", -1);
    if (seq == expect) ++expect;
  }
  EXPECT_EQ(expect, 20);
  auto log =
      admin_->Get("/api/v1/data-targets/" + std::to_string(t["id"].get<int64_t>()) + "/deliveries");
  ASSERT_EQ(log.status, 200) << log.body;
  const json items = log.Json()["items"];
  bool saw_500 = false, saw_ok = false;
  for (const auto& e : items) {
    saw_500 |= e.value("error", "") == "HTTP 500";
    saw_ok |= e.value("ok", false);
  }
  EXPECT_TRUE(saw_500) << log.body;
  EXPECT_TRUE(saw_ok) << log.body;
  const json m = Target(t["id"])["metrics"];
  EXPECT_GE(m.value("failed", 0), 2) << m;
  EXPECT_EQ(m.value("sent", 0), 20) << m;
  // The same on /metrics (Prometheus), per target.
  const std::string label = "{target=\"" + std::to_string(t["id"].get<int64_t>()) + "\"}";
  auto metrics = admin_->Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("bysans_target_sent_total" + label + " 20"), std::string::npos);
  EXPECT_NE(metrics.body.find("bysans_target_failed_total" + label), std::string::npos);
  EXPECT_NE(metrics.body.find("bysans_target_queue_depth" + label), std::string::npos);
}

TEST_P(DataTargetsTest, HangingTargetDoesNotDelayAnother) {
  DeviceHandle d = CreateHttpDevice("Silkeborg");
  TargetReceiver hang(TargetReceiver::Mode::kHang);
  TargetReceiver ok(TargetReceiver::Mode::kOk);
  CreateTarget(d.app_id, {{"name", "hangs"}, {"url", hang.url()}, {"timeoutMs", 30'000}});
  CreateTarget(d.app_id, {{"name", "fine"}, {"url", ok.url()}});
  IngestSeq({d}, 0, 1);
  ASSERT_TRUE(WaitFor([&] { return !hang.hits().empty(); }, 10));  // now hanging for 30 s
  IngestSeq({d}, 1, 30);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return CountSeqs(ok) == 30; }, 10)) << CountSeqs(ok);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(hang.hits().size(), 1u);  // still the first request
}

TEST_P(DataTargetsTest, BacklogOf10000SurvivesKill9) {
  DeviceHandle first = CreateHttpDevice("Odense");
  std::vector<DeviceHandle> devices = {first};
  for (int i = 1; i < 8; ++i) devices.push_back(AddDevice(first, "Sensor " + std::to_string(i)));
  TargetReceiver rx(TargetReceiver::Mode::kFail);
  json t =
      CreateTarget(first.app_id, {{"url", rx.url()}, {"batchSize", 100}, {"maxAttempts", 100000}});
  IngestSeq(devices, 0, 1250);  // 10,000 messages, acknowledged = committed
  server_->KillWith(SIGKILL);
  rx.set_mode(TargetReceiver::Mode::kOk);
  std::string dir = server_->data_dir();
  auto keep = std::move(server_);  // keeps the data directory
  server_ = std::make_unique<ServerProcess>(dir);
  server_->SetEnv(server_env_);
  ASSERT_TRUE(server_->Start()) << server_->log();
  admin_ = std::make_unique<HttpClient>(server_->url());
  ASSERT_EQ(admin_->Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword).status, 200);
  ASSERT_TRUE(WaitFor([&] { return CountSeqs(rx) >= 10'000; }, 180)) << CountSeqs(rx);
  ExpectAllInOrder(Delivered(rx), devices, 1250);
  ASSERT_TRUE(WaitFor([&] { return Target(t["id"])["metrics"].value("queueDepth", -1) == 0; }));
}

TEST_P(DataTargetsTest, HeadersAreSentButNeverReturned) {
  DeviceHandle d = CreateHttpDevice("Kolding");
  TargetReceiver rx(TargetReceiver::Mode::kOk);
  json t = CreateTarget(
      d.app_id,
      {{"url", rx.url()},
       {"headers", {{"Authorization", "Bearer s3cret-token"}, {"X-Kommune", "kolding-key"}}}});
  EXPECT_EQ(t.dump().find("s3cret"), std::string::npos) << t;
  EXPECT_EQ(t["headerNames"], json({"Authorization", "X-Kommune"}));
  const std::string path = "/api/v1/data-targets/" + std::to_string(t["id"].get<int64_t>());
  for (const std::string& p :
       {path, "/api/v1/applications/" + std::to_string(d.app_id) + "/data-targets"}) {
    auto r = admin_->Get(p);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body.find("s3cret"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("kolding-key"), std::string::npos) << r.body;
  }
  IngestSeq({d}, 0, 1);
  ASSERT_TRUE(WaitFor([&] { return !rx.hits().empty(); }, 30));
  EXPECT_NE(rx.hits()[0].head.find("Authorization: Bearer s3cret-token"), std::string::npos);
  // A change that names no header keeps them; null removes one.
  auto put = admin_->Request("PUT", path, json{{"headers", {{"X-Kommune", nullptr}}}}.dump(),
                             {"Content-Type: application/json"});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.Json()["headerNames"], json({"Authorization"}));
  // Another server: the stored secret does not follow the URL unless given again.
  put = admin_->Request("PUT", path, json{{"url", "http://127.0.0.2:9/x"}}.dump(),
                        {"Content-Type: application/json"});
  EXPECT_EQ(put.status, 400) << put.body;
  // The test button sends the device's latest message.
  auto test = admin_->PostJson(path + "/test", {{"deviceId", d.device_id}});
  ASSERT_EQ(test.status, 200) << test.body;
  EXPECT_TRUE(test.Json().value("ok", false)) << test.body;
  EXPECT_EQ(rx.hits().size(), 2u);
}

TEST_P(DataTargetsTest, DeadLettersAfterMaxAttemptsAndReplay) {
  DeviceHandle d = CreateHttpDevice("Esbjerg");
  TargetReceiver rx(TargetReceiver::Mode::kFail);
  json t = CreateTarget(d.app_id, {{"url", rx.url()}, {"maxAttempts", 2}});
  const std::string path = "/api/v1/data-targets/" + std::to_string(t["id"].get<int64_t>());
  IngestSeq({d}, 0, 3);
  ASSERT_TRUE(WaitFor(
      [&] { return admin_->Get(path + "/dead-letters").Json().value("total", 0) == 3; }, 60));
  auto letters = admin_->Get(path + "/dead-letters").Json();
  EXPECT_EQ(letters["items"][0].value("error", ""), "HTTP 500") << letters;
  EXPECT_EQ(letters["items"][0].value("attempts", 0), 2) << letters;
  rx.set_mode(TargetReceiver::Mode::kOk);
  IngestSeq({d}, 3, 4);  // the log goes on past the dead letters
  ASSERT_TRUE(WaitFor([&] { return CountSeqs(rx) == 1; }, 30));
  auto replay = admin_->PostJson(path + "/dead-letters/replay", json::object());
  ASSERT_EQ(replay.status, 200) << replay.body;
  EXPECT_EQ(replay.Json().value("replaying", 0), 3);
  ASSERT_TRUE(WaitFor([&] { return CountSeqs(rx) == 4; }, 30));
  ASSERT_TRUE(
      WaitFor([&] { return admin_->Get(path + "/dead-letters").Json().value("total", -1) == 0; }));
}

TEST_P(DataTargetsTest, PausedTargetHoldsItsBacklogUntilResumed) {
  DeviceHandle d = CreateHttpDevice("Herning");
  TargetReceiver rx(TargetReceiver::Mode::kOk);
  json t = CreateTarget(d.app_id, {{"url", rx.url()}, {"paused", true}, {"batchSize", 50}});
  const std::string path = "/api/v1/data-targets/" + std::to_string(t["id"].get<int64_t>());
  IngestSeq({d}, 0, 25);
  ASSERT_TRUE(WaitFor([&] { return Target(t["id"])["metrics"].value("queueDepth", 0) == 25; }));
  EXPECT_EQ(Target(t["id"])["metrics"].value("status", ""), "paused");
  EXPECT_TRUE(rx.hits().empty());
  ASSERT_EQ(admin_->PostJson(path + "/resume", json::object()).status, 200);
  ASSERT_TRUE(WaitFor([&] { return CountSeqs(rx) == 25; }, 30));
  ExpectAllInOrder(Delivered(rx), {d}, 25);
}

// Back-fill: a target created after messages were stored gets them from the store (the
// readings of the range asked for), per device in order and before what comes next.
TEST_P(DataTargetsTest, BackfillSendsStoredHistoryFirstAndInOrder) {
  DeviceHandle d1 = CreateHttpDevice("Horsens");
  DeviceHandle d2 = AddDevice(d1, "Lokale 2");
  // Stored before the target exists, a few ms apart (one reading per key and ms is kept).
  for (int seq = 0; seq < 30; ++seq) {
    for (const DeviceHandle& d : {d1, d2}) {
      auto r = Ingest(d.ingest_key, json{{"seq", seq}}.dump());
      ASSERT_EQ(r.status, 204) << r.body;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
  }
  TargetReceiver rx(TargetReceiver::Mode::kOk);
  json t = CreateTarget(d1.app_id, {{"url", rx.url()}, {"batchSize", 4}});
  const std::string path = "/api/v1/data-targets/" + std::to_string(t.value("id", 0));
  auto bad = admin_->PostJson(path + "/backfill", {{"from", "yesterday"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  const TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  const std::string from = FormatRfc3339(now - 3'600'000);
  auto started = admin_->PostJson(path + "/backfill", {{"from", from}});
  ASSERT_EQ(started.status, 202) << started.body;
  IngestSeq({d1, d2}, 30, 40);  // new messages meanwhile: after the history
  ASSERT_TRUE(WaitFor([&] { return CountSeqs(rx) >= 80; }, 60)) << CountSeqs(rx);
  ExpectAllInOrder(Delivered(rx), {d1, d2}, 40);
  json b;
  ASSERT_TRUE(WaitFor([&] {
    return (b = Target(t["id"])["backfill"]).value("state", "") == "done";
  })) << b;
  EXPECT_EQ(b.value("records", 0), 60) << b;
  EXPECT_EQ(b.value("devicesDone", 0), 2) << b;
}

// A running back-fill can be cancelled, and a second cancel finds nothing running. A job over
// empty days may finish before the cancel arrives (then it is "done" and the cancel is a 404):
// tried again until one cancel lands, which must happen within a few tries.
TEST_P(DataTargetsTest, BackfillCanBeCancelled) {
  DeviceHandle d = CreateHttpDevice("Vejle");
  TargetReceiver rx(TargetReceiver::Mode::kOk);
  json t = CreateTarget(d.app_id, {{"url", rx.url()}});
  const std::string path = "/api/v1/data-targets/" + std::to_string(t.value("id", 0));
  EXPECT_EQ(admin_->Request("DELETE", path + "/backfill").status, 404);  // none runs
  bool cancelled = false;
  for (int attempt = 0; attempt < 20 && !cancelled; ++attempt) {
    auto started = admin_->PostJson(path + "/backfill", {{"from", "0001-01-01T00:00:00Z"}});
    ASSERT_EQ(started.status, 202) << started.body;
    auto answer = admin_->Request("DELETE", path + "/backfill");
    json b;
    if (answer.status == 200) {
      cancelled = true;
      ASSERT_TRUE(WaitFor([&] {
        return (b = Target(t["id"])["backfill"]).value("state", "") == "cancelled";
      })) << b;
    } else {
      ASSERT_EQ(answer.status, 404) << answer.body;  // it had ended: done, not cancelled
      ASSERT_TRUE(WaitFor([&] {
        return (b = Target(t["id"])["backfill"]).value("state", "") == "done";
      })) << b;
    }
  }
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(admin_->Request("DELETE", path + "/backfill").status, 404);
  // A new job may start after it.
  EXPECT_EQ(admin_->PostJson(path + "/backfill", {{"from", "2026-01-01T00:00:00Z"}}).status, 202);
}

}  // namespace
}  // namespace bysans::testing

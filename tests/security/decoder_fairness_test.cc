// Issue 15, finding 11: one organisation must not starve the others. Organisation B (the
// attacker) attaches a looping decoder with the longest time limit its admin may set and keeps a
// backlog of uplinks queued; organisation A's decoded uplinks and decoder tests still go through
// while B's backlog is long (with the old shared FIFO they waited behind all of it). The limit
// itself is capped: B's admin cannot raise it above decode.max_timeout_ms, a global admin can,
// and B's backlog is bounded (decode.max_backlog_s): beyond it B's uplinks are stored raw.
#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

constexpr const char* kLoop = "function decode(p, m) { for (;;) {} }";
constexpr const char* kGood = "function decode(p, m) { return { v: p.v }; }";
constexpr int kBacklog = 10;  // B's uplinks queued at once, each holding a worker for 1 s

class DecoderFairnessTest : public SecurityTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_AUTH_LOGIN_ATTEMPTS_PER_MINUTE=1000"};  // B's many sessions
    SecurityTest::SetUp();
  }

  void TearDown() override {
    server_->Kill9();  // B's requests still waiting fail at once
    for (auto& t : threads_) t.join();
  }

  json Messages(Tenant& t) {
    auto r = t.viewer.client->Get(t.DevicePath() + "/messages?limit=1000");
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json().value("items", json::array());
  }

  double InFlight() {
    HttpClient probe(server_->url());
    std::istringstream in(probe.Get("/metrics").body);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("bysans_pipeline_in_flight ", 0) == 0) return std::stod(line.substr(26));
    return 0;
  }

  // B's admin sets the longest limit allowed to an organisation admin: the cap.
  void SetBTimeout() {
    auto over = Send(*b_.admin.client, "PATCH", b_.OrgPath(), {{"decoderTimeoutMs", 5000}});
    EXPECT_EQ(over.status, 403) << over.body;
    EXPECT_NE(over.body.find("1000"), std::string::npos) << over.body;
    auto cap = Send(*b_.admin.client, "PATCH", b_.OrgPath(), {{"decoderTimeoutMs", 1000}});
    ASSERT_EQ(cap.status, 200) << cap.body;
  }

  // Runs `fn` on its own thread (joined after the server is killed).
  template <class F>
  void Background(F fn) {
    threads_.emplace_back(std::move(fn));
  }

  std::vector<std::unique_ptr<HttpClient>> clients_;  // used by threads_, outlive them
  std::vector<std::thread> threads_;
};

TEST_F(DecoderFairnessTest, OnlyAGlobalAdminRaisesTheTimeLimitAboveTheCap) {
  SetBTimeout();
  EXPECT_EQ(b_.viewer.client->Get(b_.OrgPath()).Json().value("decoderTimeoutMs", 0), 1000);
  auto global = Send(*admin_, "PATCH", b_.OrgPath(), {{"decoderTimeoutMs", 3000}});
  ASSERT_EQ(global.status, 200) << global.body;
  EXPECT_EQ(global.Json().value("decoderTimeoutMs", 0), 3000);
  // B's admin may lower it again, not raise it back.
  EXPECT_EQ(Send(*b_.admin.client, "PATCH", b_.OrgPath(), {{"decoderTimeoutMs", 2000}}).status,
            200);
  EXPECT_EQ(Send(*b_.admin.client, "PATCH", b_.OrgPath(), {{"decoderTimeoutMs", 2500}}).status,
            403);
  EXPECT_EQ(Send(*admin_, "PATCH", b_.OrgPath(), {{"decoderTimeoutMs", 5001}}).status, 400);
}

TEST_F(DecoderFairnessTest, LoopingDecoderOfOneOrganisationDoesNotStallAnothersIngest) {
  SetBTimeout();
  AttachNewDecoder(b_, kLoop);
  AttachNewDecoder(a_, kGood);
  std::atomic<int> b_answered{0};
  for (int i = 0; i < kBacklog; ++i) {
    Background([&, i] {
      Ingest(b_.device.ingest_key, json{{"v", i}}.dump());
      ++b_answered;
    });
  }
  ASSERT_TRUE(WaitFor([&] { return InFlight() >= kBacklog; }, 30)) << server_->log();

  for (int i = 0; i < 20; ++i) {
    auto r = Ingest(a_.device.ingest_key, json{{"v", i}}.dump());
    ASSERT_EQ(r.status, 204) << r.body;
  }
  // A's 20 messages are stored and decoded while most of B's backlog still waits.
  const int b_done = b_answered.load();
  json a = Messages(a_);
  ASSERT_EQ(a.size(), 20u) << a;
  for (const auto& m : a) EXPECT_EQ(m.value("decodeStatus", ""), "ok") << m;
  EXPECT_LE(b_done, kBacklog / 2) << "A waited for B's backlog";
  EXPECT_LE(Messages(b_).size(), static_cast<size_t>(kBacklog / 2));

  // B's messages are not lost: each is stored raw with the time-limit error in turn.
  ASSERT_TRUE(WaitFor([&] { return b_answered.load() == kBacklog; }, 60));
  json b = Messages(b_);
  ASSERT_EQ(b.size(), static_cast<size_t>(kBacklog));
  for (const auto& m : b) EXPECT_EQ(m.value("decodeStatus", ""), "error") << m;
}

TEST_F(DecoderFairnessTest, LoopingTestsOfOneOrganisationDoNotStallAnothersTests) {
  SetBTimeout();
  auto& b_clients = clients_;
  for (int i = 0; i < kBacklog; ++i) {
    b_clients.push_back(std::make_unique<HttpClient>(server_->url()));
    ASSERT_EQ(b_clients.back()->Login(b_.editor.email, b_.editor.password).status, 200);
  }
  std::atomic<int> b_answered{0};
  for (auto& c : b_clients) {
    Background([&, client = c.get()] {
      Send(*client, "POST", "/api/v1/decoders/test",
           {{"orgId", b_.device.org_id}, {"code", kLoop}, {"payload", "01"}});
      ++b_answered;
    });
  }
  // B's tests are all queued once the first has run into its 1 s limit.
  ASSERT_TRUE(WaitFor([&] { return b_answered.load() >= 1; }, 30));
  for (int i = 0; i < 5; ++i) {
    auto r = Send(*a_.editor.client, "POST", "/api/v1/decoders/test",
                  {{"orgId", a_.device.org_id}, {"code", kGood}, {"payload", {{"v", i}}}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Json()["output"]["v"], i) << r.body;
  }
  EXPECT_LE(b_answered.load(), kBacklog / 2) << "A's tests waited for B's";
}

// The shared windows (the pipeline's in-flight limit, the broker session's receive window) are
// not B's to fill either: beyond decode.max_backlog_s of queued decoding, B's uplinks are stored
// raw at once with an error instead of waiting in line.
class DecoderBacklogTest : public DecoderFairnessTest {
 protected:
  void SetUp() override {
    server_env_ = {"BYSANS_AUTH_LOGIN_ATTEMPTS_PER_MINUTE=1000", "BYSANS_DECODE_MAX_BACKLOG_S=3"};
    SecurityTest::SetUp();
  }
};

TEST_F(DecoderBacklogTest, SlowOrganisationsBacklogIsStoredRawInsteadOfQueued) {
  SetBTimeout();
  AttachNewDecoder(b_, kLoop);
  AttachNewDecoder(a_, kGood);
  ASSERT_EQ(Ingest(b_.device.ingest_key, json{{"v", 0}}.dump()).status, 204);  // 1 s: history
  constexpr int kFlood = 20;
  std::atomic<int> b_answered{0};
  for (int i = 1; i <= kFlood; ++i) {
    Background([&, i] {
      Ingest(b_.device.ingest_key, json{{"v", i}}.dump());
      ++b_answered;
    });
  }
  ASSERT_TRUE(WaitFor([&] { return b_answered.load() >= kFlood / 2; }, 60));
  int shed = 0;
  for (const auto& m : Messages(b_))
    if (m.value("decodeError", "").find("too slow to keep up") != std::string::npos) ++shed;
  EXPECT_GE(shed, kFlood / 2) << "B's flood waited in line for its decoder";
  // A is decoded as usual, and none of B's messages is lost.
  ASSERT_EQ(Ingest(a_.device.ingest_key, json{{"v", 7}}.dump()).status, 204);
  EXPECT_EQ(Messages(a_).at(0).value("decodeStatus", ""), "ok");
  ASSERT_TRUE(WaitFor([&] { return b_answered.load() == kFlood; }, 60));
  EXPECT_EQ(Messages(b_).size(), static_cast<size_t>(kFlood + 1));
}

}  // namespace
}  // namespace bysans::testing

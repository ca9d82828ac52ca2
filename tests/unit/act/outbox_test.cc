// The outbox hand-off: rows the rules runtime just committed go straight to their
// target's workers (no store poll on the alarm path); rows left pending in the store
// (a restart) are still found by the poll. Real SQLite file, real HTTP receiver.
#include "act/outbox.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "act/action_secrets.h"
#include "core/outbound_policy.h"
#include "integration/rules_receiver.h"
#include "integration/smtp_server.h"
#include "unit/act/store_fixture.h"

namespace bysans {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using act_test::WaitFor;
using testing::Receiver;

class OutboxTest : public act_test::StoreFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenStore());
    json rule = Co2Rule();
    rule["actions"] = json::array({{{"type", "webhook"}, {"url", hook_.url()}}});
    ASSERT_NE(CreateRule(rule), 0);
  }
  void TearDown() override {
    service_.reset();
    outbox_.reset();
    StoreFixture::TearDown();
  }
  // An outbox polling every `poll_ms` (default: only after an hour); it may reach the loopback
  // receiver unless `public_only`.
  void MakeOutbox(bool public_only = false, TimeMs poll_ms = 3'600'000) {
    act::OutboxOptions o;
    o.poll_ms = poll_ms;
    if (!public_only) o.outbound = *OutboundPolicy::Parse("127.0.0.0/8");
    o.secrets = &store_->secrets();
    outbox_ = std::make_unique<act::Outbox>(store_->rules(), clock_, o);
  }
  void StartService(bool hand_off) {
    std::function<void(std::vector<OutboxEntry>)> cb;
    if (hand_off) cb = [this](std::vector<OutboxEntry> rows) { outbox_->Submit(std::move(rows)); };
    StoreFixture::StartService(std::move(cb));
  }
  size_t Pending() { return store_->rules().ListPendingOutbox(100)->size(); }

  Receiver hook_{Receiver::Mode::kOk};
  std::unique_ptr<act::Outbox> outbox_;
};

TEST_F(OutboxTest, CommittedRowsAreHandedOverWithoutAStorePoll) {
  MakeOutbox();  // never started: no dispatcher, no poll at all
  StartService(true);
  Send(1500);
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() >= 1; }));
  json body = json::parse(hook_.hits()[0].body);
  EXPECT_EQ(body["alarm"]["event"], "raise");
  EXPECT_EQ(body["device"]["name"], "Lokale");
  // Durable and recorded: the row is delivered in the store, the attempt logged.
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }));
  EXPECT_EQ(store_->rules().ListDeliveryLog(org_, Page{})->total, 1);
  // The clear goes the same way; the raise is not sent twice.
  Send(500);
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() >= 2; }));
  EXPECT_EQ(json::parse(hook_.hits()[1].body)["alarm"]["event"], "clear");
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }));
  EXPECT_EQ(hook_.hits().size(), 2u);
}

TEST_F(OutboxTest, RowsLeftPendingAreFoundByThePollAfterARestart) {
  StartService(false);  // rows are committed but handed to nobody (as before a crash)
  Send(1500);
  ASSERT_EQ(Pending(), 1u);
  MakeOutbox();
  outbox_->Start();  // the first poll runs at start
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() >= 1; }));
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }));
  // Later polls do not send a delivered row again.
  Send(500);
  outbox_->Wake();
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() >= 2; }));
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }));
  outbox_->Wake();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(hook_.hits().size(), 2u);
}

TEST_F(OutboxTest, LoopbackIsRefusedByDefaultWithANeutralError) {
  MakeOutbox(true);  // public addresses only
  StartService(true);
  Send(1500);
  ASSERT_TRUE(WaitFor([&] { return store_->rules().ListDeliveryLog(org_, Page{})->total >= 1; }));
  auto log = store_->rules().ListDeliveryLog(org_, Page{})->items;
  ASSERT_FALSE(log.empty());
  EXPECT_FALSE(log[0].ok);
  // The same words as for a closed or filtered port: no port scanner.
  EXPECT_EQ(log[0].error, "could not connect to " + act::TargetKeyOf(hook_.url()));
  EXPECT_TRUE(hook_.hits().empty());
}

TEST_F(OutboxTest, SealedSecretsAreOpenedOnlyForTheDelivery) {
  // A second rule whose webhook carries a sealed Authorization header.
  json actions = json::array({{{"type", "webhook"},
                               {"url", hook_.url()},
                               {"headers", {{"Authorization", "Bearer s3cret-token"}}}}});
  auto stored = act::ActionsForStore(actions, json::array(), store_->secrets());
  ASSERT_TRUE(stored.ok()) << stored.status().message();
  ASSERT_EQ(stored->dump().find("s3cret-token"), std::string::npos);
  json rule = Co2Rule();
  rule["name"] = "CO2 sealed";
  rule["actions"] = *stored;
  ASSERT_NE(CreateRule(rule), 0);
  MakeOutbox();
  StartService(true);
  Send(1500);
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() >= 2; }));
  int with_token = 0;
  for (const auto& h : hook_.hits()) {
    with_token += h.head.find("Authorization: Bearer s3cret-token") != std::string::npos;
  }
  EXPECT_EQ(with_token, 1);
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }));
  // The outbox row copied from the definition holds the sealed form only.
  auto rows = store_->rules().ListDeliveryLog(org_, Page{});
  EXPECT_EQ(rows->total, 2);
}

TEST_F(OutboxTest, ClearSecretsOfOlderDefinitionsAreSealedAtStartAndStillSent) {
  json rule = Co2Rule();
  rule["name"] = "CO2 old";
  rule["actions"] = json::array(
      {{{"type", "webhook"}, {"url", hook_.url()}, {"headers", {{"X-Key", "old-clear-key"}}}}});
  const Id id = CreateRule(rule);
  ASSERT_NE(id, 0);
  auto sealed = act::SealClearRuleSecrets(store_->rules(), store_->secrets());
  ASSERT_TRUE(sealed.ok()) << sealed.status().message();
  EXPECT_EQ(*sealed, 1);
  EXPECT_EQ(store_->rules().GetRule(id)->definition.find("old-clear-key"), std::string::npos);
  EXPECT_EQ(*act::SealClearRuleSecrets(store_->rules(), store_->secrets()), 0);  // once
  MakeOutbox();
  StartService(true);
  Send(1500);
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() >= 2; }));
  int with_key = 0;
  for (const auto& h : hook_.hits())
    with_key += h.head.find("X-Key: old-clear-key") != std::string::npos;
  EXPECT_EQ(with_key, 1);
}

// "sms" and "notify_contacts" (issue 20): recipients and gateway come from the resolver at
// delivery; with no gateway or nobody to reach the row fails at once (retrying cannot help).
TEST_F(OutboxTest, SmsWithoutGatewayAndNotifyWithoutContactsFailAtOnce) {
  json rule = Co2Rule();
  rule["name"] = "CO2 sms";
  rule["actions"] = json::array({{{"type", "sms"}, {"to", {"+4520000001"}}, {"message", "m"}},
                                 {{"type", "notify_contacts"}, {"via", "sms"}, {"message", "m"}}});
  ASSERT_NE(CreateRule(rule), 0);
  MakeOutbox();
  std::atomic<int> asked{0};  // two workers may ask at once
  outbox_->SetContactResolver([&asked](const OutboxEntry&, bool) -> Result<act::ContactRoute> {
    ++asked;
    return act::ContactRoute{};  // no gateway, no contacts
  });
  StartService(true);
  Send(1500);
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() >= 1 && Pending() == 0; }));
  auto log = store_->rules().ListDeliveryLog(org_, Page{});
  ASSERT_TRUE(log.ok());
  std::map<std::string, std::string> errors;
  for (const auto& l : log->items) {
    if (l.action_type == "webhook") continue;
    EXPECT_FALSE(l.ok);
    EXPECT_EQ(l.attempt, 1);
    EXPECT_EQ(l.target_key, act::ContactsTargetKey(org_));
    errors[l.action_type] = l.error;
  }
  EXPECT_EQ(errors["sms"], "the organisation has no SMS gateway");
  EXPECT_EQ(errors["notify_contacts"].rfind("no recipient", 0), 0u) << errors["notify_contacts"];
  EXPECT_EQ(asked.load(), 2);
}

// Rules stored before actions were held to their organisation's namespace (or written around the
// API) still hold other topics: such a rule still loads and fires, and the delivery refuses those
// actions at once (publishing nothing there) and publishes the one in the organisation's namespace.
TEST_F(OutboxTest, AnMqttActionOutsideItsOrganisationsNamespaceIsRefusedAtDelivery) {
  const std::string own = act::ActionTopicPrefix(org_) + "alarms";
  json rule = Co2Rule();
  rule["name"] = "CO2 mqtt";
  rule["actions"] = json::array();
  for (const std::string& topic :
       {std::string("v1.1/Datastreams(1)/Observations"), act::ActionTopicPrefix(org_ + 1) + "x",
        std::string("eu868/gateway/0016c001f153a14c/state/conn"), own})
    rule["actions"].push_back({{"type", "mqtt"}, {"topic", topic}, {"payload", "p"}});
  ASSERT_NE(CreateRule(rule), 0);
  MakeOutbox();
  std::mutex mu;
  std::vector<std::string> published;
  outbox_->SetMqttPublisher([&](std::string topic, std::string, auto done) {
    {
      std::lock_guard lk(mu);
      published.push_back(topic);
    }
    done(Status::Ok());
    return Status::Ok();
  });
  StartService(true);
  Send(1500);
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() >= 1 && Pending() == 0; }));
  {
    std::lock_guard lk(mu);
    EXPECT_EQ(published, std::vector<std::string>{own});
  }
  auto log = store_->rules().ListDeliveryLog(org_, Page{});
  ASSERT_TRUE(log.ok());
  int refused = 0;
  for (const auto& l : log->items) {
    if (l.action_type != "mqtt" || l.ok) continue;
    ++refused;
    EXPECT_EQ(l.attempt, 1);  // at once, not retried
    EXPECT_NE(l.error.find("namespace"), std::string::npos) << l.error;
  }
  EXPECT_EQ(refused, 3);
}

// A row that fails for one of its recipients is retried for that one only: the others got
// their message once (issue 20: "the message is sent once"), and a number listed twice once.
TEST_F(OutboxTest, ARetryOfAContactsRowSendsOnlyToTheRecipientsNotYetReached) {
  Receiver gateway{Receiver::Mode::kOk};
  gateway.fail_matching("4520000002", 1);
  json rule = Co2Rule();
  rule["name"] = "CO2 sms";
  rule["actions"] = json::array({{{"type", "sms"},
                                  {"to", {"+4520000001", "+4520000002", "+45 20 00 00 01"}},
                                  {"message", "m"}}});
  ASSERT_NE(CreateRule(rule), 0);
  MakeOutbox(false, 50);
  SmsGateway gw;
  gw.org_id = org_;
  gw.url = gateway.url();
  gw.body = "to={{to}}&text={{message}}";
  outbox_->SetContactResolver([gw](const OutboxEntry&, bool) -> Result<act::ContactRoute> {
    act::ContactRoute r;
    r.gateway = gw;
    return r;
  });
  outbox_->Start();  // its poll picks the row up again when the retry falls due
  StartService(true);
  Send(1500);
  auto sms_attempts = [&] {
    std::vector<DeliveryLogEntry> out;
    auto log = store_->rules().ListDeliveryLog(org_, Page{});
    if (log.ok())
      for (const auto& l : log->items)
        if (l.action_type == "sms") out.push_back(l);
    return out;
  };
  ASSERT_TRUE(WaitFor([&] { return sms_attempts().size() == 1; }));
  EXPECT_FALSE(sms_attempts()[0].ok);
  clock_.Advance(60'000);  // past the backoff
  ASSERT_TRUE(WaitFor([&] { return sms_attempts().size() == 2; }));
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }));
  const auto attempts = sms_attempts();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_TRUE(attempts[0].ok != attempts[1].ok) << "one failed attempt, then one delivered";
  std::map<std::string, std::vector<int>> answers;  // number → statuses, in order
  for (const auto& h : gateway.hits()) {
    const std::string number = h.body.find("4520000001") != std::string::npos ? "01" : "02";
    answers[number].push_back(h.answered);
  }
  EXPECT_EQ(answers["01"], std::vector<int>{200}) << "reached once, not again on the retry";
  EXPECT_EQ(answers["02"], (std::vector<int>{500, 200}));
}

// The idempotency key a receiver can use (issue 19): every webhook request names its outbox row,
// the same on the retry.
TEST_F(OutboxTest, AWebhookCarriesTheRowsIdempotencyKeyTheSameOnARetry) {
  hook_.fail_matching("\"raise\"", 1);  // the raise's first attempt is answered 500
  MakeOutbox(false, 50);
  outbox_->Start();
  StartService(true);
  Send(1500);
  ASSERT_TRUE(WaitFor([&] { return hook_.hits().size() == 1; }));
  clock_.Advance(60'000);  // past the backoff
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() == 1; }));
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }));
  const auto log = store_->rules().ListDeliveryLog(org_, Page{})->items;
  ASSERT_EQ(log.size(), 2u);
  const Id row = log[0].outbox_id;
  EXPECT_EQ(act::IdempotencyKey(row), "bysans-outbox-" + std::to_string(row));
  const std::string header = "Idempotency-Key: \"bysans-outbox-" + std::to_string(row) + "\"\r\n";
  const auto hits = hook_.hits();
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].answered, 500);
  EXPECT_EQ(hits[1].answered, 200);
  for (const auto& h : hits) EXPECT_NE(h.head.find(header), std::string::npos) << h.head;
  // The clear is another row: another key.
  Send(500);
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() == 2; }));
  EXPECT_EQ(hook_.hits()[2].head.find(header), std::string::npos);
  EXPECT_NE(hook_.hits()[2].head.find("Idempotency-Key: \"bysans-outbox-"), std::string::npos);
}

// A header of the action's own named Idempotency-Key does not replace or repeat the row's.
TEST_F(OutboxTest, AnActionsOwnIdempotencyKeyHeaderIsNotSent) {
  json rule = Co2Rule();
  rule["name"] = "CO2 own key";
  rule["actions"] = json::array(
      {{{"type", "webhook"}, {"url", hook_.url()}, {"headers", {{"idempotency-key", "mine"}}}}});
  auto stored = act::ActionsForStore(rule["actions"], json::array(), store_->secrets());
  ASSERT_TRUE(stored.ok()) << stored.status().message();
  rule["actions"] = *stored;
  ASSERT_NE(CreateRule(rule), 0);
  MakeOutbox();
  StartService(true);
  Send(1500);
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() >= 2; }));  // both rules' webhooks
  for (const auto& h : hook_.hits()) {
    EXPECT_EQ(h.head.find("mine"), std::string::npos) << h.head;
    const size_t first = h.head.find("Idempotency-Key: \"bysans-outbox-");
    EXPECT_NE(first, std::string::npos) << h.head;
    EXPECT_EQ(h.head.find("dempotency-", first + 2), std::string::npos) << h.head;
  }
}

// An e-mail's Message-ID names its outbox row (issue 19), at the sender's domain.
TEST_F(OutboxTest, AnEmailsMessageIdNamesItsRow) {
  testing::SmtpServer smtp;
  json rule = Co2Rule();
  rule["name"] = "CO2 mail";
  rule["actions"] = json::array({{{"type", "email"},
                                  {"url", smtp.url()},
                                  {"from", "bysans@kommune.example"},
                                  {"to", {"drift@kommune.example"}},
                                  {"subject", "CO2"}}});
  ASSERT_NE(CreateRule(rule), 0);
  MakeOutbox();
  StartService(true);
  Send(1500);
  Id row = 0;
  ASSERT_TRUE(WaitFor([&] {
    auto log = store_->rules().ListDeliveryLog(org_, Page{});
    if (log.ok())
      for (const auto& l : log->items)
        if (l.action_type == "email" && l.ok) row = l.outbox_id;
    return row != 0;
  }));
  const std::string id = "Message-ID: <bysans-outbox-" + std::to_string(row) + "@kommune.example>";
  ASSERT_TRUE(WaitFor([&] { return smtp.Output().find(id) != std::string::npos; }))
      << smtp.Output();
  smtp.Stop();
}

// Rows written claimed by their writer (RuleStore::SetOutboxWriteLease, as the server does) are
// not taken by a poll until the lease ends: another node's outbox leaves them to the node that
// wrote them; after the lease (that node died) the poll delivers them.
TEST_F(OutboxTest, RowsWrittenClaimedAreLeftToTheirWriterUntilTheLeaseEnds) {
  store_->rules().SetOutboxWriteLease(30'000);
  StartService(false);  // the writer never hands them over (it died)
  Send(1500);
  ASSERT_EQ(Pending(), 1u);
  MakeOutbox(false, 20);
  outbox_->Start();
  std::this_thread::sleep_for(300ms);  // 15 polls
  EXPECT_TRUE(hook_.hits().empty());
  clock_.Advance(29'999);
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(hook_.hits().empty());
  clock_.Advance(1);  // the lease ends
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() == 1; }));
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(hook_.hits().size(), 1u);
}

// Stop releases the claims of the rows it did not deliver: the next outbox (another node, or
// this one restarted) sends them at once, without waiting for the lease.
TEST_F(OutboxTest, StopReleasesTheClaimsOfRowsNotDelivered) {
  hook_.set_mode(Receiver::Mode::kHang);
  MakeOutbox(false, 20);
  outbox_->Start();
  StartService(false);
  Send(1500);
  outbox_->Wake();
  ASSERT_TRUE(WaitFor([&] { return hook_.hits().size() == 1; }));  // in flight, hanging
  EXPECT_TRUE(store_->rules().ClaimDueOutbox(10, clock_.NowMs(), 1000)->empty()) << "held";
  outbox_->Stop();
  EXPECT_EQ(store_->rules().ListDeliveryLog(org_, Page{})->total, 0) << "aborted: no attempt";
  hook_.set_mode(Receiver::Mode::kOk);
  MakeOutbox(false, 20);  // the next outbox, same settings
  outbox_->Start();
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() == 1; }));
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }));
}

// On SQLite one server sends from one file: the claims a killed process left (its rows written
// claimed, or claimed by its poll) end when the store is opened again, so the restart sends them
// at once instead of after the lease.
TEST_F(OutboxTest, OnSqliteARestartEndsTheClaimsThePreviousProcessLeft) {
  store_->rules().SetOutboxWriteLease(60'000);
  StartService(false);
  Send(1500);
  ASSERT_EQ(Pending(), 1u);
  ASSERT_TRUE(store_->rules().ClaimDueOutbox(10, clock_.NowMs(), 60'000)->empty());  // held
  service_.reset();
  store_->Close();
  store_.reset();
  SqliteOptions o;
  o.path = (dir_ / "bysans.db").string();
  o.clock = &clock_;
  auto reopened = OpenSqliteStore(o);
  ASSERT_TRUE(reopened.ok()) << reopened.status().message();
  store_ = std::move(*reopened);
  MakeOutbox();
  outbox_->Start();
  ASSERT_TRUE(WaitFor([&] { return hook_.answered_ok() == 1; }));
  ASSERT_TRUE(WaitFor([&] { return Pending() == 0; }));
}

}  // namespace
}  // namespace bysans

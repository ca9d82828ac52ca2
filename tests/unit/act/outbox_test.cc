// The outbox hand-off: rows the rules runtime just committed go straight to their
// target's workers (no store poll on the alarm path); rows left pending in the store
// (a restart) are still found by the poll. Real SQLite file, real HTTP receiver.
#include "act/outbox.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "integration/rules_receiver.h"
#include "rules/service.h"
#include "store/rule_store.h"
#include "store/sqlite/sqlite_store.h"

namespace bysans {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using testing::Receiver;

template <typename Pred>
bool WaitFor(Pred pred) {
  auto end = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bysans-outbox-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    SqliteOptions o;
    o.path = (dir_ / "bysans.db").string();
    o.clock = &clock_;
    auto s = OpenSqliteStore(o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    org_ = store_->CreateOrganization({0, "Kommune", 0})->id;
    Application app;
    app.org_id = org_;
    app.name = "Skole";
    Id app_id = store_->CreateApplication(app)->id;
    Device d;
    d.org_id = org_;
    d.app_id = app_id;
    d.name = "Lokale";
    device_ = *store_->CreateDevice(d, "hash1");
    RuleRecord r;
    r.org_id = org_;
    r.definition = json{{"name", "CO2"},
                        {"scope", {{"kind", "device"}, {"id", device_.id}}},
                        {"expression", "co2 > 1000"},
                        {"actions", json::array({{{"type", "webhook"}, {"url", hook_.url()}}})}}
                       .dump();
    ASSERT_TRUE(store_->rules().CreateRule(r).ok());
  }
  void TearDown() override {
    service_.reset();
    outbox_.reset();
    store_->Close();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // An outbox whose poll would only run after an hour.
  void MakeOutbox() {
    act::OutboxOptions o;
    o.poll_ms = 3'600'000;
    outbox_ = std::make_unique<act::Outbox>(store_->rules(), clock_, o);
  }
  void StartService(bool hand_off) {
    std::function<void(std::vector<OutboxEntry>)> cb;
    if (hand_off) cb = [this](std::vector<OutboxEntry> rows) { outbox_->Submit(std::move(rows)); };
    service_ =
        std::make_unique<rules::RulesService>(*store_, clock_, rules::RulesServiceOptions{}, cb);
    ASSERT_TRUE(service_->Start().ok());
  }
  void Send(double co2) {
    service_->OnCommitted(std::make_shared<const Device>(device_),
                          std::make_shared<const std::vector<Reading>>(std::vector<Reading>{
                              {device_.id, "co2", clock_.NowMs(), co2, "", Quality::kOk}}));
    service_->Drain();
  }
  size_t Pending() { return store_->rules().ListPendingOutbox(100)->size(); }

  Receiver hook_{Receiver::Mode::kOk};
  ManualClock clock_{1'700'000'000'000};
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<act::Outbox> outbox_;
  std::unique_ptr<rules::RulesService> service_;
  Id org_ = 0;
  Device device_;
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

}  // namespace
}  // namespace bysans

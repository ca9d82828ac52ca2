// Shared by the act tests: a real SQLite store in a fresh temporary directory, with a
// ManualClock, the organisation "Kommune", its application "Skole" and device "Lokale",
// and helpers to add rules, run the rules runtime, send readings and count alarms.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "rules/service.h"
#include "store/rule_store.h"
#include "store/sqlite/sqlite_store.h"

namespace bysans::act_test {

using namespace std::chrono_literals;

// Polls `pred` every 20 ms for up to a minute; its last answer.
template <typename Pred>
bool WaitFor(Pred pred) {
  auto end = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

class StoreFixture : public ::testing::Test {
 protected:
  using json = nlohmann::json;

  // Opens the store and creates the organisation, application and device (the device
  // with `expected_interval_s`). Call with ASSERT_NO_FATAL_FAILURE from SetUp.
  void OpenStore(int64_t expected_interval_s = 0) {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ =
        std::filesystem::temp_directory_path() / ("bysans-act-" + std::to_string(::getpid()) + "-" +
                                                  test->test_suite_name() + "-" + test->name());
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
    app_ = store_->CreateApplication(app)->id;
    Device d;
    d.org_id = org_;
    d.app_id = app_;
    d.name = "Lokale";
    d.expected_interval_s = expected_interval_s;
    device_ = *store_->CreateDevice(d, "hash1");
  }

  void TearDown() override {
    service_.reset();
    if (store_) store_->Close();
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // "co2 > 1000" on the device, named "CO2"; the caller may add actions.
  json Co2Rule() const {
    return json{{"name", "CO2"},
                {"scope", {{"kind", "device"}, {"id", device_.id}}},
                {"expression", "co2 > 1000"}};
  }

  // Stores a rule of the organisation (or of `org`); its id (0 after a test failure).
  Id CreateRule(const json& definition, Id org = 0) {
    RuleRecord r;
    r.org_id = org ? org : org_;
    r.definition = definition.dump();
    auto created = store_->rules().CreateRule(r);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? created->id : 0;
  }

  // Starts the rules runtime; `on_outbox` gets the committed outbox rows.
  void StartService(std::function<void(std::vector<OutboxEntry>)> on_outbox = nullptr) {
    service_ = std::make_unique<rules::RulesService>(*store_, clock_, rules::RulesServiceOptions{},
                                                     std::move(on_outbox));
    ASSERT_TRUE(service_->Start().ok());
  }

  // Hands one co2 reading of the device (as it is now) to the runtime, as the pipeline
  // does, without waiting for it.
  void Commit(double co2) {
    service_->OnCommitted(std::make_shared<const Device>(device_),
                          std::make_shared<const std::vector<Reading>>(std::vector<Reading>{
                              {device_.id, "co2", clock_.NowMs(), co2, "", Quality::kOk}}));
  }
  // The same, then waits until the runtime has processed it.
  void Send(double co2) {
    Commit(co2);
    service_->Drain();
  }

  // Alarms of the organisation, all or in one state.
  size_t Count(const std::string& state = "") {
    AlarmFilter f;
    f.org_id = org_;
    if (!state.empty()) f.states = {state};
    return store_->rules().ListAlarms(f, Page{})->items.size();
  }

  ManualClock clock_{1'700'000'000'000};
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<rules::RulesService> service_;
  Id org_ = 0, app_ = 0;
  Device device_;
};

}  // namespace bysans::act_test

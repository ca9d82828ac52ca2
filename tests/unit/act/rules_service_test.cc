// The rules runtime in-process on a real SQLite file with a ManualClock:
// silence detection in simulated time, silencing, and templates.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "act/template.h"
#include "rules/service.h"
#include "store/rule_store.h"
#include "store/sqlite/sqlite_store.h"

namespace bysans {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

template <typename Pred>
bool WaitFor(Pred pred) {
  auto end = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

class RulesServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bysans-rules-" + std::to_string(::getpid()) + "-" +
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
    app_ = store_->CreateApplication(app)->id;
    Device d;
    d.org_id = org_;
    d.app_id = app_;
    d.name = "Lokale";
    d.expected_interval_s = 60;
    device_ = *store_->CreateDevice(d, "hash1");
    RuleRecord r;
    r.org_id = org_;
    r.definition = json{{"name", "Tavs"},
                        {"kind", "silence"},
                        {"scope", {{"kind", "application"}, {"id", app_}}},
                        {"silence", {{"intervalMultiple", 3}}}}
                       .dump();
    rule_ = store_->rules().CreateRule(r)->id;
    service_ = std::make_unique<rules::RulesService>(*store_, clock_, rules::RulesServiceOptions{},
                                                     nullptr);
    ASSERT_TRUE(service_->Start().ok());
  }
  void TearDown() override {
    service_.reset();
    store_->Close();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  size_t Count(const std::string& state) {
    AlarmFilter f;
    f.org_id = org_;
    if (!state.empty()) f.states = {state};
    return store_->rules().ListAlarms(f, Page{})->items.size();
  }
  void Reading(double v) {
    service_->OnCommitted(device_, {{device_.id, "co2", clock_.NowMs(), v, "", Quality::kOk}});
  }

  ManualClock clock_{1'700'000'000'000};
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<rules::RulesService> service_;
  Id org_ = 0, app_ = 0, rule_ = 0;
  Device device_;
};

TEST_F(RulesServiceTest, SilenceFiresAfterThreeIntervalsInSimulatedTime) {
  Reading(500);
  service_->Drain();
  clock_.Advance(170'000);  // 2 min 50 s: not yet
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(Count("active"), 0u);
  clock_.Advance(11'000);  // 3 min 1 s
  ASSERT_TRUE(WaitFor([&] { return Count("active") == 1; }));
  Reading(510);  // the next message clears
  ASSERT_TRUE(WaitFor([&] { return Count("cleared") == 1; }));
  EXPECT_EQ(Count(""), 1u);
}

TEST_F(RulesServiceTest, NoSilenceAlarmWhileTheDeviceIsSilenced) {
  Reading(500);
  service_->Drain();
  SilenceRecord s;
  s.org_id = org_;
  s.device_id = device_.id;
  s.until_ms = clock_.NowMs() + 3'600'000;
  ASSERT_TRUE(store_->rules().CreateSilence(s).ok());
  service_->Drain();  // the runtime has applied the silence
  clock_.Advance(600'000);
  std::this_thread::sleep_for(800ms);
  EXPECT_EQ(Count(""), 0u);
  clock_.Advance(3'600'000);  // silence over, still no message: raised
  ASSERT_TRUE(WaitFor([&] { return Count("active") == 1; }));
}

TEST(TemplateTest, RendersPathsEscapesAndObjects) {
  json ctx = {{"alarm", {{"message", "CO2 \"høj\""}, {"id", 7}}}, {"readings", {{"co2", 1200}}}};
  EXPECT_EQ(
      act::Render("{\"m\":\"{{alarm.message}}\",\"r\":{{readings}},\"x\":\"{{nope}}\"}", ctx, true),
      R"({"m":"CO2 \"høj\"","r":{"co2":1200},"x":""})");
  EXPECT_EQ(act::Render("Alarm {{ alarm.id }}: {{alarm.message}}", ctx, false),
            "Alarm 7: CO2 \"høj\"");
}

}  // namespace
}  // namespace bysans

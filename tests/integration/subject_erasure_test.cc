// "Erase a data subject" against the real server (issue 18, api/subject_erasure_routes.cc): the
// devices of a citizen (metadata citizenId=p-4711) lose their readings, raw messages and
// data-target share-log copies — searched for in the store, on SQLite and PostgreSQL — while
// another device's data stays and is answered by the API; a dry run removes nothing; the report
// counts right; a job interrupted by a restart resumes.
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "integration/backend_fixture.h"
#include "integration/store_contents.h"
#include "integration/target_receiver.h"

namespace bysans::testing {
namespace {

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

constexpr const char* kMarker = "cpr-0101901234-SUBJECT-7f3a9c";
constexpr const char* kKeep = "keep-2202851234-OTHER-1b2c3d";
// The subject's next of kin (the device's own contact) and the application's staff contact.
constexpr const char* kKin = "Kin-Marker-Datter-9e8d7c";
constexpr const char* kStaff = "Staff-Marker-Hjemmepleje-4a5b6c";

class SubjectErasureTest : public BackendServerTest {
 protected:
  void SetUp() override {
    server_env_.push_back("BYSANS_OUTBOUND_ALLOW=127.0.0.0/8");
    BackendServerTest::SetUp();
    if (HasFatalFailure()) return;
    other_ = CreateHttpDevice("Subject Kommune");
    auto dev = admin_->PostJson(
        "/api/v1/applications/" + std::to_string(other_.app_id) + "/devices",
        {{"name", "Borger 17"}, {"transport", "http"}, {"metadata", {{"citizenId", "p-4711"}}}});
    ASSERT_EQ(dev.status, 201) << dev.body;
    citizen_ = other_;
    citizen_.device_id = dev.Json().value("id", int64_t{0});
    citizen_.ingest_key = dev.Json().value("apiKey", "");
    // A paused data target: its share log keeps a copy of every message.
    auto target =
        admin_->PostJson("/api/v1/applications/" + std::to_string(other_.app_id) + "/data-targets",
                         {{"name", "receiver"}, {"url", rx_.url()}, {"paused", true}});
    ASSERT_EQ(target.status, 201) << target.body;
    target_id_ = target.Json().value("id", int64_t{0});
    for (int i = 0; i < 5; ++i) {
      ASSERT_EQ(Ingest(citizen_.ingest_key, std::string(R"({"note":")") + kMarker + R"(","fall":)" +
                                                std::to_string(i) + "}")
                    .status,
                204);
      ASSERT_EQ(Ingest(other_.ingest_key, std::string(R"({"tag":")") + kKeep + R"(","co2":)" +
                                              std::to_string(500 + i) + "}")
                    .status,
                204);
    }
    PutContacts(CitizenPath() + "/contacts", kKin, "+45 20 00 00 17");
    PutContacts("/api/v1/applications/" + std::to_string(other_.app_id) + "/contacts", kStaff,
                "+45 20 00 00 99");
    ASSERT_TRUE(InStore(kMarker)) << "the test must see the marker first";
    ASSERT_TRUE(InStore(kKin));
    other_readings_ = Count(OtherPath() + "/readings?limit=100");
    ASSERT_GE(other_readings_, 2u);
  }

  std::string OtherPath() const { return "/api/v1/devices/" + std::to_string(other_.device_id); }
  std::string CitizenPath() const {
    return "/api/v1/devices/" + std::to_string(citizen_.device_id);
  }

  void PutContacts(const std::string& path, const char* name, const char* phone) {
    const json body = {{"items", json::array({{{"name", name}, {"phone", phone}}})}};
    auto r = admin_->Request("PUT", path, body.dump(), {"Content-Type: application/json"});
    ASSERT_EQ(r.status, 200) << path << " " << r.body;
  }
  // The names of a device's or application's contacts.
  std::vector<std::string> ContactNames(const std::string& path) {
    std::vector<std::string> out;
    json items = Items(path + "/contacts");
    if (items.is_array())
      for (const json& c : items) out.push_back(c.value("name", ""));
    return out;
  }

  std::string Base() const {
    return "/api/v1/organizations/" + std::to_string(other_.org_id) + "/subject-erasures";
  }

  json WaitDone(int64_t job) {
    json j;
    EXPECT_TRUE(WaitFor(
        [&] {
          j = admin_->Get(Base() + "/" + std::to_string(job)).Json();
          return j["state"] == "done" || j["state"] == "failed";
        },
        60))
        << j;
    return j;
  }

  size_t Count(const std::string& path) {
    json items = Items(path);
    return items.is_array() ? items.size() : 0;
  }

  bool InStore(const std::string& marker) const {
    return StoreHolds(server_->data_dir(), server_env_, marker);
  }

  // A subject erasure job row written behind the server's back (it is stopped); its id.
  int64_t InsertJob(const std::string& data_dir, const std::string& values) {
    const std::string sql =
        "INSERT INTO subject_erasures(org_id, state, request, report, error, requested_by, "
        "created_ms, updated_ms) VALUES(" +
        values + ")";
    if (postgres()) {
      auto id =
          SharedPostgres::Get()->Query(PostgresDatabaseOf(server_env_), sql + " RETURNING id");
      EXPECT_TRUE(id.ok()) << id.status().message();
      return id.ok() ? std::stoll(*id) : 0;
    }
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((data_dir + "/bysans.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    const int64_t id = sqlite3_last_insert_rowid(db);
    sqlite3_close(db);
    return id;
  }

  void ExpectOtherIntact() {
    EXPECT_EQ(Count(OtherPath() + "/messages?limit=100"), 5u);
    EXPECT_EQ(Count(OtherPath() + "/readings?limit=100"), other_readings_);
    EXPECT_TRUE(InStore(kKeep));
  }

  TargetReceiver rx_{TargetReceiver::Mode::kOk};
  DeviceHandle other_, citizen_;
  int64_t target_id_ = 0;
  size_t other_readings_ = 0;
};

BYSANS_ON_BOTH_STORES(SubjectErasureTest);

TEST_P(SubjectErasureTest, DryRunCountsAndRemovesNothingThenTheJobErasesFromTheFile) {
  const json selector = {{"metadata", {{"key", "citizenId"}, {"value", "p-4711"}}}};
  json dry_body = selector;
  dry_body["dryRun"] = true;
  auto dry = admin_->PostJson(Base(), dry_body);
  ASSERT_EQ(dry.status, 200) << dry.body;
  const json plan = dry.Json();
  ASSERT_EQ(plan["devices"].size(), 1u) << plan;
  EXPECT_EQ(plan["devices"][0]["id"], citizen_.device_id);
  EXPECT_EQ(plan["devices"][0]["name"], "Borger 17");
  // What the API answers (two messages in the same millisecond are one reading per key).
  const std::string dev = "/api/v1/devices/" + std::to_string(citizen_.device_id);
  const size_t readings = Count(dev + "/readings?limit=100");
  EXPECT_GE(readings, 2u);
  EXPECT_EQ(plan["totals"]["readings"], readings) << plan;
  EXPECT_EQ(plan["totals"]["rawMessages"], 5) << plan;
  EXPECT_EQ(plan["totals"]["shareRecords"], 5) << plan;
  EXPECT_EQ(plan["totals"]["contacts"], 1) << plan;
  EXPECT_EQ(Count(dev + "/messages?limit=100"), 5u) << "a dry run removes nothing";
  EXPECT_EQ(ContactNames(dev), std::vector<std::string>{kKin});
  EXPECT_TRUE(InStore(kMarker));

  auto start = admin_->PostJson(Base(), selector);
  ASSERT_EQ(start.status, 202) << start.body;
  const int64_t job = start.Json().value("id", int64_t{0});
  const json done = WaitDone(job);
  ASSERT_EQ(done["state"], "done") << done;
  const json report = done["report"];
  EXPECT_EQ(report["totals"], plan["totals"]) << report;
  ASSERT_EQ(report["devices"].size(), 1u);
  EXPECT_EQ(report["devices"][0]["name"], "Borger 17");
  EXPECT_FALSE(report.value("requestedBy", "").empty()) << report;
  EXPECT_FALSE(report.value("finishedAt", "").empty()) << report;

  EXPECT_FALSE(InStore(kMarker)) << "the subject's data is still in bysans.db or its WAL";
  EXPECT_EQ(Count(dev + "/messages?limit=100"), 0u);
  EXPECT_EQ(Count(dev + "/readings?limit=100"), 0u);
  EXPECT_EQ(admin_->Get(dev).status, 200) << "the device itself stays";
  // Its next of kin went with it, from the API and the files; the application's staff stayed.
  EXPECT_TRUE(ContactNames(dev).empty());
  EXPECT_FALSE(InStore(kKin));
  EXPECT_EQ(ContactNames("/api/v1/applications/" + std::to_string(other_.app_id)),
            std::vector<std::string>{kStaff});
  EXPECT_TRUE(InStore(kStaff));
  ExpectOtherIntact();
  // The job is listed; start and finish are in the audit log.
  json list = Items(Base());
  ASSERT_EQ(list.size(), 1u);
  std::string audit = admin_->Get("/api/v1/audit?orgId=" + std::to_string(other_.org_id)).body;
  EXPECT_NE(audit.find("subject-erasure-start"), std::string::npos);
  EXPECT_NE(audit.find("subject-erasure-done"), std::string::npos);
  // The target, resumed, delivers the other device's messages and none of the subject's.
  ASSERT_EQ(admin_
                ->PostJson("/api/v1/data-targets/" + std::to_string(target_id_) + "/resume",
                           json::object())
                .status,
            200);
  ASSERT_TRUE(WaitFor([&] { return rx_.hits().size() >= 5; }, 30));
  // In commit order, so the erased records (tombstones) would have come before the 5th.
  EXPECT_EQ(rx_.hits().size(), 5u) << "erased records must not be delivered, not even empty";
  for (const auto& hit : rx_.hits()) {
    EXPECT_EQ(hit.body.find(kMarker), std::string::npos);
    EXPECT_NE(hit.body.find(kKeep), std::string::npos) << hit.body;
  }
}

TEST_P(SubjectErasureTest, AJobInterruptedByARestartResumes) {
  // A job the previous process had started (state running, devices not chosen yet) when it died.
  std::unique_ptr<ServerProcess> old = std::move(server_);
  old->Kill9();
  const int64_t job =
      InsertJob(old->data_dir(), std::to_string(other_.org_id) +
                                     ", 'running', '{\"metadata\":{\"key\":\"citizenId\",\"value\":"
                                     "\"p-4711\"}}', '', '', 'admin', 1, 1");
  ASSERT_GT(job, 0);
  StartServer(old->data_dir());
  if (HasFatalFailure()) return;
  const json done = WaitDone(job);
  ASSERT_EQ(done["state"], "done") << done;
  EXPECT_EQ(done["report"]["totals"]["rawMessages"], 5) << done;
  EXPECT_FALSE(InStore(kMarker));
  ExpectOtherIntact();
}

TEST_P(SubjectErasureTest, ATimeRangeKeepsWhatIsOutsideIt) {
  // Two readings of the subject timed two hours and one hour ago (SenML); the range holds the
  // first only, and none of the messages (received now).
  const int64_t t0 = (std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count() -
                      7200) /
                     60 * 60;
  ASSERT_EQ(Ingest(citizen_.ingest_key,
                   "[{\"bt\":" + std::to_string(t0) +
                       ",\"n\":\"pulse\",\"v\":60},{\"n\":\"pulse\",\"v\":61,\"t\":3600}]",
                   "application/senml+json")
                .status,
            204);
  const std::string dev = "/api/v1/devices/" + std::to_string(citizen_.device_id);
  ASSERT_EQ(Count(dev + "/readings?key=pulse&limit=10"), 2u);
  auto job = admin_->PostJson(Base(), {{"metadata", {{"key", "citizenId"}, {"value", "p-4711"}}},
                                       {"from", (t0 - 60) * 1000},
                                       {"to", (t0 + 60) * 1000}});
  ASSERT_EQ(job.status, 202) << job.body;
  const json done = WaitDone(job.Json().value("id", int64_t{0}));
  ASSERT_EQ(done["state"], "done") << done;
  EXPECT_EQ(done["report"]["totals"]["readings"], 1) << done;
  EXPECT_EQ(done["report"]["totals"]["rawMessages"], 0) << done;
  json left = Items(dev + "/readings?key=pulse&limit=10");
  ASSERT_EQ(left.size(), 1u) << left;
  EXPECT_EQ(left[0]["value"], 61) << left;
  EXPECT_EQ(Count(dev + "/messages?limit=100"), 6u);
  EXPECT_TRUE(InStore(kMarker));
  // A period only: the subject's contacts stay.
  EXPECT_EQ(done["report"]["totals"]["contacts"], 0) << done;
  EXPECT_EQ(ContactNames(dev), std::vector<std::string>{kKin});
}

// More of the subject's messages than one store query answers (SQLite's message query stops at
// 10,000 rows): the dry run and the job count every message and reading, a page at a time, never
// all of them loaded at once (api/subject_erasure.cc).
TEST_P(SubjectErasureTest, CountsAreExactBeyondWhatOneStoreQueryAnswers) {
  constexpr int kMany = 10'050;
  constexpr int kSenders = 4;
  constexpr int64_t kFirstMs = 1'700'000'000'000;  // one reading each, a second apart
  std::atomic<int> refused{0};
  std::vector<std::thread> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.emplace_back([&, s] {
      HttpClient device(server_->url());
      for (int i = s; i < kMany; i += kSenders) {
        const std::string body = "{\"timestamp\":" + std::to_string(kFirstMs + i * 1000) +
                                 ",\"step\":" + std::to_string(i) + "}";
        auto r = device.Request("POST", "/api/v1/receive-data?apiKey=" + citizen_.ingest_key, body,
                                {"Content-Type: application/json"});
        if (r.status != 204) ++refused;
      }
    });
  }
  for (std::thread& t : senders) t.join();
  ASSERT_EQ(refused.load(), 0);
  const int64_t messages = kMany + 5;  // and the set-up's
  const size_t readings = Count(CitizenPath() + "/readings?limit=100000");
  ASSERT_GE(readings, size_t{kMany});

  const json selector = {{"metadata", {{"key", "citizenId"}, {"value", "p-4711"}}}};
  json dry_body = selector;
  dry_body["dryRun"] = true;
  auto dry = admin_->PostJson(Base(), dry_body);
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(dry.Json()["totals"]["rawMessages"], messages) << dry.body;
  EXPECT_EQ(dry.Json()["totals"]["readings"], readings) << dry.body;

  auto start = admin_->PostJson(Base(), selector);
  ASSERT_EQ(start.status, 202) << start.body;
  const json done = WaitDone(start.Json().value("id", int64_t{0}));
  ASSERT_EQ(done["state"], "done") << done;
  EXPECT_EQ(done["report"]["totals"]["rawMessages"], messages) << done;
  EXPECT_EQ(done["report"]["totals"]["readings"], readings) << done;
  EXPECT_EQ(Count(CitizenPath() + "/messages?limit=100"), 0u);
  EXPECT_EQ(Count(CitizenPath() + "/readings?limit=100"), 0u);
  ExpectOtherIntact();
}

TEST_P(SubjectErasureTest, DeleteDevicesRemovesTheDevicesToo) {
  auto job = admin_->PostJson(
      Base(), {{"metadata", {{"key", "citizenId"}, {"value", "p-4711"}}}, {"deleteDevices", true}});
  ASSERT_EQ(job.status, 202) << job.body;
  const json done = WaitDone(job.Json().value("id", int64_t{0}));
  ASSERT_EQ(done["state"], "done") << done;
  EXPECT_EQ(done["report"]["devices"][0]["deviceDeleted"], true) << done;
  EXPECT_EQ(admin_->Get("/api/v1/devices/" + std::to_string(citizen_.device_id)).status, 404);
  EXPECT_TRUE(WaitFor([&] { return !InStore(kMarker); }, 20));
  ExpectOtherIntact();
}

}  // namespace
}  // namespace bysans::testing

// Tenancy of "erase a data subject" (api/subject_erasure_routes.cc): only the organisation's
// admins start, list and read jobs; another organisation's admin gets 404 and cannot reach the
// victim's devices through the selector (matching is within the path's organisation only).
#include "security_fixture.h"

namespace bysans::testing {
namespace {

class SubjectErasureSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    if (HasFatalFailure()) return;
    // The victim's device carries the citizen's id and has data.
    auto put =
        admin_->Request("PATCH", a_.DevicePath(),
                        json{{"metadata", {{"citizenId", "p-4711"}}}, {"tags", {"citizen"}}}.dump(),
                        {"Content-Type: application/json"});
    ASSERT_LT(put.status, 300) << put.body;
    ASSERT_EQ(Ingest(a_.device.ingest_key, R"({"fall": 1})").status, 204);
  }

  static std::string Erasures(const Tenant& t) { return t.OrgPath() + "/subject-erasures"; }
  size_t VictimMessages() {
    json items = admin_->Get(a_.DevicePath() + "/messages?limit=10").Json()["items"];
    return items.is_array() ? items.size() : 0;
  }
  const json kSelector = {{"metadata", {{"key", "citizenId"}, {"value", "p-4711"}}}};
};

TEST_F(SubjectErasureSecurityTest, EditorsAndViewersAreRefused) {
  for (HttpClient* c : {a_.editor.client.get(), a_.viewer.client.get()}) {
    EXPECT_EQ(Send(*c, "POST", Erasures(a_), kSelector).status, 403);
    json dry = kSelector;
    dry["dryRun"] = true;
    EXPECT_EQ(Send(*c, "POST", Erasures(a_), dry).status, 403);
    EXPECT_EQ(c->Get(Erasures(a_)).status, 403);
  }
  EXPECT_EQ(VictimMessages(), 1u);
  // The organisation's admin may.
  json dry = kSelector;
  dry["dryRun"] = true;
  auto ok = Send(*a_.admin.client, "POST", Erasures(a_), dry);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json()["devices"].size(), 1u) << ok.body;
}

TEST_F(SubjectErasureSecurityTest, AnotherOrganisationsAdminGets404AndCannotMatchItsDevices) {
  // A job of the victim's organisation.
  auto job = Send(*a_.admin.client, "POST", Erasures(a_), {{"tag", "no-such-tag"}});
  ASSERT_EQ(job.status, 202) << job.body;
  const std::string id = std::to_string(job.Json().value("id", int64_t{0}));
  EXPECT_EQ(a_.admin.client->Get(Erasures(a_) + "/" + id).status, 200);
  // The attacker: the victim's organisation path, and the job through its own organisation.
  EXPECT_EQ(Send(*b_.admin.client, "POST", Erasures(a_), kSelector).status, 404);
  EXPECT_EQ(b_.admin.client->Get(Erasures(a_)).status, 404);
  EXPECT_EQ(b_.admin.client->Get(Erasures(a_) + "/" + id).status, 404);
  EXPECT_EQ(b_.admin.client->Get(Erasures(b_) + "/" + id).status, 404);
  json listed = b_.admin.client->Get(Erasures(b_)).Json()["items"];
  EXPECT_TRUE(listed.is_array() && listed.empty()) << listed;
  // The victim's selector in the attacker's own organisation matches nothing of the victim's.
  for (const json& selector : {kSelector, json{{"tag", "citizen"}}}) {
    json dry = selector;
    dry["dryRun"] = true;
    auto plan = Send(*b_.admin.client, "POST", Erasures(b_), dry);
    ASSERT_EQ(plan.status, 200) << plan.body;
    EXPECT_EQ(plan.Json()["devices"].size(), 0u) << plan.body;
    auto run = Send(*b_.admin.client, "POST", Erasures(b_), selector);
    ASSERT_EQ(run.status, 202) << run.body;
    const std::string path = Erasures(b_) + "/" + std::to_string(run.Json().value("id", 0));
    json state;
    ASSERT_TRUE(WaitFor(
        [&] {
          state = b_.admin.client->Get(path).Json();
          return state["state"] == "done" || state["state"] == "failed";
        },
        30));
    EXPECT_EQ(state["state"], "done") << state;
    EXPECT_EQ(state["report"]["totals"]["devices"], 0) << state;
  }
  EXPECT_EQ(VictimMessages(), 1u) << "the victim's data must stay";
}

// Marking metadata keys personal is a privacy setting: the organisation's admins only; another
// organisation's admin cannot even see the application.
TEST_F(SubjectErasureSecurityTest, OnlyAdminsMarkMetadataKeysPersonal) {
  const json body = {{"personalMetadataKeys", json::array()}};
  const json mark = {{"personalMetadataKeys", {"room"}}};
  EXPECT_EQ(Send(*a_.editor.client, "PATCH", a_.AppPath(), mark).status, 403);
  EXPECT_EQ(Send(*b_.admin.client, "PATCH", a_.AppPath(), mark).status, 404);
  auto ok =
      Send(*a_.admin.client, "PATCH", a_.AppPath(), {{"personalMetadataKeys", {"citizenId"}}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(Send(*a_.editor.client, "PATCH", a_.AppPath(), body).status, 403);
  auto app = a_.viewer.client->Get(a_.AppPath());
  EXPECT_EQ(app.Json()["personalMetadataKeys"], json({"citizenId"})) << app.body;
}

}  // namespace
}  // namespace bysans::testing

// Privacy by design (issue 18), against the real server: an application's data class (and the
// older personalData flag), who changes it, who exports its data, that every read of a
// personal application's readings, messages and Observations is in the audit log (folded per
// minute) while reads of class none are not, that no class but none can be published as open
// data, and the retention settings' validation.
#include <chrono>
#include <thread>

#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class PrivacyTest : public SecurityTest {
 protected:
  HttpResult SetClass(HttpClient& c, const std::string& cls) {
    return Send(c, "PATCH", a_.AppPath(), {{"dataClass", cls}});
  }
  // Sends one reading to A's device and waits until it can be read.
  void IngestOne() {
    ASSERT_EQ(Ingest(a_.device.ingest_key, R"({"fall": 0, "heartRate": 71})").status, 204);
    for (int i = 0; i < 100; ++i) {
      auto latest = a_.admin.client->Get(a_.DevicePath() + "/latest");
      if (latest.status == 200 && !latest.Json()["items"].empty()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL() << "the reading never arrived";
  }
  // A's audit entries with action "read" for `object` ("device:5") by user `user_id`.
  std::vector<json> Reads(int64_t user_id, const std::string& object_type, int64_t object_id) {
    auto audit =
        a_.admin.client->Get("/api/v1/audit?limit=1000&orgId=" + std::to_string(a_.device.org_id));
    EXPECT_EQ(audit.status, 200) << audit.body;
    std::vector<json> out;
    const json all = audit.Json();  // kept: the loop walks a member of it
    for (const json& e : all["items"]) {
      if (e["action"] == "read" && e["userId"] == user_id && e["objectType"] == object_type &&
          e["objectId"] == std::to_string(object_id)) {
        out.push_back(e);
      }
    }
    return out;
  }
  static std::string DataOf(const json& entry) {
    return json::parse(entry.value("detail", "{}")).value("data", "");
  }
};

TEST_F(PrivacyTest, DataClassReplacesPersonalDataAndOnlyAdminsChangeIt) {
  auto app = a_.viewer.client->Get(a_.AppPath());
  ASSERT_EQ(app.status, 200) << app.body;
  EXPECT_EQ(app.Json()["dataClass"], "none");
  EXPECT_EQ(app.Json()["personalData"], false);

  // An editor may rename the application but not lower or raise its data class.
  EXPECT_EQ(SetClass(*a_.editor.client, "sensitive").status, 403);
  EXPECT_EQ(
      Send(*a_.editor.client, "PATCH", a_.AppPath(), {{"retention", {{"readingsDays", 5}}}}).status,
      403);
  EXPECT_EQ(
      Send(*a_.editor.client, "PATCH", a_.AppPath(), {{"description", "Faldsensorer"}}).status,
      200);
  // Another organisation's admin does not see it at all.
  EXPECT_EQ(SetClass(*b_.admin.client, "none").status, 404);

  auto set = SetClass(*a_.admin.client, "sensitive");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.Json()["dataClass"], "sensitive");
  EXPECT_EQ(set.Json()["personalData"], true);
  // The editor cannot lower it again (e.g. to export): 403, and it stays sensitive.
  EXPECT_EQ(SetClass(*a_.editor.client, "none").status, 403);
  EXPECT_EQ(Send(*a_.editor.client, "PATCH", a_.AppPath(), {{"personalData", false}}).status, 403);
  EXPECT_EQ(a_.viewer.client->Get(a_.AppPath()).Json()["dataClass"], "sensitive");

  // personalData alone: true keeps a class that already holds personal data; false is none.
  auto keep = Send(*a_.admin.client, "PATCH", a_.AppPath(), {{"personalData", true}});
  EXPECT_EQ(keep.Json()["dataClass"], "sensitive") << keep.body;
  auto off = Send(*a_.admin.client, "PATCH", a_.AppPath(), {{"personalData", false}});
  EXPECT_EQ(off.Json()["dataClass"], "none") << off.body;
  auto on = Send(*a_.admin.client, "PATCH", a_.AppPath(), {{"personalData", true}});
  EXPECT_EQ(on.Json()["dataClass"], "personal") << on.body;

  // Both, disagreeing: 400 naming both; an unknown class: 400; nothing changed.
  auto clash = Send(*a_.admin.client, "PATCH", a_.AppPath(),
                    {{"dataClass", "none"}, {"personalData", true}});
  EXPECT_EQ(clash.status, 400) << clash.body;
  EXPECT_NE(clash.body.find("disagree"), std::string::npos) << clash.body;
  EXPECT_EQ(SetClass(*a_.admin.client, "secret").status, 400);
  EXPECT_EQ(a_.viewer.client->Get(a_.AppPath()).Json()["dataClass"], "personal");
  // Agreeing is fine.
  EXPECT_EQ(Send(*a_.admin.client, "PATCH", a_.AppPath(),
                 {{"dataClass", "pseudonymous"}, {"personalData", true}})
                .status,
            200);

  // An editor creating an application sets its class (nothing exists yet to unprotect).
  auto created = Send(*a_.editor.client, "POST", a_.OrgPath() + "/applications",
                      {{"name", "Nødkald"}, {"dataClass", "sensitive"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json()["dataClass"], "sensitive");
}

TEST_F(PrivacyTest, NoPersonalClassCanBePublishedAsOpenData) {
  json dataset = {{"title", "Fald"},
                  {"description", "x"},
                  {"license", "https://creativecommons.org/licenses/by/4.0/"},
                  {"contactName", "Sundhed"},
                  {"contactEmail", "s@kommune.dk"},
                  {"applicationId", a_.device.app_id},
                  {"published", true}};
  ASSERT_EQ(SetClass(*a_.admin.client, "pseudonymous").status, 200);
  auto refused = Send(*a_.admin.client, "POST", a_.OrgPath() + "/open-data/datasets", dataset);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("personal data"), std::string::npos) << refused.body;
  // Class none is publishable (the refusal is the class's doing).
  ASSERT_EQ(SetClass(*a_.admin.client, "none").status, 200);
  auto ok = Send(*a_.admin.client, "POST", a_.OrgPath() + "/open-data/datasets", dataset);
  EXPECT_EQ(ok.status, 201) << ok.body;
  // ... and then its class cannot be raised while the dataset covers it.
  EXPECT_EQ(SetClass(*a_.admin.client, "sensitive").status, 409);
}

TEST_F(PrivacyTest, OnlyAdminsExportSensitiveData) {
  IngestOne();
  const std::string readings_csv = a_.DevicePath() + "/readings?format=csv";
  const std::string buckets_csv = a_.DevicePath() + "/readings?format=csv&bucket=1h&key=heartRate";
  const std::string messages_csv = a_.DevicePath() + "/messages?format=csv";
  // Class none: a viewer exports (the legitimate use).
  EXPECT_EQ(a_.viewer.client->Get(readings_csv).status, 200);
  for (const char* cls : {"personal", "sensitive"}) {
    ASSERT_EQ(SetClass(*a_.admin.client, cls).status, 200);
    for (const std::string& path : {readings_csv, buckets_csv, messages_csv}) {
      for (HttpClient* c : {a_.viewer.client.get(), a_.editor.client.get()}) {
        auto r = c->Get(path);
        EXPECT_EQ(r.status, 403) << cls << " " << path << " " << r.body;
        EXPECT_EQ(r.body.find("heartRate"), std::string::npos) << r.body;
      }
      auto admin = a_.admin.client->Get(path);
      EXPECT_EQ(admin.status, 200) << cls << " " << path << " " << admin.body;
      // Another organisation's admin: the device does not exist.
      EXPECT_EQ(b_.admin.client->Get(path).status, 404) << path;
    }
    EXPECT_NE(a_.admin.client->Get(readings_csv).body.find("heartRate"), std::string::npos);
  }
  // Pseudonymous data is exported by viewers (only personal and sensitive are admin-only), and
  // the JSON reads stay open to viewers (they are audited instead).
  ASSERT_EQ(SetClass(*a_.admin.client, "pseudonymous").status, 200);
  EXPECT_EQ(a_.viewer.client->Get(readings_csv).status, 200);
  ASSERT_EQ(SetClass(*a_.admin.client, "sensitive").status, 200);
  EXPECT_EQ(a_.viewer.client->Get(a_.DevicePath() + "/readings").status, 200);
}

TEST_F(PrivacyTest, EveryReadOfSensitiveDataIsAudited) {
  IngestOne();
  const int64_t viewer = a_.viewer.user_id;
  const int64_t dev = a_.device.device_id;
  // Class none: reads are not recorded.
  ASSERT_EQ(a_.viewer.client->Get(a_.DevicePath() + "/readings").status, 200);
  ASSERT_EQ(a_.viewer.client->Get(a_.DevicePath() + "/latest").status, 200);
  EXPECT_TRUE(Reads(viewer, "device", dev).empty());

  ASSERT_EQ(SetClass(*a_.admin.client, "sensitive").status, 200);
  ASSERT_EQ(a_.viewer.client->Get(a_.DevicePath() + "/readings").status, 200);
  ASSERT_EQ(a_.viewer.client->Get(a_.DevicePath() + "/readings?bucket=1h&key=heartRate").status,
            200);
  ASSERT_EQ(a_.viewer.client->Get(a_.DevicePath() + "/latest").status, 200);
  ASSERT_EQ(a_.viewer.client->Get(a_.DevicePath() + "/messages").status, 200);
  auto obs = a_.viewer.client->Get("/sta/v1.1/Observations");
  ASSERT_EQ(obs.status, 200) << obs.body;
  ASSERT_NE(obs.body.find("71"), std::string::npos) << obs.body;
  ASSERT_EQ(a_.viewer.client->Get(a_.AppPath() + "/latest").status, 200);

  std::map<std::string, json> by_data;
  for (const json& e : Reads(viewer, "device", dev)) by_data[DataOf(e)] = e;
  for (const char* what : {"readings", "buckets", "latest", "messages", "observations"}) {
    ASSERT_TRUE(by_data.count(what)) << what;
    const json& e = by_data[what];
    EXPECT_FALSE(e.value("remoteAddr", "").empty()) << e;  // from where
    EXPECT_FALSE(e.value("ts", "").empty()) << e;          // when
  }
  EXPECT_NE(by_data["readings"]["detail"].get<std::string>().find("sensitive"), std::string::npos);
  auto app_reads = Reads(viewer, "application", a_.device.app_id);
  ASSERT_EQ(app_reads.size(), 1u);
  EXPECT_EQ(DataOf(app_reads[0]), "latest");

  // A dashboard polling: more reads within the minute are folded, not written one by one.
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(a_.viewer.client->Get(a_.DevicePath() + "/readings").status, 200);
  int readings_entries = 0;
  for (const json& e : Reads(viewer, "device", dev)) readings_entries += DataOf(e) == "readings";
  EXPECT_EQ(readings_entries, 1);

  // An API key's reads name the key.
  auto key = Send(*a_.admin.client, "POST", a_.OrgPath() + "/api-keys",
                  {{"name", "dashboard"}, {"role", "viewer"}});
  ASSERT_EQ(key.status, 201) << key.body;
  HttpClient by_key(server_->url());
  ASSERT_EQ(by_key
                .Request("GET", a_.DevicePath() + "/latest", "",
                         {"X-API-Key: " + key.Json().value("key", "")})
                .status,
            200);
  auto audit =
      a_.admin.client->Get("/api/v1/audit?limit=1000&orgId=" + std::to_string(a_.device.org_id));
  bool key_read = false;
  const json all = audit.Json();
  for (const json& e : all["items"])
    key_read |= e["action"] == "read" && e["apiKeyId"] == key.Json()["id"];
  EXPECT_TRUE(key_read) << audit.body;
}

TEST_F(PrivacyTest, RetentionSettingsAreValidated) {
  auto retention = [&](const json& r) {
    return Send(*a_.admin.client, "PATCH", a_.AppPath(), {{"retention", r}});
  };
  for (const json& bad :
       {json{{"readingsDays", 0}}, json{{"rawMessagesDays", 36501}},
        json{{"readingsDays", 400}, {"aggregatesDays", 300}}, json{{"readingsDays", "30"}},
        json{{"readingsDays", 1.5}}, json{{"days", 3}}, json("30")}) {
    auto r = retention(bad);
    EXPECT_EQ(r.status, 400) << bad << " " << r.body;
  }
  ASSERT_EQ(SetClass(*a_.admin.client, "sensitive").status, 200);
  auto app = a_.viewer.client->Get(a_.AppPath()).Json();
  EXPECT_EQ(app["retention"]["readingsDays"], nullptr);
  EXPECT_EQ(app["effectiveRetention"],
            (json{{"rawMessagesDays", 30}, {"readingsDays", 90}, {"aggregatesDays", 3650}}));
  auto set = retention({{"rawMessagesDays", 7}, {"aggregatesDays", 365}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.Json()["retention"],
            (json{{"rawMessagesDays", 7}, {"readingsDays", nullptr}, {"aggregatesDays", 365}}));
  EXPECT_EQ(set.Json()["effectiveRetention"],
            (json{{"rawMessagesDays", 7}, {"readingsDays", 90}, {"aggregatesDays", 365}}));
  // Back to the defaults with null.
  auto reset = retention(nullptr);
  EXPECT_EQ(reset.Json()["retention"]["rawMessagesDays"], nullptr) << reset.body;
}

TEST_F(PrivacyTest, AuditExportIsForTheOrganisationsAdminsOnly) {
  const std::string path = a_.OrgPath() + "/audit/export";
  ASSERT_EQ(Send(*a_.admin.client, "PATCH", a_.AppPath(), {{"description", "marker-a1"}}).status,
            200);
  // Another organisation's admin: A's organisation does not exist (404), whatever the format.
  for (const char* q : {"", "?format=csv", "?format=json"})
    EXPECT_EQ(b_.admin.client->Get(path + q).status, 404) << q;
  // A's editor and viewer: 403.
  EXPECT_EQ(a_.editor.client->Get(path).status, 403);
  EXPECT_EQ(a_.viewer.client->Get(path + "?format=csv").status, 403);

  auto csv = a_.admin.client->Get(path + "?format=csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.body.rfind("id,ts,user_id,api_key_id,action,", 0), 0u) << csv.body;
  EXPECT_NE(csv.body.find("marker-a1"), std::string::npos) << csv.body;
  auto js = a_.admin.client->Get(path + "?format=json");
  ASSERT_EQ(js.status, 200) << js.body;
  const json items = js.Json()["items"];
  ASSERT_FALSE(items.empty());
  EXPECT_LE(items.front()["id"].get<int64_t>(), items.back()["id"].get<int64_t>());  // oldest first
  for (const json& e : items) EXPECT_EQ(e["orgId"], a_.device.org_id) << e;          // only A's
  EXPECT_EQ(js.body.find("Organisation B"), std::string::npos);
  // A window in the future holds nothing; a bad format or range is a 400.
  auto empty = a_.admin.client->Get(path + "?from=2100-01-01T00:00:00Z");
  EXPECT_TRUE(empty.Json()["items"].empty()) << empty.body;
  EXPECT_EQ(a_.admin.client->Get(path + "?format=xml").status, 400);
  EXPECT_EQ(
      a_.admin.client->Get(path + "?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z").status,
      400);
  // The export itself is audited.
  auto again = a_.admin.client->Get(path).Json();
  bool exported = false;
  for (const json& e : again["items"])
    exported |= e["action"] == "export" && e["objectType"] == "audit";
  EXPECT_TRUE(exported);
}

TEST_F(PrivacyTest, RecordOfProcessingListsEachApplicationForAdminsOnly) {
  IngestOne();
  ASSERT_EQ(Send(*a_.admin.client, "PATCH", a_.AppPath(),
                 {{"dataClass", "sensitive"},
                  {"purpose", "Faldalarmer <b>hjemme</b>"},
                  {"legalBasis", "GDPR art. 9(2)(h)"},
                  {"dataCategories", "helbred"},
                  {"recipients", "Hjemmeplejen"},
                  {"retention", {{"readingsDays", 60}}}})
                .status,
            200);
  const std::string path = a_.OrgPath() + "/record-of-processing";
  EXPECT_EQ(b_.admin.client->Get(path).status, 404);
  EXPECT_EQ(b_.admin.client->Get(path + "?format=html").status, 404);
  EXPECT_EQ(a_.editor.client->Get(path).status, 403);
  EXPECT_EQ(a_.viewer.client->Get(path + "?format=html").status, 403);

  auto r = a_.admin.client->Get(path);
  ASSERT_EQ(r.status, 200) << r.body;
  const json apps = r.Json()["applications"];
  ASSERT_EQ(apps.size(), 1u) << r.body;
  EXPECT_EQ(apps[0]["dataClass"], "sensitive");
  EXPECT_EQ(apps[0]["legalBasis"], "GDPR art. 9(2)(h)");
  EXPECT_EQ(apps[0]["keys"], (json{"fall", "heartRate"}));
  EXPECT_EQ(apps[0]["retention"],
            (json{{"rawMessagesDays", 30}, {"readingsDays", 60}, {"aggregatesDays", 3650}}));

  auto da = a_.admin.client->Request("GET", path, "",
                                     {"Accept: text/html", "Accept-Language: da-DK,da;q=0.9"});
  ASSERT_EQ(da.status, 200) << da.body;
  EXPECT_NE(da.body.find("Fortegnelse over behandlingsaktiviteter"), std::string::npos);
  EXPECT_NE(da.body.find("heartRate"), std::string::npos);
  EXPECT_NE(da.body.find("Hjemmeplejen"), std::string::npos);
  // Texts are escaped, never markup.
  EXPECT_EQ(da.body.find("<b>hjemme"), std::string::npos);
  EXPECT_NE(da.body.find("&lt;b&gt;hjemme"), std::string::npos);
  auto en = a_.admin.client->Get(path + "?format=html");
  EXPECT_NE(en.body.find("Record of processing activities"), std::string::npos) << en.body;
  // The UI's language (?lang=) wins over the browser's.
  auto ui_da =
      a_.admin.client->Request("GET", path + "?format=html&lang=da", "", {"Accept-Language: en"});
  EXPECT_NE(ui_da.body.find("Fortegnelse"), std::string::npos);
}

}  // namespace
}  // namespace bysans::testing

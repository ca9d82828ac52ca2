// Export and import of an organisation (api/org_export.cc): only the organisation's admins
// start an export or download or delete its archive (another organisation's admin gets 404, an
// editor or viewer 403); only a global admin imports; an archive holds no secret.
#include <gtest/gtest.h>

#include <set>

#include "integration/export_archive.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class ExportSecurityTest : public SecurityTest {
 protected:
  std::string ArchivePath(const Tenant& t, int64_t job) {
    return t.OrgPath() + "/exports/" + std::to_string(job) + "/archive";
  }
};

TEST_F(ExportSecurityTest, OnlyTheOrganisationsAdminsStartAnExport) {
  const std::string path = a_.OrgPath() + "/export";
  EXPECT_EQ(Send(*b_.admin.client, "POST", path, json::object()).status, 404);
  EXPECT_EQ(Send(*a_.editor.client, "POST", path, json::object()).status, 403);
  EXPECT_EQ(Send(*a_.viewer.client, "POST", path, json::object()).status, 403);
  EXPECT_GT(ExportAndWait(*a_.admin.client, a_.device.org_id), 0);  // the admin may
}

TEST_F(ExportSecurityTest, OnlyTheOrganisationsAdminsDownloadOrDeleteItsArchive) {
  const int64_t job = ExportAndWait(*a_.admin.client, a_.device.org_id);
  ASSERT_GT(job, 0);
  EXPECT_EQ(b_.admin.client->Get(ArchivePath(a_, job)).status, 404);
  // Through the attacker's own organisation: the job is not one of its exports.
  EXPECT_EQ(b_.admin.client->Get(ArchivePath(b_, job)).status, 404);
  EXPECT_EQ(a_.editor.client->Get(ArchivePath(a_, job)).status, 403);
  EXPECT_EQ(a_.viewer.client->Get(ArchivePath(a_, job)).status, 403);
  EXPECT_EQ(b_.admin.client->Get(a_.OrgPath() + "/exports").status, 404);
  EXPECT_EQ(a_.editor.client->Get(a_.OrgPath() + "/exports").status, 403);
  const std::string one = a_.OrgPath() + "/exports/" + std::to_string(job);
  EXPECT_EQ(b_.admin.client->Request("DELETE", one).status, 404);
  EXPECT_EQ(a_.editor.client->Request("DELETE", one).status, 403);

  auto got = a_.admin.client->Get(ArchivePath(a_, job));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body.substr(0, 9), "README.md");
  EXPECT_EQ(got.headers["content-type"], "application/x-tar");
  // Audited: who started and downloaded it, when and from where.
  auto audit = a_.admin.client->Get("/api/v1/audit?orgId=" + std::to_string(a_.device.org_id));
  const json me = a_.admin.client->Get("/api/v1/auth/me").Json();
  const json admin_id = me.contains("user") ? me["user"]["id"] : me["id"];
  ASSERT_TRUE(admin_id.is_number_integer()) << me.dump();
  std::set<std::string> seen;
  const json entries = audit.Json();  // kept: a range-for over a temporary's member dangles
  for (const auto& e : entries["items"]) {
    if (e["userId"] != admin_id || e["remoteAddr"].get<std::string>().empty()) continue;
    if (e["action"] == "export" || e["action"] == "download")
      seen.insert(e["action"].get<std::string>());
  }
  EXPECT_EQ(seen, (std::set<std::string>{"download", "export"})) << audit.body;

  EXPECT_EQ(a_.admin.client->Request("DELETE", one).status, 204);
  EXPECT_EQ(a_.admin.client->Get(ArchivePath(a_, job)).status, 404);
}

TEST_F(ExportSecurityTest, ArchiveHoldsNoSecretOfTheFixture) {
  ASSERT_LT(Ingest(a_.device.ingest_key, R"({"temperature": 21.5})").status, 300);
  const std::string target_secret = "Bearer target-secret-7f3a9c";
  auto target = Send(*a_.admin.client, "POST", a_.AppPath() + "/data-targets",
                     {{"name", "city"},
                      {"url", "https://platform.example.org/in"},
                      {"headers", {{"Authorization", target_secret}}}});
  EXPECT_EQ(target.status, 201) << target.body;
  const int64_t job = ExportAndWait(*a_.admin.client, a_.device.org_id);
  auto got = a_.admin.client->Get(ArchivePath(a_, job));
  ASSERT_EQ(got.status, 200);
  const std::string text = ArchiveText(got.body) + got.body;
  ASSERT_NE(text.find("temperature"), std::string::npos);   // the search sees the readings
  ASSERT_NE(text.find(a_.admin.email), std::string::npos);  // ... and the members
  for (const std::string& secret :
       {a_.device.ingest_key, a_.admin.password, a_.editor.password, a_.viewer.password,
        std::string("$argon2"), target_secret, std::string("target-secret-7f3a9c")}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  }
}

TEST_F(ExportSecurityTest, OnlyAGlobalAdminImports) {
  const int64_t job = ExportAndWait(*a_.admin.client, a_.device.org_id);
  auto got = a_.admin.client->Get(ArchivePath(a_, job));
  ASSERT_EQ(got.status, 200);
  const json body = {{"archive", Base64(got.body)}, {"name", "A again"}};
  EXPECT_EQ(Send(*a_.admin.client, "POST", "/api/v1/organizations/import", body).status, 403);
  EXPECT_EQ(Send(*b_.admin.client, "POST", "/api/v1/organizations/import", body).status, 403);
  // A cross-site form post with the admin's cookie is refused before anything is read.
  EXPECT_NE(admin_
                ->Request("POST", "/api/v1/organizations/import", body.dump(),
                          {"Content-Type: text/plain"})
                .status,
            201);
  auto ok = admin_->PostJson("/api/v1/organizations/import", body);
  EXPECT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(ok.Json().value("name", ""), "A again");
  // The attacker's admin does not become anything in the copy.
  const int64_t copy = ok.Json().value("orgId", int64_t{0});
  EXPECT_EQ(b_.admin.client->Get("/api/v1/organizations/" + std::to_string(copy)).status, 404);
}

}  // namespace
}  // namespace bysans::testing

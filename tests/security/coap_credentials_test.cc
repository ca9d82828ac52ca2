// Attacks on a device's CoAP DTLS pre-shared key (api/coap_credentials.cc, issue 20): another
// organisation's editor or admin, a viewer, and the key leaking through an answer, the audit
// log or the server log. (The DTLS handshake itself — a wrong key, another device's identity —
// is attacked in tests/integration/coap_test.cc.)
#include <gtest/gtest.h>

#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class CoapCredentialsSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    auto r = Send(*a_.editor.client, "POST", Path(), {{"identity", "meter-a"}});
    ASSERT_EQ(r.status, 201) << r.body;
    key_ = r.Json()["key"].get<std::string>();
    ASSERT_GE(key_.size(), 24u);
  }

  std::string Path() const { return a_.DevicePath() + "/coap-credentials"; }

  std::string key_;
};

TEST_F(CoapCredentialsSecurityTest, OtherOrganisationCannotReadRotateOrDelete) {
  const json before = admin_->Get(Path()).Json();
  ASSERT_EQ(before["identity"], "meter-a");
  for (OrgMember* m : {&b_.editor, &b_.admin}) {
    auto get = m->client->Get(Path());
    EXPECT_EQ(get.status, 404) << get.body;
    EXPECT_EQ(get.body.find("meter-a"), std::string::npos);
    auto post = Send(*m->client, "POST", Path(), {{"identity", "stolen"}});
    EXPECT_EQ(post.status, 404) << post.body;
    auto del = m->client->Request("DELETE", Path());
    EXPECT_EQ(del.status, 404) << del.body;
  }
  EXPECT_EQ(admin_->Get(Path()).Json(), before);
  // B cannot take A's identity for its own device either.
  auto clash = Send(*b_.editor.client, "POST", b_.DevicePath() + "/coap-credentials",
                    {{"identity", "meter-a"}});
  EXPECT_EQ(clash.status, 409) << clash.body;
}

TEST_F(CoapCredentialsSecurityTest, ViewerCannotReadOrChangeTheCredential) {
  EXPECT_EQ(a_.viewer.client->Get(Path()).status, 403);
  EXPECT_EQ(Send(*a_.viewer.client, "POST", Path(), json::object()).status, 403);
  EXPECT_EQ(a_.viewer.client->Request("DELETE", Path()).status, 403);
  EXPECT_EQ(admin_->Get(Path()).Json()["identity"], "meter-a");
}

TEST_F(CoapCredentialsSecurityTest, KeyIsShownOnceAndNeverLogged) {
  auto get = a_.editor.client->Get(Path());
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_FALSE(get.Json().contains("key"));
  EXPECT_EQ(get.body.find(key_), std::string::npos);
  // Rotation keeps the identity, gives a new key once.
  auto rotated = Send(*a_.admin.client, "POST", Path(), json::object());
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  EXPECT_EQ(rotated.Json()["identity"], "meter-a");
  const std::string key2 = rotated.Json()["key"];
  EXPECT_NE(key2, key_);
  for (const std::string& path :
       {Path(), a_.DevicePath(),
        "/api/v1/audit?limit=1000&orgId=" + std::to_string(a_.device.org_id)}) {
    auto r = admin_->Get(path);
    ASSERT_EQ(r.status, 200) << path << r.body;
    EXPECT_EQ(r.body.find(key_), std::string::npos) << path;
    EXPECT_EQ(r.body.find(key2), std::string::npos) << path;
  }
  auto audit = admin_->Get("/api/v1/audit?limit=1000&orgId=" + std::to_string(a_.device.org_id));
  EXPECT_NE(audit.body.find("rotate_coap_credentials"), std::string::npos) << audit.body;
  EXPECT_EQ(server_->log().find(key_), std::string::npos);
  EXPECT_EQ(server_->log().find(key2), std::string::npos);
  // Deleted: gone for everyone.
  EXPECT_EQ(a_.editor.client->Request("DELETE", Path()).status, 204);
  EXPECT_EQ(a_.editor.client->Get(Path()).status, 404);
}

}  // namespace
}  // namespace bysans::testing

// Public dashboards (issue 21 §4) attacked: A's editor tries to make a dashboard public (403: only
// admins publish); anyone without a login asks for A's unpublished dashboard by id and gets the
// very 404 an unknown id gets; A's admin tries to widen a public dashboard to a key no published
// dataset holds (400, the data never carries it), and when a dataset is narrowed after the
// dashboard was made public, the public data drops the key at once. Each test checks the
// legitimate use too.
#include <string>

#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class PublicDashboardSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    ASSERT_EQ(
        Ingest(a_.device.ingest_key, R"([{"n":"co2","u":"ppm","v":640},{"n":"occupants","v":4}])",
               "application/senml+json")
            .status,
        204);
    // A publishes its device's co2.
    auto ds = Send(*a_.admin.client, "POST", a_.OrgPath() + "/open-data/datasets",
                   {{"title", "Indeklima"},
                    {"deviceIds", {a_.device.device_id}},
                    {"keys", {"co2"}},
                    {"license", "https://creativecommons.org/licenses/by/4.0/"},
                    {"contactName", "IoT"},
                    {"contactEmail", "iot@a.dk"}});
    ASSERT_EQ(ds.status, 201) << ds.body;
    dataset_ = DatasetPath(ds.Json()["id"]);
    ASSERT_EQ(Send(*a_.admin.client, "PUT", dataset_, {{"published", true}}).status, 200);
  }

  static std::string DatasetPath(int64_t id) {
    return "/api/v1/open-data/datasets/" + std::to_string(id);
  }
  static std::string DashboardPath(int64_t id) {
    return "/api/v1/dashboards/" + std::to_string(id);
  }
  static std::string PublicPath(int64_t id) {
    return "/api/v1/public/dashboards/" + std::to_string(id);
  }
  json Tile(const std::string& key) const {
    return {{"type", "latest"}, {"deviceId", a_.device.device_id}, {"key", key}};
  }
  // A dashboard of A showing the published co2, created by `who`.
  int64_t Create(HttpClient& who) {
    auto r = Send(who, "POST", a_.OrgPath() + "/dashboards",
                  {{"name", "Luft"}, {"layout", {{"widgets", {Tile("co2")}}}}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", int64_t{0});
  }

  std::string dataset_;
};

TEST_F(PublicDashboardSecurityTest, AnEditorCannotPublish) {
  HttpClient& editor = *a_.editor.client;
  const int64_t id = Create(editor);
  auto put = Send(editor, "PUT", DashboardPath(id), {{"public", true}});
  EXPECT_EQ(put.status, 403) << put.body;
  auto post =
      Send(editor, "POST", a_.OrgPath() + "/dashboards",
           {{"name", "Planted"}, {"public", true}, {"layout", {{"widgets", {Tile("co2")}}}}});
  EXPECT_EQ(post.status, 403) << post.body;
  EXPECT_EQ(Send(*a_.viewer.client, "PUT", DashboardPath(id), {{"public", true}}).status, 403);
  HttpClient anon(server_->url());
  EXPECT_EQ(anon.Get(PublicPath(id)).status, 404);
  EXPECT_EQ(a_.admin.client->Get(DashboardPath(id)).Json()["public"], false);
  // B's admin is no admin of A: the dashboard stays unknown to them.
  EXPECT_EQ(Send(*b_.admin.client, "PUT", DashboardPath(id), {{"public", true}}).status, 404);
  EXPECT_EQ(anon.Get(PublicPath(id)).status, 404);
  // A's admin may; the editor may then change the name (sending "public" back as it is).
  ASSERT_EQ(Send(*a_.admin.client, "PUT", DashboardPath(id), {{"public", true}}).status, 200);
  EXPECT_EQ(anon.Get(PublicPath(id)).status, 200);
  EXPECT_EQ(Send(editor, "PUT", DashboardPath(id), {{"name", "Luften"}, {"public", true}}).status,
            200);
  EXPECT_EQ(Send(editor, "PUT", DashboardPath(id), {{"public", false}}).status, 403);
  EXPECT_EQ(anon.Get(PublicPath(id)).Json()["name"], "Luften");
}

TEST_F(PublicDashboardSecurityTest, AnUnpublishedDashboardIsTheSame404AsAnUnknownOne) {
  const int64_t id = Create(*a_.admin.client);  // A's, not public
  HttpClient anon(server_->url());
  for (const std::string suffix : {"", "/data"}) {
    auto unpublished = anon.Get(PublicPath(id) + suffix);
    auto unknown = anon.Get(PublicPath(id + 1000) + suffix);
    EXPECT_EQ(unpublished.status, 404);
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(unpublished.body, unknown.body);
    EXPECT_EQ(unpublished.body.find("Luft"), std::string::npos);
    // B's members reach it no better than anyone.
    auto by_b = b_.admin.client->Get(PublicPath(id) + suffix);
    EXPECT_EQ(by_b.status, 404);
    EXPECT_EQ(by_b.body, unknown.body);
  }
  // A deleted public dashboard: the same.
  ASSERT_EQ(Send(*a_.admin.client, "PUT", DashboardPath(id), {{"public", true}}).status, 200);
  ASSERT_EQ(anon.Get(PublicPath(id)).status, 200);
  ASSERT_EQ(a_.admin.client->Request("DELETE", DashboardPath(id)).status, 204);
  EXPECT_EQ(anon.Get(PublicPath(id)).body, anon.Get(PublicPath(id + 1000)).body);
}

TEST_F(PublicDashboardSecurityTest, ThePublicDataNeverCarriesAKeyOutsideTheDatasets) {
  HttpClient& admin = *a_.admin.client;
  const int64_t id = Create(admin);
  ASSERT_EQ(Send(admin, "PUT", DashboardPath(id), {{"public", true}}).status, 200);
  // Widening the public dashboard to an unpublished key, by its admin or its editor: refused.
  const json wider = {{"widgets", {Tile("co2"), Tile("occupants")}}};
  EXPECT_EQ(Send(admin, "PUT", DashboardPath(id), {{"layout", wider}}).status, 400);
  EXPECT_EQ(Send(*a_.editor.client, "PUT", DashboardPath(id), {{"layout", wider}}).status, 400);
  HttpClient anon(server_->url());
  auto data = anon.Get(PublicPath(id) + "/data");
  ASSERT_EQ(data.status, 200) << data.body;
  const json body = data.Json();
  const json& latest = body["latest"][std::to_string(a_.device.device_id)];
  EXPECT_EQ(latest["co2"]["value"], 640) << data.body;
  EXPECT_EQ(data.body.find("occupants"), std::string::npos) << data.body;
  // The dataset is narrowed to another key after the dashboard went public: co2 goes too.
  ASSERT_EQ(Send(admin, "PUT", dataset_, {{"keys", {"temperature"}}}).status, 200);
  data = anon.Get(PublicPath(id) + "/data");
  ASSERT_EQ(data.status, 200) << data.body;
  EXPECT_EQ(data.Json()["latest"], json::object()) << data.body;
  EXPECT_EQ(data.body.find("\"value\":640"), std::string::npos) << data.body;  // not anywhere
  // Nothing of the organisation beyond the dashboard: no organisation id, no member.
  auto page = anon.Get(PublicPath(id));
  ASSERT_EQ(page.status, 200);
  EXPECT_FALSE(page.Json().contains("orgId"));
  EXPECT_EQ(page.body.find(a_.admin.email), std::string::npos);
}

}  // namespace
}  // namespace bysans::testing

// Open Data DK across organisations (issue 16): organisation B (the attacker) tries to read,
// change or delete A's dataset definitions, to publish A's devices or application in its own
// dataset, and to read through the public endpoints what A did not publish (other devices,
// other keys, unpublished datasets, B's own paths and forged paging cursors). Viewers and
// editors cannot write definitions. Each test also checks the legitimate use.
#include <string>

#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

// URL-safe base64 without padding, as the history's cursors are written.
std::string Base64Url(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

class OpenDataSecurityTest : public SecurityTest {
 protected:
  static json Definition(const std::string& title) {
    return {{"title", title},
            {"license", "https://creativecommons.org/licenses/by/4.0/"},
            {"contactName", "Data"},
            {"contactEmail", "data@kommune.dk"},
            {"themes", {"ENVI"}}};
  }
  static std::string DatasetPath(int64_t id) {
    return "/api/v1/open-data/datasets/" + std::to_string(id);
  }
  static std::string PublicPath(int64_t org, int64_t id) {
    return "/api/v1/open-data-dk-sharing/" + std::to_string(org) + "/datasets/" +
           std::to_string(id);
  }
  // A dataset of `t` selecting `devices`, created by t's admin.
  static int64_t CreateDataset(Tenant& t, const std::string& title, json devices, bool published) {
    json body = Definition(title);
    body["deviceIds"] = std::move(devices);
    body["published"] = published;
    body["keys"] = {"co2"};
    auto r = Send(*t.admin.client, "POST", t.OrgPath() + "/open-data/datasets", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", int64_t{0});
  }
};

TEST_F(OpenDataSecurityTest, AnotherOrganisationsAdminCannotReachTheDefinitions) {
  int64_t id = CreateDataset(a_, "A's air", {a_.device.device_id}, false);
  const std::string before = admin_->Get(DatasetPath(id)).body;
  HttpClient& b = *b_.admin.client;
  EXPECT_EQ(b.Get(a_.OrgPath() + "/open-data/datasets").status, 404);
  json hijack = Definition("hijacked");
  hijack["deviceIds"] = {b_.device.device_id};
  EXPECT_EQ(Send(b, "POST", a_.OrgPath() + "/open-data/datasets", hijack).status, 404);
  EXPECT_EQ(b.Get(DatasetPath(id)).status, 404);
  EXPECT_EQ(Send(b, "PUT", DatasetPath(id), {{"published", true}, {"title", "hijacked"}}).status,
            404);
  EXPECT_EQ(b.Request("DELETE", DatasetPath(id)).status, 404);
  // The 404 is the one an unknown id gets.
  auto unknown = b.Get(DatasetPath(id + 1000));
  auto theirs = b.Get(DatasetPath(id));
  EXPECT_EQ(theirs.Json()["error"]["code"], unknown.Json()["error"]["code"]);
  // Nothing changed, nothing was created in A, and A's admin still reads it.
  EXPECT_EQ(admin_->Get(DatasetPath(id)).body, before);
  auto list = a_.admin.client->Get(a_.OrgPath() + "/open-data/datasets");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.Json()["items"].size(), 1u) << list.body;
  EXPECT_EQ(HttpClient(server_->url()).Get(PublicPath(a_.device.org_id, id)).status, 404);
}

TEST_F(OpenDataSecurityTest, ADatasetCannotSelectAnotherOrganisationsDevicesOrApplication) {
  HttpClient& b = *b_.admin.client;
  const std::string list = b_.OrgPath() + "/open-data/datasets";
  json body = Definition("stolen");
  body["deviceIds"] = {a_.device.device_id};
  body["published"] = true;
  auto r = Send(b, "POST", list, body);
  EXPECT_EQ(r.status, 400) << r.body;
  // The message is the one a device id that does not exist gets (ownership is not revealed).
  json missing = body;
  missing["deviceIds"] = {999'999};
  auto m = Send(b, "POST", list, missing);
  EXPECT_EQ(m.status, 400);
  std::string msg = r.Json()["error"]["message"], msg_missing = m.Json()["error"]["message"];
  EXPECT_EQ(msg.replace(msg.find(std::to_string(a_.device.device_id)),
                        std::to_string(a_.device.device_id).size(), "N"),
            msg_missing.replace(msg_missing.find("999999"), 6, "N"));
  body["deviceIds"] = {b_.device.device_id, a_.device.device_id};
  EXPECT_EQ(Send(b, "POST", list, body).status, 400);
  json by_app = Definition("stolen app");
  by_app["applicationId"] = a_.device.app_id;
  EXPECT_EQ(Send(b, "POST", list, by_app).status, 400);

  // B's own device publishes; changing it to A's device or application is refused too.
  int64_t own = CreateDataset(b_, "B's air", {b_.device.device_id}, true);
  EXPECT_EQ(Send(b, "PUT", DatasetPath(own), {{"deviceIds", {a_.device.device_id}}}).status, 400);
  EXPECT_EQ(Send(b, "PUT", DatasetPath(own),
                 {{"deviceIds", nullptr}, {"applicationId", a_.device.app_id}})
                .status,
            400);
  auto kept = b.Get(DatasetPath(own));
  ASSERT_EQ(kept.status, 200);
  EXPECT_EQ(kept.Json()["deviceIds"], json::array({b_.device.device_id})) << kept.body;
  auto b_list = b.Get(list);
  EXPECT_EQ(b_list.Json()["items"].size(), 1u) << b_list.body;
}

TEST_F(OpenDataSecurityTest, ViewersReadAndOnlyAdminsWriteDefinitions) {
  int64_t id = CreateDataset(a_, "A's air", {a_.device.device_id}, false);
  const std::string list = a_.OrgPath() + "/open-data/datasets";
  json body = Definition("viewer's");
  body["deviceIds"] = {a_.device.device_id};
  for (OrgMember* m : {&a_.viewer, &a_.editor}) {
    HttpClient& c = *m->client;
    EXPECT_EQ(c.Get(list).status, 200);
    EXPECT_EQ(c.Get(DatasetPath(id)).status, 200);
    EXPECT_EQ(Send(c, "POST", list, body).status, 403) << m->email;
    EXPECT_EQ(Send(c, "PUT", DatasetPath(id), {{"published", true}}).status, 403) << m->email;
    EXPECT_EQ(c.Request("DELETE", DatasetPath(id)).status, 403) << m->email;
  }
  auto still = a_.admin.client->Get(DatasetPath(id));
  EXPECT_EQ(still.Json()["published"], false) << still.body;
  EXPECT_EQ(Send(*a_.admin.client, "PUT", DatasetPath(id), {{"published", true}}).status, 200);
  EXPECT_EQ(a_.admin.client->Request("DELETE", DatasetPath(id)).status, 204);
}

TEST_F(OpenDataSecurityTest, PublicEndpointsShowOnlyWhatWasPublished) {
  // A: device 1 published with key co2 only; a second device of A's not in the dataset; B's
  // published dataset with its own device. Each value tells where it came from.
  auto extra = Send(*a_.admin.client, "POST", a_.AppPath() + "/devices", {{"name", "hidden"}});
  ASSERT_EQ(extra.status, 201) << extra.body;
  const int64_t hidden = extra.Json()["id"];
  ASSERT_EQ(Ingest(a_.device.ingest_key, R"({"co2": 111.5, "secret": 1})").status, 204);
  ASSERT_EQ(Ingest(extra.Json()["apiKey"], R"({"co2": 222.5})").status, 204);
  ASSERT_EQ(Ingest(b_.device.ingest_key, R"({"co2": 333.5})").status, 204);
  int64_t a_set = CreateDataset(a_, "A's air", {a_.device.device_id}, true);
  int64_t a_draft = CreateDataset(a_, "A's draft", {hidden}, false);
  int64_t b_set = CreateDataset(b_, "B's air", {b_.device.device_id}, true);
  const int64_t a_org = a_.device.org_id;

  HttpClient anon(server_->url());
  auto latest = anon.Get(PublicPath(a_org, a_set) + "/latest");
  ASSERT_EQ(latest.status, 200) << latest.body;
  EXPECT_NE(latest.body.find("111.5"), std::string::npos) << latest.body;
  for (const std::string& path :
       {PublicPath(a_org, a_set) + "/latest", PublicPath(a_org, a_set) + "/history.json",
        PublicPath(a_org, a_set) + "/history.csv",
        std::string("/api/v1/open-data-dk-sharing/") + std::to_string(a_org)}) {
    auto r = anon.Get(path);
    ASSERT_EQ(r.status, 200) << path << " " << r.body;
    EXPECT_EQ(r.body.find("222.5"), std::string::npos) << path << ": " << r.body;
    EXPECT_EQ(r.body.find("333.5"), std::string::npos) << path << ": " << r.body;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << path << ": " << r.body;
    EXPECT_EQ(r.body.find("hidden"), std::string::npos) << path << ": " << r.body;
    EXPECT_EQ(r.body.find("B's air"), std::string::npos) << path << ": " << r.body;
    EXPECT_EQ(r.body.find("A's draft"), std::string::npos) << path << ": " << r.body;
  }
  // B's dataset and A's draft under A's path, A's dataset under B's path: one 404.
  for (const std::string& path :
       {PublicPath(a_org, b_set) + "/latest", PublicPath(a_org, a_draft) + "/history.json",
        PublicPath(b_.device.org_id, a_set) + "/history.csv"}) {
    EXPECT_EQ(anon.Get(path).status, 404) << path;
  }
  // Forged cursors naming B's device, the hidden device or another key read only A's data.
  for (const std::string& raw :
       {std::to_string(b_.device.device_id) + ":9223372036854775807:co2",
        std::to_string(hidden) + ":9223372036854775807:co2",
        std::to_string(a_.device.device_id) + ":9223372036854775807:secret", std::string("0:0:")}) {
    auto r = anon.Get(PublicPath(a_org, a_set) + "/history.json?cursor=" + Base64Url(raw));
    ASSERT_EQ(r.status, 200) << raw << " " << r.body;
    const json body = r.Json();
    for (const json& i : body["items"]) {
      EXPECT_EQ(i["deviceId"], a_.device.device_id) << raw << " " << r.body;
      EXPECT_EQ(i["key"], "co2") << raw << " " << r.body;
    }
    EXPECT_EQ(r.body.find("222.5"), std::string::npos) << raw << ": " << r.body;
    EXPECT_EQ(r.body.find("333.5"), std::string::npos) << raw << ": " << r.body;
  }
  // B's own dataset is public under B's path.
  auto b_latest = anon.Get(PublicPath(b_.device.org_id, b_set) + "/latest");
  ASSERT_EQ(b_latest.status, 200);
  EXPECT_NE(b_latest.body.find("333.5"), std::string::npos) << b_latest.body;
}

}  // namespace
}  // namespace bysans::testing

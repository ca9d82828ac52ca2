// SensorThings API writes (api/sta_write.cc): creating Observations needs the editor role in
// the Datastream's organisation. Another organisation's editor cannot create Observations in
// A's Datastreams (404, nothing stored, not even through CreateObservations mixed with its own),
// a viewer cannot write (403), a cross-site session write is refused, and untrusted bodies
// (deep nesting, oversized) are refused while the server keeps serving.
#include <atomic>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "integration/sta_fixture.h"
#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

class StaWriteSecurityTest : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    ASSERT_EQ(Ingest(a_.device.ingest_key, json{{"ts", kStaT0}, {"temperature", 20}}.dump()).status,
              204);
    ASSERT_EQ(Ingest(b_.device.ingest_key, json{{"ts", kStaT0}, {"temperature", -5}}.dump()).status,
              204);
    ds_a_ = DatastreamId(*a_.viewer.client, a_.device.device_id, "temperature");
    ds_b_ = DatastreamId(*b_.viewer.client, b_.device.device_id, "temperature");
  }

  static HttpResult Post(HttpClient& c, const std::string& path, const json& body,
                         std::vector<std::string> headers = {}) {
    return c.PostJson("/sta/v1.1/" + path, body, std::move(headers));
  }
  static std::string Obs(int64_t ds) {
    return "Datastreams(" + std::to_string(ds) + ")/Observations";
  }
  static json Create(int64_t ds, int64_t t, double v) {
    json row = json::array();
    row.push_back(FormatTime(t));
    row.push_back(v);
    return {{"Datastream", {{"@iot.id", ds}}},
            {"components", {"phenomenonTime", "result"}},
            {"dataArray", json::array({row})}};
  }
  static std::string FormatTime(int64_t ms) {
    std::time_t s = ms / 1000;
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
  }
  // A's temperature Observations as A's viewer reads them.
  size_t CountA() {
    auto [status, body] = StaGet(*a_.viewer.client, Obs(ds_a_));
    EXPECT_EQ(status, 200) << body.dump();
    return body["value"].size();
  }

  int64_t ds_a_ = 0, ds_b_ = 0;
};

TEST_F(StaWriteSecurityTest, OtherOrganisationsEditorCannotCreateObservations) {
  const json obs = {{"phenomenonTime", FormatTime(kStaT0 + kStaStep)}, {"result", 666}};
  auto path = Post(*b_.editor.client, Obs(ds_a_), obs);
  EXPECT_EQ(path.status, 404) << path.body;
  json linked = obs;
  linked["Datastream"] = {{"@iot.id", ds_a_}};
  EXPECT_EQ(Post(*b_.admin.client, "Observations", linked).status, 404);
  // CreateObservations mixing B's own Datastream with A's: refused whole, nothing stored.
  auto mixed = Post(
      *b_.editor.client, "CreateObservations",
      json::array({Create(ds_b_, kStaT0 + kStaStep, -6), Create(ds_a_, kStaT0 + kStaStep, 666)}));
  EXPECT_EQ(mixed.status, 404) << mixed.body;
  EXPECT_EQ(mixed.body.find("Organisation A"), std::string::npos) << mixed.body;
  EXPECT_EQ(CountA(), 1u);
  // Writes this service does not do check the role first: A's entities stay 404 for B.
  const std::string thing_a = "Things(" + std::to_string(a_.device.device_id) + ")";
  EXPECT_EQ(Post(*b_.editor.client, thing_a, json::object()).status, 404);
  EXPECT_EQ(Post(*b_.editor.client, "Datastreams(" + std::to_string(ds_a_) + ")", {}).status, 404);
  EXPECT_EQ(Post(*a_.viewer.client, thing_a, json::object()).status, 403);
  EXPECT_EQ(Post(*a_.editor.client, thing_a, json::object()).status, 501);
  auto [status, b_list] = StaGet(*b_.viewer.client, Obs(ds_b_));
  EXPECT_EQ(b_list["value"].size(), 1u) << b_list.dump();
  // The legitimate use works: B's editor writes B's Datastream, A's editor A's.
  EXPECT_EQ(Post(*b_.editor.client, "CreateObservations",
                 json::array({Create(ds_b_, kStaT0 + kStaStep, -6)}))
                .status,
            201);
  EXPECT_EQ(Post(*a_.editor.client, Obs(ds_a_), obs).status, 201);
  EXPECT_EQ(CountA(), 2u);
}

// An editor deleting one Datastream from several connections at once (SQLite's writer once
// crashed, taking every organisation's server down, when two drops of one series met in one
// group commit): one 204, the others 404, and the server serves on.
TEST_F(StaWriteSecurityTest, ConcurrentDeletesOfADatastreamLeaveTheServerServing) {
  constexpr int kCallers = 4;
  // One connection each, with an editor's API key (logins are rate-limited).
  auto made = a_.admin.client->PostJson(a_.OrgPath() + "/api-keys",
                                        {{"name", "deleter"}, {"role", "editor"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string auth = "Authorization: Bearer " + made.Json().value("key", "");
  std::vector<std::unique_ptr<HttpClient>> editors;
  for (int i = 0; i < kCallers; ++i)
    editors.push_back(std::make_unique<HttpClient>(server_->url()));
  for (int round = 0; round < 10; ++round) {
    const std::string key = "level" + std::to_string(round);
    ASSERT_EQ(Ingest(a_.device.ingest_key, json{{"ts", kStaT0}, {key, round}}.dump()).status, 204);
    const int64_t ds = DatastreamId(*a_.viewer.client, a_.device.device_id, key);
    const std::string path = "/sta/v1.1/Datastreams(" + std::to_string(ds) + ")";
    std::atomic<int> ready{0};
    std::vector<std::future<long>> calls;
    for (auto& c : editors)
      calls.push_back(std::async(std::launch::async, [&, client = c.get()] {
        ready.fetch_add(1);
        while (ready.load() < kCallers) std::this_thread::yield();
        return client->Request("DELETE", path, "", {auth}).status;
      }));
    int deleted = 0;
    for (auto& c : calls) {
      const long status = c.get();
      EXPECT_TRUE(status == 204 || status == 404) << "round " << round << ": " << status;
      deleted += status == 204;
    }
    EXPECT_EQ(deleted, 1) << "round " << round;
    ASSERT_EQ(a_.viewer.client->Get("/healthz").status, 200) << "round " << round;
  }
  EXPECT_EQ(CountA(), 1u);  // the other Datastream of A is untouched
}

TEST_F(StaWriteSecurityTest, ViewerCannotWrite) {
  const json obs = {{"phenomenonTime", FormatTime(kStaT0 + kStaStep)}, {"result", 1}};
  auto r = Post(*a_.viewer.client, Obs(ds_a_), obs);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Post(*a_.viewer.client, "CreateObservations",
                 json::array({Create(ds_a_, kStaT0 + kStaStep, 1)}))
                .status,
            403);
  // A viewer's API key likewise; an editor's key may write.
  auto viewer_key = Send(*a_.admin.client, "POST", a_.OrgPath() + "/api-keys",
                         {{"name", "v"}, {"role", "viewer"}});
  ASSERT_EQ(viewer_key.status, 201) << viewer_key.body;
  auto editor_key = Send(*a_.admin.client, "POST", a_.OrgPath() + "/api-keys",
                         {{"name", "e"}, {"role", "editor"}});
  ASSERT_EQ(editor_key.status, 201) << editor_key.body;
  HttpClient anonymous(server_->url());
  EXPECT_EQ(Post(anonymous, Obs(ds_a_), obs).status, 401);
  EXPECT_EQ(Post(anonymous, Obs(ds_a_), obs,
                 {"X-API-Key: " + viewer_key.Json()["key"].get<std::string>()})
                .status,
            403);
  EXPECT_EQ(CountA(), 1u);
  EXPECT_EQ(Post(anonymous, Obs(ds_a_), obs,
                 {"Authorization: Bearer " + editor_key.Json()["key"].get<std::string>()})
                .status,
            201);
  EXPECT_EQ(CountA(), 2u);
}

TEST_F(StaWriteSecurityTest, CrossSiteSessionWriteIsRefused) {
  const json obs = {{"phenomenonTime", FormatTime(kStaT0 + kStaStep)}, {"result", 1}};
  auto r = Post(*a_.editor.client, Obs(ds_a_), obs, {"Origin: https://evil.example"});
  EXPECT_EQ(r.status, 403) << r.body;
  auto form = a_.editor.client->Request("POST", "/sta/v1.1/" + Obs(ds_a_), "result=1",
                                        {"Content-Type: text/plain"});
  EXPECT_NE(form.status, 201) << form.body;
  EXPECT_EQ(CountA(), 1u);
  EXPECT_EQ(Post(*a_.editor.client, Obs(ds_a_), obs).status, 201);
}

TEST_F(StaWriteSecurityTest, UntrustedBodiesAreRefused) {
  std::string deep = std::string(5000, '[') + std::string(5000, ']');
  auto r = a_.editor.client->Request("POST", "/sta/v1.1/CreateObservations", deep,
                                     {"Content-Type: application/json"});
  EXPECT_EQ(r.status, 400) << r.body;
  // Larger than CreateObservations' 8 MiB: 413, connection closed; the server keeps serving.
  std::string huge = "[" + std::string(9 * 1024 * 1024, ' ') + "]";
  EXPECT_EQ(a_.editor.client
                ->Request("POST", "/sta/v1.1/CreateObservations", huge,
                          {"Content-Type: application/json"})
                .status,
            413);
  EXPECT_EQ(CountA(), 1u);
  EXPECT_EQ(Post(*a_.editor.client, "CreateObservations",
                 json::array({Create(ds_a_, kStaT0 + kStaStep, 1)}))
                .status,
            201);
}

// Things: a Thing cannot be created in another organisation's application, nor A's Things
// changed or deleted by B; a viewer creates, changes and deletes nothing.
TEST_F(StaWriteSecurityTest, ThingsStayInTheirOrganisation) {
  const json in_a = {{"name", "planted"},
                     {"properties", {{"application", {{"id", a_.device.app_id}}}}}};
  EXPECT_EQ(Post(*b_.editor.client, "Things", in_a).status, 404);
  EXPECT_EQ(Post(*b_.admin.client, "Things", in_a).status, 404);
  EXPECT_EQ(Post(*a_.viewer.client, "Things", in_a).status, 403);
  const std::string thing_a = "/sta/v1.1/Things(" + std::to_string(a_.device.device_id) + ")";
  const std::string rename = json{{"name", "owned"}}.dump();
  const std::string ct = "Content-Type: application/json";
  EXPECT_EQ(b_.editor.client->Request("PATCH", thing_a, rename, {ct}).status, 404);
  EXPECT_EQ(a_.viewer.client->Request("PATCH", thing_a, rename, {ct}).status, 403);
  EXPECT_EQ(b_.admin.client->Request("DELETE", thing_a).status, 404);
  EXPECT_EQ(a_.viewer.client->Request("DELETE", thing_a).status, 403);
  auto [status, things] = StaGet(*a_.viewer.client, "Things");
  ASSERT_EQ(status, 200);
  ASSERT_EQ(things["value"].size(), 1u) << things.dump();
  EXPECT_NE(things["value"][0]["name"], "owned");
  // The legitimate use: A's editor creates, renames and deletes in A.
  auto created = Post(*a_.editor.client, "Things", in_a);
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string mine =
      "/sta/v1.1/Things(" + std::to_string(created.Json()["@iot.id"].get<int64_t>()) + ")";
  EXPECT_EQ(a_.editor.client->Request("PATCH", mine, rename, {ct}).status, 200);
  EXPECT_EQ(a_.editor.client->Request("DELETE", mine).status, 204);
  EXPECT_EQ(a_.editor.client->Request("PATCH", thing_a, rename, {ct}).status, 200);
}

// A batch runs each request as its caller: B's batch cannot reach A's entities (404 each),
// a viewer's batch writes nothing (403 each), a cross-site session batch is refused whole.
TEST_F(StaWriteSecurityTest, BatchRequestsKeepRolesAndTenancy) {
  const std::string thing_a = "Things(" + std::to_string(a_.device.device_id) + ")";
  json batch = {
      {"requests",
       {{{"id", "1"}, {"method", "GET"}, {"url", thing_a}},
        {{"id", "2"}, {"method", "PATCH"}, {"url", thing_a}, {"body", {{"name", "owned"}}}},
        {{"id", "3"},
         {"method", "POST"},
         {"url", Obs(ds_a_)},
         {"body", {{"phenomenonTime", FormatTime(kStaT0 + kStaStep)}, {"result", 666}}}},
        {{"id", "4"}, {"method", "DELETE"}, {"url", thing_a}}}}};
  auto b = b_.editor.client->PostJson("/sta/v1.1/$batch", batch);
  ASSERT_EQ(b.status, 200) << b.body;
  const json br = b.Json()["responses"];  // kept: a range-for over a temporary's member dangles
  for (const json& r : br) EXPECT_EQ(r["status"], 404) << r.dump();
  auto v = a_.viewer.client->PostJson("/sta/v1.1/$batch", batch);
  ASSERT_EQ(v.status, 200) << v.body;
  json vr = v.Json()["responses"];
  EXPECT_EQ(vr[0]["status"], 200);  // reading is a viewer's right
  for (size_t i = 1; i < vr.size(); ++i) EXPECT_EQ(vr[i]["status"], 403) << vr[i].dump();
  auto cross =
      a_.editor.client->PostJson("/sta/v1.1/$batch", batch, {"Origin: https://evil.example"});
  EXPECT_EQ(cross.status, 403) << cross.body;
  EXPECT_EQ(CountA(), 1u);
  auto [status, thing] = StaGet(*a_.viewer.client, thing_a);
  EXPECT_EQ(status, 200);
  EXPECT_NE(thing["name"], "owned");
  // The legitimate use: A's editor's batch writes.
  auto a = a_.editor.client->PostJson("/sta/v1.1/$batch", batch);
  ASSERT_EQ(a.status, 200) << a.body;
  json ar = a.Json()["responses"];
  EXPECT_EQ(ar[1]["status"], 200);
  EXPECT_EQ(ar[2]["status"], 201);
  EXPECT_EQ(ar[3]["status"], 204);
}

}  // namespace
}  // namespace bysans::testing

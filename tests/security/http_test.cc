// Issue 14, HTTP layer: deep JSON (2), CSRF (7), CSV formulas (14), leaking
// errors (15), HTTP hardening (16) and audit gaps (18), each attacked against
// the real server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "security/security_fixture.h"

namespace bysans::testing {
namespace {

constexpr int kDeep = 120'000;  // 240 KB, under the 256 KiB body limit

std::string DeepArray(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string ErrorMessage(const HttpResult& r) {
  json j = r.Json();
  if (j.is_discarded() || !j.contains("error")) return {};
  return j["error"].value("message", "");
}

class HttpSecurityTest : public SecurityTest {
 protected:
  std::string OrgId() const { return std::to_string(a_.device.org_id); }

  // The audit entries of organisation A with `action`, read by the global admin.
  std::vector<json> AuditOf(int64_t org, const std::string& action) {
    auto r = admin_->Get("/api/v1/audit?limit=1000&orgId=" + std::to_string(org));
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<json> out;
    for (const auto& e : r.Json().value("items", json::array()))
      if (e.value("action", "") == action) out.push_back(e);
    return out;
  }

  void ExpectAlive() {
    HttpClient probe(server_->url());
    EXPECT_EQ(probe.Get("/healthz").status, 200) << server_->log();
  }
};

// ---- finding 2: deeply nested JSON ----------------------------------------------

TEST_F(HttpSecurityTest, DeepJsonOnEveryWriteRouteIsRefusedAndServerStaysUp) {
  // Real objects for the ids in paths, so that handlers get as far as the body.
  auto decoder = Send(*admin_, "POST", a_.OrgPath() + "/decoders",
                      {{"name", "d"}, {"kind", "js"}, {"code", "function decode(p){return {};}"}});
  ASSERT_EQ(decoder.status, 201) << decoder.body;
  auto model = Send(*admin_, "POST", a_.OrgPath() + "/device-models", {{"name", "m"}});
  ASSERT_EQ(model.status, 201) << model.body;
  std::map<std::string, std::string> ids = {
      {"/api/v1/devices/{id}", std::to_string(a_.device.device_id)},
      {"/api/v1/decoders/{id}", std::to_string(decoder.Json().value("id", 0))},
      {"/api/v1/device-models/{id}", std::to_string(model.Json().value("id", 0))},
  };
  auto fill = [&](std::string path) {
    for (const auto& [prefix, id] : ids)
      if (path.rfind(prefix, 0) == 0) path.replace(prefix.size() - 4, 4, id);
    const std::map<std::string, std::string> params = {
        {"{orgId}", OrgId()},
        {"{appId}", std::to_string(a_.device.app_id)},
        {"{userId}", std::to_string(a_.viewer.user_id)},
        {"{id}", "1"},
        {"{ruleId}", "1"},
        {"{alarmId}", "1"}};
    for (const auto& [name, value] : params)
      for (size_t at; (at = path.find(name)) != std::string::npos;)
        path.replace(at, name.size(), value);
    return path;
  };

  auto doc = admin_->Get("/api/openapi.json");
  ASSERT_EQ(doc.status, 200);
  const std::string deep = DeepArray(kDeep);
  int tried = 0;
  std::vector<std::string> logout;  // sent last: it would end the admin's session
  const json spec = doc.Json();
  for (const auto& [path, item] : spec["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      std::string m = method;
      std::transform(m.begin(), m.end(), m.begin(), ::toupper);
      if (m != "POST" && m != "PATCH" && m != "PUT") continue;
      if (path.find("/auth/logout") != std::string::npos) {
        logout.push_back(path);
        continue;
      }
      std::string target = fill(path);
      if (path == "/api/v1/receive-data") target += "?apiKey=" + a_.device.ingest_key;
      auto r = admin_->Request(m, target, deep, {"Content-Type: application/json"});
      ++tried;
      EXPECT_GE(r.status, 400) << m << " " << target << ": " << r.body;
      EXPECT_LT(r.status, 500) << m << " " << target << ": " << r.body;
      ExpectAlive();
      if (HasFailure()) return;
    }
  }
  for (const auto& path : logout) {
    auto r = admin_->Request("POST", path, deep, {"Content-Type: application/json"});
    EXPECT_LT(r.status, 500) << r.body;
    ExpectAlive();
  }
  EXPECT_GT(tried, 30);  // the document lists every write route
}

TEST_F(HttpSecurityTest, DeepJsonIsNamedInTheErrorAndModerateNestingStillWorks) {
  auto deep = Send(*admin_, "POST", a_.OrgPath() + "/device-models",
                   json::parse("{\"name\":\"x\",\"doc\":" + DeepArray(100) + "}"));
  EXPECT_EQ(deep.status, 400) << deep.body;
  EXPECT_NE(ErrorMessage(deep).find("nested deeper than 64 levels"), std::string::npos)
      << deep.body;
  std::string nested = "{\"a\":{\"b\":{\"c\":{\"d\":[[[1]]]}}}}";
  auto ok = Send(*admin_, "POST", a_.OrgPath() + "/device-models",
                 {{"name", "ok"}, {"doc", json::parse(nested)}});
  EXPECT_EQ(ok.status, 201) << ok.body;
}

TEST_F(HttpSecurityTest, DeepDecoderTestPayloadInAStringIsRefused) {
  json body = {{"orgId", a_.device.org_id},
               {"code", "function decode(p){return {v:1};}"},
               {"encoding", "json"},
               {"payload", DeepArray(kDeep / 2)}};
  auto r = Send(*a_.editor.client, "POST", "/api/v1/decoders/test", body);
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(ErrorMessage(r).find("nested deeper"), std::string::npos) << r.body;
  ExpectAlive();
  body["payload"] = "{\"data\":\"AQI=\",\"fPort\":2}";
  auto ok = Send(*a_.editor.client, "POST", "/api/v1/decoders/test", body);
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(HttpSecurityTest, DeepDeviceMessageIsRefusedAndServerStaysUp) {
  auto r = Ingest(a_.device.ingest_key, DeepArray(kDeep));
  EXPECT_EQ(r.status, 400) << r.body;
  auto obj =
      Ingest(a_.device.ingest_key, std::string(kDeep / 5, '{') + std::string(kDeep / 5, '}'));
  EXPECT_EQ(obj.status, 400) << obj.body;
  auto senml =
      Ingest(a_.device.ingest_key, "[{\"n\":\"t\",\"v\":1,\"x\":" + DeepArray(kDeep / 2) + "}]",
             "application/senml+json");
  EXPECT_EQ(senml.status, 400) << senml.body;
  ExpectAlive();
  EXPECT_EQ(Ingest(a_.device.ingest_key, R"({"temperature":21.5})").status, 204);
}

// ---- finding 7: CSRF ----------------------------------------------------------------

TEST_F(HttpSecurityTest, CookieWriteWithPlainTextContentTypeIsRefused) {
  std::string path = a_.OrgPath() + "/api-keys";
  std::string body = json{{"name", "csrf"}, {"role", "admin"}}.dump();
  auto plain =
      a_.admin.client->Request("POST", path, body, {"Content-Type: text/plain; charset=json"});
  EXPECT_TRUE(plain.status == 415 || plain.status == 403) << plain.status << " " << plain.body;
  auto form = a_.admin.client->Request("POST", path, body,
                                       {"Content-Type: application/x-www-form-urlencoded"});
  EXPECT_TRUE(form.status == 415 || form.status == 403) << form.status << " " << form.body;
  auto none = a_.admin.client->Request("POST", path, body, {"Content-Type:"});
  EXPECT_TRUE(none.status == 415 || none.status == 403) << none.status << " " << none.body;
  // The legitimate request still works.
  auto ok = a_.admin.client->Request("POST", path, body, {"Content-Type: application/json"});
  EXPECT_EQ(ok.status, 201) << ok.body;
}

TEST_F(HttpSecurityTest, CookieWriteFromAnotherOriginIsRefused) {
  std::string path = a_.OrgPath() + "/api-keys";
  std::string body = json{{"name", "csrf"}, {"role", "admin"}}.dump();
  const std::string json_ct = "Content-Type: application/json";
  auto evil =
      a_.admin.client->Request("POST", path, body, {json_ct, "Origin: https://evil.example"});
  EXPECT_EQ(evil.status, 403) << evil.body;
  auto null_origin = a_.admin.client->Request("POST", path, body, {json_ct, "Origin: null"});
  EXPECT_EQ(null_origin.status, 403) << null_origin.body;
  auto cross =
      a_.admin.client->Request("POST", path, body, {json_ct, "Sec-Fetch-Site: cross-site"});
  EXPECT_EQ(cross.status, 403) << cross.body;
  auto sibling =
      a_.admin.client->Request("POST", path, body, {json_ct, "Sec-Fetch-Site: same-site"});
  EXPECT_EQ(sibling.status, 403) << sibling.body;
  // A bodiless POST (a cross-site page can send one without a preflight).
  auto bodiless =
      a_.admin.client->Request("POST", a_.DevicePath() + "/rotate-key", "", {"Content-Type:"});
  EXPECT_EQ(bodiless.status, 403) << bodiless.body;
  auto keys = a_.admin.client->Get(path);
  EXPECT_EQ(keys.Json().value("total", -1), 0) << keys.body;  // nothing was created

  // Same origin, no Origin at all (non-browser clients), and JSON: accepted.
  auto same = a_.admin.client->Request(
      "POST", path, body, {json_ct, "Origin: " + server_->url(), "Sec-Fetch-Site: same-origin"});
  EXPECT_EQ(same.status, 201) << same.body;
  auto no_origin = a_.admin.client->Request("POST", path, body, {json_ct});
  EXPECT_EQ(no_origin.status, 201) << no_origin.body;
  auto rotate = a_.admin.client->Request("POST", a_.DevicePath() + "/rotate-key", "",
                                         {"Content-Type:", "Origin: " + server_->url()});
  EXPECT_EQ(rotate.status, 200) << rotate.body;
  auto rotate_json =
      a_.admin.client->Request("POST", a_.DevicePath() + "/rotate-key", "", {json_ct});
  EXPECT_EQ(rotate_json.status, 200) << rotate_json.body;
}

TEST_F(HttpSecurityTest, ApiKeyWritesAreNotSubjectToTheCookieChecks) {
  auto made = Send(*a_.admin.client, "POST", a_.OrgPath() + "/api-keys",
                   {{"name", "script"}, {"role", "editor"}});
  ASSERT_EQ(made.status, 201) << made.body;
  std::string key = made.Json().value("key", "");
  ASSERT_FALSE(key.empty()) << made.body;
  HttpClient script(server_->url());
  auto r = script.Request(
      "POST", a_.OrgPath() + "/applications", json{{"name", "k"}}.dump(),
      {"Content-Type: application/json", "X-API-Key: " + key, "Origin: https://evil.example"});
  EXPECT_EQ(r.status, 201) << r.body;
  auto rotate =
      script.Request("POST", a_.DevicePath() + "/rotate-key", "", {"Authorization: Bearer " + key});
  EXPECT_EQ(rotate.status, 200) << rotate.body;
}

// ---- finding 14: CSV formulas ---------------------------------------------------------

TEST_F(HttpSecurityTest, CsvExportDefusesFormulaCells) {
  json msg = {{"note", "=HYPERLINK(\"https://evil.example\",\"klik\")"},
              {"@cmd", 1},
              {"minus", "-2+3"},
              {"temp", -3.5}};
  ASSERT_EQ(Ingest(a_.device.ingest_key, msg.dump()).status, 204);
  auto csv = a_.viewer.client->Get(a_.DevicePath() + "/readings?format=csv");
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_EQ(csv.headers["cache-control"], "no-store");
  EXPECT_NE(csv.body.find("\"'=HYPERLINK("), std::string::npos) << csv.body;
  EXPECT_EQ(csv.body.find(",=HYPERLINK"), std::string::npos) << csv.body;
  EXPECT_EQ(csv.body.find("\"=HYPERLINK"), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find(",'@cmd,"), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find(",'-2+3,"), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find(",temp,"), std::string::npos) << csv.body;
  EXPECT_NE(csv.body.find(",-3.5,"), std::string::npos) << csv.body;  // a number stays a number

  auto messages = a_.viewer.client->Get(a_.DevicePath() + "/messages?format=csv");
  ASSERT_EQ(messages.status, 200) << messages.body;
  EXPECT_EQ(messages.body.find(",=HYPERLINK"), std::string::npos) << messages.body;
}

// ---- finding 15: errors that leak internals --------------------------------------------

TEST_F(HttpSecurityTest, DevEuiConflictAnswersANeutral409) {
  json dev = {{"name", "Faldalarm"}, {"transport", "lorawan"}, {"devEui", "70b3d57ed0001234"}};
  auto mine = Send(*a_.admin.client, "POST", a_.AppPath() + "/devices", dev);
  ASSERT_EQ(mine.status, 201) << mine.body;
  auto theirs = Send(*b_.admin.client, "POST", b_.AppPath() + "/devices", dev);
  EXPECT_EQ(theirs.status, 409) << theirs.body;
  auto again = Send(*a_.admin.client, "POST", a_.AppPath() + "/devices", dev);
  EXPECT_EQ(again.status, 409) << again.body;
  for (const auto& r : {theirs, again}) {
    std::string text = Lower(r.body);
    for (const char* leak : {"unique", "constraint", "devices.", "sql", "organisation a"})
      EXPECT_EQ(text.find(leak), std::string::npos) << leak << " in " << r.body;
    EXPECT_EQ(ErrorMessage(r), "a device with this DevEUI already exists") << r.body;
  }
  // Other organisations cannot tell whether the DevEUI is theirs or someone else's.
  EXPECT_EQ(theirs.body, again.body);
}

TEST_F(HttpSecurityTest, AnotherOrganisationsAlarmIdDoesNotNameTheOwner) {
  auto r = b_.admin.client->Get("/api/v1/alarms/1");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ErrorMessage(r), "no alarm with id 1") << r.body;
}

TEST_F(HttpSecurityTest, InvalidUtf8EchoedInAnErrorIsEscaped) {
  auto r = a_.viewer.client->Get("/api/v1/devices/%FF%FEabc");
  EXPECT_EQ(r.status, 404);
  json j = r.Json();  // nlohmann refuses invalid UTF-8: the body must parse
  ASSERT_FALSE(j.is_discarded()) << r.body;
  EXPECT_NE(ErrorMessage(r).find("\xEF\xBF\xBD"), std::string::npos) << r.body;
}

// ---- finding 16: HTTP hardening -----------------------------------------------------------

TEST_F(HttpSecurityTest, ApiAnswersAreNeverCachedAndPlainHttpHasNoHsts) {
  auto me = a_.viewer.client->Get("/api/v1/auth/me");
  ASSERT_EQ(me.status, 200);
  EXPECT_EQ(me.headers["cache-control"], "no-store");
  EXPECT_EQ(me.headers.count("strict-transport-security"), 0u);
  auto missing = a_.viewer.client->Get("/api/v1/devices/999999");
  EXPECT_EQ(missing.headers["cache-control"], "no-store");
}

class HttpSettingsTest : public ServerTest {
 protected:
  void SetUp() override {}  // each test sets server_env_ first
};

TEST_F(HttpSettingsTest, MetricsTokenProtectsMetrics) {
  server_env_ = {"BYSANS_HTTP_METRICS_TOKEN=scrape-secret-123"};
  StartServer();
  HttpClient prometheus(server_->url());
  auto none = prometheus.Get("/metrics");
  EXPECT_EQ(none.status, 401) << none.body;
  EXPECT_EQ(none.body.find("bysans_http"), std::string::npos);
  auto wrong = prometheus.Get("/metrics", {"Authorization: Bearer scrape-secret-124"});
  EXPECT_EQ(wrong.status, 401);
  auto right = prometheus.Get("/metrics", {"Authorization: Bearer scrape-secret-123"});
  EXPECT_EQ(right.status, 200);
  EXPECT_NE(right.body.find("bysans_http"), std::string::npos);
}

TEST_F(HttpSettingsTest, MetricsStayOpenWithoutAToken) {
  StartServer();
  HttpClient prometheus(server_->url());
  EXPECT_EQ(prometheus.Get("/metrics").status, 200);
}

// A raw TCP connection to the server (to hold connections open).
class RawConnection {
 public:
  explicit RawConnection(const std::string& url) {
    uint16_t port = static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{3, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  bool connected() const { return connected_; }
  // Sends a GET /healthz and returns what came back before EOF or the timeout.
  std::string Healthz() {
    std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) < 0) return {};
    char buf[4096];
    long n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }
  // True when the server closed the connection within the receive timeout.
  bool ClosedByServer() {
    char c;
    long n = ::recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST_F(HttpSettingsTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  server_env_ = {"BYSANS_HTTP_MAX_CONNECTIONS=4"};
  StartServer();
  // The admin client keeps one keep-alive connection; three more fill the limit.
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawConnection>(server_->url()));
    ASSERT_TRUE(held.back()->connected());
    EXPECT_NE(held.back()->Healthz().find("200 OK"), std::string::npos) << i;
  }
  RawConnection extra(server_->url());
  ASSERT_TRUE(extra.connected());  // the kernel accepts; bysans closes it at once
  EXPECT_TRUE(extra.ClosedByServer());
  // The connections within the limit keep working; freeing one admits a new one.
  EXPECT_NE(held[0]->Healthz().find("200 OK"), std::string::npos);
  held.pop_back();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RawConnection next(server_->url());
  EXPECT_NE(next.Healthz().find("200 OK"), std::string::npos);
}

// ---- finding 18: audit gaps ------------------------------------------------------------------

TEST_F(HttpSecurityTest, DeniedCrossOrganisationAttemptsAreAuditedOncePerMinute) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(b_.admin.client->Get(a_.DevicePath()).status, 404);
  EXPECT_EQ(b_.admin.client->Get(a_.OrgPath()).status, 404);
  EXPECT_EQ(b_.editor.client->Get(a_.AppPath()).status, 404);
  auto denied = AuditOf(a_.device.org_id, "denied");
  // One entry per (caller, organisation): B's admin once, B's editor once.
  ASSERT_EQ(denied.size(), 2u) << json(denied).dump();
  std::set<int64_t> users;
  for (const auto& e : denied) users.insert(e.value("userId", int64_t{0}));
  EXPECT_EQ(users, (std::set<int64_t>{b_.admin.user_id, b_.editor.user_id}));
  // Nothing lands in the attacker's own organisation, and legitimate reads log no denial.
  EXPECT_TRUE(AuditOf(b_.device.org_id, "denied").empty());
  EXPECT_EQ(a_.viewer.client->Get(a_.DevicePath()).status, 200);
  EXPECT_EQ(AuditOf(a_.device.org_id, "denied").size(), 2u);
}

TEST_F(HttpSecurityTest, ExportsMessageListsAndDecoderTestsAreAudited) {
  ASSERT_EQ(Ingest(a_.device.ingest_key, R"({"temperature":21.5})").status, 204);
  EXPECT_EQ(a_.viewer.client->Get(a_.DevicePath() + "/readings?format=csv").status, 200);
  EXPECT_EQ(a_.viewer.client->Get(a_.DevicePath() + "/messages").status, 200);
  auto test = Send(*a_.editor.client, "POST", "/api/v1/decoders/test",
                   {{"orgId", a_.device.org_id},
                    {"code", "function decode(p){return {v:1};}"},
                    {"payload", "0102"}});
  EXPECT_EQ(test.status, 200) << test.body;
  auto exports = AuditOf(a_.device.org_id, "export");
  ASSERT_EQ(exports.size(), 1u);
  EXPECT_EQ(exports[0].value("userId", int64_t{0}), a_.viewer.user_id);
  EXPECT_EQ(exports[0].value("objectId", ""), std::to_string(a_.device.device_id));
  auto reads = AuditOf(a_.device.org_id, "read");
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_NE(reads[0].value("detail", "").find("messages"), std::string::npos);
  auto tests = AuditOf(a_.device.org_id, "test");
  ASSERT_EQ(tests.size(), 1u);
  EXPECT_EQ(tests[0].value("userId", int64_t{0}), a_.editor.user_id);
}

}  // namespace
}  // namespace bysans::testing

// THE TENANCY MATRIX: every route that names an object is called by another
// organisation's admin (session and API key) with organisation A's ids, and
// must answer 403 or 404 and change nothing. Viewers cannot write; editors
// cannot manage API keys or members.
#include <algorithm>
#include <functional>
#include <map>

#include "store/coap_credential_store.h"
#include "store/contact_store.h"
#include "store/gateway_store.h"
#include "store/lwm2m_store.h"
#include "store/mqtt_store.h"
#include "store/rule_store.h"
#include "unit/api/api_fixture.h"

namespace bysans::testing {
namespace {

struct Tenant {
  Id org = 0, app = 0, device = 0, lora_device = 0, model = 0, key_id = 0;
  Id decoder = 0, job = 0;                  // api/decoders.cc, api/jobs.cc
  Id rule = 0, alarm = 0, silence = 0;      // api/rules.cc, api/alarms.cc
  Id chirpstack = 0, mqtt_integration = 0;  // api/integrations.cc
  Id invitation = 0;                        // api/invitations.cc
  Id dataset = 0;                           // api/open_data.cc (unpublished: public routes 404)
  Id data_target = 0;                       // api/data_targets.cc
  Id dashboard = 0;                         // api/dashboards.cc
  std::string gateway;                      // api/gateways.cc
  User admin, editor, viewer;
  Creds admin_cookie, editor_cookie, viewer_cookie;
  Creds admin_key, editor_key, viewer_key;
};

class TenancyTest : public ApiFixture {
 protected:
  void SetUp() override {
    login_limit_ = 1000;  // this test logs in many times from one address
    ApiFixture::SetUp();
    MakeUser("root@example.dk", "Root-pass-for-tests-1", true);
    root_ = Login("root@example.dk", "Root-pass-for-tests-1");
    Build("a", a_, "A1B2C3D4E5F60701");
    Build("b", b_, "A1B2C3D4E5F60702");
  }

  Id Created(const Reply& r) {
    EXPECT_EQ(r.status, 201) << r.raw;
    return r.body.value("id", Id{0});
  }

  void Build(const std::string& n, Tenant& t, const std::string& eui) {
    t.org = Created(Call("POST", "/api/v1/organizations", root_, json{{"name", "org-" + n}}));
    std::string org = "/api/v1/organizations/" + std::to_string(t.org);
    t.app = Created(Call("POST", org + "/applications", root_, json{{"name", "app-" + n}}));
    t.model = Created(Call("POST", org + "/device-models", root_,
                           json{{"modelName", "model-" + n}, {"controlledProperty", {"t"}}}));
    std::string devs = "/api/v1/applications/" + std::to_string(t.app) + "/devices";
    t.device =
        Created(Call("POST", devs, root_,
                     json{{"name", "dev-" + n}, {"deviceModelId", t.model}, {"tags", {"x"}}}));
    t.lora_device =
        Created(Call("POST", devs, root_,
                     json{{"name", "lora-" + n}, {"transport", "lorawan"}, {"devEui", eui}}));
    auto member = [&](const std::string& role, User& u, Creds& c) {
      u = MakeUser(role + "@" + n + ".dk", "Password-for-" + n + "-tests", false);
      Reply r = Call("PUT", org + "/members/" + std::to_string(u.id), root_, json{{"role", role}});
      EXPECT_EQ(r.status, 200) << r.raw;
      c = Login(u.email, "Password-for-" + n + "-tests");
    };
    member("admin", t.admin, t.admin_cookie);
    member("editor", t.editor, t.editor_cookie);
    member("viewer", t.viewer, t.viewer_cookie);
    auto key = [&](const std::string& role, Creds& c, bool bearer) {
      Reply r = Call("POST", org + "/api-keys", root_, json{{"name", role}, {"role", role}});
      EXPECT_EQ(r.status, 201) << r.raw;
      c = Creds::Key(r.body.value("key", ""), bearer);
      return r.body.value("id", Id{0});
    };
    t.key_id = key("admin", t.admin_key, false);
    t.invitation = Created(Call("POST", org + "/invitations", root_,
                                json{{"email", "new-" + n + "@example.dk"}, {"role", "editor"}}));
    t.decoder =
        Created(Call("POST", org + "/decoders", root_,
                     json{{"name", "dec-" + n}, {"code", "function decode(p) { return p; }"}}));
    Reply job = Call("POST", "/api/v1/decoders/" + std::to_string(t.decoder) + "/redecode", root_,
                     json::object());
    EXPECT_EQ(job.status, 202) << job.raw;
    t.job = job.body.value("jobId", Id{0});
    t.rule = Created(Call("POST", org + "/rules", root_,
                          json{{"name", "rule-" + n},
                               {"scope", {{"kind", "device"}, {"id", t.device}}},
                               {"expression", "co2 > 1000"}}));
    t.alarm = store_->rules()
                  .CreateAlarm({0, t.org, t.rule, t.device, "active", 0,
                                R"({"state":"active","message":"m"})"},
                               {})
                  .value()
                  .id;
    t.silence = Created(Call("POST", org + "/silences", root_,
                             json{{"deviceId", t.device}, {"until", "2099-01-01T00:00:00Z"}}));
    key("editor", t.editor_key, true);
    key("viewer", t.viewer_key, false);
    // Integrations to brokers that do not exist (no server runs them here).
    t.chirpstack = Created(Call("POST", org + "/integrations/chirpstack", root_,
                                json{{"name", "cs-" + n},
                                     {"url", "mqtt://127.0.0.1:1"},
                                     {"username", "u"},
                                     {"password", "secret-" + n}}));
    t.mqtt_integration = Created(
        Call("POST", "/api/v1/applications/" + std::to_string(t.app) + "/integrations/mqtt", root_,
             json{{"name", "ext-" + n},
                  {"url", "mqtt://127.0.0.1:1"},
                  {"topicFilter", "sensors/+/data"},
                  {"deviceTopicLevel", 1}}));
    t.dataset = Created(Call("POST", org + "/open-data/datasets", root_,
                             json{{"title", "data-" + n},
                                  {"deviceIds", {t.device}},
                                  {"license", "https://creativecommons.org/licenses/by/4.0/"},
                                  {"contactName", "C"},
                                  {"contactEmail", "c@" + n + ".dk"}}));
    // Paused: the matrix must not depend on delivering anywhere.
    t.data_target = Created(
        Call("POST", "/api/v1/applications/" + std::to_string(t.app) + "/data-targets", root_,
             json{{"name", "target-" + n}, {"url", "https://example.com/" + n}, {"paused", true}}));
    // Responsible contacts and an SMS gateway (api/contacts.cc, api/sms_gateway.cc).
    for (const std::string& path : {"/api/v1/applications/" + std::to_string(t.app) + "/contacts",
                                    "/api/v1/devices/" + std::to_string(t.device) + "/contacts"}) {
      json contact = {{"name", "Ansvarlig " + n}, {"phone", "+45 12 34 56 78"}};
      Reply r = Call("PUT", path, root_, json{{"items", json::array({contact})}});
      EXPECT_EQ(r.status, 200) << r.raw;
    }
    // A CoAP DTLS pre-shared key of the device (api/coap_credentials.cc).
    Reply psk = Call("POST", "/api/v1/devices/" + std::to_string(t.device) + "/coap-credentials",
                     root_, json{{"identity", "psk-" + n}});
    EXPECT_EQ(psk.status, 201) << psk.raw;
    // An LwM2M registration (made by the CoAP server: here in the store) and a queued
    // operation (api/lwm2m.cc).
    Lwm2mRegistration reg;
    reg.device_id = t.device;
    reg.registration_id = "reg-" + n;
    reg.endpoint = "ep-" + n;
    reg.objects = "/3303/0";
    reg.registered_ms = reg.updated_ms = 1000;
    EXPECT_TRUE(store_->lwm2m().PutRegistration(reg).ok());
    Reply op = Call("POST", "/api/v1/devices/" + std::to_string(t.device) + "/lwm2m/operations",
                    root_, json{{"kind", "write"}, {"path", "/1/0/1"}, {"value", "60"}});
    EXPECT_EQ(op.status, 201) << op.raw;
    Reply gw = Call("PUT", org + "/sms-gateway", root_,
                    json{{"url", "https://sms.example.com/" + n}, {"secret", "token-" + n}});
    EXPECT_EQ(gw.status, 200) << gw.raw;
    // A LoRaWAN gateway that heard the organisation's device and reported its state
    // (api/gateways.cc).
    t.gateway = "00000000000000" + std::string(n == "a" ? "0a" : "0b");
    EXPECT_TRUE(store_->mqtt()
                    .TouchGateway(t.org, t.gateway, 1000, UplinkSource::kLocalBroker, t.lora_device,
                                  -90.0, 5.0)
                    .ok());
    EXPECT_TRUE(store_->gateways().RecordGatewayState(t.org, t.gateway, true, 1000).ok());
    t.dashboard = Created(
        Call("POST", org + "/dashboards", root_,
             json{{"name", "dash-" + n},
                  {"layout",
                   {{"widgets", {{{"type", "latest"}, {"deviceId", t.device}, {"key", "t"}}}}}}}));
  }

  // The route pattern with every placeholder replaced by tenant t's object.
  std::string Fill(const std::string& pattern, const Tenant& t) {
    std::string out;
    std::string prev;
    size_t i = 0;
    while (i < pattern.size()) {
      size_t slash = pattern.find('/', i + 1);
      std::string seg =
          pattern.substr(i + 1, slash == std::string::npos ? std::string::npos : slash - i - 1);
      std::string value = seg;
      if (seg == "{*path}") {  // api/sta.cc: a SensorThings resource path, the tenant's Thing
        out += "/Things(" + std::to_string(t.device) + ")";
        break;
      }
      if (seg == "{gatewayId}") {
        value = t.gateway;
      } else if (seg.size() > 2 && seg.front() == '{') {
        std::string name = seg.substr(1, seg.size() - 2);
        Id id = 0;
        if (name == "orgId")
          id = t.org;
        else if (name == "appId")
          id = t.app;
        else if (name == "userId")
          id = t.editor.id;
        else if (name == "id" && prev == "devices")
          id = t.device;
        else if (name == "id" && prev == "device-models")
          id = t.model;
        else if (name == "id" && prev == "api-keys")
          id = t.key_id;
        else if (name == "id" && prev == "decoders")
          id = t.decoder;
        else if (name == "id" && prev == "jobs")
          id = t.job;
        else if (name == "jobId")  // api/org_export.cc: an export job (the re-decode job will do)
          id = t.job;
        else if (name == "ruleId")
          id = t.rule;
        else if (name == "alarmId")
          id = t.alarm;
        else if (name == "silenceId")
          id = t.silence;
        else if (name == "id" && prev == "chirpstack")
          id = t.chirpstack;
        else if (name == "id" && prev == "mqtt")
          id = t.mqtt_integration;
        else if (name == "invitationId")
          id = t.invitation;
        else if (name == "id" && prev == "data-targets")
          id = t.data_target;
        else if (name == "id" && prev == "datasets")
          id = t.dataset;
        else if (name == "id" && prev == "dashboards")
          id = t.dashboard;
        EXPECT_NE(id, 0) << "the tenancy matrix has no object for {" << name << "} in " << pattern
                         << ": extend Fill()";
        value = std::to_string(id);
      }
      out += "/" + value;
      prev = seg;
      if (slash == std::string::npos) break;
      i = slash;
    }
    return out;
  }

  // Everything organisation A owns, as its global admin sees it.
  json Snapshot() {
    json s;
    std::string org = "/api/v1/organizations/" + std::to_string(a_.org);
    for (const std::string& path :
         {org,
          org + "/applications",
          org + "/devices",
          org + "/device-models",
          org + "/members",
          org + "/api-keys",
          org + "/invitations",
          "/api/v1/audit?limit=10000&orgId=" + std::to_string(a_.org),
          std::string("/api/v1/users?limit=10000"),
          "/api/v1/applications/" + std::to_string(a_.app),
          "/api/v1/applications/" + std::to_string(a_.app) + "/data-targets",
          "/api/v1/data-targets/" + std::to_string(a_.data_target) + "/dead-letters",
          "/api/v1/devices/" + std::to_string(a_.device),
          "/api/v1/devices/" + std::to_string(a_.lora_device),
          "/api/v1/device-models/" + std::to_string(a_.model),
          "/api/v1/integrations/chirpstack/" + std::to_string(a_.chirpstack),
          "/api/v1/integrations/mqtt/" + std::to_string(a_.mqtt_integration),
          "/api/v1/open-data/datasets/" + std::to_string(a_.dataset),
          org + "/open-data/datasets",
          "/api/v1/dashboards/" + std::to_string(a_.dashboard),
          org + "/dashboards",
          org + "/gateways",
          org + "/gateways/" + a_.gateway + "?from=0",
          org + "/gateways/" + a_.gateway + "/devices"}) {
      Reply r = Call("GET", path, root_);
      EXPECT_EQ(r.status, 200) << path << " " << r.raw;
      s[path] = r.body;
    }
    // The attempts themselves are audited as "denied" in A (checked apart): A's other
    // entries must stay as they were.
    json& audit = s["/api/v1/audit?limit=10000&orgId=" + std::to_string(a_.org)];
    json kept = json::array();
    for (auto& e : audit["items"])
      if (e.value("action", "") != "denied") kept.push_back(e);
    audit["items"] = kept;
    audit.erase("total");
    // A's contacts and SMS gateway, read from the store (an API read would be audited).
    auto app_contacts = store_->contacts().ListContacts(ContactOwner::kApplication, a_.app);
    auto dev_contacts = store_->contacts().ListContacts(ContactOwner::kDevice, a_.device);
    auto gateway = store_->contacts().GetSmsGateway(a_.org);
    s["contacts"] = {app_contacts.ok() ? app_contacts->size() : 99,
                     app_contacts.ok() && !app_contacts->empty() ? (*app_contacts)[0].name : "",
                     dev_contacts.ok() ? dev_contacts->size() : 99};
    s["smsGateway"] = gateway.ok() ? gateway->url + "|" + gateway->secret_sealed : "none";
    // A's CoAP PSK (identity and sealed key: neither rotated nor deleted).
    auto psk = store_->coap_credentials().GetCoapCredential(a_.device);
    s["coapPsk"] = psk.ok() ? psk->identity + "|" + psk->sealed_key : "none";
    // A's LwM2M registration and operations (none added, none changed).
    auto reg = store_->lwm2m().GetRegistration(a_.device);
    s["lwm2mRegistration"] =
        reg.ok() ? reg->registration_id + "|" + reg->endpoint + "|" + reg->objects : "none";
    auto ops = store_->lwm2m().ListOperations(a_.device, 100);
    json op_list = json::array();
    if (ops.ok()) {
      for (const auto& op : *ops)
        op_list.push_back(std::to_string(op.id) + "|" + op.path + "|" + op.value + "|" +
                          Lwm2mOpStateName(op.state));
    }
    s["lwm2mOperations"] = op_list;
    // A's ingest key still finds its device (rotate-key did not run).
    s["ingest"] = store_->FindDeviceByIngestKey(a_ingest_hash_).ok();
    return s;
  }

  std::vector<http::RouteInfo> ObjectRoutes() {
    std::vector<http::RouteInfo> out;
    for (const auto& r : router_.Routes())
      if (r.pattern.find('{') != std::string::npos) out.push_back(r);
    return out;
  }

  static bool IsWrite(const std::string& method) { return method != "GET" && method != "HEAD"; }

  static std::string BodyFor(const std::string& method) {
    return IsWrite(method) ? json{{"name", "hijacked"}, {"role", "admin"}}.dump() : "";
  }

  Creds root_;
  Tenant a_, b_;
  std::string a_ingest_hash_;
};

TEST_F(TenancyTest, OtherOrganisationsAdminCannotReachAnythingOfA) {
  // Keep A's device's ingest key to prove it is not rotated.
  Reply rotated =
      Call("POST", "/api/v1/devices/" + std::to_string(a_.device) + "/rotate-key", root_);
  ASSERT_EQ(rotated.status, 200);
  a_ingest_hash_ = auth::Sha256Hex(rotated.body["apiKey"].get<std::string>());
  const json before = Snapshot();

  std::vector<http::RouteInfo> routes = ObjectRoutes();
  ASSERT_GE(routes.size(), 25u);
  int calls = 0;
  for (const Creds& caller : {b_.admin_cookie, b_.admin_key}) {
    // Reads first, then writes, deletes last so every call meets A's objects intact.
    for (const char* phase : {"GET", "PATCH", "PUT", "POST", "DELETE"}) {
      for (const auto& r : routes) {
        if (r.method != phase) continue;
        std::string target = Fill(r.pattern, a_);
        Reply reply = Call(r.method, target, caller, BodyFor(r.method));
        ++calls;
        EXPECT_TRUE(reply.status == 403 || reply.status == 404)
            << (caller.cookie.empty() ? "API key " : "session ") << r.method << " " << target
            << " (" << r.pattern << ") answered " << reply.status << ": " << reply.raw;
      }
    }
  }
  EXPECT_EQ(calls, 2 * static_cast<int>(routes.size()));
  EXPECT_EQ(Snapshot(), before);
  // Each attacker (B's admin by session, B's admin key) is audited once in A, not per attempt.
  Reply audit = Call("GET", "/api/v1/audit?limit=10000&orgId=" + std::to_string(a_.org), root_);
  int denied = 0;
  for (const auto& e : audit.body["items"]) denied += e.value("action", "") == "denied" ? 1 : 0;
  EXPECT_EQ(denied, 2) << audit.raw;

  // B's admin still works in B (the matrix is not passing by being broken).
  Reply own = Call("GET", Fill("/api/v1/devices/{id}", b_), b_.admin_cookie);
  EXPECT_EQ(own.status, 200);
  // Query parameters naming A's objects do not leak either.
  EXPECT_EQ(Call("GET", "/api/v1/audit?orgId=" + std::to_string(a_.org), b_.admin_cookie).status,
            404);
  Reply filtered = Call(
      "GET",
      "/api/v1/organizations/" + std::to_string(b_.org) + "/devices?app=" + std::to_string(a_.app),
      b_.admin_key);
  ASSERT_EQ(filtered.status, 200);
  EXPECT_EQ(filtered.body["total"], 0);
  // A device in B cannot point at A's device model.
  Reply cross = Call("PATCH", Fill("/api/v1/devices/{id}", b_), b_.admin_cookie,
                     json{{"deviceModelId", a_.model}});
  EXPECT_EQ(cross.status, 400);
  // Organisation lists show only B.
  Reply orgs = Call("GET", "/api/v1/organizations", b_.admin_cookie);
  ASSERT_EQ(orgs.status, 200);
  EXPECT_EQ(orgs.body["total"], 1);
  EXPECT_EQ(orgs.body["items"][0]["id"], b_.org);
  Reply key_orgs = Call("GET", "/api/v1/organizations", b_.admin_key);
  EXPECT_EQ(key_orgs.body["total"], 1);
  EXPECT_EQ(key_orgs.body["items"][0]["id"], b_.org);
}

TEST_F(TenancyTest, ViewersCannotWrite) {
  const json before = Snapshot();
  int writes = 0;
  for (const Creds& caller : {a_.viewer_cookie, a_.viewer_key}) {
    for (const char* phase : {"PATCH", "PUT", "POST", "DELETE"}) {
      for (const auto& r : ObjectRoutes()) {
        // /me/ routes act on the caller's own invitations, not on the organisation's objects
        // (another user's invitation answers 404; tests/security/auth_test.cc).
        if (r.method != phase || r.pattern.rfind("/api/v1/me/", 0) == 0) continue;
        std::string target = Fill(r.pattern, a_);
        Reply reply = Call(r.method, target, caller, BodyFor(r.method));
        ++writes;
        EXPECT_EQ(reply.status, 403) << r.method << " " << target << ": " << reply.raw;
      }
    }
    EXPECT_EQ(Call("POST", "/api/v1/organizations", caller, json{{"name", "x"}}).status, 403);
    EXPECT_EQ(Call("POST", "/api/v1/users", caller,
                   json{{"email", "x@x.dk"}, {"password", "Long-enough-pass-1"}})
                  .status,
              403);
  }
  EXPECT_GT(writes, 10);
  EXPECT_EQ(Snapshot(), before);
  // ... but they read.
  EXPECT_EQ(Call("GET", Fill("/api/v1/devices/{id}", a_), a_.viewer_cookie).status, 200);
  EXPECT_EQ(Call("GET", Fill("/api/v1/devices/{id}", a_), a_.viewer_key).status, 200);
}

// Issue 21: an operator (cookie or key) writes only alarm handling — acknowledge, clear,
// comment, silences — and every other write route of the organisation answers 403.
TEST_F(TenancyTest, OperatorsWriteOnlyAlarmHandling) {
  const std::string org = "/api/v1/organizations/" + std::to_string(a_.org);
  User op = MakeUser("operator@a.dk", "Password-for-a-tests", false);
  ASSERT_EQ(
      Call("PUT", org + "/members/" + std::to_string(op.id), root_, json{{"role", "operator"}})
          .status,
      200);
  Reply k = Call("POST", org + "/api-keys", root_, json{{"name", "op"}, {"role", "operator"}});
  ASSERT_EQ(k.status, 201) << k.raw;
  EXPECT_EQ(k.body["role"], "operator");
  const Creds op_cookie = Login("operator@a.dk", "Password-for-a-tests");
  const Creds op_key = Creds::Key(k.body.value("key", ""), true);
  auto alarm_handling = [](const std::string& p) {
    return p.rfind("/api/v1/alarms/", 0) == 0 || p.find("silences") != std::string::npos;
  };
  const json before = Snapshot();
  int refused = 0;
  for (const Creds& caller : {op_cookie, op_key}) {
    for (const auto& r : ObjectRoutes()) {
      if (!IsWrite(r.method) || r.pattern.rfind("/api/v1/me/", 0) == 0) continue;
      if (alarm_handling(r.pattern)) continue;
      std::string target = Fill(r.pattern, a_);
      Reply reply = Call(r.method, target, caller, BodyFor(r.method));
      ++refused;
      EXPECT_EQ(reply.status, 403) << r.method << " " << target << ": " << reply.raw;
    }
  }
  EXPECT_GT(refused, 20);
  EXPECT_EQ(Snapshot(), before);
  // ... but they handle alarms and silences, and read.
  const std::string alarm = "/api/v1/alarms/" + std::to_string(a_.alarm);
  EXPECT_EQ(Call("POST", alarm + "/comment", op_key, json{{"comment", "ser på det"}}).status, 200);
  EXPECT_EQ(Call("POST", alarm + "/acknowledge", op_cookie, json{{"comment", "ok"}}).status, 200);
  EXPECT_EQ(Call("POST", org + "/silences", op_cookie,
                 json{{"deviceId", a_.device}, {"until", "2099-01-01T00:00:00Z"}})
                .status,
            201);
  EXPECT_EQ(Call("GET", Fill("/api/v1/devices/{id}", a_), op_key).status, 200);
}

TEST_F(TenancyTest, EditorsCannotManageKeysOrMembers) {
  const json before = Snapshot();
  int calls = 0;
  for (const Creds& caller : {a_.editor_cookie, a_.editor_key}) {
    for (const auto& r : ObjectRoutes()) {
      if (r.pattern.find("/api-keys") == std::string::npos &&
          r.pattern.find("/members") == std::string::npos &&
          r.pattern.find("/organizations/{orgId}/invitations") == std::string::npos)
        continue;
      std::string target = Fill(r.pattern, a_);
      Reply reply = Call(r.method, target, caller, BodyFor(r.method));
      ++calls;
      EXPECT_EQ(reply.status, 403) << r.method << " " << target << ": " << reply.raw;
    }
  }
  EXPECT_EQ(calls, 2 * 11);
  EXPECT_EQ(Snapshot(), before);
  // Editors do change devices.
  EXPECT_EQ(
      Call("PATCH", Fill("/api/v1/devices/{id}", a_), a_.editor_key, json{{"name", "renamed"}})
          .status,
      200);
}

// Access per application (issue 21 §2): an editor of A restricted to another application of A
// reaches none of the first application's objects nor any organisation-wide route (fail closed);
// the few organisation routes open to them list only their own application's objects.
TEST_F(TenancyTest, AMemberRestrictedToAnotherApplicationReachesNothingOfTheFirst) {
  const std::string org = "/api/v1/organizations/" + std::to_string(a_.org);
  const Id own_app = Created(Call("POST", org + "/applications", root_, json{{"name", "app-a2"}}));
  User ed = MakeUser("scoped@a.dk", "Password-for-a-tests", false);
  Reply put = Call("PUT", org + "/members/" + std::to_string(ed.id), root_,
                   json{{"role", "editor"}, {"applications", {own_app}}});
  ASSERT_EQ(put.status, 200) << put.raw;
  const Creds scoped = Login("scoped@a.dk", "Password-for-a-tests");
  const std::string base = "/api/v1/organizations/{orgId}";
  const std::vector<std::string> lists = {base,
                                          base + "/applications",
                                          base + "/devices",
                                          base + "/alarms",
                                          base + "/silences",
                                          base + "/dashboards"};
  const json before = Snapshot();
  int refused = 0, listed = 0;
  for (const char* phase : {"GET", "PATCH", "PUT", "POST", "DELETE"}) {
    for (const auto& r : ObjectRoutes()) {
      if (r.method != phase || r.pattern.rfind("/api/v1/me/", 0) == 0) continue;
      if (r.pattern == base + "/stream") continue;  // tests/security/app_scope_test.cc
      const std::string target = Fill(r.pattern, a_);
      Reply reply = Call(r.method, target, scoped, BodyFor(r.method));
      if (r.method == "GET" && std::find(lists.begin(), lists.end(), r.pattern) != lists.end()) {
        ++listed;
        EXPECT_EQ(reply.status, 200) << target << ": " << reply.raw;
        for (const auto& item : reply.body.value("items", json::array())) {
          EXPECT_EQ(item.value("id", Id{0}) == a_.device || item.value("id", Id{0}) == a_.app ||
                        item.value("id", Id{0}) == a_.alarm,
                    false)
              << target << " lists " << item.dump();
          if (r.pattern == base + "/applications") {
            EXPECT_EQ(item.value("id", Id{0}), own_app);
          }
        }
        continue;
      }
      ++refused;
      // Silencing is open to them for their own devices: the matrix's body names none (400).
      const bool silence = r.method == "POST" && r.pattern == base + "/silences";
      EXPECT_TRUE(reply.status == 403 || reply.status == 404 || (silence && reply.status == 400))
          << r.method << " " << target << " (" << r.pattern << ") answered " << reply.status << ": "
          << reply.raw;
    }
  }
  EXPECT_EQ(listed, 6);
  EXPECT_GT(refused, 50);
  EXPECT_EQ(Snapshot(), before);
  // ... and they do work in their own application.
  Reply mine = Call("POST", "/api/v1/applications/" + std::to_string(own_app) + "/devices", scoped,
                    json{{"name", "egen"}});
  EXPECT_EQ(mine.status, 201) << mine.raw;
  Reply devices = Call("GET", org + "/devices", scoped);
  ASSERT_EQ(devices.status, 200);
  EXPECT_EQ(devices.body["total"], 1);
  // Silences: their own device, yes; the first application's device or a whole rule, no.
  const std::string until = "2099-01-01T00:00:00Z";
  EXPECT_EQ(Call("POST", org + "/silences", scoped,
                 json{{"deviceId", mine.body.value("id", Id{0})}, {"until", until}})
                .status,
            201);
  EXPECT_EQ(Call("POST", org + "/silences", scoped, json{{"deviceId", a_.device}, {"until", until}})
                .status,
            400);
  EXPECT_EQ(
      Call("POST", org + "/silences", scoped, json{{"ruleId", a_.rule}, {"until", until}}).status,
      403);
  Reply silences = Call("GET", org + "/silences", scoped);
  ASSERT_EQ(silences.status, 200);
  EXPECT_EQ(silences.body["total"], 1);  // not A's silence of the first application's device
}

TEST_F(TenancyTest, AdminsManageTheirOwnOrganisation) {
  Reply key = Call("POST", Fill("/api/v1/organizations/{orgId}/api-keys", a_), a_.admin_cookie,
                   json{{"name", "ci"}, {"role", "editor"}});
  EXPECT_EQ(key.status, 201);
  Reply member = Call("PUT", Fill("/api/v1/organizations/{orgId}/members/{userId}", a_),
                      a_.admin_key, json{{"role", "viewer"}});
  EXPECT_EQ(member.status, 200) << member.raw;
}

}  // namespace
}  // namespace bysans::testing

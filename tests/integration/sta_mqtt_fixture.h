// Helpers for the SensorThings-over-MQTT tests (tests/integration/sta_mqtt_test.cc,
// tests/security/sta_mqtt_test.cc): API keys that are broker users, their connections.
#pragma once

#include <ctime>
#include <string>

#include "integration/mqtt_fixture.h"
#include "integration/sta_fixture.h"

namespace bysans::testing {

struct MqttKey {
  int64_t id = 0;
  std::string key;   // the secret: the broker password
  std::string user;  // the broker user name, "sta-<id>"
};

// Creates an API key of `org_id` with `role` (and "mqtt": true unless `mqtt` is false) as
// `admin`, an admin of that organisation. The broker accepts it once this returns.
inline MqttKey CreateMqttKey(HttpClient& admin, int64_t org_id, const std::string& role,
                             bool mqtt = true, const std::string& expires_at = "") {
  json body = {{"name", role + " mqtt"}, {"role", role}, {"mqtt", mqtt}};
  if (!expires_at.empty()) body["expiresAt"] = expires_at;
  auto r = admin.PostJson("/api/v1/organizations/" + std::to_string(org_id) + "/api-keys", body);
  EXPECT_EQ(r.status, 201) << r.body;
  MqttKey k;
  k.id = r.Json().value("id", int64_t{0});
  k.key = r.Json().value("key", "");
  k.user = "sta-" + std::to_string(k.id);
  EXPECT_EQ(r.Json().value("mqtt", !mqtt), mqtt) << r.body;
  const json user = r.Json()["mqttUser"];
  EXPECT_EQ(user, mqtt ? json(k.user) : json(nullptr)) << r.body;
  return k;
}

// A connection as the key (CONNACK 0 expected): nullptr when the broker refuses it.
inline std::unique_ptr<Peer> ConnectKey(const std::string& url, const MqttKey& k,
                                        int* connack = nullptr) {
  auto p = std::make_unique<Peer>(k.user);
  int rc = p->Connect(url, k.user, k.key);
  if (connack != nullptr) *connack = rc;
  return rc == 0 ? std::move(p) : nullptr;
}

// An Observation's body as published to DatastreamTopic: `v` at kStaT0 + step * kStaStep.
inline std::string ObservationBody(int step, double v) {
  std::time_t s = (kStaT0 + step * kStaStep) / 1000;
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return json{{"phenomenonTime", buf}, {"result", v}}.dump();
}

inline std::string DatastreamTopic(int64_t ds) {
  return "v1.1/Datastreams(" + std::to_string(ds) + ")/Observations";
}

}  // namespace bysans::testing

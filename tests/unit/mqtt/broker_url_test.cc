// The broker URL parser the integrations API and manager share (mqtt/url.h). The MqttStore's
// integration tests moved to tests/unit/store_postgres/mqtt_store_backends_test.cc (both backends).
#include <gtest/gtest.h>

#include "mqtt/url.h"

namespace bysans::testing {
namespace {

TEST(BrokerUrlTest, ParsesSchemesPortsAndRejectsJunk) {
  auto a = mqtt::ParseBrokerUrl("mqtt://broker.kommune.dk", "url").value();
  EXPECT_EQ(a.host, "broker.kommune.dk");
  EXPECT_EQ(a.port, 1883);
  EXPECT_FALSE(a.tls);
  auto b = mqtt::ParseBrokerUrl("mqtts://10.0.0.5:18883/path", "url").value();
  EXPECT_TRUE(b.tls);
  EXPECT_EQ(b.port, 18883);
  EXPECT_EQ(b.host, "10.0.0.5");
  auto c = mqtt::ParseBrokerUrl("mqtt://u:p@h:1", "url").value();
  EXPECT_EQ(c.username.value_or(""), "u");
  EXPECT_EQ(c.password.value_or(""), "p");
  for (const char* bad : {"http://h", "mqtt://", "mqtt://h:0", "mqtt://h:70000", "mqtt://h:x",
                          "mqtt://h:", "mqtt://a b"}) {
    auto r = mqtt::ParseBrokerUrl(bad, "url");
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("url"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace bysans::testing

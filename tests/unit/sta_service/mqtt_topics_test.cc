// SensorThings over MQTT, the pure part (sta/mqtt_topics.h): topics, ACL lines, published bodies.
#include "sta/mqtt_topics.h"

#include <gtest/gtest.h>

namespace bysans::sta {
namespace {

TEST(MqttTopicsTest, DatastreamObservationsTopicRoundTrips) {
  EXPECT_EQ(DatastreamObservationsTopic(42), "v1.1/Datastreams(42)/Observations");
  EXPECT_EQ(ParseDatastreamObservationsTopic("v1.1/Datastreams(42)/Observations"), 42);
  for (const char* bad :
       {"v1.1/Observations", "v1.1/Datastreams()/Observations", "v1.1/Datastreams(-1)/Observations",
        "v1.1/Datastreams(4 2)/Observations", "v1.1/Datastreams(42)/Observations?$select=result",
        "v1.1/Datastreams(42)/Observations/x", "v1.0/Datastreams(42)/Observations",
        "v1.1/Datastreams('42')/Observations", "v1.1/Things(42)/Observations",
        "v1.1/Datastreams(99999999999999999999999)/Observations"}) {
    EXPECT_FALSE(ParseDatastreamObservationsTopic(bad).has_value()) << bad;
  }
}

TEST(MqttTopicsTest, KeyAclNamesOnlyTheScopeAndWritesOnlyForWriters) {
  MqttAclScope scope;
  scope.devices = {3, 4};
  SeriesRef s;
  s.id = 7;
  scope.series = {s};
  std::vector<std::string> read, write;
  AppendKeyAclTopics(scope, false, read, write);
  EXPECT_EQ(read, (std::vector<std::string>{"v1.1/Things(3)/#", "v1.1/Things(4)/#",
                                            "v1.1/Datastreams(7)/#"}));
  EXPECT_TRUE(write.empty());
  EXPECT_EQ(MqttKeyAclTopicCount(scope, false), read.size());
  read.clear();
  AppendKeyAclTopics(scope, true, read, write);
  EXPECT_EQ(write, (std::vector<std::string>{"v1.1/Datastreams(7)/Observations"}));
  EXPECT_EQ(MqttKeyAclTopicCount(scope, true), read.size() + write.size());
  for (const std::string& t : read) EXPECT_EQ(t.find("v1.1/#"), std::string::npos);
}

TEST(MqttTopicsTest, PublishedObservationMustNotLinkAnotherDatastream) {
  auto ok =
      ParseMqttObservation(R"({"phenomenonTime": "2026-01-01T00:00:00Z", "result": 1.5})", 7, 1000);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->ts, 1'767'225'600'000);
  EXPECT_TRUE(ParseMqttObservation(R"({"result": 1, "Datastream": {"@iot.id": 7}})", 7, 1000).ok());
  auto other = ParseMqttObservation(R"({"result": 1, "Datastream": {"@iot.id": 8}})", 7, 1000);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("Datastream 8"), std::string::npos);
  auto now = ParseMqttObservation(R"({"result": true})", 7, 1234);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->ts, 1234);  // no phenomenonTime: the time received
  for (std::string bad : {std::string("not json"), std::string("[1]"), std::string("{}"),
                          std::string(200, '[') + std::string(200, ']'),
                          std::string(R"({"result": 1, "resultQuality": "ok"})")}) {
    EXPECT_FALSE(ParseMqttObservation(bad, 7, 0).ok()) << bad;
  }
}

}  // namespace
}  // namespace bysans::sta

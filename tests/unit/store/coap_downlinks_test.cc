// MqttStore::TakeQueuedDownlink on SQLite (the CoAP devices' downlink queue, migration 37):
// oldest first, one at a time, marked sent, the count of the rest; only this device's and this
// topic's queued downlinks; a downlink set back to queued is taken again.
// MqttStore::DevicesWithQueuedDownlinks: the devices with a queued downlink of the topic, at most
// the limit.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "store/mqtt_store.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::TwoDeviceStoreTest;

class CoapDownlinkStoreTest : public TwoDeviceStoreTest {
 protected:
  Id Queue(Id device, const std::string& bytes, const std::string& topic = kCoapDownlinkTopic,
           const std::string& status = "queued") {
    Downlink d;
    d.device_id = device;
    d.created_ms = 1000;
    d.data = bytes;
    d.topic = topic;
    d.status = status;
    auto r = store_->mqtt().AppendDownlink(d);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->id : 0;
  }
};

TEST_F(CoapDownlinkStoreTest, OldestFirstOneAtATimeMarkedSent) {
  MqttStore& s = store_->mqtt();
  auto none = s.TakeQueuedDownlink(a_, kCoapDownlinkTopic);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_FALSE(none->downlink);

  const Id first = Queue(a_, std::string("\x01\x00", 2));
  Queue(b_, "b's");                                    // another device
  Queue(a_, "mqtt", "devices/1/down");                 // another topic
  Queue(a_, "published", kCoapDownlinkTopic, "sent");  // not queued
  const Id second = Queue(a_, "\x02");

  auto t = s.TakeQueuedDownlink(a_, kCoapDownlinkTopic);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_TRUE(t->downlink);
  EXPECT_EQ(t->downlink->id, first);
  EXPECT_EQ(t->downlink->data, std::string("\x01\x00", 2));
  EXPECT_EQ(t->downlink->status, "sent");
  EXPECT_EQ(t->still_queued, 1);

  // Requeued (the device reset the answer): it comes again before the second.
  ASSERT_TRUE(s.SetDownlinkStatus(first, "queued", "reset; queued again").ok());
  t = s.TakeQueuedDownlink(a_, kCoapDownlinkTopic);
  ASSERT_TRUE(t.ok() && t->downlink);
  EXPECT_EQ(t->downlink->id, first);
  EXPECT_EQ(t->downlink->error, "") << "the error is cleared when sent";

  t = s.TakeQueuedDownlink(a_, kCoapDownlinkTopic);
  ASSERT_TRUE(t.ok() && t->downlink);
  EXPECT_EQ(t->downlink->id, second);
  EXPECT_EQ(t->still_queued, 0);
  t = s.TakeQueuedDownlink(a_, kCoapDownlinkTopic);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->downlink);

  auto history = s.ListDownlinks(a_, 10);
  ASSERT_TRUE(history.ok());
  for (const Downlink& d : *history)
    if (d.topic == kCoapDownlinkTopic) {
      EXPECT_EQ(d.status, "sent");
    }
  // B's is still queued.
  auto b = s.TakeQueuedDownlink(b_, kCoapDownlinkTopic);
  ASSERT_TRUE(b.ok() && b->downlink);
  EXPECT_EQ(b->downlink->data, "b's");
}

TEST_F(CoapDownlinkStoreTest, DevicesWithQueuedDownlinksListsOnlyThoseWithAQueuedOne) {
  MqttStore& s = store_->mqtt();
  auto none = s.DevicesWithQueuedDownlinks(kCoapDownlinkTopic, 10);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_TRUE(none->empty());

  Queue(a_, "mqtt", "devices/1/down");                 // another topic
  Queue(b_, "published", kCoapDownlinkTopic, "sent");  // not queued
  auto still_none = s.DevicesWithQueuedDownlinks(kCoapDownlinkTopic, 10);
  ASSERT_TRUE(still_none.ok());
  EXPECT_TRUE(still_none->empty());

  Queue(a_, "1");
  Queue(a_, "2");
  auto one = s.DevicesWithQueuedDownlinks(kCoapDownlinkTopic, 10);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, std::vector<Id>{a_}) << "listed once however many are queued";

  Queue(b_, "3");
  auto both = s.DevicesWithQueuedDownlinks(kCoapDownlinkTopic, 10);
  ASSERT_TRUE(both.ok());
  std::vector<Id> sorted = *both;
  std::sort(sorted.begin(), sorted.end());
  std::vector<Id> expected{a_, b_};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(sorted, expected);
  auto limited = s.DevicesWithQueuedDownlinks(kCoapDownlinkTopic, 1);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 1u);

  // Taken (sent): b no longer has one.
  ASSERT_TRUE(s.TakeQueuedDownlink(b_, kCoapDownlinkTopic).ok());
  auto after = s.DevicesWithQueuedDownlinks(kCoapDownlinkTopic, 10);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, std::vector<Id>{a_});
}

}  // namespace
}  // namespace bysans

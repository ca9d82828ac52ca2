// MqttStore on both backends: broker credentials; third-party broker integrations (moved from
// tests/unit/mqtt/integrations_store_test.cc): CRUD, the default client id, the generation
// counter, the password and client key sealed under secret.key (never plaintext in the database),
// the CA bundle; unknown LoRaWAN devices; downlinks (moved from tests/unit/store/
// coap_downlinks_test.cc and decode_notes_test.cc): history, the CoAP queue taken oldest first.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <vector>

#include "unit/store_postgres/mqtt_backend_fixture.h"

namespace bysans::testing {
namespace {

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class MqttStoreTest : public MqttBackendTest {
 protected:
  void SetUp() override {
    MqttBackendTest::SetUp();
    org_ = MakeOrg("Aabenraa");
    app_ = MakeApp(org_, "Vand");
  }
  MqttIntegration Chirpstack() {
    MqttIntegration i;
    i.kind = "chirpstack";
    i.org_id = org_;
    i.name = "cs";
    i.url = "mqtt://127.0.0.1:1883";
    i.username = "bysans";
    return i;
  }
  // What the database holds of the integrations, as bytes: the SQLite file and its WAL, or the
  // PostgreSQL rows as text with the sealed columns' bytes.
  std::string Stored() {
    if (!postgres())
      return Bytes(dir_.path() + "/bysans.db") + Bytes(dir_.path() + "/bysans.db-wal");
    return Sql(
        "SELECT string_agg(m::text || coalesce(encode(password_box, 'escape'), '') || "
        "coalesce(encode(client_key_box, 'escape'), ''), '') FROM mqtt_integrations m");
  }
  Id org_ = 0, app_ = 0;
};
BYSANS_MQTT_ON_BOTH_BACKENDS(MqttStoreTest);

TEST_P(MqttStoreTest, CredentialsArePutReplacedDeletedAndListedWithTheirDevice) {
  const Id a = MakeDevice(app_, "a", "", Transport::kMqtt);
  const Id b = MakeDevice(app_, "b", "", Transport::kMqtt);
  const int64_t gen = m().credentials_generation();
  ASSERT_TRUE(m().PutCredential({b, "dev-b", "$7$hash-b", 10}).ok());
  ASSERT_TRUE(m().PutCredential({a, "dev-a", "$7$hash-a", 20}).ok());
  EXPECT_EQ(m().credentials_generation(), gen + 2);
  ASSERT_TRUE(m().PutCredential({a, "dev-a2", "$7$hash-a2", 30}).ok());  // replaces a's
  auto list = m().ListCredentials();
  ASSERT_TRUE(list.ok()) << list.status().message();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].device_id, a);  // by device
  EXPECT_EQ((*list)[0].username, "dev-a2");
  EXPECT_EQ((*list)[0].password_hash, "$7$hash-a2");
  EXPECT_EQ((*list)[0].created_ms, 30);
  EXPECT_EQ((*list)[1].username, "dev-b");

  ASSERT_TRUE(m().DeleteCredential(b).ok());
  ASSERT_TRUE(m().DeleteCredential(b).ok());  // none: Ok, and the generation moves anyway
  EXPECT_EQ(m().credentials_generation(), gen + 5);
  DeleteDevice(a);  // its credentials go with it
  list = m().ListCredentials();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
  EXPECT_EQ(m().BumpCredentialsGeneration(), gen + 6);
}

// Process-local: the generation the broker took up, and where devices reach the broker.
TEST_P(MqttStoreTest, CredentialsAppliedAndBrokerEndpointAreProcessLocal) {
  EXPECT_TRUE(m().WaitCredentialsApplied(5, 0)) << "no supervised broker: nothing to wait for";
  m().SetCredentialsApplied(3);
  EXPECT_FALSE(m().WaitCredentialsApplied(4, 10));
  EXPECT_TRUE(m().WaitCredentialsApplied(3, 0));
  EXPECT_EQ(m().broker_endpoint().second, 0);
  m().SetBrokerEndpoint("10.0.0.1", 1883);
  EXPECT_EQ(m().broker_endpoint(), std::make_pair(std::string("10.0.0.1"), 1883));
}

TEST_P(MqttStoreTest, PasswordIsSealedUnderTheKeyFileAndSurvivesAReopen) {
  int64_t gen = m().integrations_generation();
  auto created = m().CreateIntegration(Chirpstack(), std::string("pa55-w0rd-plain"));
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_GT(m().integrations_generation(), gen);
  EXPECT_TRUE(created->has_password);
  EXPECT_EQ(created->client_id, "bysans-chirpstack-" + std::to_string(created->id));
  EXPECT_EQ(m().GetIntegration(created->id).value().client_id, created->client_id);
  EXPECT_EQ(m().IntegrationPassword(created->id).value(), "pa55-w0rd-plain");

  const std::string key = dir_.path() + "/secret.key";
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  const std::string stored = Stored();
  EXPECT_NE(stored.find("bysans"), std::string::npos) << "the check reads the stored rows";
  EXPECT_EQ(stored.find("pa55-w0rd-plain"), std::string::npos);

  Reopen();
  EXPECT_EQ(m().IntegrationPassword(created->id).value(), "pa55-w0rd-plain");

  // Another key cannot open the box: a clear error, not garbage.
  Close();
  {
    std::ofstream out(key, std::ios::binary | std::ios::trunc);
    out << std::string(32, 'k');
  }
  Open();
  auto pw = m().IntegrationPassword(created->id);
  ASSERT_FALSE(pw.ok());
  EXPECT_EQ(pw.status().code(), Code::kInternal);
  EXPECT_NE(pw.status().message().find("cannot be decrypted"), std::string::npos);
  EXPECT_EQ(m().IntegrationPassword(created->id + 100).status().code(), Code::kNotFound);
}

TEST_P(MqttStoreTest, UpdateKeepsOrRemovesThePasswordAndListFilters) {
  MqttIntegration cs = m().CreateIntegration(Chirpstack(), std::string("one")).value();
  MqttIntegration ext;
  ext.kind = "mqtt";
  ext.org_id = org_;
  ext.app_id = app_;
  ext.name = "ext";
  ext.url = "mqtts://broker.example:8883";
  ext.client_id = "fixed-id";
  ext.topic_filter = "sensors/+/data";
  ext.device_topic_level = 1;
  ext.device_match = "name";
  ext = m().CreateIntegration(ext, std::nullopt).value();
  EXPECT_EQ(ext.client_id, "fixed-id");
  EXPECT_FALSE(ext.has_password);
  EXPECT_EQ(m().IntegrationPassword(ext.id).value(), "");

  cs.name = "renamed";
  cs.enabled = false;
  cs.updated_ms = 77;
  ASSERT_TRUE(m().UpdateIntegration(cs, std::nullopt).ok());
  EXPECT_EQ(m().IntegrationPassword(cs.id).value(), "one");
  ASSERT_TRUE(m().UpdateIntegration(cs, std::string("two")).ok());
  EXPECT_EQ(m().IntegrationPassword(cs.id).value(), "two");
  ASSERT_TRUE(m().UpdateIntegration(cs, std::string()).ok());
  EXPECT_FALSE(m().GetIntegration(cs.id).value().has_password);
  EXPECT_EQ(m().GetIntegration(cs.id).value().name, "renamed");
  EXPECT_FALSE(m().GetIntegration(cs.id).value().enabled);
  EXPECT_EQ(m().GetIntegration(cs.id).value().updated_ms, 77);
  MqttIntegration missing = cs;
  missing.id = cs.id + 100;
  EXPECT_EQ(m().UpdateIntegration(missing, std::nullopt).code(), Code::kNotFound);

  EXPECT_EQ(m().ListIntegrations("", 0, 0).value().size(), 2u);
  EXPECT_EQ(m().ListIntegrations("chirpstack", org_, 0).value().size(), 1u);
  auto by_app = m().ListIntegrations("mqtt", org_, app_).value();
  ASSERT_EQ(by_app.size(), 1u);
  EXPECT_EQ(by_app[0].app_id, app_);
  EXPECT_EQ(by_app[0].topic_filter, "sensors/+/data");
  EXPECT_EQ(by_app[0].device_topic_level, 1);
  EXPECT_EQ(by_app[0].device_match, "name");
  EXPECT_EQ(by_app[0].url, "mqtts://broker.example:8883");
  EXPECT_TRUE(m().ListIntegrations("", org_ + 1000, 0).value().empty());

  m().SetIntegrationState(cs.id, IntegrationState{"error", "not authorised", 5});
  EXPECT_EQ(m().integration_state(cs.id).last_error, "not authorised");
  ASSERT_TRUE(m().DeleteIntegration(cs.id).ok());
  EXPECT_EQ(m().GetIntegration(cs.id).status().code(), Code::kNotFound);
  EXPECT_EQ(m().DeleteIntegration(cs.id).code(), Code::kNotFound);
  EXPECT_EQ(m().integration_state(cs.id).status, "stopped");
  // An application's integrations go with it.
  DeleteApp(app_);
  EXPECT_EQ(m().GetIntegration(ext.id).status().code(), Code::kNotFound);
}

// The CA bundle of an mqtts:// integration: stored as given (the API validates it), changed,
// removed, kept across a reopen; a change bumps the generation (the manager reconnects).
TEST_P(MqttStoreTest, CaCertIsStoredUpdatedAndSurvivesAReopen) {
  const std::string pem_a = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  const std::string pem_b = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n";
  MqttIntegration plain = m().CreateIntegration(Chirpstack(), std::nullopt).value();
  EXPECT_EQ(m().GetIntegration(plain.id).value().ca_cert, "");
  MqttIntegration i = Chirpstack();
  i.url = "mqtts://broker.example:8883";
  i.ca_cert = pem_a;
  i = m().CreateIntegration(i, std::nullopt).value();
  EXPECT_EQ(i.ca_cert, pem_a);
  EXPECT_EQ(m().GetIntegration(i.id).value().ca_cert, pem_a);

  const int64_t gen = m().integrations_generation();
  i.ca_cert = pem_b;
  ASSERT_TRUE(m().UpdateIntegration(i, std::nullopt).ok());
  EXPECT_GT(m().integrations_generation(), gen);
  Reopen();
  auto list = m().ListIntegrations("chirpstack", org_, 0).value();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].ca_cert, "");
  EXPECT_EQ(list[1].ca_cert, pem_b);

  i.ca_cert.clear();
  ASSERT_TRUE(m().UpdateIntegration(i, std::nullopt).ok());
  EXPECT_EQ(m().GetIntegration(i.id).value().ca_cert, "");
}

TEST_P(MqttStoreTest, ClientCertificateIsPublicAndItsKeyIsSealed) {
  const std::string cert = "-----BEGIN CERTIFICATE-----\nCCCC\n-----END CERTIFICATE-----\n";
  const std::string key =
      "-----BEGIN PRIVATE KEY-----\nsecret-key-bytes\n-----END PRIVATE KEY-----\n";
  MqttIntegration i = Chirpstack();
  i.url = "mqtts://broker.example:8883";
  i.client_cert = cert;
  i = m().CreateIntegration(i, std::nullopt).value();
  EXPECT_EQ(i.client_cert, cert);
  EXPECT_FALSE(i.has_client_key);
  EXPECT_EQ(m().IntegrationClientKey(i.id).value(), "");

  const int64_t gen = m().integrations_generation();
  ASSERT_TRUE(m().SetIntegrationClientKey(i.id, key).ok());
  EXPECT_GT(m().integrations_generation(), gen);
  EXPECT_TRUE(m().GetIntegration(i.id).value().has_client_key);
  EXPECT_EQ(m().IntegrationClientKey(i.id).value(), key);
  EXPECT_EQ(m().IntegrationPassword(i.id).value(), "");  // a separate secret
  const std::string stored = Stored();
  EXPECT_EQ(stored.find("secret-key-bytes"), std::string::npos);
  EXPECT_NE(stored.find("CCCC"), std::string::npos);  // the certificate is public

  // An update of the other fields keeps the key; "" removes it.
  i.name = "renamed";
  ASSERT_TRUE(m().UpdateIntegration(i, std::string("pw")).ok());
  Reopen();
  EXPECT_EQ(m().IntegrationClientKey(i.id).value(), key);
  EXPECT_EQ(m().GetIntegration(i.id).value().client_cert, cert);
  ASSERT_TRUE(m().SetIntegrationClientKey(i.id, "").ok());
  EXPECT_FALSE(m().GetIntegration(i.id).value().has_client_key);
  EXPECT_EQ(m().IntegrationClientKey(i.id).value(), "");
  EXPECT_EQ(m().IntegrationPassword(i.id).value(), "pw");
  EXPECT_EQ(m().SetIntegrationClientKey(i.id + 100, key).code(), Code::kNotFound);
}

TEST_P(MqttStoreTest, UnknownDevicesAndRoutesArePerOrganisation) {
  const Id other = MakeOrg("Other");
  ASSERT_TRUE(m().CountUnknownOrgDevice(org_, 7, "00aa00aa00aa00aa", "app-x", 10).ok());
  ASSERT_TRUE(m().CountUnknownOrgDevice(org_, 7, "00aa00aa00aa00aa", "app-x", 20).ok());
  auto list = m().ListUnknownOrgDevices(org_).value();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].uplinks, 2);
  EXPECT_EQ(list[0].integration_id, 7);
  EXPECT_EQ(list[0].first_seen_ms, 10);
  EXPECT_EQ(list[0].last_seen_ms, 20);
  EXPECT_TRUE(m().ListUnknownOrgDevices(other).value().empty());
  EXPECT_TRUE(m().ListUnknownDevices().value().empty());  // the global list is separate
  // Registered in the organisation since: no longer unknown to it.
  MakeDevice(app_, "found", "00aa00aa00aa00aa");
  EXPECT_TRUE(m().ListUnknownOrgDevices(org_).value().empty());
}

TEST_P(MqttStoreTest, UnknownDevicesAreCountedNewestFirstUntilRegistered) {
  ASSERT_TRUE(m().CountUnknownDevice("1111111111111111", "app-1", 100).ok());
  ASSERT_TRUE(m().CountUnknownDevice("2222222222222222", "app-2", 200).ok());
  ASSERT_TRUE(m().CountUnknownDevice("1111111111111111", "app-9", 300).ok());
  auto list = m().ListUnknownDevices();
  ASSERT_TRUE(list.ok()) << list.status().message();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].dev_eui, "1111111111111111");  // newest first
  EXPECT_EQ((*list)[0].application_id, "app-9");
  EXPECT_EQ((*list)[0].first_seen_ms, 100);
  EXPECT_EQ((*list)[0].last_seen_ms, 300);
  EXPECT_EQ((*list)[0].uplinks, 2);
  EXPECT_EQ((*list)[1].uplinks, 1);
  MakeDevice(app_, "registered", "2222222222222222");
  list = m().ListUnknownDevices();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].dev_eui, "1111111111111111");
}

// Downlinks: the history per device, and the CoAP devices' queue (TakeQueuedDownlink: oldest
// first, one at a time, marked sent, the count of the rest; only this device's and this topic's
// queued downlinks; a downlink set back to queued is taken again).
class DownlinkStoreTest : public MqttBackendTest {
 protected:
  void SetUp() override {
    MqttBackendTest::SetUp();
    const Id app = MakeApp(MakeOrg("o"), "a");
    a_ = MakeDevice(app, "a", "", Transport::kHttp);
    b_ = MakeDevice(app, "b", "", Transport::kHttp);
  }
  Id Queue(Id device, const std::string& bytes, const std::string& topic = kCoapDownlinkTopic,
           const std::string& status = "queued") {
    Downlink d;
    d.device_id = device;
    d.created_ms = 1000;
    d.data = bytes;
    d.topic = topic;
    d.status = status;
    auto r = m().AppendDownlink(d);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->id : 0;
  }
  Id a_ = 0, b_ = 0;
};
BYSANS_MQTT_ON_BOTH_BACKENDS(DownlinkStoreTest);

TEST_P(DownlinkStoreTest, HistoryNewestFirstWithStatusAndObject) {
  Downlink d;
  d.device_id = a_;
  d.created_ms = 5;
  d.fport = 10;
  d.data = std::string("\x01\x00\xff", 3);
  d.object_json = R"({"led":"on"})";
  d.confirmed = true;
  d.topic = "application/1/device/x/command/down";
  d.status = "queued";
  auto first = m().AppendDownlink(d);
  ASSERT_TRUE(first.ok()) << first.status().message();
  d.object_json.clear();
  d.confirmed = false;
  auto second = m().AppendDownlink(d);
  ASSERT_TRUE(second.ok());
  EXPECT_GT(second->id, first->id);
  ASSERT_TRUE(m().SetDownlinkStatus(first->id, "failed", "broker said no").ok());
  auto list = m().ListDownlinks(a_, 10);
  ASSERT_TRUE(list.ok()) << list.status().message();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list->at(0).id, second->id);
  EXPECT_EQ(list->at(0).object_json, "");
  EXPECT_FALSE(list->at(0).confirmed);
  const Downlink& f = list->at(1);
  EXPECT_EQ(f.object_json, R"({"led":"on"})");
  EXPECT_EQ(f.data, std::string("\x01\x00\xff", 3));
  EXPECT_EQ(f.fport, 10);
  EXPECT_TRUE(f.confirmed);
  EXPECT_EQ(f.created_ms, 5);
  EXPECT_EQ(f.topic, "application/1/device/x/command/down");
  EXPECT_EQ(f.status, "failed");
  EXPECT_EQ(f.error, "broker said no");
  EXPECT_EQ(m().ListDownlinks(a_, 1).value().size(), 1u);
  EXPECT_TRUE(m().ListDownlinks(b_, 10).value().empty());
  DeleteDevice(a_);  // the history goes with the device
  EXPECT_TRUE(m().ListDownlinks(a_, 10).value().empty());
}

TEST_P(DownlinkStoreTest, OldestFirstOneAtATimeMarkedSent) {
  auto none = m().TakeQueuedDownlink(a_, kCoapDownlinkTopic);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_FALSE(none->downlink);
  EXPECT_EQ(none->still_queued, 0);

  const Id first = Queue(a_, std::string("\x01\x00", 2));
  Queue(b_, "b's");                                    // another device
  Queue(a_, "mqtt", "devices/1/down");                 // another topic
  Queue(a_, "published", kCoapDownlinkTopic, "sent");  // not queued
  const Id second = Queue(a_, "\x02");

  auto t = m().TakeQueuedDownlink(a_, kCoapDownlinkTopic);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_TRUE(t->downlink);
  EXPECT_EQ(t->downlink->id, first);
  EXPECT_EQ(t->downlink->data, std::string("\x01\x00", 2));
  EXPECT_EQ(t->downlink->status, "sent");
  EXPECT_EQ(t->still_queued, 1);

  // Requeued (the device reset the answer): it comes again before the second.
  ASSERT_TRUE(m().SetDownlinkStatus(first, "queued", "reset; queued again").ok());
  t = m().TakeQueuedDownlink(a_, kCoapDownlinkTopic);
  ASSERT_TRUE(t.ok() && t->downlink);
  EXPECT_EQ(t->downlink->id, first);
  EXPECT_EQ(t->downlink->error, "") << "the error is cleared when sent";

  t = m().TakeQueuedDownlink(a_, kCoapDownlinkTopic);
  ASSERT_TRUE(t.ok() && t->downlink);
  EXPECT_EQ(t->downlink->id, second);
  EXPECT_EQ(t->still_queued, 0);
  t = m().TakeQueuedDownlink(a_, kCoapDownlinkTopic);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->downlink);

  auto history = m().ListDownlinks(a_, 10);
  ASSERT_TRUE(history.ok());
  for (const Downlink& d : *history)
    if (d.topic == kCoapDownlinkTopic) {
      EXPECT_EQ(d.status, "sent");
    }
  // B's is still queued.
  auto b = m().TakeQueuedDownlink(b_, kCoapDownlinkTopic);
  ASSERT_TRUE(b.ok() && b->downlink);
  EXPECT_EQ(b->downlink->data, "b's");
}

TEST_P(DownlinkStoreTest, DevicesWithQueuedDownlinksListsOnlyThoseWithAQueuedOne) {
  auto none = m().DevicesWithQueuedDownlinks(kCoapDownlinkTopic, 10);
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_TRUE(none->empty());

  Queue(a_, "mqtt", "devices/1/down");                 // another topic
  Queue(b_, "published", kCoapDownlinkTopic, "sent");  // not queued
  auto still_none = m().DevicesWithQueuedDownlinks(kCoapDownlinkTopic, 10);
  ASSERT_TRUE(still_none.ok());
  EXPECT_TRUE(still_none->empty());

  Queue(a_, "1");
  Queue(a_, "2");
  auto one = m().DevicesWithQueuedDownlinks(kCoapDownlinkTopic, 10);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, std::vector<Id>{a_}) << "listed once however many are queued";

  Queue(b_, "3");
  auto both = m().DevicesWithQueuedDownlinks(kCoapDownlinkTopic, 10);
  ASSERT_TRUE(both.ok());
  std::vector<Id> sorted = *both;
  std::sort(sorted.begin(), sorted.end());
  std::vector<Id> expected{a_, b_};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(sorted, expected);
  auto limited = m().DevicesWithQueuedDownlinks(kCoapDownlinkTopic, 1);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 1u);

  // Taken (sent): b no longer has one.
  ASSERT_TRUE(m().TakeQueuedDownlink(b_, kCoapDownlinkTopic).ok());
  auto after = m().DevicesWithQueuedDownlinks(kCoapDownlinkTopic, 10);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, std::vector<Id>{a_});
}

}  // namespace
}  // namespace bysans::testing

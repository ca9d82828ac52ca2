// MqttStore integrations on a real SQLite file: CRUD, the default client id, the generation
// counter, the password sealed under secret.key (0600, never plaintext in the database) and the
// CA bundle (caCert).
// Also the broker URL parser the API and the manager share.
#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include "mqtt/url.h"
#include "store/mqtt_store.h"
#include "unit/store/temp_store.h"

namespace bysans::testing {
namespace {

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class IntegrationStoreTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    org_ = store_->CreateOrganization(Organization{0, "Aabenraa", 0, 100}).value().id;
    app_ = store_->CreateApplication(Application{0, org_, "Vand", "", 0}).value().id;
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
  Id org_ = 0, app_ = 0;
};

TEST_F(IntegrationStoreTest, PasswordIsSealedUnderTheKeyFileAndSurvivesAReopen) {
  MqttStore& m = store_->mqtt();
  int64_t gen = m.integrations_generation();
  auto created = m.CreateIntegration(Chirpstack(), std::string("pa55-w0rd-plain"));
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_GT(m.integrations_generation(), gen);
  EXPECT_TRUE(created->has_password);
  EXPECT_EQ(created->client_id, "bysans-chirpstack-" + std::to_string(created->id));
  EXPECT_EQ(m.IntegrationPassword(created->id).value(), "pa55-w0rd-plain");

  const std::string key = dir_.path() + "/secret.key";
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  std::string db = Bytes(dir_.path() + "/bysans.db") + Bytes(dir_.path() + "/bysans.db-wal");
  EXPECT_EQ(db.find("pa55-w0rd-plain"), std::string::npos);

  Reopen();
  EXPECT_EQ(store_->mqtt().IntegrationPassword(created->id).value(), "pa55-w0rd-plain");

  // Another key cannot open the box: a clear error, not garbage.
  store_->Close();
  store_.reset();
  {
    std::ofstream out(key, std::ios::binary | std::ios::trunc);
    out << std::string(32, 'k');
  }
  Open();
  auto pw = store_->mqtt().IntegrationPassword(created->id);
  ASSERT_FALSE(pw.ok());
  EXPECT_NE(pw.status().message().find("cannot be decrypted"), std::string::npos);
}

TEST_F(IntegrationStoreTest, UpdateKeepsOrRemovesThePasswordAndListFilters) {
  MqttStore& m = store_->mqtt();
  MqttIntegration cs = m.CreateIntegration(Chirpstack(), std::string("one")).value();
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
  ext = m.CreateIntegration(ext, std::nullopt).value();
  EXPECT_EQ(ext.client_id, "fixed-id");
  EXPECT_FALSE(ext.has_password);
  EXPECT_EQ(m.IntegrationPassword(ext.id).value(), "");

  cs.name = "renamed";
  ASSERT_TRUE(m.UpdateIntegration(cs, std::nullopt).ok());
  EXPECT_EQ(m.IntegrationPassword(cs.id).value(), "one");
  ASSERT_TRUE(m.UpdateIntegration(cs, std::string("two")).ok());
  EXPECT_EQ(m.IntegrationPassword(cs.id).value(), "two");
  ASSERT_TRUE(m.UpdateIntegration(cs, std::string()).ok());
  EXPECT_FALSE(m.GetIntegration(cs.id).value().has_password);
  EXPECT_EQ(m.GetIntegration(cs.id).value().name, "renamed");

  EXPECT_EQ(m.ListIntegrations("", 0, 0).value().size(), 2u);
  EXPECT_EQ(m.ListIntegrations("chirpstack", org_, 0).value().size(), 1u);
  auto by_app = m.ListIntegrations("mqtt", org_, app_).value();
  ASSERT_EQ(by_app.size(), 1u);
  EXPECT_EQ(by_app[0].topic_filter, "sensors/+/data");
  EXPECT_EQ(by_app[0].device_topic_level, 1);
  EXPECT_EQ(by_app[0].device_match, "name");
  EXPECT_TRUE(m.ListIntegrations("", org_ + 1000, 0).value().empty());

  m.SetIntegrationState(cs.id, IntegrationState{"error", "not authorised", 5});
  EXPECT_EQ(m.integration_state(cs.id).last_error, "not authorised");
  ASSERT_TRUE(m.DeleteIntegration(cs.id).ok());
  EXPECT_EQ(m.GetIntegration(cs.id).status().code(), Code::kNotFound);
  EXPECT_EQ(m.DeleteIntegration(cs.id).code(), Code::kNotFound);
  EXPECT_EQ(m.integration_state(cs.id).status, "stopped");
}

// The CA bundle of an mqtts:// integration: stored as given (the API validates it), changed,
// removed, kept across a reopen; a change bumps the generation (the manager reconnects).
TEST_F(IntegrationStoreTest, CaCertIsStoredUpdatedAndSurvivesAReopen) {
  MqttStore& m = store_->mqtt();
  const std::string pem_a = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
  const std::string pem_b = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n";
  MqttIntegration plain = m.CreateIntegration(Chirpstack(), std::nullopt).value();
  EXPECT_EQ(m.GetIntegration(plain.id).value().ca_cert, "");
  MqttIntegration i = Chirpstack();
  i.url = "mqtts://broker.example:8883";
  i.ca_cert = pem_a;
  i = m.CreateIntegration(i, std::nullopt).value();
  EXPECT_EQ(i.ca_cert, pem_a);
  EXPECT_EQ(m.GetIntegration(i.id).value().ca_cert, pem_a);

  const int64_t gen = m.integrations_generation();
  i.ca_cert = pem_b;
  ASSERT_TRUE(m.UpdateIntegration(i, std::nullopt).ok());
  EXPECT_GT(m.integrations_generation(), gen);
  Reopen();
  auto list = store_->mqtt().ListIntegrations("chirpstack", org_, 0).value();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].ca_cert, "");
  EXPECT_EQ(list[1].ca_cert, pem_b);

  i.ca_cert.clear();
  ASSERT_TRUE(store_->mqtt().UpdateIntegration(i, std::nullopt).ok());
  EXPECT_EQ(store_->mqtt().GetIntegration(i.id).value().ca_cert, "");
}

TEST_F(IntegrationStoreTest, ClientCertificateIsPublicAndItsKeyIsSealed) {
  MqttStore& m = store_->mqtt();
  const std::string cert = "-----BEGIN CERTIFICATE-----\nCCCC\n-----END CERTIFICATE-----\n";
  const std::string key =
      "-----BEGIN PRIVATE KEY-----\nsecret-key-bytes\n-----END PRIVATE KEY-----\n";
  MqttIntegration i = Chirpstack();
  i.url = "mqtts://broker.example:8883";
  i.client_cert = cert;
  i = m.CreateIntegration(i, std::nullopt).value();
  EXPECT_EQ(i.client_cert, cert);
  EXPECT_FALSE(i.has_client_key);
  EXPECT_EQ(m.IntegrationClientKey(i.id).value(), "");

  const int64_t gen = m.integrations_generation();
  ASSERT_TRUE(m.SetIntegrationClientKey(i.id, key).ok());
  EXPECT_GT(m.integrations_generation(), gen);
  EXPECT_TRUE(m.GetIntegration(i.id).value().has_client_key);
  EXPECT_EQ(m.IntegrationClientKey(i.id).value(), key);
  EXPECT_EQ(m.IntegrationPassword(i.id).value(), "");  // a separate secret
  std::string db = Bytes(dir_.path() + "/bysans.db") + Bytes(dir_.path() + "/bysans.db-wal");
  EXPECT_EQ(db.find("secret-key-bytes"), std::string::npos);
  EXPECT_NE(db.find("CCCC"), std::string::npos);  // the certificate is public

  // An update of the other fields keeps the key; "" removes it.
  i.name = "renamed";
  ASSERT_TRUE(m.UpdateIntegration(i, std::string("pw")).ok());
  Reopen();
  MqttStore& again = store_->mqtt();
  EXPECT_EQ(again.IntegrationClientKey(i.id).value(), key);
  EXPECT_EQ(again.GetIntegration(i.id).value().client_cert, cert);
  ASSERT_TRUE(again.SetIntegrationClientKey(i.id, "").ok());
  EXPECT_FALSE(again.GetIntegration(i.id).value().has_client_key);
  EXPECT_EQ(again.IntegrationClientKey(i.id).value(), "");
  EXPECT_EQ(again.SetIntegrationClientKey(i.id + 100, key).code(), Code::kNotFound);
}

TEST_F(IntegrationStoreTest, UnknownDevicesAndRoutesArePerOrganisation) {
  MqttStore& m = store_->mqtt();
  Id other = store_->CreateOrganization(Organization{0, "Other", 0, 100}).value().id;
  ASSERT_TRUE(m.CountUnknownOrgDevice(org_, 7, "00aa00aa00aa00aa", "app-x", 10).ok());
  ASSERT_TRUE(m.CountUnknownOrgDevice(org_, 7, "00aa00aa00aa00aa", "app-x", 20).ok());
  auto list = m.ListUnknownOrgDevices(org_).value();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].uplinks, 2);
  EXPECT_EQ(list[0].integration_id, 7);
  EXPECT_TRUE(m.ListUnknownOrgDevices(other).value().empty());
  EXPECT_TRUE(m.ListUnknownDevices().value().empty());  // the global list is separate
}

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

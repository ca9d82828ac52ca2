// The CoAP integration tests' fixture: a real server with CoAP on (UDP and DTLS on free
// ports) and helpers for libcoap's coap-client and the raw client (coap_client.h). On both stores
// (backend_fixture.h): each test runs on SQLite and on PostgreSQL.
#pragma once

#include <fstream>
#include <string>
#include <utility>

#include "backend_fixture.h"
#include "coap_client.h"

namespace bysans::testing {

class CoapServerTest : public ServerTest {
 protected:
  void SetUp() override {
    for (const char* e :
         {"BYSANS_COAP_ENABLED=true", "BYSANS_COAP_UDP_PORT=0", "BYSANS_COAP_DTLS_PORT=0"})
      server_env_.emplace_back(e);
    StartServer();
    std::ifstream f(server_->data_dir() + "/coap.url");
    std::string url;
    std::getline(f, url);
    ASSERT_EQ(url.rfind("coap://127.0.0.1:", 0), 0u) << url;
    port_ = std::stoi(url.substr(url.rfind(':') + 1));
    ASSERT_GT(port_, 0);
    std::ifstream g(server_->data_dir() + "/coaps.url");
    std::getline(g, url);
    ASSERT_EQ(url.rfind("coaps://127.0.0.1:", 0), 0u) << url;
    dtls_port_ = std::stoi(url.substr(url.rfind(':') + 1));
  }

  // The device's new PSK: {identity, key}.
  std::pair<std::string, std::string> CreatePsk(int64_t device_id, const std::string& identity) {
    auto r = admin_->PostJson("/api/v1/devices/" + std::to_string(device_id) + "/coap-credentials",
                              {{"identity", identity}});
    EXPECT_TRUE(r.status == 201 || r.status == 200) << r.body;
    return {r.Json().value("identity", ""), r.Json().value("key", "")};
  }

  // coap-client over DTLS with a PSK identity and key (no key in the URI).
  std::pair<int, std::string> CoapsPost(const std::string& identity, const std::string& key,
                                        const std::string& payload) {
    return RunProgram({"coap-client-openssl", "-m", "post", "-t", "50", "-e", payload, "-u",
                       identity, "-k", key, "-B", "5",
                       "coaps://127.0.0.1:" + std::to_string(dtls_port_) + "/ingest"});
  }

  std::string Uri(const std::string& key) {
    return "coap://127.0.0.1:" + std::to_string(port_) + "/ingest?k=" + key;
  }

  // coap-client POST with a content format and a payload file; returns its output.
  std::pair<int, std::string> CoapClientPost(const std::string& key, const std::string& format,
                                             const std::string& payload) {
    std::string file = server_->data_dir() + "/coap-payload.bin";
    std::ofstream(file, std::ios::binary) << payload;
    return RunProgram(
        {"coap-client-openssl", "-m", "post", "-t", format, "-f", file, "-B", "10", Uri(key)});
  }

  size_t Messages(int64_t device_id) {
    return Items("/api/v1/devices/" + std::to_string(device_id) + "/messages").size();
  }

  json Readings(int64_t device_id, const std::string& key) {
    return Items("/api/v1/devices/" + std::to_string(device_id) + "/readings?key=" + key);
  }

  int port_ = 0;
  int dtls_port_ = 0;
};

using CoapTest = OnBothStores<CoapServerTest>;

}  // namespace bysans::testing

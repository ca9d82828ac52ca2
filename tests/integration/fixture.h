// Shared set-up for integration tests: a running server, an admin session,
// and helpers to create an organisation with an application and an HTTP device.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <memory>

#include "harness.h"

namespace bysans::testing {

struct DeviceHandle {
  int64_t org_id = 0, app_id = 0, device_id = 0;
  std::string ingest_key;
};

// Set by a test binary whose whole suite also runs on PostgreSQL (tests/security, its
// "postgres/" leg): a fresh store URL for each server a fixture starts without one.
inline std::function<std::string()>& FreshStoreUrl() {
  static std::function<std::string()> f;
  return f;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer(std::string data_dir = {}) {
    if (FreshStoreUrl() && data_dir.empty() &&
        std::none_of(server_env_.begin(), server_env_.end(),
                     [](const std::string& e) { return e.rfind("BYSANS_STORE_URL=", 0) == 0; }))
      server_env_.push_back("BYSANS_STORE_URL=" + FreshStoreUrl()());
    server_ = std::make_unique<ServerProcess>(std::move(data_dir), server_args_);
    server_->SetEnv(server_env_);
    ASSERT_TRUE(server_->Start()) << server_->log();
    if (FreshStoreUrl()) {  // the leg on PostgreSQL runs there, not on a SQLite file
      ASSERT_NE(server_->log().find("store: PostgreSQL at"), std::string::npos) << server_->log();
    }
    admin_ = std::make_unique<HttpClient>(server_->url());
    auto login = admin_->Login(ServerProcess::kAdminEmail, ServerProcess::kAdminPassword);
    ASSERT_EQ(login.status, 200) << login.body;
  }

  // Creates an organisation, an application in it and an HTTP device.
  DeviceHandle CreateHttpDevice(const std::string& org_name) {
    DeviceHandle h;
    auto org = admin_->PostJson("/api/v1/organizations", {{"name", org_name}});
    EXPECT_EQ(org.status, 201) << org.body;
    h.org_id = org.Json().value("id", int64_t{0});
    auto app =
        admin_->PostJson("/api/v1/organizations/" + std::to_string(h.org_id) + "/applications",
                         {{"name", "Indeklima"}});
    EXPECT_EQ(app.status, 201) << app.body;
    h.app_id = app.Json().value("id", int64_t{0});
    auto dev = admin_->PostJson("/api/v1/applications/" + std::to_string(h.app_id) + "/devices",
                                {{"name", "Lokale 1"}, {"transport", "http"}});
    EXPECT_EQ(dev.status, 201) << dev.body;
    h.device_id = dev.Json().value("id", int64_t{0});
    h.ingest_key = dev.Json().value("apiKey", "");
    EXPECT_FALSE(h.ingest_key.empty()) << dev.body;
    return h;
  }

  HttpResult Ingest(const std::string& key, const std::string& body,
                    const std::string& content_type = "application/json") {
    HttpClient device(server_->url());
    return device.Request("POST", "/api/v1/receive-data?apiKey=" + key, body,
                          {"Content-Type: " + content_type});
  }

  // Attaches a decoder (an id, or null to detach) to a device, as the admin.
  void AttachDecoder(int64_t device_id, const nlohmann::json& decoder_id) {
    auto r = admin_->Request("PUT", "/api/v1/devices/" + std::to_string(device_id) + "/decoder",
                             nlohmann::json{{"decoderId", decoder_id}}.dump(),
                             {"Content-Type: application/json"});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // The `items` of a list the admin GETs.
  nlohmann::json Items(const std::string& path) {
    auto r = admin_->Get(path);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json()["items"];
  }

  // The value of one sample line ("name{labels}", or "name") in /metrics, 0 when absent.
  double MetricLine(const std::string& sample) {
    auto r = admin_->Get("/metrics");
    std::string needle = "\n" + sample + " ";
    auto pos = r.body.find(needle);
    if (pos == std::string::npos) return 0;
    return std::stod(r.body.substr(pos + needle.size()));
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> admin_;
  // Extra `serve` arguments and "NAME=value" environment entries for StartServer.
  std::vector<std::string> server_args_;
  std::vector<std::string> server_env_;
};

}  // namespace bysans::testing

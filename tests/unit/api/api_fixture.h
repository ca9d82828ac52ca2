// In-process API test harness: a real SQLite store in a temp dir, the real
// Authenticator (fast argon2 limits), ManualClock, SystemRandom and a Router
// built with RegisterAllRoutes. Requests are dispatched without a socket.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/context.h"
#include "api/data_targets.h"
#include "api/sms_gateway.h"
#include "auth/auth.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/random.h"
#include "http/router.h"
#include "share/service.h"
#include "store/sqlite/sqlite_store.h"

namespace bysans::testing {

using json = nlohmann::json;

// How a request authenticates.
struct Creds {
  std::string cookie;   // full "bysans_session=..." pair
  std::string api_key;  // sent as X-API-Key, or as Bearer when `bearer`
  bool bearer = false;

  static Creds Cookie(std::string c) { return {std::move(c), {}, false}; }
  static Creds Key(std::string k, bool bearer = false) { return {{}, std::move(k), bearer}; }
};

struct Reply {
  int status = 0;
  json body;  // null when the body is empty or not JSON
  std::string raw;
  http::Headers headers;
};

class ApiFixture : public ::testing::Test {
 protected:
  static constexpr TimeMs kStart = 1'780'000'000'000;  // 2026-05-28

  void SetUp() override {
    char tmpl[] = "/tmp/bysans_api_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    SqliteOptions so;
    so.path = dir_ + "/bysans.db";
    so.clock = &clock_;
    auto store = OpenSqliteStore(so);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store).value();
    auth::AuthOptions ao;
    ao.fast_password_hashing_for_tests = true;
    ao.login_attempts_per_minute = login_limit_;
    auth_ = std::make_unique<auth::Authenticator>(*store_, clock_, random_, ao);
    pipeline_ =
        std::make_unique<pipeline::Pipeline>(*store_, metrics_, pipeline::PipelineOptions{});
    ctx_ = std::make_unique<api::ApiContext>(
        api::ApiContext{*store_, *auth_, clock_, random_, metrics_, *pipeline_});
    api::RegisterAllRoutes(router_, *ctx_);
    // Data targets (api/data_targets.h): registered by server/ beside the route groups.
    targets_ =
        std::make_unique<share::TargetService>(*store_, clock_, metrics_, share::ServiceOptions{});
    ASSERT_TRUE(targets_->Start().ok());
    api::RegisterDataTargetRoutes(router_, *ctx_, *targets_, OutboundPolicy{});
    api::RegisterSmsGatewayRoutes(router_, *ctx_, OutboundPolicy{});  // api/sms_gateway.h
  }

  void TearDown() override {
    if (pipeline_) pipeline_->Stop();
    if (targets_) targets_->Stop();
    if (store_) store_->Close();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Reply Call(const std::string& method, const std::string& target, const Creds& creds = {},
             const std::string& body = {}, const std::string& remote = "192.0.2.10") {
    http::Request req;
    req.method = method;
    req.target = target;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = http::ParseQuery(target.substr(q + 1));
    if (!creds.cookie.empty()) req.headers.Set("cookie", creds.cookie);
    if (!creds.api_key.empty()) {
      if (creds.bearer)
        req.headers.Set("authorization", "Bearer " + creds.api_key);
      else
        req.headers.Set("x-api-key", creds.api_key);
    }
    // Like the web UI: every write says JSON, with or without a body (http/csrf.h).
    if (!body.empty() || (method != "GET" && method != "HEAD"))
      req.headers.Set("content-type", "application/json");
    req.body = body;
    req.remote_addr = remote;
    return Dispatch(req);
  }

  // Routes a prepared request and waits for its answer (handlers answer
  // synchronously except ingest, which answers after the group commit).
  Reply Dispatch(http::Request& req) {
    auto promise = std::make_shared<std::promise<http::Response>>();
    auto future = promise->get_future();
    router_.Dispatch(req, [promise](http::Response r) { promise->set_value(std::move(r)); });
    EXPECT_EQ(future.wait_for(std::chrono::seconds(60)), std::future_status::ready);
    http::Response r = future.get();
    Reply out;
    out.status = r.status;
    out.raw = r.body;
    out.headers = r.headers;
    out.body = json::parse(r.body, nullptr, false);
    if (out.body.is_discarded()) out.body = nullptr;
    return out;
  }

  Reply Call(const std::string& method, const std::string& target, const Creds& creds,
             const json& body) {
    return Call(method, target, creds, body.dump());
  }

  // A user created straight in the store (bootstrap for tests).
  User MakeUser(const std::string& email, const std::string& password, bool global_admin) {
    User u;
    u.email = email;
    u.name = email.substr(0, email.find('@'));
    u.password_hash = auth::HashPassword(password, /*fast=*/true);
    u.global_admin = global_admin;
    u.created_ms = clock_.NowMs();
    auto r = store_->CreateUser(u);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : u;
  }

  // Logs in through the API and returns the cookie pair ("bysans_session=...").
  Creds Login(const std::string& email, const std::string& password) {
    Reply r =
        Call("POST", "/api/v1/auth/login", {}, json{{"email", email}, {"password", password}});
    EXPECT_EQ(r.status, 200) << r.raw;
    std::string set_cookie = r.headers.Get("set-cookie");
    return Creds::Cookie(set_cookie.substr(0, set_cookie.find(';')));
  }

  int login_limit_ = 10;
  std::string dir_;
  ManualClock clock_{kStart};
  SystemRandom random_;
  Metrics metrics_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<auth::Authenticator> auth_;
  std::unique_ptr<pipeline::Pipeline> pipeline_;
  std::unique_ptr<api::ApiContext> ctx_;
  std::unique_ptr<share::TargetService> targets_;
  http::Router router_;
};

}  // namespace bysans::testing

#include "server/app.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "api/context.h"
#include "auth/auth.h"
#include "core/metrics.h"
#include "core/random.h"
#include "http/router.h"
#include "httpserver/http_server.h"
#include "httpserver/static_files.h"
#include "pipeline/pipeline.h"
#include "server/first_admin.h"
#include "sim/demo.h"
#include "sim/simulator.h"
#include "store/sqlite/sqlite_store.h"

namespace bysans {
namespace fs = std::filesystem;

namespace {

// The built UI: the configured directory, else web/dist next to the source
// tree or the binary's install prefix.
std::string FindWebDir(const Config& c) {
  if (!c.web_dir.empty()) return c.web_dir;
  for (const char* candidate :
       {"web/dist", "../web/dist", "../../web/dist", "/usr/share/bysans/web"}) {
    if (fs::exists(fs::path(candidate) / "index.html")) return fs::absolute(candidate).string();
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<Store>> OpenStoreForDataDir(const std::string& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return InvalidArgument("invalid setting data_dir=\"" + data_dir + "\": " + ec.message());
  ::chmod(data_dir.c_str(), 0700);
  static SystemClock clock;  // process-lifetime clock for CLI use
  SqliteOptions opts;
  opts.path = (fs::path(data_dir) / "bysans.db").string();
  opts.clock = &clock;
  return OpenSqliteStore(opts);
}

struct App::Impl {
  Config config;
  SystemClock clock;
  SystemRandom random;
  Metrics metrics;
  std::unique_ptr<Store> store;
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::unique_ptr<api::ApiContext> ctx;
  http::Router router;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<sim::Simulator> simulator;
};

App::App(Config config) : impl_(std::make_unique<Impl>()) { impl_->config = std::move(config); }

App::~App() { Stop(); }

uint16_t App::port() const { return impl_->http ? impl_->http->port() : 0; }

Status App::Start() {
  Impl& m = *impl_;
  const Config& c = m.config;
  BYSANS_ASSIGN_OR_RETURN(m.store, OpenStoreForDataDir(c.data_dir));

  auth::AuthOptions auth_opts;
  auth_opts.session_ttl_ms = c.session_ttl_s * 1000;
  auth_opts.login_attempts_per_minute = c.login_attempts_per_minute;
  auth_opts.secure_cookies = !c.tls_cert_file.empty();
  m.authenticator = std::make_unique<auth::Authenticator>(*m.store, m.clock, m.random, auth_opts);

  BYSANS_ASSIGN_OR_RETURN(Id admin_id, EnsureFirstAdmin(*m.store, m.random, m.clock, c));
  m.pipeline =
      std::make_unique<pipeline::Pipeline>(*m.store, m.metrics, pipeline::PipelineOptions{});

  m.ctx = std::make_unique<api::ApiContext>(
      api::ApiContext{*m.store, *m.authenticator, m.clock, m.random, m.metrics, *m.pipeline});
  api::RegisterAllRoutes(m.router, *m.ctx);
  if (std::string web = FindWebDir(c); !web.empty()) {
    m.router.SetFallback(MakeStaticHandler(web));
    spdlog::info("serving the web UI from {}", web);
  } else {
    spdlog::warn("web UI not built (no web/dist/index.html); serving the API only");
  }

  HttpServerOptions ho;
  ho.address = c.http_address;
  ho.port = static_cast<uint16_t>(c.http_port);
  ho.threads = c.http_threads;
  ho.body_limit = static_cast<size_t>(c.http_body_limit);
  ho.tls_cert_file = c.tls_cert_file;
  ho.tls_key_file = c.tls_key_file;
  m.http = std::make_unique<HttpServer>(ho, m.router, &m.metrics);
  BYSANS_RETURN_IF_ERROR(m.http->Start());

  std::string scheme = c.tls_cert_file.empty() ? "http" : "https";
  std::string url = scheme + "://" + c.http_address + ":" + std::to_string(m.http->port());
  {
    std::ofstream addr(fs::path(c.data_dir) / "http.url");
    addr << url << "\n";
  }
  spdlog::info("bysans is listening on {}", url);

  if (c.demo) {
    BYSANS_ASSIGN_OR_RETURN(auto devices, sim::SeedDemo(*m.store, m.random, m.clock, admin_id));
    if (!c.tls_cert_file.empty()) {
      spdlog::warn("demo simulator needs plain HTTP; not started under TLS");
    } else {
      size_t count = devices.size();
      m.simulator =
          std::make_unique<sim::Simulator>("http://127.0.0.1:" + std::to_string(m.http->port()),
                                           std::move(devices), m.clock, c.demo_interval_s);
      m.simulator->Start();
      spdlog::info("demo: simulating {} devices of \"Demo Kommune\", a reading every {} s", count,
                   c.demo_interval_s);
    }
  }
  return Status::Ok();
}

void App::Stop() {
  if (!impl_) return;
  Impl& m = *impl_;
  if (m.simulator) m.simulator->Stop();
  m.simulator.reset();
  if (m.http) m.http->Stop();
  m.http.reset();
  if (m.pipeline) m.pipeline->Stop();
  if (m.store) m.store->Close();
}

}  // namespace bysans

// bysans command line: serve, admin, version. The only file not linked into tests.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <thread>

#include "config/config.h"
#include "core/clock.h"
#include "server/app.h"
#include "server/first_admin.h"
#include "store/store.h"

namespace {

constexpr int kExitBadSetting = 2;

std::atomic<bool> g_stop{false};  // set by the signal handler only

void OnSignal(int) { g_stop.store(true); }

void SetUpLogging(const bysans::Config& c) {
  auto logger = spdlog::stderr_color_mt("bysans");
  if (c.log_format == "json") {
    logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(c.log_level));
  spdlog::set_default_logger(logger);
}

// Common flags of every subcommand.
struct CommonFlags {
  std::string config_file;
  std::string data_dir;
  void Attach(CLI::App* sub) {
    sub->add_option("--config", config_file, "TOML configuration file");
    sub->add_option("--data-dir", data_dir, "data directory (setting data_dir)");
  }
  std::map<std::string, std::string> Flags() const {
    std::map<std::string, std::string> f;
    if (!data_dir.empty()) f["data_dir"] = data_dir;
    return f;
  }
};

// Loads the config or prints one line naming the bad setting and exits 2.
bysans::Config LoadOrExit(const CommonFlags& common, std::map<std::string, std::string> flags) {
  auto merged = common.Flags();
  merged.insert(flags.begin(), flags.end());
  auto config = bysans::LoadConfig(common.config_file, bysans::BysansEnvironment(), merged);
  if (!config.ok()) {
    std::fprintf(stderr, "bysans: %s\n", config.status().message().c_str());
    std::exit(kExitBadSetting);
  }
  return config.value();
}

int Serve(const bysans::Config& config) {
  SetUpLogging(config);
  bysans::App app(config);
  bysans::Status st = app.Start();
  if (!st.ok()) {
    std::fprintf(stderr, "bysans: %s\n", st.message().c_str());
    return st.code() == bysans::Code::kInvalidArgument ? kExitBadSetting : 1;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  std::printf("bysans %s is running: open http://%s:%u/\n", BYSANS_VERSION,
              config.http_address.c_str(), app.port());
  std::fflush(stdout);
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  spdlog::info("shutting down");
  app.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"bysans — the city's senses: an IoT platform for municipalities"};
  cli.require_subcommand(1);

  CommonFlags serve_common;
  auto* serve = cli.add_subcommand("serve", "run the server");
  serve_common.Attach(serve);
  std::string http_port, mqtt_port;
  bool demo = false;
  serve->add_option("--http-port", http_port, "HTTP port (setting http.port, 0 = any free)");
  serve->add_option("--mqtt-port", mqtt_port, "MQTT broker port (setting mqtt.port)");
  serve->add_flag("--demo", demo, "seed Demo Kommune and run the simulator (setting demo.enabled)");

  CommonFlags admin_common;
  auto* admin = cli.add_subcommand("admin", "administration");
  admin->require_subcommand(1);
  auto* create_user = admin->add_subcommand("create-user", "create a user");
  admin_common.Attach(create_user);
  std::string email, password;
  bool global_admin = false;
  create_user->add_option("--email", email, "email address")->required();
  create_user->add_option("--password", password, "password (at least 10 characters)")->required();
  create_user->add_flag("--global-admin", global_admin, "make the user a global administrator");

  CommonFlags version_common;
  auto* version = cli.add_subcommand("version", "print the version");
  version_common.Attach(version);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = cli.exit(e);
    return code == 0 ? 0 : kExitBadSetting;
  }

  if (*version) {
    std::printf("bysans %s\n", BYSANS_VERSION);
    return 0;
  }
  if (*serve) {
    std::map<std::string, std::string> flags;
    if (!http_port.empty()) flags["http.port"] = http_port;
    if (!mqtt_port.empty()) flags["mqtt.port"] = mqtt_port;
    if (demo) flags["demo.enabled"] = "true";
    return Serve(LoadOrExit(serve_common, flags));
  }
  if (*create_user) {
    bysans::Config config = LoadOrExit(admin_common, {});
    auto store = bysans::OpenStoreForDataDir(config.data_dir);
    if (!store.ok()) {
      std::fprintf(stderr, "bysans: %s\n", store.status().message().c_str());
      return kExitBadSetting;
    }
    bysans::SystemClock clock;
    auto user = bysans::CreateUser(**store, clock, email, password, global_admin);
    (*store)->Close();
    if (!user.ok()) {
      std::fprintf(stderr, "bysans: cannot create user: %s\n", user.status().message().c_str());
      return 1;
    }
    std::printf("created user %s (id %lld)%s\n", user->email.c_str(),
                static_cast<long long>(user->id), global_admin ? " as global admin" : "");
    return 0;
  }
  return 0;
}

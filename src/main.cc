// bysans command line: serve, admin, redecode, backup, restore, export, import, version. The
// only file not linked into tests.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#ifdef BYSANS_MIMALLOC
#include <mimalloc.h>
#endif

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include "archive/import.h"
#include "archive/snapshot.h"
#include "backup/backup.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/dir_lock.h"
#include "core/time_format.h"
#include "decode/redecode.h"
#include "server/app.h"
#include "server/first_admin.h"
#include "server/logging.h"
#include "store/store.h"

namespace {

constexpr int kExitBadSetting = 2;

std::atomic<bool> g_stop{false};  // set by the signal handler only

void OnSignal(int) { g_stop.store(true); }

// `admin create-user` takes the password from here, else from standard input.
constexpr const char* kNewUserPasswordEnv = "BYSANS_NEW_USER_PASSWORD";

// The new user's password: the environment variable, else the first line of
// standard input (prompted for, without echo, on a terminal).
std::string ReadNewPassword() {
  if (const char* env = std::getenv(kNewUserPasswordEnv)) return env;
  const bool tty = isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    std::fprintf(stderr, "Password: ");
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::fprintf(stderr, "\n");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
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
  bysans::SetUpLogging(config.log_format, config.log_level);
  bysans::App app(config);
  bysans::Status st = app.Start();
  if (!st.ok()) {
    std::fprintf(stderr, "bysans: %s\n", st.message().c_str());
    return st.code() == bysans::Code::kInvalidArgument ? kExitBadSetting : 1;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGPIPE, SIG_IGN);
  if (config.log_format == "json") {  // every line of the output is JSON
    spdlog::info("bysans {} is running: open http://{}:{}/", BYSANS_VERSION, config.http_address,
                 app.port());
  } else {
    std::printf("bysans %s is running: open http://%s:%u/\n", BYSANS_VERSION,
                config.http_address.c_str(), app.port());
    std::fflush(stdout);
  }
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  spdlog::info("shutting down");
  app.Stop();
  return 0;
}

// `bysans redecode`: re-decodes stored raw messages with a decoder's current version, with a
// text progress bar on stderr. Safe to interrupt and run again.
int Redecode(const bysans::Config& config, int64_t decoder_id, const std::string& from,
             const std::string& to, int64_t device_id) {
  bysans::decode::RedecodeRequest rq;
  rq.decoder_id = decoder_id;
  if (device_id > 0) rq.device_id = device_id;
  for (auto [text, out] : {std::pair{&from, &rq.from}, std::pair{&to, &rq.to}}) {
    if (text->empty()) continue;
    auto t = bysans::ParseTime(*text);
    if (!t) {
      std::fprintf(stderr, "bysans: invalid time \"%s\" (RFC 3339 or ms)\n", text->c_str());
      return kExitBadSetting;
    }
    *out = *t;
  }
  auto store = bysans::OpenConfiguredStore(config);
  if (!store.ok()) {
    std::fprintf(stderr, "bysans: %s\n", store.status().message().c_str());
    return kExitBadSetting;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  bysans::decode::DecoderRunner runner;
  auto progress = [](int64_t done, int64_t total, int64_t errors) {
    constexpr int kWidth = 40;
    int filled = total > 0 ? static_cast<int>(done * kWidth / total) : kWidth;
    std::fprintf(stderr, "\r[%s%s] %lld/%lld messages, %lld decode errors",
                 std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(kWidth - filled), ' ').c_str(),
                 static_cast<long long>(done), static_cast<long long>(total),
                 static_cast<long long>(errors));
  };
  bysans::Status st = bysans::decode::Redecode(**store, runner, rq, progress, g_stop);
  std::fprintf(stderr, "\n");
  (*store)->Close();
  if (!st.ok()) {
    std::fprintf(stderr, "bysans: re-decode: %s\n", st.message().c_str());
    return 1;
  }
  return 0;
}

// export, backup and restore read and write the embedded SQLite database's files; with
// PostgreSQL as the store (store.url) they are refused with what to use instead.
bool RefusedOnPostgres(const bysans::Config& config, const char* command) {
  if (config.store_url.empty()) return false;
  std::fprintf(stderr,
               "bysans: %s works on the embedded SQLite store only; with store.url (PostgreSQL) "
               "back up and restore the database with PostgreSQL's own tools (pg_dump, "
               "pg_basebackup; docs/SCALE.md) and keep data_dir/secret.key with them\n",
               command);
  return true;
}

// `bysans export`: one organisation into an archive (archive/README.md), from a copy of the
// database taken in one read transaction, so it works beside a running server.
int Export(const bysans::Config& config, int64_t org_id, const std::string& out) {
  if (RefusedOnPostgres(config, "export")) return kExitBadSetting;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  bysans::SystemClock clock;
  bysans::archive::ExportOptions opts;
  opts.bysans_version = BYSANS_VERSION;
  opts.progress = [](int64_t done, int64_t total) {
    std::fprintf(stderr, "\rexport: %lld/%lld devices", static_cast<long long>(done),
                 static_cast<long long>(total));
  };
  namespace fs = std::filesystem;
  const fs::path dir(config.data_dir);
  const std::string scratch =
      (dir / "exports" / (".snapshot-" + std::to_string(::getpid()))).string();
  auto r = bysans::archive::ExportFromDatabase((dir / "bysans.db").string(), scratch, clock, org_id,
                                               out, opts, g_stop);
  std::fprintf(stderr, "\n");
  if (!r.ok()) {
    std::fprintf(stderr, "bysans: export: %s\n", r.status().message().c_str());
    return 1;
  }
  std::printf(
      "exported organisation %lld to %s: %lld devices, %lld readings, %lld raw messages, "
      "%lld alarms, %lld bytes\n",
      static_cast<long long>(org_id), out.c_str(), static_cast<long long>(r->devices),
      static_cast<long long>(r->readings), static_cast<long long>(r->raw_messages),
      static_cast<long long>(r->alarms), static_cast<long long>(r->bytes));
  return 0;
}

// `bysans import`: an archive as a new organisation. Writes to the database, so it takes the data
// directory's lock: refused while a server runs there (POST /api/v1/organizations/import then).
int Import(const bysans::Config& config, const std::string& in, const std::string& org_name) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  // One writer per data directory: refused while a server (or a restore) holds it.
  auto lock = bysans::DirLock::Acquire(config.data_dir, "import");
  if (!lock.ok()) {
    std::fprintf(stderr, "bysans: import: %s\n", lock.status().message().c_str());
    return 1;
  }
  auto store = bysans::OpenConfiguredStore(config);
  if (!store.ok()) {
    std::fprintf(stderr, "bysans: %s\n", store.status().message().c_str());
    return kExitBadSetting;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  bysans::SystemClock clock;
  bysans::archive::ImportOptions opts;
  opts.org_name = org_name;
  opts.progress = [](int64_t done, int64_t total) {
    std::fprintf(stderr, "\rimport: %lld/%lld readings and messages", static_cast<long long>(done),
                 static_cast<long long>(total));
  };
  auto r = bysans::archive::ImportArchive(**store, clock, in, opts, g_stop);
  std::fprintf(stderr, "\n");
  (*store)->Close();
  if (!r.ok()) {
    std::fprintf(stderr, "bysans: import refused, nothing imported: %s\n",
                 r.status().message().c_str());
    return 1;
  }
  std::printf(
      "imported as organisation %lld \"%s\": %lld applications, %lld devices, %lld "
      "readings, %lld raw messages, %lld alarms, %lld silences\n",
      static_cast<long long>(r->org_id), r->org_name.c_str(),
      static_cast<long long>(r->applications), static_cast<long long>(r->devices),
      static_cast<long long>(r->readings), static_cast<long long>(r->raw_messages),
      static_cast<long long>(r->alarms), static_cast<long long>(r->silences));
  for (const auto& note : r->notes) std::printf("  - %s\n", note.c_str());
  return 0;
}

// Prints what a backup or restore copied, one line per file.
void PrintReport(const char* verb, const std::string& dir, const bysans::backup::Report& r) {
  for (const auto& f : r.files) {
    std::printf("  %-36s %12lld bytes\n", f.path.c_str(), static_cast<long long>(f.bytes));
  }
  std::printf("%s %s: %zu files, %lld bytes\n", verb, dir.c_str(), r.files.size(),
              static_cast<long long>(r.bytes));
}

// `bysans backup --out DIR`: a consistent copy of the data directory, also of a running server.
int Backup(const bysans::Config& config, const std::string& out) {
  if (RefusedOnPostgres(config, "backup")) return kExitBadSetting;
  bysans::SystemClock clock;
  bysans::backup::BackupOptions opts{config.data_dir, out, BYSANS_VERSION, clock.NowMs()};
  auto r = bysans::backup::Backup(opts);
  if (!r.ok()) {
    std::fprintf(stderr, "bysans: backup: %s\n", r.status().message().c_str());
    return r.status().code() == bysans::Code::kInvalidArgument ? kExitBadSetting : 1;
  }
  PrintReport("backed up to", out, *r);
  return 0;
}

// `bysans restore --from DIR`: verifies a backup, then puts it into an empty data directory.
int Restore(const bysans::Config& config, const std::string& from) {
  if (RefusedOnPostgres(config, "restore")) return kExitBadSetting;
  auto r = bysans::backup::Restore(from, config.data_dir);
  if (!r.ok()) {
    std::fprintf(stderr, "bysans: restore: %s\n", r.status().message().c_str());
    return r.status().code() == bysans::Code::kInvalidArgument ? kExitBadSetting : 1;
  }
  PrintReport("restored into", config.data_dir, *r);
  return 0;
}

// mimalloc returns freed pages to the kernel 25 ms after they fall empty. Ingest frees and
// allocates its buffers continuously (events, readings, commit batches on different threads),
// so those pages came straight back as page faults that zero them: ~2.5 % of bysans' CPU in
// bench/lorawan. Kept two seconds, the steady state's pages stay mapped (peak RSS unchanged
// within noise). MIMALLOC_DECOMMIT_DELAY in the environment still decides.
void TuneAllocator() {
#ifdef BYSANS_MIMALLOC
  if (std::getenv("MIMALLOC_DECOMMIT_DELAY") == nullptr)
    mi_option_set(mi_option_decommit_delay, 2000);
#endif
}

}  // namespace

int main(int argc,
         char** argv) {  // NOLINT(bugprone-exception-escape): CLI11 parses, bad_alloc ends
  // Everything bysans and its broker create (database, WAL, secrets, broker files) is for this
  // user only: files 0600, directories 0700.
  ::umask(077);
  TuneAllocator();
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
  auto* create_user = admin->add_subcommand(
      "create-user", "create a user; the password is read from standard input (or " +
                         std::string(kNewUserPasswordEnv) + "), never from the command line");
  admin_common.Attach(create_user);
  std::string email, password;
  bool global_admin = false;
  create_user->add_option("--email", email, "email address")->required();
  create_user->add_option("--password", password, "refused: see create-user --help")
      ->group("");  // hidden; kept only to explain the new way
  create_user->add_flag("--global-admin", global_admin, "make the user a global administrator");

  CommonFlags redecode_common;
  auto* redecode = cli.add_subcommand("redecode", "re-decode stored raw messages");
  redecode_common.Attach(redecode);
  int64_t redecode_id = 0, redecode_device = 0;
  std::string redecode_from, redecode_to;
  redecode->add_option("--decoder", redecode_id, "decoder id")->required();
  redecode->add_option("--from", redecode_from, "first receive time (RFC 3339 or ms)");
  redecode->add_option("--to", redecode_to, "last receive time (RFC 3339 or ms)");
  redecode->add_option("--device", redecode_device, "only this device");

  CommonFlags export_common;
  auto* export_cmd = cli.add_subcommand(
      "export", "export an organisation into one archive (works beside a running server)");
  export_common.Attach(export_cmd);
  int64_t export_org = 0;
  std::string export_out;
  export_cmd->add_option("--org", export_org, "organisation id")->required();
  export_cmd->add_option("--out", export_out, "archive file to write")->required();

  CommonFlags import_common;
  auto* import_cmd =
      cli.add_subcommand("import", "import an archive as a new organisation (the server stopped)");
  import_common.Attach(import_cmd);
  std::string import_in, import_name;
  import_cmd->add_option("--in", import_in, "archive file to read")->required();
  import_cmd->add_option("--org-name", import_name, "name of the new organisation");

  CommonFlags backup_common;
  auto* backup = cli.add_subcommand(
      "backup",
      "copy the whole server (database, secrets, broker state) into a new directory; "
      "safe while the server runs");
  backup_common.Attach(backup);
  std::string backup_out;
  backup->add_option("--out", backup_out, "the new backup directory")->required();

  CommonFlags restore_common;
  auto* restore = cli.add_subcommand(
      "restore", "check a backup, then put it into a new or empty data directory");
  restore_common.Attach(restore);
  std::string restore_from;
  restore->add_option("--from", restore_from, "the backup directory")->required();

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
  if (*backup) return Backup(LoadOrExit(backup_common, {}), backup_out);
  if (*restore) return Restore(LoadOrExit(restore_common, {}), restore_from);
  if (*redecode) {
    return Redecode(LoadOrExit(redecode_common, {}), redecode_id, redecode_from, redecode_to,
                    redecode_device);
  }
  if (*export_cmd) return Export(LoadOrExit(export_common, {}), export_org, export_out);
  if (*import_cmd) return Import(LoadOrExit(import_common, {}), import_in, import_name);
  if (*create_user) {
    if (!password.empty()) {
      std::fprintf(stderr,
                   "bysans: --password is not accepted (other users can read a command line); "
                   "pipe the password on standard input or set %s\n",
                   kNewUserPasswordEnv);
      return kExitBadSetting;
    }
    password = ReadNewPassword();
    bysans::Config config = LoadOrExit(admin_common, {});
    auto store = bysans::OpenConfiguredStore(config);
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

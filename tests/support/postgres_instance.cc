#include "support/postgres_instance.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace bysans::testing {
namespace {

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

bool Executable(const fs::path& p) { return ::access(p.c_str(), X_OK) == 0; }

Result<std::string> FindBinDir(const std::string& wanted) {
  std::vector<std::string> candidates;
  if (!wanted.empty()) {
    candidates.push_back(wanted);
  } else {
    if (const char* env = getenv("BYSANS_PG_BIN")) candidates.push_back(env);
    candidates.push_back("/usr/lib/postgresql/15/bin");
    if (const char* path = getenv("PATH")) {
      std::stringstream ss(path);
      std::string d;
      while (std::getline(ss, d, ':'))
        if (!d.empty()) candidates.push_back(d);
    }
  }
  for (const auto& d : candidates)
    if (Executable(fs::path(d) / "initdb") && Executable(fs::path(d) / "postgres")) return d;
  return FailedPrecondition(
      "PostgreSQL server binaries (initdb, postgres) not found in " +
      (wanted.empty() ? std::string("$BYSANS_PG_BIN, /usr/lib/postgresql/15/bin or the PATH")
                      : wanted) +
      ": install postgresql-15 (scripts/install-deps)");
}

// A free loopback port: bound to 0, read back, released (PostgreSQL binds it right after; a
// clash is retried by Start).
Result<int> FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return Internal("socket: " + std::string(strerror(errno)));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return Internal("bind 127.0.0.1:0: " + std::string(strerror(errno)));
  }
  ::close(fd);
  return static_cast<int>(ntohs(a.sin_port));
}

struct RunAs {
  bool drop = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

// When root: the `nobody` user (exists on every Debian/Ubuntu, CI included) and its group.
Result<RunAs> Unprivileged() {
  RunAs r;
  if (::geteuid() != 0) return r;
  const passwd* pw = ::getpwnam("nobody");
  if (!pw)
    return FailedPrecondition(
        "running as root and there is no user `nobody` to run "
        "PostgreSQL as (it refuses to run as root)");
  r.drop = true;
  r.uid = pw->pw_uid;
  r.gid = pw->pw_gid;
  return r;
}

// fork + exec with stdout/stderr appended to `log`, as `as`; the child's pid.
Result<pid_t> Spawn(const std::vector<std::string>& args, const std::string& log, RunAs as) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  static char kLc[] = "LC_ALL=C";
  static char kPath[] = "PATH=/usr/bin:/bin";
  char* envp[] = {kLc, kPath, nullptr};
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("open " + log + ": " + strerror(errno));
  if (as.drop && ::fchown(fd, as.uid, as.gid) != 0) {
    ::close(fd);
    return Internal("chown " + log + ": " + strerror(errno));
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd);
    return Internal(std::string("fork: ") + strerror(errno));
  }
  if (pid == 0) {  // only async-signal-safe calls from here
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::closefrom(3);
    if (as.drop && (::setgroups(0, nullptr) != 0 || ::setgid(as.gid) != 0 || ::setuid(as.uid) != 0))
      ::_exit(126);
    ::setsid();  // a ^C of the test runner does not reach it before our SIGINT
    ::execve(argv[0], argv.data(), envp);
    ::_exit(127);
  }
  ::close(fd);
  return pid;
}

std::string Tail(const std::string& path, size_t max = 2000) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > max ? s.substr(s.size() - max) : s;
}

}  // namespace

Result<std::unique_ptr<PostgresInstance>> PostgresInstance::Start(PostgresOptions options) {
  BYSANS_ASSIGN_OR_RETURN(std::string bin, FindBinDir(options.bin_dir));
  BYSANS_ASSIGN_OR_RETURN(RunAs as, Unprivileged());
  std::string tmpl = (fs::temp_directory_path() / "bysans_pg_XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return Internal(std::string("mkdtemp: ") + strerror(errno));
  std::unique_ptr<PostgresInstance> pg(new PostgresInstance());
  pg->dir_ = tmpl;  // removed by the destructor from here on
  if (as.drop && ::chown(pg->dir_.c_str(), as.uid, as.gid) != 0)
    return Internal("chown " + pg->dir_ + ": " + strerror(errno));
  const std::string data = pg->dir_ + "/data";
  const std::string log = pg->dir_ + "/postgres.log";
  BYSANS_ASSIGN_OR_RETURN(
      pid_t init, Spawn({bin + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                         "--no-locale", "--no-sync", "--no-instructions"},
                        pg->dir_ + "/initdb.log", as));
  int st = 0;
  ::waitpid(init, &st, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    return Internal("initdb failed (exit " + std::to_string(WIFEXITED(st) ? WEXITSTATUS(st) : -1) +
                    "): " + Tail(pg->dir_ + "/initdb.log"));

  for (int attempt = 0; attempt < 3; ++attempt) {
    BYSANS_ASSIGN_OR_RETURN(int port, FreePort());
    std::vector<std::string> args = {
        bin + "/postgres",
        "-D",
        data,
        "-p",
        std::to_string(port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=" + pg->dir_,
        "-c",
        std::string("synchronous_commit=") + (options.synchronous_commit ? "on" : "off")};
    for (const auto& s : options.settings) {
      args.push_back("-c");
      args.push_back(s);
    }
    BYSANS_ASSIGN_OR_RETURN(pid_t pid, Spawn(args, log, as));
    pg->pid_ = pid;
    pg->port_ = port;
    pg->launch_args_ = args;
    pg->start_timeout_ms_ = options.start_timeout_ms;
    bool exited = false;
    Status ready = pg->AwaitReady(options.start_timeout_ms, &exited);
    if (ready.ok()) return pg;
    if (!exited) return ready;  // running but not answering (AwaitReady stopped it)
    // Exited: maybe the port was taken meanwhile; try another one.
  }
  return Internal("PostgreSQL could not start: " + Tail(log));
}

Status PostgresInstance::AwaitReady(int timeout_ms, bool* exited) {
  const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(port_) +
                               " user=postgres dbname=postgres connect_timeout=2";
  const auto deadline = Steady::now() + std::chrono::milliseconds(timeout_ms);
  int st = 0;
  while (Steady::now() < deadline) {
    if (PQping(conninfo.c_str()) == PQPING_OK) return Status::Ok();
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      if (exited) *exited = true;
      return Unavailable("PostgreSQL exited while starting: " + Tail(dir_ + "/postgres.log"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  (void)Stop();
  return Unavailable("PostgreSQL did not accept connections within " + std::to_string(timeout_ms) +
                     " ms: " + Tail(dir_ + "/postgres.log"));
}

Status PostgresInstance::Up() {
  if (pid_ > 0) return Status::Ok();
  if (launch_args_.empty()) return FailedPrecondition("PostgreSQL was never started");
  BYSANS_ASSIGN_OR_RETURN(RunAs as, Unprivileged());
  BYSANS_ASSIGN_OR_RETURN(pid_t pid, Spawn(launch_args_, dir_ + "/postgres.log", as));
  pid_ = pid;
  return AwaitReady(start_timeout_ms_, nullptr);
}

Status PostgresInstance::Stop() {
  if (pid_ <= 0) return Status::Ok();
  ::kill(pid_, SIGINT);  // fast shutdown: abort transactions, checkpoint, exit
  const auto deadline = Steady::now() + std::chrono::seconds(30);
  int st = 0;
  while (Steady::now() < deadline) {
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &st, 0);
  pid_ = -1;
  return Internal("PostgreSQL did not stop within 30 s; killed");
}

PostgresInstance::~PostgresInstance() {
  (void)Stop();
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
}

std::string PostgresInstance::Url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

Result<std::string> PostgresInstance::Query(const std::string& database, const std::string& sql) {
  PGconn* c = PQconnectdb(Url(database).c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string m = PQerrorMessage(c);
    PQfinish(c);
    return Unavailable("connect to " + Url(database) + ": " + m);
  }
  PGresult* r = PQexec(c, sql.c_str());
  const auto rs = PQresultStatus(r);
  Result<std::string> out = std::string();
  if (rs != PGRES_COMMAND_OK && rs != PGRES_TUPLES_OK) {
    out = Internal(sql + ": " + PQresultErrorMessage(r));
  } else if (rs == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0) {
    out = std::string(PQgetvalue(r, 0, 0));
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

Result<std::string> PostgresInstance::CreateDatabase(const std::string& name) {
  if (name.empty() || name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != name.npos)
    return InvalidArgument("database name must be [a-z0-9_]+: " + name);
  BYSANS_RETURN_IF_ERROR(Query("postgres", "CREATE DATABASE " + name).status());
  return Url(name);
}

std::string PostgresInstance::Log() const { return Tail(dir_ + "/postgres.log", 100'000); }

}  // namespace bysans::testing

// A real, throw-away PostgreSQL server for tests and benchmarks (issue 19): initdb into a fresh
// temporary folder, `postgres` on a free loopback port with its unix socket in that folder, as an
// unprivileged user when we run as root (PostgreSQL refuses to run as root), and on destruction a
// fast shutdown (SIGINT) and the folder removed. Missing binaries are a clear error, not a hang.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace bysans::testing {

struct PostgresOptions {
  // Folder with initdb and postgres; empty: $BYSANS_PG_BIN, then /usr/lib/postgresql/15/bin,
  // then the PATH.
  std::string bin_dir;
  // Defaults keep durability (tests of durability need it); benchmarks and fast suites may turn
  // synchronous_commit off (a crash loses the last commits, never consistency).
  bool synchronous_commit = true;
  // Extra `-c name=value` settings (e.g. "shared_buffers=256MB").
  std::vector<std::string> settings;
  // How long to wait for the server to accept connections.
  int start_timeout_ms = 60'000;
};

class PostgresInstance {
 public:
  // Creates the cluster and starts the server; returns once it accepts connections.
  static Result<std::unique_ptr<PostgresInstance>> Start(PostgresOptions options = {});
  ~PostgresInstance();  // fast shutdown, then the folder is removed
  PostgresInstance(const PostgresInstance&) = delete;
  PostgresInstance& operator=(const PostgresInstance&) = delete;

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  // A new, empty database; its postgresql:// URL.
  Result<std::string> CreateDatabase(const std::string& name);
  // The URL of an existing database ("postgres" always exists).
  std::string Url(const std::string& database) const;
  // Runs one SQL command on the database (test set-up, inspection); the first column of the first
  // row as text ("" for none).
  Result<std::string> Query(const std::string& database, const std::string& sql);
  // The server's log so far (for failure messages).
  std::string Log() const;

  // Failure tests (issue 19, "PostgreSQL restarted mid-stream"): a fast shutdown of the server,
  // keeping its data; then the same server started again on the same port and data, returning
  // once it accepts connections.
  Status Down() { return Stop(); }
  Status Up();

 private:
  PostgresInstance() = default;
  Status Stop();
  // Waits until the server answers on port_. Fails when its process ended (*exited set, if
  // given) or the time ran out (the server is then stopped).
  Status AwaitReady(int timeout_ms, bool* exited);

  std::vector<std::string> launch_args_;  // the postgres command line, for Up()
  int start_timeout_ms_ = 60'000;

  std::string dir_;  // temporary folder: data/, the socket, postgres.log
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace bysans::testing

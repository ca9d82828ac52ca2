// The bysans server process: wires config, store, auth, API routes, the HTTP
// server, the web UI's static files and the demo simulator together, and
// owns their start-up and shutdown order. Nothing else knows about everything.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "core/status.h"

namespace bysans {

class App {
 public:
  explicit App(Config config);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Opens the store (creating the data directory), creates the first admin
  // when there is no user, seeds the demo when enabled, starts serving.
  Status Start();
  // The HTTP port actually bound (after Start).
  uint16_t port() const;
  // Graceful: stops the simulator, the HTTP server, then closes the store.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Opens the store the configuration names (for `serve` and the CLI subcommands that do not
// serve): the SQLite database in data_dir, or PostgreSQL when store.url is set (its SecretBox key
// is still data_dir/secret.key: every node of one database needs the same file, docs/SCALE.md).
// Creates the data directory if needed.
class Store;
Result<std::unique_ptr<Store>> OpenConfiguredStore(const Config& config);

}  // namespace bysans

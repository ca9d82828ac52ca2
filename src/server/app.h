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

// Opens the store of a data directory (for CLI subcommands that do not serve).
class Store;
// `commit_interval_ms`: SqliteOptions::group_commit_interval_us in ms (setting
// store.commit_interval_ms).
Result<std::unique_ptr<Store>> OpenStoreForDataDir(const std::string& data_dir,
                                                   int commit_interval_ms = 5);

}  // namespace bysans

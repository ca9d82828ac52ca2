// Integration-test harness: runs the real `bysans` binary on port 0 with a
// fresh data directory (a real SQLite file) and talks HTTP to it with libcurl.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace bysans::testing {

using json = nlohmann::json;

struct HttpResult {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names, last value wins
  json Json() const { return json::parse(body, nullptr, false); }
};

// Polls `pred` every 50 ms until it holds or `seconds` pass; returns its last answer.
template <typename Pred>
bool WaitFor(Pred pred, int seconds = 60) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// A small blocking HTTP client with its own cookie jar (for sessions).
class HttpClient {
 public:
  explicit HttpClient(std::string base_url);
  ~HttpClient();
  HttpResult Request(const std::string& method, const std::string& path,
                     const std::string& body = {}, std::vector<std::string> headers = {});
  HttpResult Get(const std::string& path, std::vector<std::string> headers = {}) {
    return Request("GET", path, {}, std::move(headers));
  }
  HttpResult PostJson(const std::string& path, const json& body,
                      std::vector<std::string> headers = {}) {
    headers.push_back("Content-Type: application/json");
    return Request("POST", path, body.dump(), std::move(headers));
  }
  // Logs in with email/password; the session cookie is kept for later calls.
  HttpResult Login(const std::string& email, const std::string& password);

 private:
  std::string base_url_;
  void* curl_;
};

// A bysans server process.
class ServerProcess {
 public:
  static constexpr const char* kAdminEmail = "admin@test.bysans";
  static constexpr const char* kAdminPassword = "integration-secret-1";

  // data_dir empty = a fresh temporary directory (removed by the destructor).
  explicit ServerProcess(std::string data_dir = {}, std::vector<std::string> extra_args = {});
  ~ServerProcess();

  // Starts `bysans serve` and waits until it answers /healthz. Returns false
  // (and leaves the captured stderr in log()) if it does not come up.
  bool Start();
  // "NAME=value" entries put into the server's environment at the next Start().
  void SetEnv(std::vector<std::string> env) { env_ = std::move(env); }
  void Kill9();  // SIGKILL, no shutdown
  // Sends `sig` (e.g. SIGSEGV: the process dies as on a crash) until the process has ended.
  // Repeated because SpiderMonkey's fault handler hands a SIGSEGV it does not own back to the
  // default action only for the next one (a real fault re-runs its instruction; kill() does not).
  // Returns the exit status as Terminate() does (128 + signal).
  int KillWith(int sig);
  int Terminate();  // SIGTERM and wait; returns the exit status
  const std::string& url() const { return url_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }
  std::string log() const;
  static std::string BinaryPath();

 private:
  std::string data_dir_;
  bool own_dir_ = false;
  std::vector<std::string> extra_args_;
  std::vector<std::string> env_;
  pid_t pid_ = -1;
  std::string url_;
};

// Runs the binary with arguments and environment, waits; returns
// {exit code, stderr+stdout}.
std::pair<int, std::string> RunBinary(const std::vector<std::string>& args,
                                      const std::vector<std::string>& env = {});

}  // namespace bysans::testing

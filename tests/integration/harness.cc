#include "harness.h"

#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace bysans::testing {
namespace fs = std::filesystem;

namespace {

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(user))[name] = value;
  }
  return size * n;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

HttpClient::HttpClient(std::string base_url) : base_url_(std::move(base_url)) {
  curl_ = curl_easy_init();
  curl_easy_setopt(static_cast<CURL*>(curl_), CURLOPT_COOKIEFILE, "");  // enable the jar
  curl_easy_setopt(static_cast<CURL*>(curl_), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(static_cast<CURL*>(curl_), CURLOPT_TIMEOUT, 60L);
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

HttpResult HttpClient::Request(const std::string& method, const std::string& path,
                               const std::string& body, std::vector<std::string> headers) {
  CURL* c = static_cast<CURL*>(curl_);
  HttpResult r;
  std::string url = base_url_ + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(c, CURLOPT_NOBODY, method == "HEAD" ? 1L : 0L);
  if (method == "GET" || method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method == "HEAD" ? "HEAD" : nullptr);
  } else {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_slist* list = nullptr;
  headers.push_back("Expect:");  // no 100-continue round trip
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r.headers);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  long answered = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &answered);
  if (rc == CURLE_SEND_ERROR && answered != 0) {
    // The server answered (e.g. 413) and closed while we were still sending the body.
    r.status = answered;
    return r;
  }
  if (rc != CURLE_OK) {
    r.status = -1;
    r.body = curl_easy_strerror(rc);
    return r;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

HttpResult HttpClient::Login(const std::string& email, const std::string& password) {
  return PostJson("/api/v1/auth/login", {{"email", email}, {"password", password}});
}

std::string ServerProcess::BinaryPath() { return std::string(BYSANS_BINARY_DIR) + "/bin/bysans"; }

ServerProcess::ServerProcess(std::string data_dir, std::vector<std::string> extra_args)
    : data_dir_(std::move(data_dir)), extra_args_(std::move(extra_args)) {
  if (data_dir_.empty()) {
    char tmpl[] = "/tmp/bysans-it-XXXXXX";
    data_dir_ = mkdtemp(tmpl);
    own_dir_ = true;
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Kill9();
  if (own_dir_) {
    std::error_code ec;
    fs::remove_all(data_dir_, ec);
  }
}

bool ServerProcess::Start() {
  fs::remove(fs::path(data_dir_) / "http.url");
  std::string log_path = (fs::path(data_dir_) / "server.log").string();
  pid_ = fork();
  if (pid_ == 0) {
    FILE* log = std::fopen(log_path.c_str(), "a");
    if (log) {
      dup2(fileno(log), 1);
      dup2(fileno(log), 2);
    }
    setenv("BYSANS_ADMIN_EMAIL", kAdminEmail, 1);
    setenv("BYSANS_ADMIN_PASSWORD", kAdminPassword, 1);
    setenv("BYSANS_MQTT_PORT", "0", 0);  // a free port for the supervised broker (--mqtt-port wins)
    // Test receivers and brokers listen on loopback, which the outbound policy refuses by
    // default; a test of the policy itself overrides this through SetEnv.
    setenv("BYSANS_OUTBOUND_ALLOW", "127.0.0.0/8,::1/128", 0);
    for (auto& e : env_) putenv(e.data());
    std::vector<std::string> args = {BinaryPath(), "serve",       "--data-dir",
                                     data_dir_,    "--http-port", "0"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::string url = ReadFile(fs::path(data_dir_) / "http.url");
    while (!url.empty() && (url.back() == '\n')) url.pop_back();
    if (!url.empty()) {
      HttpClient probe(url);
      if (probe.Get("/healthz").status == 200) {
        url_ = url;
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

void ServerProcess::Kill9() { KillWith(SIGKILL); }

int ServerProcess::KillWith(int sig) {
  if (pid_ <= 0) return -1;
  int status = 0;
  for (pid_t ended = 0; ended == 0;) {
    kill(pid_, sig);
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
    while ((ended = waitpid(pid_, &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ServerProcess::Terminate() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ServerProcess::log() const { return ReadFile(fs::path(data_dir_) / "server.log"); }

std::pair<int, std::string> RunBinary(const std::vector<std::string>& args,
                                      const std::vector<std::string>& env) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return {-1, "pipe failed"};
  pid_t pid = fork();
  if (pid == 0) {
    close(pipefd[0]);
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<std::string> all = {ServerProcess::BinaryPath()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace bysans::testing

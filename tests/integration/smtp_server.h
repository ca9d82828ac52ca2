// A real SMTP server for e-mail action tests: python3-aiosmtpd in debug mode on a free loopback
// port, printing each message it receives (envelope and content) to a file.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "integration/rules_receiver.h"

namespace bysans::testing {

class SmtpServer {
 public:
  SmtpServer() {
    {
      Receiver probe(Receiver::Mode::kOk);  // borrow a free port number
      port_ = std::stoi(probe.url().substr(17, probe.url().find('/', 17) - 17));
    }
    out_ = std::filesystem::temp_directory_path() /
           ("bysans-smtp-" + std::to_string(::getpid()) + "-" + std::to_string(port_) + ".log");
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* f = std::freopen(out_.c_str(), "w", stdout);
      (void)f;
      ::dup2(::fileno(stdout), 2);
      std::string listen = "127.0.0.1:" + std::to_string(port_);
      ::execl("/usr/bin/python3", "python3", "-u", "-m", "aiosmtpd", "-n", "-d", "-l",
              listen.c_str(), nullptr);
      ::_exit(127);
    }
    // Let it bind; delivery retries cover a slow start.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  }
  ~SmtpServer() {
    Stop();
    std::filesystem::remove(out_);
  }
  SmtpServer(const SmtpServer&) = delete;
  SmtpServer& operator=(const SmtpServer&) = delete;

  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  // What the server printed so far.
  std::string Output() const {
    std::ifstream f(out_);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }
  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  int port_ = 0;
  pid_t pid_ = -1;
  std::string out_;
};

}  // namespace bysans::testing

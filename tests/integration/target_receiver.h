// An HTTP receiver for data-target (and geocoder) tests: listens on loopback (port 0 or a given
// port, so a test can take it down and bring it back on the same address), answers 200, 500 or
// hangs, and records every request (head and body).
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "loopback_http_listener.h"

namespace bysans::testing {

class TargetReceiver {
 public:
  enum class Mode { kOk, kFail, kHang };
  struct Hit {
    std::string head;  // request line and headers
    std::string body;
    int answered = 0;  // 0 = hung
  };

  explicit TargetReceiver(Mode mode, uint16_t port = 0) : mode_(mode), listener_(port) {
    listener_.Start([this](int c, LoopbackHttpListener::Request r) { Serve(c, std::move(r)); });
  }
  ~TargetReceiver() { listener_.Stop(); }
  bool bound() const { return listener_.bound(); }
  uint16_t port() const { return listener_.port(); }
  void set_mode(Mode m) { mode_ = m; }
  // The body of 200 answers (JSON), e.g. a geocoder's places; empty by default.
  void set_answer(std::string body) {
    std::lock_guard lk(mu_);
    answer_ = std::move(body);
  }
  std::string url() const { return listener_.base_url() + "/ingest"; }
  std::vector<Hit> hits() {
    std::lock_guard lk(mu_);
    return hits_;
  }

 private:
  void Serve(int c, LoopbackHttpListener::Request r) {
    const Mode m = mode_;
    Hit h{std::move(r.head), std::move(r.body), m == Mode::kHang ? 0 : m == Mode::kOk ? 200 : 500};
    std::string answer;
    {
      std::lock_guard lk(mu_);
      hits_.push_back(h);
      if (m == Mode::kOk) answer = answer_;
    }
    if (m == Mode::kHang) {
      listener_.Hang();
      return;
    }
    LoopbackHttpListener::Send(c, h.answered, "application/json", answer);
  }

  std::atomic<Mode> mode_;
  std::mutex mu_;
  std::vector<Hit> hits_;
  std::string answer_;
  LoopbackHttpListener listener_;  // last: its threads use the members above
};

}  // namespace bysans::testing

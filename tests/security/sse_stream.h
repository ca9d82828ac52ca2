// A server-sent-events stream (GET .../stream) read with libcurl on its own thread, for the
// security tests of the live stream.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bysans::testing {

// A server-sent-events stream read on its own thread until the server ends it
// (or 30 s pass).
class SseStream {
 public:
  SseStream(const std::string& url, std::vector<std::string> headers)
      : thread_([this, url, headers = std::move(headers)] { Run(url, headers); }) {}
  ~SseStream() { thread_.join(); }

  // True once the server ended the stream, waiting at most `limit`.
  bool EndsWithin(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ended_) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return ended_;
  }
  // True once the stream has sent its first bytes (so it is open and subscribed).
  bool Opened() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline && !opened_ && !ended_)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return opened_;
  }
  std::string body() {
    std::lock_guard lock(mu_);
    return body_;
  }
  long status() const { return status_; }
  CURLcode result() const { return result_; }

 private:
  static size_t Write(char* data, size_t size, size_t n, void* user) {
    auto* self = static_cast<SseStream*>(user);
    std::lock_guard lock(self->mu_);
    self->body_.append(data, size * n);
    self->opened_ = true;
    return size * n;
  }

  void Run(const std::string& url, const std::vector<std::string>& headers) {
    CURL* c = curl_easy_init();
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &SseStream::Write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, this);
    result_ = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status_);
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
    ended_ = true;
  }

  std::mutex mu_;
  std::string body_;
  std::atomic<bool> opened_{false}, ended_{false};
  long status_ = 0;
  CURLcode result_ = CURLE_OK;
  std::thread thread_;
};

}  // namespace bysans::testing

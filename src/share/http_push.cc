#include "share/http_push.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include "act/curl_gate.h"

namespace bysans::share {
namespace {

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

// scheme://host:port of a URL, without credentials (for messages and the log).
std::string OriginOf(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  std::string origin = url.substr(0, url.find_first_of("/?#", scheme + 3));
  size_t at = origin.find('@', scheme + 3);
  if (at != std::string::npos) origin = origin.substr(0, scheme + 3) + origin.substr(at + 1);
  return origin;
}

}  // namespace

bool IsSafeHeader(const std::string& name, const std::string& value) {
  if (name.empty() || name.size() > 256 || value.size() > 8192) return false;
  if (name.find_first_of(std::string(":\r\n\0 \t", 6)) != std::string::npos) return false;
  return value.find_first_of(std::string("\r\n\0", 3)) == std::string::npos;
}

HttpPusher::HttpPusher() : curl_(curl_easy_init()) {}

HttpPusher::~HttpPusher() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

PushResult HttpPusher::Post(const std::string& url,
                            const std::map<std::string, std::string>& headers,
                            const std::string& body, TimeMs timeout_ms,
                            const OutboundPolicy& policy, std::atomic<bool>* stop) {
  PushResult r;
  auto* c = static_cast<CURL*>(curl_);
  if (!c) {
    r.error = "internal error";
    return r;
  }
  curl_easy_reset(c);  // keeps the connection cache: keep-alive to the same endpoint
  act::CurlGate gate{&policy, {}};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  act::ApplyCurlGate(c, &gate, stop);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<TimeMs>(timeout_ms, 10'000)));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Discard);
  curl_slist* list = nullptr;
  list = curl_slist_append(list, "Content-Type: application/json");
  list = curl_slist_append(list, "User-Agent: bysans");
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip for large batches
  for (const auto& [name, value] : headers) {
    if (!IsSafeHeader(name, value)) continue;
    std::string line = name;
    line += ": ";
    line += value;
    list = curl_slist_append(list, line.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    std::string detail = curl_easy_strerror(rc);
    if (!gate.refused.empty()) detail += " (" + gate.refused + ")";
    spdlog::warn("data target {}: {}", OriginOf(url), detail);
    r.error = act::IsConnectPhaseError(rc) ? CouldNotConnectMessage(OriginOf(url))
                                           : curl_easy_strerror(rc);
    return r;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.http_status);
  r.ok = r.http_status >= 200 && r.http_status < 300;
  if (!r.ok) r.error = "HTTP " + std::to_string(r.http_status);
  return r;
}

}  // namespace bysans::share

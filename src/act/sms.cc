#include "act/sms.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <nlohmann/json.hpp>

#include "act/curl_gate.h"
#include "act/outbox.h"
#include "act/template.h"
#include "core/encoding.h"

namespace bysans::act {
namespace {

using json = nlohmann::json;

bool HasLineBreak(std::string_view s) {
  return s.find_first_of(std::string("\r\n\0", 3)) != s.npos;
}

bool IsTokenName(std::string_view name) {
  return !name.empty() && name.size() <= 100 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// The placeholders' values, URL-encoded or as they are (Render JSON-escapes on demand).
json Values(std::string_view secret, std::string_view to, std::string_view message, bool url) {
  auto v = [url](std::string_view s) { return url ? PercentEncode(s) : std::string(s); };
  return {{"to", v(to)}, {"message", v(message)}, {"secret", v(secret)}};
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

}  // namespace

Status ValidateSmsGateway(const SmsGateway& g) {
  if (g.url.rfind("http://", 0) != 0 && g.url.rfind("https://", 0) != 0) {
    return InvalidArgument("field 'url' must be an http:// or https:// URL");
  }
  if (g.url.size() > 2048 || std::any_of(g.url.begin(), g.url.end(), [](char ch) {
        auto c = static_cast<unsigned char>(ch);
        return c <= 0x20 || c == 0x7f;
      })) {
    return InvalidArgument("field 'url' must be at most 2048 bytes without spaces or controls");
  }
  const size_t scheme = g.url.find("://") + 3;
  const size_t end = g.url.find_first_of("/?#", scheme);
  if (g.url.substr(0, end).find('@') != std::string::npos) {
    return InvalidArgument("field 'url' must not hold credentials; use 'secret' in a header");
  }
  // The server a message (and the secret) goes to is fixed text: a placeholder there would let
  // the rendered values choose it, past the check that keeps a stored secret on its server.
  if (g.url.substr(0, end).find("{{") != std::string::npos) {
    return InvalidArgument("field 'url' must not hold a placeholder in its scheme, host or port");
  }
  if (g.method != "POST" && g.method != "GET") {
    return InvalidArgument("field 'method' must be POST or GET");
  }
  if (g.body_format != "form" && g.body_format != "json") {
    return InvalidArgument("field 'bodyFormat' must be form or json");
  }
  if (g.body.size() > 4096) return InvalidArgument("field 'body' must be at most 4096 bytes");
  if (g.headers.size() > 20) return InvalidArgument("field 'headers' may hold at most 20 headers");
  for (const auto& [name, value] : g.headers) {
    if (!IsTokenName(name) || value.size() > 4096 || HasLineBreak(value)) {
      return InvalidArgument("field 'headers." + name +
                             "': names of letters, digits, '-' and '_'; values of at most "
                             "4096 bytes without line breaks");
    }
  }
  return Status::Ok();
}

Result<SmsRequest> BuildSmsRequest(const SmsGateway& g, std::string_view secret,
                                   std::string_view to, std::string_view message) {
  const json raw = Values(secret, to, message, false);
  const json encoded = Values(secret, to, message, true);
  SmsRequest r;
  r.method = g.method;
  r.url = Render(g.url, encoded, false);
  bool has_type = false;
  for (const auto& [name, value] : g.headers) {
    std::string v = Render(value, raw, false);
    if (HasLineBreak(v)) return InvalidArgument("header '" + name + "' holds a line break");
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    has_type |= lower == "content-type";
    r.headers.emplace_back(name, std::move(v));
  }
  if (g.method == "POST") {
    const bool as_json = g.body_format == "json";
    r.body = as_json ? Render(g.body, raw, true) : Render(g.body, encoded, false);
    if (!has_type) {
      r.headers.emplace_back("Content-Type",
                             as_json ? "application/json" : "application/x-www-form-urlencoded");
    }
  }
  return r;
}

SmsResult SendSms(CURL* c, const SmsRequest& r, const OutboundPolicy& policy, long timeout_ms,
                  std::atomic<bool>* stop) {
  SmsResult out;
  if (c == nullptr) {
    out.error = "curl_easy_init failed";
    return out;
  }
  curl_easy_reset(c);
  CurlGate gate{&policy, {}};
  curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
  ApplyCurlGate(c, &gate, stop);  // the outbound-address policy
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 10'000L));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Discard);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> list(nullptr, curl_slist_free_all);
  list.reset(curl_slist_append(list.release(), "User-Agent: bysans"));
  for (const auto& [name, value] : r.headers) {
    list.reset(curl_slist_append(list.release(), (name + ": " + value).c_str()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
  if (r.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(r.body.size()));
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  const CURLcode rc = curl_easy_perform(c);
  const std::string target = TargetKeyOf(r.url);
  if (rc != CURLE_OK) {
    std::string detail = curl_easy_strerror(rc);
    if (!gate.refused.empty()) detail += " (" + gate.refused + ")";
    spdlog::warn("sms: gateway {}: {}", target, detail);
    out.error = IsConnectPhaseError(rc) || !gate.refused.empty() ? CouldNotConnectMessage(target)
                                                                 : curl_easy_strerror(rc);
    return out;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.http_status);
  out.ok = out.http_status >= 200 && out.http_status < 300;
  if (!out.ok) out.error = "SMS gateway answered HTTP " + std::to_string(out.http_status);
  return out;
}

}  // namespace bysans::act

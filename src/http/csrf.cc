#include "http/csrf.h"

#include <algorithm>
#include <cctype>

namespace bysans::http {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// "host[:port]" in lower case, without the scheme's default port.
std::string Authority(std::string_view hostport, std::string_view scheme) {
  std::string out = Lower(Trim(hostport));
  for (std::string_view suffix : {":80", ":443"}) {
    bool is_default =
        (suffix == ":80" && scheme != "https") || (suffix == ":443" && scheme != "http");
    if (is_default && out.size() > suffix.size() &&
        std::string_view(out).substr(out.size() - suffix.size()) == suffix) {
      out.resize(out.size() - suffix.size());
    }
  }
  return out;
}

enum class OriginVerdict { kAbsent, kSame, kOther };

OriginVerdict CheckOrigin(const Request& req) {
  if (!req.headers.Has("origin")) return OriginVerdict::kAbsent;
  std::string_view origin = Trim(req.headers.Get("origin"));
  size_t sep = origin.find("://");
  if (sep == std::string_view::npos) return OriginVerdict::kOther;  // "null" and the like
  std::string scheme = Lower(origin.substr(0, sep));
  std::string_view rest = origin.substr(sep + 3);
  if (rest.find('/') != std::string_view::npos) return OriginVerdict::kOther;
  const std::string& host = req.headers.Get("host");
  if (host.empty()) return OriginVerdict::kOther;
  return Authority(rest, scheme) == Authority(host, scheme) ? OriginVerdict::kSame
                                                            : OriginVerdict::kOther;
}

}  // namespace

bool IsSafeMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

std::string MediaType(std::string_view content_type) {
  return Lower(Trim(content_type.substr(0, content_type.find(';'))));
}

bool IsJsonMediaType(std::string_view content_type) {
  std::string t = MediaType(content_type);
  if (t == "application/json") return true;
  constexpr std::string_view kPrefix = "application/", kSuffix = "+json";
  return t.size() > kPrefix.size() + kSuffix.size() && t.rfind(kPrefix, 0) == 0 &&
         t.compare(t.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

Status CheckCookieRequest(const Request& req) {
  if (IsSafeMethod(req.method)) return Status::Ok();
  std::string fetch_site = Lower(Trim(req.headers.Get("sec-fetch-site")));
  if (fetch_site == "cross-site" || fetch_site == "same-site")
    return PermissionDenied("cross-site request refused (Sec-Fetch-Site: " + fetch_site + ")");
  OriginVerdict origin = CheckOrigin(req);
  if (origin == OriginVerdict::kOther)
    return PermissionDenied("cross-origin request refused: Origin does not match Host");
  const std::string& ct = req.headers.Get("content-type");
  if (!req.body.empty()) {
    if (MediaType(ct) != "application/json") {
      return Status(Code::kUnsupportedMedia,
                    "requests authenticated by the session cookie must be sent with "
                    "Content-Type: application/json");
    }
    return Status::Ok();
  }
  if (req.method == "POST" && MediaType(ct) != "application/json" &&
      origin != OriginVerdict::kSame && fetch_site != "same-origin") {
    return PermissionDenied(
        "a POST without a body authenticated by the session cookie needs "
        "Content-Type: application/json or a same-origin Origin header");
  }
  return Status::Ok();
}

}  // namespace bysans::http

#include "httpserver/static_files.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace bysans {
namespace {

namespace fs = std::filesystem;

constexpr const char* kCsp =
    "default-src 'self'; img-src 'self' data: https:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// True when `path` (canonical) is `root` (canonical) or inside it.
bool Inside(const fs::path& root, const fs::path& path) {
  auto r = root.begin();
  auto p = path.begin();
  for (; r != root.end(); ++r, ++p) {
    if (p == path.end() || *r != *p) return false;
  }
  return true;
}

bool AcceptsGzip(const std::string& accept_encoding) {
  std::string_view rest(accept_encoding);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding != "gzip" && coding != "*") continue;
    if (semi != std::string_view::npos) {
      std::string_view params = item.substr(semi + 1);
      size_t q = params.find("q=");
      if (q != std::string_view::npos) {
        std::string_view v = params.substr(q + 2);
        // q=0, q=0.0, q=0.00 ... mean "not acceptable".
        bool zero = !v.empty() && v.front() == '0';
        for (size_t i = 1; zero && i < v.size() && v[i] != ' ' && v[i] != ';'; ++i)
          zero = v[i] == '.' || v[i] == '0';
        if (zero) continue;
      }
    }
    return true;
  }
  return false;
}

bool ReadFile(const fs::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = std::move(ss).str();
  return !in.bad();
}

// A regular file whose real location is inside `root`, or nullopt.
std::optional<fs::path> Resolve(const fs::path& root, const fs::path& candidate) {
  std::error_code ec;
  fs::path real = fs::canonical(candidate, ec);
  if (ec || !Inside(root, real)) return std::nullopt;
  if (!fs::is_regular_file(real, ec) || ec) return std::nullopt;
  return real;
}

class StaticFiles {
 public:
  explicit StaticFiles(const std::string& root_dir) {
    std::error_code ec;
    root_ = fs::weakly_canonical(fs::absolute(root_dir, ec), ec);
  }

  http::Response Serve(const http::Request& req) const {
    const std::string& path = req.path;
    if (path == "/api" || path.starts_with("/api/"))
      return http::ErrorResponse(404, "not_found", "no route for " + path);
    if (req.method != "GET" && req.method != "HEAD")
      return http::ErrorResponse(405, "method_not_allowed",
                                 "method " + req.method + " is not allowed on " + path);
    if (path.empty() || path.front() != '/' || path.find('\0') != std::string::npos ||
        path.find('\\') != std::string::npos)
      return http::ErrorResponse(400, "bad_request", "invalid path");

    fs::path relative;
    std::vector<std::string_view> segments = Segments(path);
    for (std::string_view seg : segments) {
      if (seg == "..") return http::ErrorResponse(400, "bad_request", "path must not contain ..");
      if (seg == ".") continue;
      if (seg.front() == '.') return NotFound(path);  // dot-files are private
      relative /= std::string(seg);
    }
    bool no_dot = segments.empty() || segments.back().find('.') == std::string_view::npos;

    fs::path candidate = root_ / relative;
    std::error_code ec;
    if (path.back() == '/' || fs::is_directory(candidate, ec)) {
      candidate /= "index.html";
      relative /= "index.html";
    }
    std::optional<fs::path> file = Resolve(root_, candidate);
    if (!file && no_dot) {  // client-side route of the single-page app
      relative = "index.html";
      file = Resolve(root_, root_ / relative);
    }
    if (!file) return NotFound(path);

    std::string type = StaticContentType(file->filename().string());
    http::Response resp;
    resp.status = 200;
    resp.headers.Set("content-type", type);
    resp.headers.Set("vary", "Accept-Encoding");
    std::string rel = relative.generic_string();
    resp.headers.Set("cache-control", rel.starts_with("assets/")
                                          ? "public, max-age=31536000, immutable"
                                          : "no-cache");
    if (type.starts_with("text/html")) resp.headers.Set("content-security-policy", kCsp);

    if (AcceptsGzip(req.headers.Get("accept-encoding"))) {
      fs::path gz = *file;
      gz += ".gz";
      if (auto real_gz = Resolve(root_, gz); real_gz && ReadFile(*real_gz, resp.body)) {
        resp.headers.Set("content-encoding", "gzip");
        return resp;
      }
    }
    if (!ReadFile(*file, resp.body))
      return http::ErrorResponse(500, "internal", "cannot read " + rel);
    return resp;
  }

 private:
  static http::Response NotFound(const std::string& path) {
    return http::ErrorResponse(404, "not_found", "no file for " + path);
  }

  fs::path root_;
};

}  // namespace

std::string StaticContentType(const std::string& file_name) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".webp", "image/webp"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".ico", "image/x-icon"},
      {".webmanifest", "application/manifest+json"},
      {".txt", "text/plain; charset=utf-8"},
      {".wasm", "application/wasm"},
  };
  std::string_view name(file_name);
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos) {
    std::string ext(name.substr(dot));
    for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& [e, type] : kTypes)
      if (e == ext) return std::string(type);
  }
  return "application/octet-stream";
}

http::Handler MakeStaticHandler(std::string root_dir) {
  auto files = std::make_shared<const StaticFiles>(std::move(root_dir));
  return
      [files](http::Request& req, const http::Responder& respond) { respond(files->Serve(req)); };
}

}  // namespace bysans

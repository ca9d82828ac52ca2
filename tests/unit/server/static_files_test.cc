#include "httpserver/static_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

namespace bysans {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

void WriteFile(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
}

class StaticFilesTest : public ::testing::Test {
 protected:
  StaticFilesTest() {
    std::string tmpl = (fs::temp_directory_path() / "bysans-static-XXXXXX").string();
    base_ = ::mkdtemp(tmpl.data());
    root_ = base_ / "www";
    WriteFile(root_ / "index.html", "<html>app</html>");
    WriteFile(root_ / "assets/app.js", "console.log(1)");
    WriteFile(root_ / "assets/app.js.gz", "GZIPPED");
    WriteFile(root_ / "assets/app.js.map", "{}");
    WriteFile(root_ / "assets/style.css", "body{}");
    WriteFile(root_ / "logo.svg", "<svg/>");
    WriteFile(root_ / "img.png", "PNG");
    WriteFile(root_ / "data.json", "[]");
    WriteFile(root_ / "assets/font.woff2", "W2");
    WriteFile(root_ / "favicon.ico", "ICO");
    WriteFile(root_ / "site.webmanifest", "{}");
    WriteFile(root_ / "docs/index.html", "<html>docs</html>");
    WriteFile(root_ / ".env", "SECRET=1");
    WriteFile(base_ / "secret.txt", "TOP SECRET");
    fs::create_symlink(base_ / "secret.txt", root_ / "leak.txt");
    fs::create_symlink(base_, root_ / "up");
    handler_ = MakeStaticHandler(root_.string());
  }
  ~StaticFilesTest() override {
    std::error_code ec;
    fs::remove_all(base_, ec);
  }

  http::Response Fetch(const std::string& path, const std::string& method = "GET",
                       const std::string& accept_encoding = "") {
    http::Request req;
    req.method = method;
    req.target = path;
    req.path = path;
    if (!accept_encoding.empty()) req.headers.Set("accept-encoding", accept_encoding);
    std::optional<http::Response> out;
    int calls = 0;
    handler_(req, [&](http::Response r) {
      ++calls;
      out = std::move(r);
    });
    EXPECT_EQ(calls, 1);
    return out.value_or(http::Response{});
  }

  fs::path base_, root_;
  http::Handler handler_;
};

TEST_F(StaticFilesTest, ContentTypes) {
  EXPECT_EQ(Fetch("/index.html").headers.Get("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(Fetch("/assets/app.js").headers.Get("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(Fetch("/assets/style.css").headers.Get("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(Fetch("/logo.svg").headers.Get("content-type"), "image/svg+xml");
  EXPECT_EQ(Fetch("/img.png").headers.Get("content-type"), "image/png");
  EXPECT_EQ(Fetch("/data.json").headers.Get("content-type"), "application/json");
  EXPECT_EQ(Fetch("/assets/font.woff2").headers.Get("content-type"), "font/woff2");
  EXPECT_EQ(Fetch("/assets/app.js.map").headers.Get("content-type"), "application/json");
  EXPECT_EQ(Fetch("/favicon.ico").headers.Get("content-type"), "image/x-icon");
  EXPECT_EQ(Fetch("/site.webmanifest").headers.Get("content-type"), "application/manifest+json");
  EXPECT_EQ(Fetch("/img.png").body, "PNG");
}

TEST_F(StaticFilesTest, CacheHeadersAndCsp) {
  auto asset = Fetch("/assets/app.js");
  EXPECT_EQ(asset.status, 200);
  EXPECT_EQ(asset.headers.Get("cache-control"), "public, max-age=31536000, immutable");
  EXPECT_FALSE(asset.headers.Has("content-security-policy"));
  auto index = Fetch("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<html>app</html>");
  EXPECT_EQ(index.headers.Get("cache-control"), "no-cache");
  EXPECT_EQ(index.headers.Get("content-security-policy"),
            "default-src 'self'; img-src 'self' data: https:; style-src 'self'; "
            "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
            "form-action 'self'");
  EXPECT_EQ(Fetch("/logo.svg").headers.Get("cache-control"), "no-cache");
  EXPECT_EQ(Fetch("/docs/").body, "<html>docs</html>");
  EXPECT_EQ(Fetch("/docs").body, "<html>docs</html>");
}

TEST_F(StaticFilesTest, SpaFallbackForPathsWithoutDot) {
  auto r = Fetch("/devices/42/readings");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<html>app</html>");
  EXPECT_EQ(r.headers.Get("cache-control"), "no-cache");
  EXPECT_TRUE(r.headers.Has("content-security-policy"));
  EXPECT_EQ(Fetch("/devices/42", "HEAD").status, 200);
  EXPECT_EQ(Fetch("/missing.js").status, 404);  // a file name: no fallback
  auto api = Fetch("/api/v1/nothing");
  EXPECT_EQ(api.status, 404);
  EXPECT_THAT(api.body, HasSubstr(R"({"error":{"code":"not_found")"));
  EXPECT_EQ(Fetch("/devices", "POST").status, 405);
}

TEST_F(StaticFilesTest, TraversalIsRefused) {
  for (const char* path : {"/../secret.txt", "/assets/../../secret.txt", "/leak.txt",
                           "/up/secret.txt", "/.env", "/..", "/assets/..%2f..%2fsecret.txt"}) {
    auto r = Fetch(path);
    EXPECT_THAT(r.status, ::testing::AnyOf(400, 404)) << path;
    EXPECT_THAT(r.body, Not(HasSubstr("SECRET"))) << path;
  }
}

TEST_F(StaticFilesTest, GzipVariantWhenAccepted) {
  auto gz = Fetch("/assets/app.js", "GET", "br, gzip;q=0.8");
  EXPECT_EQ(gz.body, "GZIPPED");
  EXPECT_EQ(gz.headers.Get("content-encoding"), "gzip");
  EXPECT_EQ(gz.headers.Get("vary"), "Accept-Encoding");
  EXPECT_EQ(gz.headers.Get("content-type"), "text/javascript; charset=utf-8");
  auto plain = Fetch("/assets/app.js");
  EXPECT_EQ(plain.body, "console.log(1)");
  EXPECT_FALSE(plain.headers.Has("content-encoding"));
  EXPECT_EQ(Fetch("/assets/app.js", "GET", "gzip;q=0").body, "console.log(1)");
  EXPECT_EQ(Fetch("/assets/style.css", "GET", "gzip").body, "body{}");  // no .gz file
}

}  // namespace
}  // namespace bysans

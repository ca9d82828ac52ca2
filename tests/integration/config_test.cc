// A bad or missing setting prints one line naming it and exits with code 2.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness.h"

namespace bysans::testing {
namespace {

TEST(BadConfig, EnvironmentValueNamesTheSetting) {
  auto [code, out] =
      RunBinary({"serve", "--data-dir", "/tmp/bysans-never-used"}, {"BYSANS_HTTP_PORT=eighty"});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("http.port"), std::string::npos) << out;
}

TEST(BadConfig, MissingConfigFileIsNamed) {
  auto [code, out] = RunBinary({"serve", "--config", "/nonexistent/bysans.toml"});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("/nonexistent/bysans.toml"), std::string::npos) << out;
}

TEST(BadConfig, BadFlagValueIsNamed) {
  auto [code, out] = RunBinary({"serve", "--http-port", "70000", "--data-dir", "/tmp/x"});
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("http.port"), std::string::npos) << out;
}

TEST(BadConfig, UnknownFlagExits2) {
  auto [code, out] = RunBinary({"serve", "--no-such-flag"});
  EXPECT_EQ(code, 2) << out;
}

TEST(Cli, VersionPrints) {
  auto [code, out] = RunBinary({"version"});
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("bysans "), std::string::npos) << out;
}

// export, backup and restore copy SQLite's files: with PostgreSQL as the store they are refused
// with what to use instead, before touching anything, and without repeating the URL's password.
TEST(Cli, ExportBackupAndRestoreRefuseAPostgresStore) {
  char tmpl[] = "/tmp/bysans-cli-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::vector<std::string> env = {
      "BYSANS_STORE_URL=postgresql://bysans:s3cret@127.0.0.1:1/bysans"};
  for (std::vector<std::string> args :
       {std::vector<std::string>{"backup", "--out", dir + "/backup"},
        std::vector<std::string>{"export", "--org", "1", "--out", dir + "/org.zip"},
        std::vector<std::string>{"restore", "--from", dir + "/backup"}}) {
    const std::string command = args.front();
    args.insert(args.end(), {"--data-dir", dir + "/data"});
    auto [code, out] = RunBinary(args, env);
    EXPECT_EQ(code, 2) << command << ": " << out;
    EXPECT_NE(out.find(command + " works on the embedded SQLite store only"), std::string::npos)
        << out;
    EXPECT_NE(out.find("pg_dump"), std::string::npos) << out;
    EXPECT_EQ(out.find("s3cret"), std::string::npos) << out;
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/backup"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/org.zip"));
  std::filesystem::remove_all(dir);
}

TEST(Cli, CreateUserThenLogin) {
  char tmpl[] = "/tmp/bysans-cli-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  // The password comes from the environment (or standard input), never from argv.
  const std::vector<std::string> env = {"BYSANS_NEW_USER_PASSWORD=long-enough-pw"};
  auto [code, out] =
      RunBinary({"admin", "create-user", "--data-dir", dir, "--email", "Pia@Kommune.dk"}, env);
  ASSERT_EQ(code, 0) << out;
  auto again =
      RunBinary({"admin", "create-user", "--data-dir", dir, "--email", "pia@kommune.dk"}, env);
  EXPECT_NE(again.first, 0) << again.second;  // duplicate email, case-insensitive
  ServerProcess server(dir);
  ASSERT_TRUE(server.Start()) << server.log();
  HttpClient client(server.url());
  EXPECT_EQ(client.Login("pia@kommune.dk", "long-enough-pw").status, 200);
  EXPECT_EQ(client.Login("pia@kommune.dk", "wrong-password").status, 401);
  server.Terminate();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bysans::testing

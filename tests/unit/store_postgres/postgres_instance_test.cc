#include "support/postgres_instance.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

namespace bysans::testing {
namespace {

TEST(PostgresInstanceTest, StartsQueriesAndCleansUp) {
  std::string dir;
  int port = 0;
  {
    auto pg = PostgresInstance::Start();
    ASSERT_TRUE(pg.ok()) << pg.status().message();
    dir = (*pg)->dir();
    port = (*pg)->port();
    EXPECT_GT(port, 0);
    EXPECT_TRUE(std::filesystem::exists(dir + "/data/PG_VERSION"));
    auto url = (*pg)->CreateDatabase("t1");
    ASSERT_TRUE(url.ok()) << url.status().message();
    EXPECT_EQ(*url, "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/t1");
    auto v = (*pg)->Query("t1", "SELECT current_setting('server_version_num')::int / 10000");
    ASSERT_TRUE(v.ok()) << v.status().message();
    EXPECT_EQ(*v, "15");
    auto listen = (*pg)->Query("t1", "SHOW listen_addresses");
    EXPECT_EQ(*listen, "127.0.0.1");
    // The server does not run as root, whoever started the test.
    struct stat st {};
    ASSERT_EQ(::stat((dir + "/data/postmaster.pid").c_str(), &st), 0);
    EXPECT_NE(st.st_uid, 0u);
    EXPECT_FALSE((*pg)->CreateDatabase("t1").ok());  // exists already
    EXPECT_FALSE((*pg)->CreateDatabase("Bad name").ok());
  }
  EXPECT_FALSE(std::filesystem::exists(dir)) << "the folder is removed on destruction";
}

TEST(PostgresInstanceTest, SettingsAreApplied) {
  PostgresOptions o;
  o.synchronous_commit = false;
  o.settings = {"work_mem=8MB"};
  auto pg = PostgresInstance::Start(o);
  ASSERT_TRUE(pg.ok()) << pg.status().message();
  EXPECT_EQ(*(*pg)->Query("postgres", "SHOW synchronous_commit"), "off");
  EXPECT_EQ(*(*pg)->Query("postgres", "SHOW work_mem"), "8MB");
  EXPECT_EQ(*(*pg)->Query("postgres", "SHOW fsync"), "on");
}

TEST(PostgresInstanceTest, MissingBinariesAreAClearError) {
  PostgresOptions o;
  o.bin_dir = "/nonexistent/pg/bin";
  auto pg = PostgresInstance::Start(o);
  ASSERT_FALSE(pg.ok());
  EXPECT_NE(pg.status().message().find("not found"), std::string::npos) << pg.status().message();
  EXPECT_NE(pg.status().message().find("postgresql-15"), std::string::npos);
}

TEST(PostgresInstanceTest, BadSettingFailsFastWithTheLog) {
  PostgresOptions o;
  o.settings = {"no_such_setting_xyz=1"};
  auto pg = PostgresInstance::Start(o);
  ASSERT_FALSE(pg.ok());
  EXPECT_NE(pg.status().message().find("no_such_setting_xyz"), std::string::npos)
      << pg.status().message();
}

}  // namespace
}  // namespace bysans::testing

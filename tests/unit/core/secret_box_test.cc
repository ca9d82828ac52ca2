// SecretBox (core/secret_box.h): sealed secrets open only under the same key file.
#include "core/secret_box.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

namespace bysans {
namespace {

TEST(SecretBoxTest, SealsAndOpensUnderTheSameKeyFile) {
  char tmpl[] = "/tmp/bysans-secretbox-XXXXXX";
  std::filesystem::path dir = mkdtemp(tmpl);
  std::string key = (dir / "secret.key").string();
  auto box = SecretBox::Open(key);
  ASSERT_TRUE(box.ok()) << box.status().message();
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto sealed = (*box)->SealText("smtp-password");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find("smtp-password"), std::string::npos);
  EXPECT_NE(*(*box)->SealText("smtp-password"), *sealed);  // a fresh nonce each time
  auto again = SecretBox::Open(key);                       // the key file is reused
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->UnsealText(*sealed), "smtp-password");
  auto other = SecretBox::Open("");  // another key
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE((*other)->UnsealText(*sealed).ok());
  EXPECT_FALSE((*box)->UnsealText("AAAA").ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bysans

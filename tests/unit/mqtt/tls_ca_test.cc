// mqtt::ValidateCaPem (an integration's caCert) against certificates made by the openssl CLI.
#include "mqtt/tls_ca.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/mqtt/tls_certs.h"

namespace bysans::mqtt {
namespace {

class TlsCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.MakeCa("ca"));
    ASSERT_TRUE(certs_.MakeCa("other_ca"));
    ASSERT_TRUE(certs_.MakeServerCert("server", "IP:127.0.0.1"));
    ca_ = certs_.Read("ca.pem");
    ASSERT_NE(ca_.find("-----BEGIN CERTIFICATE-----"), std::string::npos);
  }

  // kInvalidArgument naming the field and saying `why`.
  static void ExpectRefused(const std::string& pem, const std::string& why) {
    const Status st = ValidateCaPem(pem);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << pem.substr(0, 200);
    EXPECT_NE(st.message().find("field 'caCert'"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(why), std::string::npos) << st.message();
  }

  bysans::testing::TlsCerts certs_;
  std::string ca_;
};

TEST_F(TlsCaTest, CaCertificateIsAccepted) {
  const Status st = ValidateCaPem(ca_);
  EXPECT_TRUE(st.ok()) << st.message();
}

// A bundle of CAs, with the text OpenSSL ignores around the blocks (as `openssl x509 -text`
// writes or people paste).
TEST_F(TlsCaTest, BundleOfCasWithTextAroundIsAccepted) {
  const std::string bundle = "Municipal root\n" + ca_ + "\n# intermediate\n" +
                             certs_.Read("other_ca.pem") + "trailing words\n";
  const Status st = ValidateCaPem(bundle);
  EXPECT_TRUE(st.ok()) << st.message();
}

TEST_F(TlsCaTest, EmptyAndTextWithoutCertificatesAreRefused) {
  ExpectRefused("", "at least one PEM CA certificate");
  ExpectRefused("garbage, not a certificate\n", "at least one PEM CA certificate");
}

TEST_F(TlsCaTest, MalformedBlocksAreRefused) {
  // Not base64 between the lines.
  ExpectRefused("-----BEGIN CERTIFICATE-----\n!!!! not base64 ????\n-----END CERTIFICATE-----\n",
                "malformed PEM block after 0 good one(s)");
  // A good certificate, then one cut off before its END line.
  const std::string cut = ca_.substr(0, ca_.find("-----END"));
  ExpectRefused(ca_ + cut, "malformed PEM block after 1 good one(s)");
  // Valid base64 that is not DER ("hello world, not DER").
  ExpectRefused(
      "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQsIG5vdCBERVI=\n-----END CERTIFICATE-----\n",
      "block 1 is not a valid X.509 certificate");
}

// The broker's own (leaf) certificate is not a CA: refused, naming the block.
TEST_F(TlsCaTest, LeafCertificateIsRefused) {
  const std::string leaf = certs_.Read("server.pem");
  ASSERT_FALSE(leaf.empty());
  ExpectRefused(leaf, "block 1 (/CN=localhost) is not a CA certificate (basicConstraints CA:TRUE)");
  ExpectRefused(ca_ + leaf, "block 2 (/CN=localhost) is not a CA certificate");
}

// A private key pasted by mistake is refused without echoing it.
TEST_F(TlsCaTest, PrivateKeyIsRefused) {
  const std::string key = certs_.Read("ca.key");
  ASSERT_NE(key.find("PRIVATE KEY"), std::string::npos);
  const Status st = ValidateCaPem(ca_ + key);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("block 2 is a 'PRIVATE KEY', not a 'CERTIFICATE'"), std::string::npos)
      << st.message();
  const std::string body = key.substr(key.find('\n') + 1, 40);
  EXPECT_EQ(st.message().find(body), std::string::npos) << st.message();
}

TEST_F(TlsCaTest, AtMost64KiB) {
  std::string bundle;
  while (bundle.size() + ca_.size() <= kMaxCaPemBytes) bundle += ca_;
  const Status ok = ValidateCaPem(bundle);
  EXPECT_TRUE(ok.ok()) << ok.message();
  ExpectRefused(bundle + ca_, "must be at most 64 KiB");
}

}  // namespace
}  // namespace bysans::mqtt

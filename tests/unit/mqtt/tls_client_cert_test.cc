// mqtt::ValidateClientCertificate (an integration's clientCert / clientKey) against
// certificates and keys made by the openssl CLI.
#include "mqtt/tls_client_cert.h"

#include <gtest/gtest.h>

#include <string>

#include "unit/mqtt/tls_certs.h"

namespace bysans::mqtt {
namespace {

class TlsClientCertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(certs_.MakeCa("ca"));
    ASSERT_TRUE(certs_.MakeClientCert("client"));
    ASSERT_TRUE(certs_.MakeClientCert("other"));
    ASSERT_TRUE(certs_.EncryptKey("client"));
    cert_ = certs_.Read("client.pem");
    key_ = certs_.Read("client.key");
    ASSERT_NE(key_.find("PRIVATE KEY"), std::string::npos);
  }

  // kInvalidArgument naming `field`, saying `why` and never quoting the key.
  void ExpectRefused(const std::string& cert, const std::string& key, const std::string& field,
                     const std::string& why) {
    const Status st = ValidateClientCertificate(cert, key);
    EXPECT_EQ(st.code(), Code::kInvalidArgument);
    EXPECT_NE(st.message().find("field '" + field + "'"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find(why), std::string::npos) << st.message();
    if (key.size() > 80) {  // a piece of the key's base64 body
      EXPECT_EQ(st.message().find(key.substr(key.size() / 2, 24)), std::string::npos)
          << st.message();
    }
  }

  bysans::testing::TlsCerts certs_;
  std::string cert_;
  std::string key_;
};

TEST_F(TlsClientCertTest, MatchingCertificateAndKeyAreAccepted) {
  const Status st = ValidateClientCertificate(cert_, key_);
  EXPECT_TRUE(st.ok()) << st.message();
  // With the chain after the client's certificate.
  const Status chain = ValidateClientCertificate(cert_ + certs_.Read("ca.pem"), key_);
  EXPECT_TRUE(chain.ok()) << chain.message();
}

TEST_F(TlsClientCertTest, AKeyOfAnotherCertificateIsRefused) {
  ExpectRefused(cert_, certs_.Read("other.key"), "clientKey", "does not belong");
}

TEST_F(TlsClientCertTest, AnEncryptedKeyIsRefusedWithoutPrompting) {
  const std::string enc = certs_.Read("client.enc.key");
  ASSERT_NE(enc.find("ENCRYPTED PRIVATE KEY"), std::string::npos);
  ExpectRefused(cert_, enc, "clientKey", "passphrase");
}

TEST_F(TlsClientCertTest, WrongBlocksAndGarbageAreRefused) {
  ExpectRefused(certs_.Read("ca.pem"), certs_.Read("ca.key"), "clientCert", "not a CA");
  ExpectRefused(key_, key_, "clientCert", "the private key goes in 'clientKey'");
  ExpectRefused("not pem at all", key_, "clientCert", "must hold the client's PEM certificate");
  ExpectRefused(cert_, cert_, "clientKey", "must be a private key, not a 'CERTIFICATE'");
  ExpectRefused(cert_, "", "clientKey", "must hold one PEM private key");
  std::string broken = cert_;
  broken.replace(broken.find('\n') + 1, 8, "!!!!!!!!");
  ExpectRefused(broken, key_, "clientCert", "malformed PEM block");
  ExpectRefused(cert_, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
                "clientKey", "is not a valid private key");
}

TEST_F(TlsClientCertTest, OversizeInputIsRefused) {
  ExpectRefused(cert_ + std::string(kMaxClientCertPemBytes, 'x'), key_, "clientCert",
                "at most 64 KiB");
  ExpectRefused(cert_, key_ + std::string(kMaxClientKeyPemBytes, 'x'), "clientKey",
                "at most 16 KiB");
}

}  // namespace
}  // namespace bysans::mqtt

// Test certificates made with the openssl CLI in a temporary directory (removed with the
// object): CAs (basicConstraints CA:TRUE) and server certificates they sign. Shared by the
// MqttClient TLS tests (tests/unit/mqtt) and the MQTT integration tests (tests/integration).
// Failures are reported with ADD_FAILURE and the openssl output.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>

namespace bysans::testing {

class TlsCerts {
 public:
  TlsCerts() {
    char tmpl[] = "/tmp/bysans-tls-certs-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) {
      dir_ = tmpl;
    } else {
      ADD_FAILURE() << "mkdtemp failed";
    }
  }
  ~TlsCerts() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  TlsCerts(const TlsCerts&) = delete;
  TlsCerts& operator=(const TlsCerts&) = delete;

  const std::string& dir() const { return dir_; }
  // The path of a file in the directory, e.g. Path("ca.pem").
  std::string Path(const std::string& file) const { return dir_ + "/" + file; }
  // The contents of a file in the directory ("" when missing).
  std::string Read(const std::string& file) const {
    std::ifstream in(Path(file), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  // A self-signed CA: <name>.pem and <name>.key.
  bool MakeCa(const std::string& name) {
    return Run(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
        name + ".key -out " + name + ".pem -days 2 -subj /CN=bysans-test-" + name +
        " -addext basicConstraints=critical,CA:TRUE" +
        " -addext keyUsage=critical,keyCertSign,cRLSign");
  }

  // A server (leaf, not a CA) certificate signed by CA `ca` with the given subjectAltName,
  // e.g. "DNS:localhost,IP:127.0.0.1": <name>.pem and <name>.key.
  bool MakeServerCert(const std::string& name, const std::string& san,
                      const std::string& ca = "ca") {
    std::ofstream(Path(name + ".ext"))
        << "subjectAltName=" << san << "\nbasicConstraints=critical,CA:FALSE\n"
        << "extendedKeyUsage=serverAuth\n";
    return Run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
               name + ".key -out " + name + ".csr -subj /CN=localhost") &&
           Run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
               ".key -set_serial " + std::to_string(++serial_) + " -days 2 -out " + name +
               ".pem -extfile " + name + ".ext");
  }

  // A client certificate (extendedKeyUsage clientAuth) signed by CA `ca`: <name>.pem and
  // <name>.key (unencrypted PKCS#8).
  bool MakeClientCert(const std::string& name, const std::string& ca = "ca") {
    std::ofstream(Path(name + ".ext"))
        << "basicConstraints=critical,CA:FALSE\nextendedKeyUsage=clientAuth\n";
    return Run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
               name + ".key -out " + name + ".csr -subj /CN=bysans-" + name) &&
           Run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
               ".key -set_serial " + std::to_string(++serial_) + " -days 2 -out " + name +
               ".pem -extfile " + name + ".ext");
  }

  // <name>.key again, encrypted under a passphrase: <name>.enc.key.
  bool EncryptKey(const std::string& name) {
    return Run("openssl pkey -in " + name + ".key -aes256 -passout pass:geheim -out " + name +
               ".enc.key");
  }

 private:
  bool Run(const std::string& cmd) {
    const std::string full = "cd '" + dir_ + "' && " + cmd + " >>openssl.log 2>&1";
    const int rc = std::system(full.c_str());
    if (rc != 0) {
      std::ifstream log(Path("openssl.log"));
      std::string line;
      while (std::getline(log, line)) std::fprintf(stderr, "openssl: %s\n", line.c_str());
      ADD_FAILURE() << "failed (" << rc << "): " << cmd;
    }
    return rc == 0;
  }

  std::string dir_;
  int serial_ = 0;
};

}  // namespace bysans::testing

// A small LwM2M 1.1 client for the tests, written from the specification (Core §6.2 Register /
// Update / De-register, §6.4.3 Send, §6.3 answering the server's Read, Write and Execute) on
// libcoap's client API, over plain UDP or DTLS with a pre-shared key. It is driven by the test:
// each call runs libcoap's I/O until its answer arrives; Pump() serves the server's requests
// for a while. Resources are text values by path ("3/0/0"); writes and executes are recorded.
// Not thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bysans::testing {

class Lwm2mClient {
 public:
  struct Reply {
    int code = 0;                       // class * 100 + detail; 0 = no answer in time
    std::vector<std::string> location;  // Location-Path segments
    std::string payload;
  };
  struct Received {  // a request from the server
    int method = 0;  // 1 GET, 2 POST, 3 PUT
    std::string path;
    int content_format = -1;
    std::string payload;
  };

  // Plain UDP to 127.0.0.1:port.
  explicit Lwm2mClient(int port);
  // DTLS with a PSK identity and key to 127.0.0.1:port.
  Lwm2mClient(int port, const std::string& identity, const std::string& key);
  ~Lwm2mClient();
  Lwm2mClient(const Lwm2mClient&) = delete;
  Lwm2mClient& operator=(const Lwm2mClient&) = delete;

  // A confirmable request; waits for the final answer (a separate one too).
  Reply Request(int method, const std::vector<std::string>& path,
                const std::vector<std::string>& query, int content_format,
                const std::string& payload, int timeout_ms = 8000);

  // POST /rd?ep=..&... with the link-format payload (Content-Format 40). On 2.01 the
  // registration path is kept for Update and Deregister.
  Reply Register(const std::vector<std::string>& query, const std::string& links);
  Reply Update(const std::vector<std::string>& query = {}, const std::string& links = "");
  Reply Deregister(const std::vector<std::string>& query = {});
  // POST /dp (Send) with SenML JSON (110) or CBOR (112).
  Reply Send(int content_format, const std::string& senml,
             const std::vector<std::string>& query = {});

  // The registration's id (after Register); settable to try another device's.
  std::string registration_id;

  // Values the server may read, by path ("3/0/0").
  std::map<std::string, std::string> resources;
  // The server's requests so far.
  const std::vector<Received>& received() const { return received_; }
  // Runs I/O for `ms` (or until `until` requests were received).
  void Pump(int ms, size_t until = static_cast<size_t>(-1));

  // Observe (RFC 7641, the client's side, done by hand): a GET with Observe=0 of a path in
  // `observable` is answered 2.05 with an Observe option and that payload in `observe_format`
  // (SenML CBOR, 112, by default), and the observation (its token) is kept. Such GETs are
  // counted in observe_requests(), not in received(); any other GET with Observe=0 gets 4.04.
  std::map<std::string, std::string> observable;  // path ("3303/0") → payload
  int observe_format = 112;
  const std::vector<std::string>& observe_requests() const { return observe_requests_; }
  bool Observed(const std::string& path) const;
  // Runs I/O until the server observes `path` (or `ms` passed).
  bool WaitObserved(const std::string& path, int ms);
  // A confirmable notification (2.05, Observe = next sequence number, Content-Format
  // observe_format) of an observed path on its token. Runs I/O for `wait_ms`; false when the
  // server answered it with a reset (or the path is not observed).
  bool Notify(const std::string& path, const std::string& payload, int wait_ms = 300);
  // The same with any token (e.g. another client's observation's, to try injecting).
  bool NotifyToken(const std::string& token, const std::string& payload, int wait_ms = 300);
  // The token of an observation of `path`; empty if not observed.
  std::string Token(const std::string& path) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::vector<Received> received_;
  std::vector<std::string> observe_requests_;
  friend struct Impl;
};

}  // namespace bysans::testing

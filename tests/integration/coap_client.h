// Test helpers for CoAP ingest: a raw UDP CoAP client that builds and reads datagrams byte by
// byte (RFC 7252 §3), so that tests control message ids, retransmissions and malformed options,
// and a runner for libcoap's own `coap-client` (libcoap3-bin) as the device.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bysans::testing {

struct CoapMessage {
  int type = 0;  // 0 CON, 1 NON, 2 ACK, 3 RST
  int code = 0;  // class * 100 + detail, e.g. 204; 0 = empty
  uint16_t mid = 0;
  std::string token;
  std::vector<std::pair<int, std::string>> options;
  std::string payload;
};

inline void AppendOption(std::string& out, int delta, const std::string& value) {
  auto nibble = [](int v, std::string& ext) {
    if (v < 13) return v;
    if (v < 269) {
      ext += static_cast<char>(v - 13);
      return 13;
    }
    ext += static_cast<char>((v - 269) >> 8);
    ext += static_cast<char>((v - 269) & 0xff);
    return 14;
  };
  std::string ext_delta, ext_len;
  int d = nibble(delta, ext_delta);
  int l = nibble(static_cast<int>(value.size()), ext_len);
  out += static_cast<char>((d << 4) | l);
  out += ext_delta + ext_len + value;
}

inline std::string UintOption(uint32_t v) {
  std::string s;
  while (v) {
    s.insert(s.begin(), static_cast<char>(v & 0xff));
    v >>= 8;
  }
  return s;
}

// Encodes a message; options must be sorted by number.
inline std::string EncodeCoap(const CoapMessage& m) {
  std::string out;
  out += static_cast<char>(0x40 | (m.type << 4) | static_cast<int>(m.token.size()));
  out += static_cast<char>(((m.code / 100) << 5) | (m.code % 100));
  out += static_cast<char>(m.mid >> 8);
  out += static_cast<char>(m.mid & 0xff);
  out += m.token;
  int last = 0;
  for (const auto& [number, value] : m.options) {
    AppendOption(out, number - last, value);
    last = number;
  }
  if (!m.payload.empty()) out += '\xff' + m.payload;
  return out;
}

inline std::optional<CoapMessage> DecodeCoap(const std::string& d) {
  if (d.size() < 4) return std::nullopt;
  CoapMessage m;
  auto b = [&](size_t i) { return static_cast<uint8_t>(d[i]); };
  m.type = (b(0) >> 4) & 3;
  size_t tkl = b(0) & 0xf;
  m.code = (b(1) >> 5) * 100 + (b(1) & 0x1f);
  m.mid = static_cast<uint16_t>((b(2) << 8) | b(3));
  if (4 + tkl > d.size()) return std::nullopt;
  m.token = d.substr(4, tkl);
  size_t i = 4 + tkl;
  int number = 0;
  while (i < d.size()) {
    if (b(i) == 0xff) {
      m.payload = d.substr(i + 1);
      break;
    }
    int delta = b(i) >> 4, len = b(i) & 0xf;
    ++i;
    auto ext = [&](int v) {
      if (v == 13) return 13 + b(i++);
      if (v == 14) {
        int x = 269 + (b(i) << 8) + b(i + 1);
        i += 2;
        return x;
      }
      return v;
    };
    delta = ext(delta);
    len = ext(len);
    number += delta;
    m.options.emplace_back(number, d.substr(i, len));
    i += len;
  }
  return m;
}

// The port of the CoAP URL the server wrote to a file of its data directory (`coap.url`,
// `coaps.url`); 0 when the file is missing or holds no port.
inline int PortInUrlFile(const std::string& path) {
  std::ifstream f(path);
  std::string url;
  std::getline(f, url);
  const auto colon = url.rfind(':');
  return colon == std::string::npos ? 0 : std::atoi(url.c_str() + colon + 1);
}

// A device on a UDP socket of its own (its own endpoint for the server).
class RawCoapDevice {
 public:
  explicit RawCoapDevice(int port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  ~RawCoapDevice() { ::close(fd_); }

  void SendBytes(const std::string& bytes) { ::send(fd_, bytes.data(), bytes.size(), 0); }
  void Send(const CoapMessage& m) { SendBytes(EncodeCoap(m)); }

  std::optional<CoapMessage> Receive(int timeout_ms = 5000) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1) return std::nullopt;
    char buf[2048];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    return DecodeCoap(std::string(buf, static_cast<size_t>(n)));
  }

  // The final answer to a request: the piggybacked response, or the separate one after an empty
  // ACK (which it acknowledges when confirmable). Nullopt on timeout.
  std::optional<CoapMessage> Answer(const CoapMessage& request, int timeout_ms = 10000) {
    for (;;) {
      auto m = Receive(timeout_ms);
      if (!m) return std::nullopt;
      if (m->type == 2 && m->code == 0 && m->mid == request.mid) continue;  // empty ACK
      if (m->type == 3) return m;                                           // RST
      if (m->token != request.token) continue;
      if (m->type == 0) Send(CoapMessage{2, 0, m->mid, "", {}, ""});  // ACK the separate response
      return m;
    }
  }

  // A POST to /ingest with the device key and content format (-1 = none).
  static CoapMessage Post(uint16_t mid, const std::string& key, int format,
                          const std::string& payload, int type = 0) {
    CoapMessage m;
    m.type = type;
    m.code = 2;  // POST
    m.mid = mid;
    m.token = std::string("t") + static_cast<char>(mid & 0xff) + static_cast<char>(mid >> 8);
    m.options.emplace_back(11, "ingest");
    if (format >= 0) m.options.emplace_back(12, UintOption(static_cast<uint32_t>(format)));
    if (!key.empty()) m.options.emplace_back(15, "k=" + key);
    m.payload = payload;
    return m;
  }

 private:
  int fd_ = -1;
};

// Runs a program (no shell) and returns {exit code, stdout + stderr}.
inline std::pair<int, std::string> RunProgram(const std::vector<std::string>& args) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) return {-1, "pipe failed"};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

}  // namespace bysans::testing

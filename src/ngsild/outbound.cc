#include "ngsild/outbound.h"

#include <sys/socket.h>

namespace bysans::ngsild {
namespace {

curl_socket_t OpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* gate = static_cast<OutboundGate*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  Status s = gate->policy->Check(&address->addr, address->addrlen);
  if (!s.ok()) {
    gate->refused = s.message();
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

}  // namespace

void GuardConnections(CURL* curl, OutboundGate* gate) {
  curl_easy_setopt(curl, CURLOPT_PROXY, "");  // the policy must see the target's own address
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, OpenSocket);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, gate);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
}

bool IsConnectError(CURLcode rc) {
  return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT ||
         rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_RESOLVE_PROXY;
}

}  // namespace bysans::ngsild

// The HTTP ceiling for the ingest benchmark: the same HttpServer as bysans,
// with one route, POST /api/v1/receive-data, that answers 204 at once.
// Prints "PORT <n>" and runs until SIGINT/SIGTERM.
//   bench_trivial_responder [port] [threads]
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "http/router.h"
#include "httpserver/http_server.h"

int main(int argc, char** argv) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // inherited by the io threads

  bysans::HttpServerOptions options;
  if (argc > 1) options.port = static_cast<uint16_t>(std::atoi(argv[1]));
  if (argc > 2) options.threads = std::atoi(argv[2]);

  bysans::http::Router router;
  router.Add("POST", "/api/v1/receive-data",
             [](bysans::http::Request&, bysans::http::Responder respond) {
               bysans::http::Response r;
               r.status = 204;
               respond(std::move(r));
             });
  bysans::HttpServer server(options, router, nullptr);
  bysans::Status st = server.Start();
  if (!st.ok()) {
    std::fprintf(stderr, "bench_trivial_responder: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("PORT %u\n", static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  server.Stop();
  return 0;
}

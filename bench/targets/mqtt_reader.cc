// The MQTT target's receiving end for run.sh: subscribes (QoS 1, libmosquitto) to the second
// broker and writes, at most every 100 ms, one line "<count> <lag_ms> <lag_ms> ..." to stdout:
// how many envelopes arrived and, for each, now - its "receivedAt". receiver.py adds them to its
// counts. (mosquitto_sub printing every message for Python to parse was slower than bysans'
// delivery, so the bench measured its own reader.)
// Usage: bench_mqtt_target_reader <port> <topic filter>
#include <mosquitto.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/time_format.h"

namespace {

struct Batch {
  std::string filter;
  long count = 0;
  std::string lags;
  std::chrono::steady_clock::time_point flushed = std::chrono::steady_clock::now();
};

double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Flush(Batch& b) {
  if (std::chrono::steady_clock::now() - b.flushed < std::chrono::milliseconds(100)) return;
  if (b.count > 0) {
    std::printf("%ld%s\n", b.count, b.lags.c_str());
    std::fflush(stdout);
  }
  b.count = 0;
  b.lags.clear();
  b.flushed = std::chrono::steady_clock::now();
}

void OnMessage(mosquitto*, void* user, const mosquitto_message* m) {
  auto& b = *static_cast<Batch*>(user);
  std::string_view body(static_cast<const char*>(m->payload), static_cast<size_t>(m->payloadlen));
  constexpr std::string_view kField = "\"receivedAt\":\"";
  for (size_t at = body.find(kField); at != std::string_view::npos;
       at = body.find(kField, at + 1)) {
    const size_t start = at + kField.size();
    const size_t end = body.find('"', start);
    if (end == std::string_view::npos) break;
    auto ms = bysans::ParseTime(body.substr(start, end - start));
    if (!ms) continue;
    ++b.count;
    char lag[32];
    std::snprintf(lag, sizeof lag, " %.1f", NowMs() - static_cast<double>(*ms));
    b.lags += lag;
  }
  Flush(b);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench_mqtt_target_reader <port> <topic filter>\n");
    return 2;
  }
  mosquitto_lib_init();
  Batch batch;
  batch.filter = argv[2];
  mosquitto* m = mosquitto_new("bench-target-reader", true, &batch);
  mosquitto_message_callback_set(m, OnMessage);
  mosquitto_connect_callback_set(m, [](mosquitto* c, void* user, int rc) {
    if (rc == 0) mosquitto_subscribe(c, nullptr, static_cast<Batch*>(user)->filter.c_str(), 1);
  });
  if (mosquitto_connect(m, "127.0.0.1", std::atoi(argv[1]), 30) != MOSQ_ERR_SUCCESS) {
    std::fprintf(stderr, "bench_mqtt_target_reader: cannot connect\n");
    return 1;
  }
  // A quiet stream still flushes what it has: loop in slices of 100 ms.
  while (true) {
    if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS && mosquitto_reconnect(m) != MOSQ_ERR_SUCCESS)
      return 1;
    Flush(batch);
  }
}

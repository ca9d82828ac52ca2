// MQTT ingest load generator for bench/mqtt/run.sh (libmosquitto + SQLite or PostgreSQL).
//
// Many simulated room sensors, each its own MQTT connection with its own credentials,
// publish QoS 1 readings of 6 values (temperature, humidity, co2, light, motion, battery)
// to devices/{id}/up at a fixed total rate (0 = as fast as the per-connection windows allow)
// for a number of seconds. PUBACKs are counted per publisher. Then, by mode:
//   raw     a subscriber (its own connection, persistent session, QoS 1) that only counts;
//           waits until it has seen every acknowledged message (or stops progressing).
//   bysans  polls bysans' SQLite file (a read-only WAL reader, so a row it sees is
//           committed) until the raw messages stored reach the acknowledged count, and
//           measures publish → committed latency per message from the row's "ts".
//   count   (no load) counts the raw messages in --db: "mqtt=N all=M", N = MQTT messages
//           stored without an error.
// With --pg URL instead of --db (BENCH_STORE=postgres) the bysans and count modes read bysans'
// PostgreSQL tables (pg_reader.h); count then also prints points= (rows of `readings`).
// Prints one line: RESULT acked=.. seen=.. first_us=.. ... (key=value, parsed by run.sh).
// Raw messages are read from raw_log rows with bysans' own codec (store/sqlite/raw_log_codec.h).
//
//   bench_mqtt_load --port P --devices FILE --mode raw|bysans --rate R --seconds S
//                   [--sub-user U --sub-pass W] [--db FILE --pid PID] [--latency]
//                   [--chirpstack --pub-user U --pub-pass W]
//   bench_mqtt_load --mode count --db FILE | --pg URL
// (--gateway-id ID: rxInfo's gatewayId, "" = none.)
// FILE holds one "device_id username password" line per device. With --chirpstack (used by
// bench/lorawan) the messages are ChirpStack v4 uplink events instead, all published by one
// connection (ChirpStack's: --pub-user/--pub-pass) to application/{app}/device/{devEui}/event/up,
// and FILE holds one "device_id devEui application_id fport:hex[,fport:hex...]" line per
// device: the frames its decoder understands, sent in turn (base64 `data`). Latency is then
// matched by (device, fCnt) instead of (device, ts).
#include <mosquitto.h>
#include <poll.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/encoding.h"
#include "pg_reader.h"
#include "store/sqlite/raw_log_codec.h"

namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string devices_file;
  std::string mode = "raw";
  double rate = 0;  // msgs/s in total; 0 = unlimited
  double seconds = 10;
  int window = 20;  // un-acked publishes per connection
  std::string sub_user, sub_pass;
  std::string db;
  std::string pg;  // bysans' PostgreSQL (postgresql:// URL) instead of db
  int pid = 0;
  bool latency = false;
  double drain_stall_s = 20;  // give up when nothing new arrives for this long
  bool chirpstack = false;    // ChirpStack v4 uplinks over one connection (see the header)
  std::string pub_user, pub_pass;
  // rxInfo[].gatewayId of the uplinks; empty = left out (to measure bysans without its
  // per-uplink gateway bookkeeping).
  std::string gateway_id = "7276ff002e062c18";
};

struct Frame {
  int fport = 1;
  std::string base64;
};

struct Device {
  int64_t id = 0;
  std::string user, pass, topic;
  mosquitto* mosq = nullptr;
  bool connected = false;
  int pending = 0;         // published, not yet acknowledged
  int64_t last_ts = 0;     // ms, strictly increasing per device (unique dedup keys)
  Device* conn = nullptr;  // the connection it publishes over (ChirpStack's, or its own)
  // --chirpstack only:
  std::string dev_eui, app;
  std::vector<Frame> frames;
  int64_t fcnt = 0;
};

struct Shared {
  std::atomic<int64_t> acked{0};
  std::atomic<int64_t> connect_failures{0};
  std::atomic<int64_t> seen{0};
  std::atomic<int64_t> last_seen_us{0};
  // (device id, ts) → publish time, for latency.
  std::mutex lat_mu;
  std::unordered_map<uint64_t, int64_t> published_at;
  std::vector<double> latencies_ms;
  std::vector<int64_t> latency_at_us;  // when each latency sample was seen (for the trace)
};

uint64_t LatKey(int64_t device, int64_t ts) {
  return (static_cast<uint64_t>(device) << 44) ^ static_cast<uint64_t>(ts);
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
    if (a == "--host") {
      o->host = next();
    } else if (a == "--port") {
      o->port = std::atoi(next().c_str());
    } else if (a == "--devices") {
      o->devices_file = next();
    } else if (a == "--mode") {
      o->mode = next();
    } else if (a == "--rate") {
      o->rate = std::atof(next().c_str());
    } else if (a == "--seconds") {
      o->seconds = std::atof(next().c_str());
    } else if (a == "--window") {
      o->window = std::atoi(next().c_str());
    } else if (a == "--sub-user") {
      o->sub_user = next();
    } else if (a == "--sub-pass") {
      o->sub_pass = next();
    } else if (a == "--db") {
      o->db = next();
    } else if (a == "--pg") {
      o->pg = next();
    } else if (a == "--pid") {
      o->pid = std::atoi(next().c_str());
    } else if (a == "--latency") {
      o->latency = true;
    } else if (a == "--chirpstack") {
      o->chirpstack = true;
    } else if (a == "--gateway-id") {
      o->gateway_id = next();
    } else if (a == "--pub-user") {
      o->pub_user = next();
    } else if (a == "--pub-pass") {
      o->pub_pass = next();
    } else if (a == "--drain-stall") {
      o->drain_stall_s = std::atof(next().c_str());
    } else {
      std::fprintf(stderr, "bench_mqtt_load: unknown argument %s\n", a.c_str());
      return false;
    }
  }
  if (o->mode == "count") return !o->db.empty() || !o->pg.empty();
  if (o->chirpstack && o->pub_user.empty()) return false;
  return !o->devices_file.empty() && (o->mode == "raw" || o->mode == "bysans");
}

// utime + stime of a process in microseconds (/proc/<pid>/stat fields 14 and 15).
int64_t CpuUs(int pid) {
  if (pid <= 0) return 0;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields;
  size_t pos = close + 2;
  while (pos < s.size()) {
    size_t sp = s.find(' ', pos);
    if (sp == std::string::npos) sp = s.size();
    fields.push_back(s.substr(pos, sp - pos));
    pos = sp + 1;
  }
  // fields[0] is field 3 (state): utime is field 14 → index 11, stime → index 12.
  if (fields.size() < 13) return 0;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  return static_cast<int64_t>((std::atof(fields[11].c_str()) + std::atof(fields[12].c_str())) *
                              1e6 / tick);
}

std::string Payload(std::mt19937& rng, int64_t ts, int64_t seq) {
  std::uniform_real_distribution<double> u(0, 1);
  char buf[256];
  int n = std::snprintf(buf, sizeof(buf),
                        "{\"ts\":%" PRId64
                        ",\"temperature\":%.2f,\"humidity\":%.1f,\"co2\":%d,\"light\":%d,"
                        "\"motion\":%s,\"battery\":%.2f}",
                        ts, 19.0 + 4 * u(rng), 30 + 30 * u(rng),
                        400 + static_cast<int>(900 * u(rng)), static_cast<int>(800 * u(rng)),
                        (seq % 7 == 0) ? "true" : "false", 3.0 - 0.4 * u(rng));
  return std::string(buf, static_cast<size_t>(n));
}

// "fport:hex,fport:hex" → frames with base64 data; empty on a malformed list.
std::vector<Frame> ParseFrames(const std::string& list) {
  std::vector<Frame> frames;
  size_t pos = 0;
  while (pos < list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string::npos) end = list.size();
    const std::string item = list.substr(pos, end - pos);
    const size_t colon = item.find(':');
    if (colon == std::string::npos) return {};
    auto bytes = bysans::DecodeHex(std::string_view(item).substr(colon + 1));
    if (!bytes.ok()) return {};
    frames.push_back({std::atoi(item.substr(0, colon).c_str()), bysans::EncodeBase64(*bytes)});
    pos = end + 1;
  }
  return frames;
}

// A ChirpStack v4 uplink event as ChirpStack publishes it (protojson field names), carrying
// the device's next frame. `run_id` makes deduplicationIds unique across generator runs.
std::string ChirpstackPayload(std::mt19937& rng, Device& d, const std::string& gateway_id,
                              uint64_t run_id, int64_t seq) {
  std::uniform_real_distribution<double> u(0, 1);
  const Frame& f = d.frames[static_cast<size_t>(d.fcnt) % d.frames.size()];
  const int64_t fcnt = ++d.fcnt;
  const int64_t ms = WallMs();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char time[96];
  std::snprintf(time, sizeof(time), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  const std::string gateway = gateway_id.empty() ? "" : "\"gatewayId\":\"" + gateway_id + "\",";
  char buf[2048];
  int n = std::snprintf(
      buf, sizeof(buf),
      "{\"deduplicationId\":\"%08x-%04x-4%03x-8%03x-%012" PRIx64
      "\",\"time\":\"%s\",\"deviceInfo\":{\"tenantId\":\"52f14cd4-c6f1-4fbd-8f87-4025e1d49242\","
      "\"tenantName\":\"Bench Kommune\",\"applicationId\":\"%s\",\"applicationName\":\"Bench\","
      "\"deviceProfileId\":\"14855bf7-d10d-4aee-b618-ebfcb64dc7ad\",\"deviceProfileName\":"
      "\"Bench profile\",\"deviceName\":\"sensor-%s\",\"devEui\":\"%s\","
      "\"deviceClassEnabled\":\"CLASS_A\",\"tags\":{\"building\":\"Skolen ved Sundet\"}},"
      "\"devAddr\":\"%08" PRIx64 "\",\"adr\":true,\"dr\":5,\"fCnt\":%" PRId64
      ",\"fPort\":%d,\"confirmed\":false,\"data\":\"%s\",\"rxInfo\":[{%s\"uplinkId\":%d,\"time\":"
      "\"%s\",\"rssi\":%d,\"snr\":%.1f,"
      "\"channel\":2,\"location\":{\"latitude\":56.1572,\"longitude\":10.2107},"
      "\"context\":\"WMLKRA==\",\"metadata\":{\"region_config_id\":\"eu868\","
      "\"region_common_name\":\"EU868\"},\"crcStatus\":\"CRC_OK\"}],\"txInfo\":{\"frequency\":"
      "868500000,\"modulation\":{\"lora\":{\"bandwidth\":125000,\"spreadingFactor\":7,"
      "\"codeRate\":\"CR_4_5\"}}}}",
      static_cast<uint32_t>(run_id >> 32), static_cast<uint32_t>(run_id >> 16) & 0xffff,
      static_cast<uint32_t>(run_id >> 4) & 0xfff, static_cast<uint32_t>(run_id) & 0xf,
      static_cast<uint64_t>(seq), time, d.app.c_str(), d.dev_eui.c_str(), d.dev_eui.c_str(),
      static_cast<uint64_t>(d.id) & 0xffffffff, fcnt, f.fport, f.base64.c_str(), gateway.c_str(),
      static_cast<int>(u(rng) * 60000), time, -120 + static_cast<int>(u(rng) * 60),
      -5 + 15 * u(rng));
  return std::string(buf, static_cast<size_t>(std::min<int>(n, sizeof(buf) - 1)));
}

void OnPublish(mosquitto*, void* obj, int) {
  auto* pair = static_cast<std::pair<Device*, Shared*>*>(obj);
  pair->first->pending--;
  pair->second->acked.fetch_add(1, std::memory_order_relaxed);
}

void OnConnect(mosquitto*, void* obj, int rc) {
  auto* pair = static_cast<std::pair<Device*, Shared*>*>(obj);
  if (rc == 0) {
    pair->first->connected = true;
  } else {
    pair->second->connect_failures.fetch_add(1);
    std::fprintf(stderr, "bench_mqtt_load: %s refused: %s\n", pair->first->user.c_str(),
                 mosquitto_connack_string(rc));
  }
}

// The counting subscriber of the raw run, on its own libmosquitto thread.
struct Subscriber {
  mosquitto* mosq = nullptr;
  std::string topic = "devices/+/up";
  std::atomic<bool> subscribed{false};
};

void SubOnConnect(mosquitto* m, void* obj, int rc) {
  if (rc != 0) {
    std::fprintf(stderr, "bench_mqtt_load: subscriber refused: %s\n", mosquitto_connack_string(rc));
    return;
  }
  mosquitto_subscribe(m, nullptr,
                      static_cast<std::pair<Subscriber*, Shared*>*>(obj)->first->topic.c_str(), 1);
}

void SubOnSubscribe(mosquitto*, void* obj, int, int, const int*) {
  static_cast<std::pair<Subscriber*, Shared*>*>(obj)->first->subscribed = true;
}

void SubOnMessage(mosquitto*, void* obj, const mosquitto_message*) {
  Shared* sh = static_cast<std::pair<Subscriber*, Shared*>*>(obj)->second;
  sh->seen.fetch_add(1, std::memory_order_relaxed);
  sh->last_seen_us.store(NowUs(), std::memory_order_relaxed);
}

// Polls bysans' database: committed raw messages (id order) since `base`.
class DbPoller {
 public:
  bool Open(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "bench_mqtt_load: cannot open %s\n", path.c_str());
      return false;
    }
    sqlite3_busy_timeout(db_, 5000);
    // A raw_log row holds the ids id .. id + n - 1 and is never changed.
    return Prepare("SELECT coalesce((SELECT id + n - 1 FROM raw_log ORDER BY id DESC LIMIT 1), 0)",
                   &max_st_) &&
           Prepare("SELECT id, data FROM raw_log WHERE id > ? ORDER BY id", &rows_st_);
  }
  ~DbPoller() {
    sqlite3_finalize(max_st_);
    sqlite3_finalize(rows_st_);
    if (db_) sqlite3_close(db_);
  }
  int64_t MaxId() {
    int64_t v = -1;
    if (sqlite3_step(max_st_) == SQLITE_ROW) v = sqlite3_column_int64(max_st_, 0);
    sqlite3_reset(max_st_);
    return v;
  }
  // Calls f(message) for each message after *last; advances *last.
  template <typename F>
  void Messages(int64_t* last, F f) {
    sqlite3_bind_int64(rows_st_, 1, *last);
    while (sqlite3_step(rows_st_) == SQLITE_ROW) {
      const char* p = static_cast<const char*>(sqlite3_column_blob(rows_st_, 1));
      int n = sqlite3_column_bytes(rows_st_, 1);
      bysans::sqlite::RawLogReader reader(std::string_view(p ? p : "", static_cast<size_t>(n)),
                                          sqlite3_column_int64(rows_st_, 0));
      bysans::sqlite::RawLogEntry e;
      while (reader.Next(&e)) {
        *last = e.id;
        f(e);
      }
      if (!reader.status().ok()) std::fprintf(stderr, "bench_mqtt_load: corrupt raw_log row\n");
    }
    sqlite3_reset(rows_st_);
  }

 private:
  bool Prepare(const char* sql, sqlite3_stmt** st) {
    if (sqlite3_prepare_v2(db_, sql, -1, st, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "bench_mqtt_load: %s: %s\n", sql, sqlite3_errmsg(db_));
      return false;
    }
    return true;
  }
  sqlite3* db_ = nullptr;
  sqlite3_stmt* max_st_ = nullptr;
  sqlite3_stmt* rows_st_ = nullptr;
};

// --mode count: "mqtt=N all=M".
int CountStored(const std::string& path) {
  DbPoller poller;
  if (!poller.Open(path)) return 1;
  int64_t last = 0, mqtt = 0, lorawan = 0, lorawan_errors = 0, all = 0;
  std::map<std::string, int64_t, std::less<>> errors;  // decode error → how many
  poller.Messages(&last, [&](const bysans::sqlite::RawLogEntry& e) {
    ++all;
    const bool error = e.decode_status == bysans::DecodeStatus::kError;
    if (e.transport == bysans::Transport::kMqtt && !error) ++mqtt;
    if (e.transport == bysans::Transport::kLorawan) ++(error ? lorawan_errors : lorawan);
    if (!error) return;
    if (auto it = errors.find(e.decode_error); it != errors.end()) {
      ++it->second;
    } else if (errors.size() < 20) {  // the first 20 kinds
      errors.emplace(std::string(e.decode_error), 1);
    }
  });
  for (const auto& [message, n] : errors)
    std::fprintf(stderr, "bench_mqtt_load: %" PRId64 " stored with the decode error: %s\n", n,
                 message.c_str());
  // lorawan = LoRaWAN uplinks stored and decoded without an error (lorawan_errors: with one).
  std::printf("mqtt=%" PRId64 " all=%" PRId64 " lorawan=%" PRId64 " lorawan_errors=%" PRId64 "\n",
              mqtt, all, lorawan, lorawan_errors);
  return 0;
}

double Percentile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: bench_mqtt_load --port P --devices FILE --mode raw|bysans --rate R "
                 "--seconds S [--sub-user U --sub-pass W] [--db FILE | --pg URL] [--pid PID] "
                 "[--latency] "
                 "[--chirpstack --pub-user U --pub-pass W]\n");
    return 2;
  }
  if (o.mode == "count") return o.pg.empty() ? CountStored(o.db) : bench::CountStoredPostgres(o.pg);
  mosquitto_lib_init();
  Shared sh;
  std::vector<Device> devices;
  {
    std::ifstream f(o.devices_file);
    Device d;
    std::string frames;
    while (o.chirpstack ? static_cast<bool>(f >> d.id >> d.dev_eui >> d.app >> frames)
                        : static_cast<bool>(f >> d.id >> d.user >> d.pass)) {
      d.topic = o.chirpstack ? "application/" + d.app + "/device/" + d.dev_eui + "/event/up"
                             : "devices/" + std::to_string(d.id) + "/up";
      d.frames = ParseFrames(frames);
      if (o.chirpstack && d.frames.empty()) {
        std::fprintf(stderr, "bench_mqtt_load: device %" PRId64 ": bad frames\n", d.id);
        return 1;
      }
      devices.push_back(d);
    }
  }
  if (devices.empty()) {
    std::fprintf(stderr, "bench_mqtt_load: no devices in %s\n", o.devices_file.c_str());
    return 1;
  }
  // The MQTT connections: one per device, or ChirpStack's one for all of them.
  Device chirpstack;
  chirpstack.user = o.pub_user;
  chirpstack.pass = o.pub_pass;
  std::vector<Device*> conns;
  if (o.chirpstack) conns.push_back(&chirpstack);
  for (Device& d : devices) {
    d.conn = o.chirpstack ? &chirpstack : &d;
    if (!o.chirpstack) conns.push_back(&d);
  }
  const uint64_t run_id = std::random_device{}() * 0x100000000ull + std::random_device{}();

  // --- raw mode: the counting subscriber -------------------------------------------
  Subscriber sub;
  std::pair<Subscriber*, Shared*> sub_ctx{&sub, &sh};
  if (o.chirpstack) sub.topic = "application/+/device/+/event/up";
  if (o.mode == "raw") {
    sub.mosq = mosquitto_new("bench-counter", false, &sub_ctx);
    mosquitto_username_pw_set(sub.mosq, o.sub_user.c_str(), o.sub_pass.c_str());
    mosquitto_connect_callback_set(sub.mosq, SubOnConnect);
    mosquitto_subscribe_callback_set(sub.mosq, SubOnSubscribe);
    mosquitto_message_callback_set(sub.mosq, SubOnMessage);
    int rc = mosquitto_connect(sub.mosq, o.host.c_str(), o.port, 60);
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_start(sub.mosq);
    if (rc != MOSQ_ERR_SUCCESS) {
      std::fprintf(stderr, "bench_mqtt_load: subscriber cannot connect to %s:%d: %s\n",
                   o.host.c_str(), o.port, mosquitto_strerror(rc));
      return 1;
    }
    for (int i = 0; i < 3000 && !sub.subscribed; ++i) usleep(10000);
    if (!sub.subscribed) {
      std::fprintf(stderr, "bench_mqtt_load: subscriber did not subscribe\n");
      return 1;
    }
  }

  // --- bysans mode: the database poller ---------------------------------------------
  DbPoller poller;
  bench::PgReader pg_reader;
  int64_t base_id = 0;
  if (o.mode == "bysans" && !o.pg.empty()) {
    if (!pg_reader.Open(o.pg)) return 1;
  } else if (o.mode == "bysans") {
    if (!poller.Open(o.db)) return 1;
    base_id = poller.MaxId();
    if (base_id < 0) return 1;
  }

  // --- publishers: one connection per device, driven by one poll() loop -----------------
  std::vector<std::pair<Device*, Shared*>> ctx(conns.size());
  for (size_t i = 0; i < conns.size(); ++i) {
    Device& d = *conns[i];
    ctx[i] = {&d, &sh};
    std::string client_id = "bench-" + d.user;
    d.mosq = mosquitto_new(client_id.c_str(), true, &ctx[i]);
    mosquitto_username_pw_set(d.mosq, d.user.c_str(), d.pass.c_str());
    mosquitto_connect_callback_set(d.mosq, OnConnect);
    mosquitto_publish_callback_set(d.mosq, OnPublish);
    mosquitto_int_option(d.mosq, MOSQ_OPT_SEND_MAXIMUM, o.window);
    if (mosquitto_connect(d.mosq, o.host.c_str(), o.port, 60) != MOSQ_ERR_SUCCESS) {
      std::fprintf(stderr, "bench_mqtt_load: %s cannot connect\n", d.user.c_str());
      return 1;
    }
  }
  std::vector<pollfd> fds(conns.size());
  auto pump = [&](int timeout_ms) {
    for (size_t i = 0; i < conns.size(); ++i) {
      fds[i].fd = mosquitto_socket(conns[i]->mosq);
      fds[i].events = POLLIN | (mosquitto_want_write(conns[i]->mosq) ? POLLOUT : 0);
      fds[i].revents = 0;
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) return;
    for (size_t i = 0; i < conns.size(); ++i) {
      // One connection carrying every device reads its PUBACKs in larger batches.
      const int packets = o.chirpstack ? 1000 : 1;
      if (fds[i].revents & (POLLIN | POLLERR | POLLHUP))
        mosquitto_loop_read(conns[i]->mosq, packets);
      if (fds[i].revents & POLLOUT) mosquitto_loop_write(conns[i]->mosq, packets);
    }
  };
  {
    const int64_t deadline = NowUs() + 60'000'000;
    size_t up = 0;
    while (NowUs() < deadline && sh.connect_failures == 0) {
      pump(10);
      up = static_cast<size_t>(
          std::count_if(conns.begin(), conns.end(), [](const Device* d) { return d->connected; }));
      if (up == conns.size()) break;
    }
    if (up != conns.size()) {
      std::fprintf(stderr, "bench_mqtt_load: only %zu of %zu publishers connected\n", up,
                   conns.size());
      return 1;
    }
  }

  // --- bysans mode: poll commits on a thread ----------------------------------------
  std::atomic<bool> poll_stop{false};
  std::atomic<int64_t> published_total{0};
  std::thread poll_thread;
  if (o.mode == "bysans") {
    poll_thread = std::thread([&] {
      int64_t last = base_id, seen = 0;
      const std::string_view field = o.chirpstack ? "\"fCnt\":" : "\"ts\":";
      while (!poll_stop.load()) {
        const int64_t before = seen;
        std::vector<std::pair<int64_t, int64_t>> seen_rows;  // device, ts
        auto note = [&](int64_t device, std::string_view payload) {
          auto p = payload.find(field);
          if (p == std::string_view::npos) return;
          seen_rows.emplace_back(device, std::atoll(payload.data() + p + field.size()));
        };
        if (!o.pg.empty()) {
          seen = std::max(seen, pg_reader.Poll(o.latency, note));
        } else if (o.latency) {
          poller.Messages(
              &last, [&](const bysans::sqlite::RawLogEntry& e) { note(e.device_id, e.payload); });
          seen = last - base_id;
        } else {
          int64_t m = poller.MaxId();
          if (m > last) last = m;
          seen = last - base_id;
        }
        if (o.latency) {
          const int64_t now = NowUs();
          std::lock_guard lk(sh.lat_mu);
          for (auto& [dev, ts] : seen_rows) {
            auto it = sh.published_at.find(LatKey(dev, ts));
            if (it == sh.published_at.end()) continue;
            sh.latencies_ms.push_back(static_cast<double>(now - it->second) / 1000.0);
            sh.latency_at_us.push_back(now);
            sh.published_at.erase(it);
          }
        }
        if (seen != before) {
          sh.seen.store(seen);
          sh.last_seen_us.store(NowUs());
        }
        // PostgreSQL: a poll is a query of its own to the server bysans uses; less often.
        const int interval_ms = o.pg.empty() ? (o.latency ? 1 : 5) : (o.latency ? 2 : 10);
        std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
      }
    });
  }

  std::mt19937 rng(12345);
  const int64_t cpu0 = CpuUs(o.pid);
  const int64_t t0 = NowUs();
  const int64_t t_end = t0 + static_cast<int64_t>(o.seconds * 1e6);
  int64_t published = 0;
  int64_t blocked = 0;  // times the offered load could not be met (all windows full)
  size_t next = 0;
  int64_t last_misc = t0;
  while (true) {
    const int64_t now = NowUs();
    if (now >= t_end) break;
    int64_t due =
        o.rate > 0 ? static_cast<int64_t>(o.rate * static_cast<double>(now - t0) / 1e6) - published
                   : static_cast<int64_t>(conns.size()) * o.window;
    due = std::min<int64_t>(due, 4096);
    int64_t sent = 0;
    size_t tried = 0;
    while (sent < due && tried < devices.size()) {
      Device& d = devices[next];
      next = (next + 1) % devices.size();
      if (d.conn->pending >= o.window) {
        ++tried;
        if (o.chirpstack) break;  // one connection: every device waits for it
        continue;
      }
      tried = 0;
      const int64_t ts = std::max(WallMs(), d.last_ts + 1);
      d.last_ts = ts;
      std::string payload = o.chirpstack
                                ? ChirpstackPayload(rng, d, o.gateway_id, run_id, published)
                                : Payload(rng, ts, published);
      if (o.latency) {
        std::lock_guard lk(sh.lat_mu);
        sh.published_at[LatKey(d.id, o.chirpstack ? d.fcnt : ts)] = NowUs();
      }
      int rc = mosquitto_publish(d.conn->mosq, nullptr, d.topic.c_str(),
                                 static_cast<int>(payload.size()), payload.data(), 1, false);
      if (rc != MOSQ_ERR_SUCCESS) {
        std::fprintf(stderr, "bench_mqtt_load: publish failed: %s\n", mosquitto_strerror(rc));
        return 1;
      }
      d.conn->pending++;
      ++published;
      ++sent;
    }
    if (o.rate > 0 && sent < due) ++blocked;
    published_total.store(published);
    pump(o.rate > 0 ? 1 : 0);
    if (now - last_misc > 500'000) {
      for (Device* c : conns) mosquitto_loop_misc(c->mosq);
      last_misc = now;
    }
  }
  const int64_t t_pub_end = NowUs();
  // Wait for every PUBACK (bounded).
  while (sh.acked.load() < published && NowUs() - t_pub_end < 60'000'000) pump(5);
  const int64_t t_acked = NowUs();
  const int64_t acked = sh.acked.load();

  // Drain: until every acknowledged message was seen, or nothing new for a while.
  int64_t last_progress = NowUs(), last_count = -1;
  while (sh.seen.load() < acked) {
    const int64_t s = sh.seen.load();
    if (s != last_count) {
      last_count = s;
      last_progress = NowUs();
    }
    if (NowUs() - last_progress > static_cast<int64_t>(o.drain_stall_s * 1e6)) break;
    pump(10);
    if (NowUs() - last_misc > 500'000) {
      for (Device* c : conns) mosquitto_loop_misc(c->mosq);
      last_misc = NowUs();
    }
  }
  const int64_t cpu1 = CpuUs(o.pid);
  poll_stop = true;
  if (poll_thread.joinable()) poll_thread.join();
  // The PostgreSQL backend serving our polls runs on the database server, whose CPU run.sh
  // measures: its CPU so far, for run.sh to take out (0 on SQLite).
  const int64_t reader_cpu = o.pg.empty() ? 0 : CpuUs(pg_reader.backend_pid());
  const int64_t seen = sh.seen.load();
  const int64_t t_last = sh.last_seen_us.load();
  const double span_s = static_cast<double>((t_last > t0 ? t_last : t_pub_end) - t0) / 1e6;
  double p50 = 0, p99 = 0;
  size_t samples = 0;
  {
    std::lock_guard lk(sh.lat_mu);
    samples = sh.latencies_ms.size();
    if (std::getenv("BENCH_LATENCY_TRACE") != nullptr) {
      // Worst latency and samples seen in each 50 ms, to tell a steady tail from stalls.
      std::map<int64_t, std::pair<double, int>> worst;
      for (size_t i = 0; i < samples; ++i) {
        auto& [w, n] = worst[(sh.latency_at_us[i] - t0) / 50'000];
        w = std::max(w, sh.latencies_ms[i]);
        ++n;
      }
      for (const auto& [slot, wn] : worst)
        std::fprintf(stderr, "latency_trace t=%.2fs worst_ms=%.1f n=%d\n", slot * 0.05, wn.first,
                     wn.second);
    }
    p50 = Percentile(sh.latencies_ms, 0.50);
    p99 = Percentile(sh.latencies_ms, 0.99);
  }
  std::printf("RESULT mode=%s devices=%zu offered_rate=%.0f published=%" PRId64 " acked=%" PRId64
              " seen=%" PRId64 " missing=%" PRId64
              " publish_s=%.3f ack_s=%.3f span_s=%.3f rate=%.0f"
              " blocked=%" PRId64 " cpu_us=%" PRId64
              " p50_ms=%.2f p99_ms=%.2f latency_samples=%zu db_reader_cpu_us=%" PRId64 "\n",
              o.mode.c_str(), devices.size(), o.rate, published, acked, seen, acked - seen,
              static_cast<double>(t_pub_end - t0) / 1e6, static_cast<double>(t_acked - t0) / 1e6,
              span_s, span_s > 0 ? static_cast<double>(seen) / span_s : 0.0, blocked, cpu1 - cpu0,
              p50, p99, samples, reader_cpu);
  std::fflush(stdout);
  for (Device* c : conns) {
    mosquitto_disconnect(c->mosq);
    mosquitto_destroy(c->mosq);
  }
  if (sub.mosq) {
    mosquitto_disconnect(sub.mosq);
    mosquitto_loop_stop(sub.mosq, false);
    mosquitto_destroy(sub.mosq);
  }
  mosquitto_lib_cleanup();
  return 0;
}

// Re-decode throughput: N stored raw messages (11-byte Elsys ERS CO2 frames over 10 devices)
// re-decoded with decoders/elsys-ers-co2.js through decode::Redecode (read, decode, append
// readings, record status). Prints `BENCH redecode msgs_per_s=<n> ...`.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/clock.h"
#include "decode/redecode.h"
#include "store/decoder_store.h"
#include "store/sqlite/sqlite_store.h"

using namespace bysans;

namespace {
int Fail(const std::string& what, const Status& st) {
  std::fprintf(stderr, "bench_redecode: %s: %s\n", what.c_str(), st.message().c_str());
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  std::string root = argc > 1 ? argv[1] : BYSANS_SOURCE_DIR;
  int64_t total = argc > 2 ? std::atoll(argv[2]) : 1'000'000;
  std::ifstream f(root + "/decoders/elsys-ers-co2.js");
  std::stringstream code;
  code << f.rdbuf();
  char tmpl[] = "/tmp/bysans_bench_redecode_XXXXXX";
  if (!mkdtemp(tmpl)) return 1;
  std::string dir = tmpl;
  SystemClock clock;
  SqliteOptions so;
  so.path = dir + "/bysans.db";
  so.clock = &clock;
  auto opened = OpenSqliteStore(so);
  if (!opened.ok()) return Fail("open", opened.status());
  Store& store = **opened;
  TimeMs now = clock.NowMs();
  auto org = store.CreateOrganization({0, "Bench", now});
  auto app = store.CreateApplication({0, org->id, "bench", "", now});
  StoredDecoder dec;
  dec.org_id = org->id;
  dec.name = "elsys";
  dec.code = code.str();
  auto saved = store.decoders().CreateDecoder(dec, 0, now);
  if (!saved.ok()) return Fail("decoder", saved.status());
  if (Status s = store.decoders().SetApplicationDecoder(app->id, saved->id); !s.ok())
    return Fail("attach", s);
  constexpr int kDevices = 10;
  std::vector<Id> devices;
  for (int i = 0; i < kDevices; ++i) {
    Device d;
    d.org_id = org->id;
    d.app_id = app->id;
    d.name = "ers-" + std::to_string(i);
    d.created_ms = now;
    auto c = store.CreateDevice(d, "bench-key-" + std::to_string(i));
    if (!c.ok()) return Fail("device", c.status());
    devices.push_back(c->id);
  }
  // 11 bytes: temperature 22.6, humidity 41, light 39, co2 varying.
  const TimeMs start = now - total * 1000;
  for (int64_t n = 0; n < total;) {
    IngestBatch batch;
    for (int k = 0; k < 10000 && n < total; ++k, ++n) {
      RawMessage m;
      m.device_id = devices[static_cast<size_t>(n % kDevices)];
      m.received_ms = start + n * 1000;
      m.content_type = "application/octet-stream";
      int co2 = 400 + static_cast<int>(n % 1000);
      m.payload = std::string("\x01\x00\xe2\x02\x29\x04\x00\x27\x06", 9);
      m.payload.push_back(static_cast<char>(co2 >> 8));
      m.payload.push_back(static_cast<char>(co2 & 0xff));
      m.decode_status = DecodeStatus::kPending;
      batch.messages.push_back(std::move(m));
    }
    if (Status s = store.Append(std::move(batch)); !s.ok()) return Fail("append", s);
  }
  decode::DecoderRunner runner;
  decode::RedecodeRequest rq;
  rq.decoder_id = saved->id;
  std::atomic<bool> cancel{false};
  int64_t done = 0, errors = 0;
  auto t0 = std::chrono::steady_clock::now();
  Status st = decode::Redecode(
      store, runner, rq,
      [&](int64_t d, int64_t, int64_t e) {
        done = d;
        errors = e;
      },
      cancel);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!st.ok()) return Fail("redecode", st);
  std::printf("BENCH redecode msgs_per_s=%.0f messages=%lld errors=%lld seconds=%.2f\n",
              static_cast<double>(done) / secs, static_cast<long long>(done),
              static_cast<long long>(errors), secs);
  store.Close();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return errors == 0 && done == total ? 0 : 1;
}

// Replays the seed corpus and 20,000 deterministic mutations of it through the MQTT stream
// decoder (gcc builds; under clang the libFuzzer target mqtt_fuzzer exists as well). The test
// passes when nothing crashes, hangs or trips ASan/UBSan.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "mqtt/packet.h"
#include "mqtt_fuzz.h"

namespace bysans::mqtt {
namespace {

class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return n == 0 ? 0 : Next() % n; }

 private:
  uint64_t s_;
};

std::vector<std::string> Seeds() {
  std::vector<std::string> seeds;
  for (const auto& entry : std::filesystem::directory_iterator(MQTT_CORPUS_DIR)) {
    std::ifstream f(entry.path(), std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }
  // Plus every packet kind our encoder produces, in both versions.
  Publish pub{"devices/d1/up", "{\"t\":21}", 1, false, true, 7, {}};
  Subscribe sub{3, {{"$share/g/a/+", 1, true, false, 1}, {"#", 0, false, false, 0}}, {}};
  Connect con{kProtocol5, "id", "u", "p", 30, false, {{0x11, 100, {}, {}}}};
  std::vector<Packet> packets = {pub,
                                 sub,
                                 con,
                                 Connack{true, 0, {{0x13, 10, {}, {}}}},
                                 Ack{PacketType::kPuback, 7, 0x10, {}},
                                 Suback{3, {1, 0x80}, {}},
                                 Unsubscribe{4, {"a"}, {}},
                                 Unsuback{4, {0}, {}},
                                 Pingresp{},
                                 Disconnect{0x8e, {}}};
  for (int protocol : {kProtocol311, kProtocol5}) {
    std::string all;
    for (const auto& p : packets) {
      auto bytes = Encode(p, protocol);
      if (bytes.ok()) {
        seeds.push_back(*bytes);
        all += *bytes;
      }
    }
    seeds.push_back(all);
  }
  return seeds;
}

std::string Mutate(const std::vector<std::string>& seeds, SplitMix& rng) {
  std::string s = seeds[rng.Below(seeds.size())];
  const int rounds = 1 + static_cast<int>(rng.Below(8));
  static const uint8_t kInteresting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x30, 0x32, 0x26};
  for (int r = 0; r < rounds; ++r) {
    switch (rng.Below(7)) {
      case 0:  // flip a bit
        if (!s.empty()) s[rng.Below(s.size())] ^= static_cast<char>(1u << rng.Below(8));
        break;
      case 1:  // interesting byte
        if (!s.empty()) {
          s[rng.Below(s.size())] = static_cast<char>(kInteresting[rng.Below(sizeof kInteresting)]);
        }
        break;
      case 2: {  // insert random bytes
        std::string ins(1 + rng.Below(8), '\0');
        for (char& c : ins) c = static_cast<char>(rng.Next());
        s.insert(rng.Below(s.size() + 1), ins);
        break;
      }
      case 3:  // delete a range
        if (!s.empty()) {
          size_t at = rng.Below(s.size());
          s.erase(at, 1 + rng.Below(s.size() - at));
        }
        break;
      case 4:  // truncate
        s.resize(rng.Below(s.size() + 1));
        break;
      case 5:  // splice another seed
        s += seeds[rng.Below(seeds.size())];
        break;
      case 6:  // duplicate a chunk
        if (!s.empty()) {
          size_t at = rng.Below(s.size());
          s.insert(rng.Below(s.size() + 1), s.substr(at, 1 + rng.Below(16)));
        }
        break;
    }
  }
  // First byte selects the chunk size in the fuzz body.
  return std::string(1, static_cast<char>(rng.Next())) + s;
}

void Feed(const std::string& input) {
  FuzzStreamDecoder(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

TEST(MqttFuzzReplay, SeedCorpus) {
  auto seeds = Seeds();
  ASSERT_GE(seeds.size(), 10u);
  for (const auto& s : seeds) {
    for (char chunk : {'\0', '\x05', '\x10'}) Feed(std::string(1, chunk) + s);
  }
}

TEST(MqttFuzzReplay, DeterministicMutations) {
  auto seeds = Seeds();
  SplitMix rng(0x6279736173ull);  // fixed seed: failures reproduce
  for (int i = 0; i < 20000; ++i) Feed(Mutate(seeds, rng));
}

}  // namespace
}  // namespace bysans::mqtt

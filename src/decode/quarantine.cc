#include "decode/quarantine.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace bysans::decode {
namespace {

constexpr uint64_t kSet = 0x5155415241544e45;  // "QUARATNE": a slot in flight
constexpr size_t kSlotBytes = 64;

// A fingerprint, not a defence against collisions (a collision could only quarantine another
// message of the same device): FNV-style mixing eight bytes at a time, ~0.2 µs per KiB.
uint64_t Mix(uint64_t h, std::string_view s) {
  constexpr uint64_t kPrime = 0x100000001b3ULL;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * kPrime;
    h ^= h >> 32;
  }
  for (; i < s.size(); ++i) h = (h ^ static_cast<unsigned char>(s[i])) * kPrime;
  return (h ^ s.size()) * kPrime;
}

Status Errno(const std::string& what, const std::string& path) {
  return Internal(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Fingerprint FingerprintOf(Id device_id, std::string_view identity, std::string_view frame) {
  uint64_t h = Mix(0xcbf29ce484222325ULL, identity);
  h = Mix(h, frame);  // lengths are mixed in: "ab" + "" differs from "a" + "b"
  return {device_id, h};
}

Result<std::unique_ptr<Quarantine>> Quarantine::Open(const QuarantineOptions& options,
                                                     const Clock& clock) {
  std::unique_ptr<Quarantine> q(new Quarantine(clock));
  q->slots_ = std::clamp(options.slots, 1, 64);
  q->map_size_ = kSlotBytes * static_cast<size_t>(q->slots_);
  const std::string slots_path = (std::filesystem::path(options.dir) / "decode-inflight").string();
  const std::string table_path =
      (std::filesystem::path(options.dir) / "decode-quarantine").string();

  int fd = ::open(slots_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot open", slots_path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (static_cast<size_t>(st.st_size) < q->map_size_ &&
                                ::ftruncate(fd, static_cast<off_t>(q->map_size_)) != 0)) {
    Status s = Errno("cannot size", slots_path);
    ::close(fd);
    return s;
  }
  void* map = ::mmap(nullptr, q->map_size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return Errno("cannot map", slots_path);
  q->map_ = map;

  // The table as saved, without what has expired.
  const TimeMs now = clock.NowMs();
  {
    std::ifstream in(table_path);
    Id device = 0;
    uint64_t hash = 0;
    TimeMs expires = 0;
    while (in >> device >> std::hex >> hash >> std::dec >> expires)
      if (expires > now) q->table_[{device, hash}] = expires;
  }
  // Decodes that were in flight when the last process died.
  std::vector<Fingerprint> left;
  for (int i = 0; i < q->slots_; ++i) {
    uint64_t* s = q->Slot(i);
    if (s[0] == kSet) left.push_back({static_cast<Id>(s[1]), s[2]});
  }
  for (const Fingerprint& fp : left) {
    q->table_[fp] = now + options.ttl_ms;
    spdlog::warn(
        "decode quarantine: the last process stopped while decoding a message of device {} "
        "(payload hash {:016x}); that message will be stored without decoding if it comes again",
        fp.device_id, fp.hash);
  }
  // Saved before the slots are cleared: dying in between loses nothing.
  BYSANS_RETURN_IF_ERROR(q->Save(table_path));
  if (!left.empty()) {
    std::memset(q->map_, 0, q->map_size_);
    ::msync(q->map_, q->map_size_, MS_SYNC);
  }
  if (!q->table_.empty())
    spdlog::info("decode quarantine: {} message fingerprint(s) quarantined", q->table_.size());
  return q;
}

Quarantine::~Quarantine() {
  if (map_) ::munmap(map_, map_size_);
}

Status Quarantine::Save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) return Errno("cannot write", tmp);
  ::fchmod(fileno(f), 0600);
  for (const auto& [fp, expires] : table_)
    std::fprintf(f, "%" PRId64 " %016" PRIx64 " %" PRId64 "\n", fp.device_id, fp.hash, expires);
  bool ok = std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) return Errno("cannot write", path);
  return Status::Ok();
}

bool Quarantine::Contains(const Fingerprint& fp) const {
  if (table_.empty()) return false;
  auto it = table_.find(fp);
  return it != table_.end() && it->second > clock_.NowMs();
}

Quarantine::Guard::Guard(Quarantine& q, const Fingerprint& fp) : q_(q) {
  const uint64_t all = q.slots_ == 64 ? ~uint64_t{0} : (uint64_t{1} << q.slots_) - 1;
  uint64_t busy = q.busy_.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t free = ~busy & all;
    if (free == 0) return;  // more decodes at once than slots: this one goes unguarded
    int i = std::countr_zero(free);
    if (q.busy_.compare_exchange_weak(busy, busy | (uint64_t{1} << i), std::memory_order_acquire)) {
      index_ = i;
      break;
    }
  }
  uint64_t* s = q.Slot(index_);
  std::atomic_ref<uint64_t>(s[1]).store(static_cast<uint64_t>(fp.device_id),
                                        std::memory_order_relaxed);
  std::atomic_ref<uint64_t>(s[2]).store(fp.hash, std::memory_order_relaxed);
  std::atomic_ref<uint64_t>(s[0]).store(kSet, std::memory_order_release);
}

Quarantine::Guard::~Guard() {
  if (index_ < 0) return;
  std::atomic_ref<uint64_t>(q_.Slot(index_)[0]).store(0, std::memory_order_release);
  q_.busy_.fetch_and(~(uint64_t{1} << index_), std::memory_order_release);
}

}  // namespace bysans::decode

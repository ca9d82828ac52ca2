#include "decode/js/alloc_budget.h"

#include <dlfcn.h>
#include <malloc.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BYSANS_ALLOC_BUDGET 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define BYSANS_ALLOC_BUDGET 0
#endif
#endif
#ifndef BYSANS_ALLOC_BUDGET
#define BYSANS_ALLOC_BUDGET 1
#endif

namespace bysans::decode::js {
namespace {

struct Budget {
  bool active;  // counting (and enforcing `limit`)
  bool broken;
  size_t limit;   // the most `used` may reach while active
  size_t used;    // net bytes allocated since the budget began (never below 0)
  size_t ledger;  // the same for blocks of kLedgerFrom bytes or more, kept across budgets
  void (*on_broken)(void*);
  void* arg;
};

// Zero-initialised, so no TLS constructor (which could itself allocate).
thread_local Budget tl_budget __attribute__((tls_model("initial-exec")));

}  // namespace

#if BYSANS_ALLOC_BUDGET

namespace {

constexpr size_t kRefuseFrom = 64u << 10;  // smaller allocations are never refused
constexpr size_t kLedgerFrom = 4u << 10;   // smaller blocks are not in the ledger

using MallocFn = void* (*)(size_t);
using CallocFn = void* (*)(size_t, size_t);
using ReallocFn = void* (*)(void*, size_t);
using FreeFn = void (*)(void*);
using MemalignFn = void* (*)(size_t, size_t);
using PosixMemalignFn = int (*)(void**, size_t, size_t);
using UsableFn = size_t (*)(void*);

struct Real {
  MallocFn malloc;
  CallocFn calloc;
  ReallocFn realloc;
  FreeFn free;
  MemalignFn memalign;
  PosixMemalignFn posix_memalign;
  MemalignFn aligned_alloc;
  UsableFn usable_size;
};
Real real;
std::atomic<int> resolved{0};  // 0: no, 1: in progress, 2: done

// dlsym may allocate while the real functions are being looked up: those few allocations come
// from this buffer and are never freed.
alignas(16) char boot[16384];
size_t boot_used = 0;
thread_local bool tl_resolving __attribute__((tls_model("initial-exec")));

bool IsBoot(const void* p) {
  auto a = reinterpret_cast<uintptr_t>(p);
  return a >= reinterpret_cast<uintptr_t>(boot) &&
         a < reinterpret_cast<uintptr_t>(boot) + sizeof boot;
}

void* BootAlloc(size_t n) {
  n = (n + 15) & ~size_t{15};
  if (boot_used + n > sizeof boot) return nullptr;
  void* p = boot + boot_used;
  boot_used += n;
  return p;
}

template <typename T>
T Next(const char* name) {
  return reinterpret_cast<T>(dlsym(RTLD_NEXT, name));
}

void Resolve() {
  int expected = 0;
  if (resolved.compare_exchange_strong(expected, 1)) {
    tl_resolving = true;
    real.malloc = Next<MallocFn>("malloc");
    real.calloc = Next<CallocFn>("calloc");
    real.realloc = Next<ReallocFn>("realloc");
    real.free = Next<FreeFn>("free");
    real.memalign = Next<MemalignFn>("memalign");
    real.posix_memalign = Next<PosixMemalignFn>("posix_memalign");
    real.aligned_alloc = Next<MemalignFn>("aligned_alloc");
    real.usable_size = Next<UsableFn>("malloc_usable_size");
    tl_resolving = false;
    resolved.store(2, std::memory_order_release);
    return;
  }
  while (resolved.load(std::memory_order_acquire) != 2) {
  }
}

inline bool Ready() {
  if (__builtin_expect(resolved.load(std::memory_order_acquire) == 2, 1)) return true;
  if (tl_resolving) return false;
  Resolve();
  return true;
}

void Break(Budget& b) {
  if (b.broken) return;
  b.broken = true;
  if (b.on_broken != nullptr) b.on_broken(b.arg);
}

// May `n` more bytes be allocated? Marks the budget broken when they exceed it.
bool Allow(Budget& b, size_t n) {
  if (n <= b.limit && b.used <= b.limit - n) return true;
  Break(b);
  return n < kRefuseFrom;
}

void* Counted(Budget& b, void* p) {
  if (p != nullptr) {
    size_t n = real.usable_size(p);
    b.used += n;
    if (n >= kLedgerFrom) b.ledger += n;
  }
  return p;
}

void Uncount(Budget& b, void* p) {
  if (p == nullptr || IsBoot(p)) return;
  size_t n = real.usable_size(p);
  b.used = b.used > n ? b.used - n : 0;
  if (n >= kLedgerFrom) b.ledger = b.ledger > n ? b.ledger - n : 0;
}

void* Refused() {
  errno = ENOMEM;
  return nullptr;
}

}  // namespace

bool AllocBudgetEnforced() { return true; }

#else

bool AllocBudgetEnforced() { return false; }

#endif  // BYSANS_ALLOC_BUDGET

void BeginAllocBudget(size_t bytes, void (*on_broken)(void*), void* arg) {
  Budget& b = tl_budget;
  b = Budget{BYSANS_ALLOC_BUDGET != 0, false, bytes, 0, b.ledger, on_broken, arg};
}

void BeginAllocCount() { BeginAllocBudget(SIZE_MAX, nullptr, nullptr); }

size_t AllocLedger() { return tl_budget.ledger; }

void ResetAllocLedger() { tl_budget.ledger = 0; }

bool EndAllocBudget() {
  bool broken = tl_budget.broken;
  tl_budget.active = false;
  tl_budget.broken = false;
  return broken;
}

bool AllocBudgetBroken() { return tl_budget.active && tl_budget.broken; }

}  // namespace bysans::decode::js

#if BYSANS_ALLOC_BUDGET

using bysans::decode::js::tl_budget;
namespace ab = bysans::decode::js;

extern "C" {

void* malloc(size_t n) noexcept {
  if (!ab::Ready()) return ab::BootAlloc(n);
  ab::Budget& b = tl_budget;
  if (__builtin_expect(!b.active, 1)) return ab::real.malloc(n);
  if (!ab::Allow(b, n)) return ab::Refused();
  return ab::Counted(b, ab::real.malloc(n));
}

void* calloc(size_t count, size_t size) noexcept {
  if (!ab::Ready()) {
    if (size != 0 && count > SIZE_MAX / size) return nullptr;
    void* p = ab::BootAlloc(count * size);
    if (p != nullptr) std::memset(p, 0, count * size);
    return p;
  }
  ab::Budget& b = tl_budget;
  if (__builtin_expect(!b.active, 1)) return ab::real.calloc(count, size);
  if (size != 0 && count > SIZE_MAX / size) return ab::Refused();
  if (!ab::Allow(b, count * size)) return ab::Refused();
  return ab::Counted(b, ab::real.calloc(count, size));
}

void free(void* p) noexcept {
  if (p == nullptr || ab::IsBoot(p) || !ab::Ready()) return;
  ab::Budget& b = tl_budget;
  if (__builtin_expect(b.active, 0)) ab::Uncount(b, p);
  ab::real.free(p);
}

void* realloc(void* p, size_t n) noexcept {
  if (!ab::Ready()) return ab::BootAlloc(n);  // only while resolving; never grows boot memory
  if (ab::IsBoot(p)) {
    void* q = malloc(n);
    if (q != nullptr) {
      size_t room = static_cast<size_t>(ab::boot + sizeof ab::boot - static_cast<char*>(p));
      std::memcpy(q, p, n < room ? n : room);
    }
    return q;
  }
  ab::Budget& b = tl_budget;
  if (__builtin_expect(!b.active, 1)) return ab::real.realloc(p, n);
  size_t old = p != nullptr ? ab::real.usable_size(p) : 0;
  if (n > old && !ab::Allow(b, n - old)) return ab::Refused();
  void* q = ab::real.realloc(p, n);
  if (q != nullptr || n == 0) {
    b.used = b.used > old ? b.used - old : 0;  // p was freed or moved
    if (old >= ab::kLedgerFrom) b.ledger = b.ledger > old ? b.ledger - old : 0;
    ab::Counted(b, q);
  }
  return q;
}

void* memalign(size_t alignment, size_t n) noexcept {
  if (!ab::Ready()) return ab::BootAlloc(n);
  ab::Budget& b = tl_budget;
  if (__builtin_expect(!b.active, 1)) return ab::real.memalign(alignment, n);
  if (!ab::Allow(b, n)) return ab::Refused();
  return ab::Counted(b, ab::real.memalign(alignment, n));
}

void* aligned_alloc(size_t alignment, size_t n) noexcept {
  if (!ab::Ready()) return ab::BootAlloc(n);
  ab::Budget& b = tl_budget;
  if (__builtin_expect(!b.active, 1)) return ab::real.aligned_alloc(alignment, n);
  if (!ab::Allow(b, n)) return ab::Refused();
  return ab::Counted(b, ab::real.aligned_alloc(alignment, n));
}

int posix_memalign(void** out, size_t alignment, size_t n) noexcept {
  if (!ab::Ready()) {
    *out = ab::BootAlloc(n);
    return *out != nullptr ? 0 : ENOMEM;
  }
  ab::Budget& b = tl_budget;
  if (__builtin_expect(!b.active, 1)) return ab::real.posix_memalign(out, alignment, n);
  if (!ab::Allow(b, n)) return ENOMEM;
  int rc = ab::real.posix_memalign(out, alignment, n);
  if (rc == 0) ab::Counted(b, *out);
  return rc;
}

}  // extern "C"

#endif  // BYSANS_ALLOC_BUDGET

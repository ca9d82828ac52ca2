// A per-thread allocation budget, enforced where memory is allocated: alloc_budget.cc
// interposes the malloc family (malloc, calloc, realloc, free, memalign, posix_memalign,
// aligned_alloc) for the whole executable and forwards to the allocator it replaces (the next
// definition: mimalloc when linked, else glibc). SpiderMonkey allocates ArrayBuffer contents,
// string chars and object elements with those functions, so a JS call cannot grow memory past
// its budget inside one native call (JSGC_MAX_BYTES bounds only GC things).
//
// While a budget is active on a thread, that thread's allocations minus its frees may not grow
// by more than `bytes`: an allocation of 64 KB or more that would break it fails (nullptr,
// ENOMEM, which SpiderMonkey turns into an out-of-memory error); smaller ones still succeed (an
// engine fails badly in a few places when a small allocation fails) but mark the budget broken,
// so the caller stops the call at its next interrupt check. No cost beyond one thread-local
// test when no budget is active. Not compiled under sanitizers, which own malloc:
// AllocBudgetEnforced() is false there.
#pragma once

#include <cstddef>

namespace bysans::decode::js {

bool AllocBudgetEnforced();

// Each thread also keeps a ledger: the net bytes it allocated in blocks of 4 KB or more while
// counting was on (its frees subtract, never below 0). It is kept across budgets, so a caller
// can bound what its calls leave allocated in large blocks (ArrayBuffers, long strings, big
// arrays). Frees done by other threads (e.g. a GC's background sweeping) are not subtracted:
// the ledger may overstate, never understate, what is still allocated in such blocks. Small
// blocks are left out because SpiderMonkey frees many of them on helper threads, which would
// make the ledger drift on every call.
//
// Starts a budget on the calling thread (and counting): its allocations minus its frees may
// grow by at most `bytes` until the budget ends.
// `on_broken(arg)` runs once, on this thread and inside the allocator, when the budget is first
// broken: it must not allocate.
void BeginAllocBudget(size_t bytes, void (*on_broken)(void*), void* arg);
// Counts into the ledger without a limit (e.g. while a GC frees memory on this thread).
void BeginAllocCount();
// Ends the calling thread's budget or counting; true when a budget was broken.
bool EndAllocBudget();
// True when the calling thread's active budget was broken.
bool AllocBudgetBroken();
// The calling thread's ledger, and setting it back to 0.
size_t AllocLedger();
void ResetAllocLedger();

}  // namespace bysans::decode::js

// SpiderMonkey lives only in this file (and nowhere in a header).
#include "decode/js/js_engine.h"

#include <fcntl.h>
#include <js/Array.h>
#include <js/CallAndConstruct.h>
#include <js/CharacterEncoding.h>
#include <js/CompilationAndEvaluation.h>
#include <js/Conversions.h>
#include <js/Date.h>
#include <js/ErrorReport.h>
#include <js/Exception.h>
#include <js/GCAPI.h>
#include <js/GlobalObject.h>
#include <js/Initialization.h>
#include <js/Interrupt.h>
#include <js/JSON.h>
#include <js/MemoryFunctions.h>
#include <js/Object.h>
#include <js/PropertyAndElement.h>
#include <js/PropertyDescriptor.h>
#include <js/Proxy.h>
#include <js/Realm.h>
#include <js/SourceText.h>
#include <js/String.h>
#include <js/experimental/JSStencil.h>
#include <js/experimental/TypedData.h>
#include <jsapi.h>
#include <jsfriendapi.h>
#include <malloc.h>
#include <pthread.h>
#include <simdjson.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "core/encoding.h"
#include "decode/js/alloc_budget.h"
#include "decode/js/entry_choice.h"
#include "decode/js/microtask_queue.h"
#include "decode/js/prelude.h"
#include "decode/js/text_codec.h"
#include "decode/to_readings.h"

namespace bysans::decode {

namespace {

using js::AppendUtf16AsUtf8;
using js::Base64Decode;

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kMaxLogLines = 100;
constexpr size_t kMaxLogLineBytes = 1000;
// GC heap reserved for each cached decoder's realm (one measured ~133 KB after a GC).
constexpr size_t kRealmAllowanceBytes = 256u << 10;
constexpr uint32_t kMaxListItems = 100;      // decodeUplink / encodeDownlink warnings, errors
constexpr uint32_t kMaxDownlinkBytes = 242;  // the largest LoRaWAN application payload

const JSClass kGlobalClass = {"global", JSCLASS_GLOBAL_FLAGS, &JS::DefaultGlobalClassOps};

// JS_Init is process-wide and must run exactly once, before the first context.
bool InitSpiderMonkeyOnce() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    ok = JS_Init();
    // SpiderMonkey must be shut down before its static objects are destroyed at exit; all
    // engines (contexts) must be gone by then.
    if (ok) std::atexit([] { JS_ShutDown(); });
  });
  return ok;
}

struct JsonSink {
  std::string* out;
  size_t limit;
  bool overflow = false;
};

bool JsonWrite(const char16_t* buf, uint32_t len, void* data) {
  auto* sink = static_cast<JsonSink*>(data);
  if (sink->out->size() + len > sink->limit) {  // each UTF-16 unit is at least one byte
    sink->overflow = true;
    return false;
  }
  AppendUtf16AsUtf8(buf, len, sink->out);
  if (sink->out->size() > sink->limit) {
    sink->overflow = true;
    return false;
  }
  return true;
}

std::string ToUtf8(JSContext* cx, JS::HandleString str) {
  JS::UniqueChars chars = JS_EncodeStringToUTF8(cx, str);
  return chars ? std::string(chars.get()) : std::string();
}

// The functions a decoder's top level hands back, in this order (slot of `fns`).
constexpr int kSlotDecodeUplink = 0, kSlotDecode = 1, kSlotDecodeV3 = 2, kSlotDecoder = 3,
              kSlotEncodeDownlink = 4, kSlots = 5;
constexpr Contract kSlotContracts[] = {Contract::kTtnDecodeUplink, Contract::kOs2iot,
                                       Contract::kChirpstackV3Decode, Contract::kTtnV2Decoder};

int SlotOf(Contract c) {
  switch (c) {
    case Contract::kTtnDecodeUplink:
      return kSlotDecodeUplink;
    case Contract::kOs2iot:
      return kSlotDecode;
    case Contract::kChirpstackV3Decode:
      return kSlotDecodeV3;
    case Contract::kTtnV2Decoder:
      return kSlotDecoder;
    default:
      break;
  }
  return -1;
}

// Per decoder version: the entry functions its code defines.
struct CompiledDecoder {
  // The functions decodeUplink, decode, Decode, Decoder, encodeDownlink (null when absent).
  std::array<std::unique_ptr<JS::PersistentRootedObject>, kSlots> fns;
  JS::PersistentRootedObject global;  // the decoder's own realm
  uint64_t last_used = 0;             // for the LRU bound of the cache
  // The entry point auto runs (or why there is none), and the warning when it was ambiguous.
  Result<js::EntryChoice> auto_choice = InvalidArgument("not compiled");
  Id org_id = 0;
  CompiledDecoder(JSContext* cx) : global(cx) {}  // NOLINT
  JSObject* fn(int slot) const { return slot >= 0 && fns[slot] ? fns[slot]->get() : nullptr; }
};

struct CacheKey {
  Id org_id;
  Id decoder_id;
  int64_t version;
  size_t code_hash;
  bool operator<(const CacheKey& o) const {
    return std::tie(org_id, decoder_id, version, code_hash) <
           std::tie(o.org_id, o.decoder_id, o.version, o.code_hash);
  }
};

// The OS2iot payload (the whole ChirpStack uplink, ~1 KB) is exposed as a lazily materialised
// object: its top-level members are indexed with simdjson, and a member becomes a real JS
// value (via JSON.parse of its slice) only when the decoder first touches it. Most decoders
// read payload.data and little else, so this saves most of the JSON.parse cost per call.
// Enumeration (Object.keys, for-in, JSON.stringify, spread) materialises every member first.
struct LazyJson {
  simdjson::padded_string text;
  struct Member {
    std::string key;
    size_t offset;
    size_t length;
    bool defined = false;
  };
  std::vector<Member> members;
  size_t accounted_bytes = 0;  // reported to the GC with JS::AddAssociatedMemory
};

bool ParseJsonText(JSContext* cx, std::string_view json, JS::MutableHandleValue out) {
  bool ascii = true;
  for (char c : json) ascii &= static_cast<unsigned char>(c) < 0x80;
  JS::RootedString s(cx, ascii
                             ? JS_NewStringCopyN(cx, json.data(), json.size())
                             : JS_NewStringCopyUTF8N(cx, JS::UTF8Chars(json.data(), json.size())));
  return s && JS_ParseJSON(cx, s, out);
}

LazyJson* GetLazy(JSObject* obj) { return JS::GetMaybePtrFromReservedSlot<LazyJson>(obj, 0); }

bool DefineMember(JSContext* cx, JS::HandleObject obj, LazyJson* lazy, LazyJson::Member& m) {
  m.defined = true;
  JS::RootedValue v(cx);
  if (!ParseJsonText(cx, std::string_view(lazy->text.data() + m.offset, m.length), &v)) {
    return false;
  }
  return JS_DefineProperty(cx, obj, m.key.c_str(), v, JSPROP_ENUMERATE);
}

bool LazyResolve(JSContext* cx, JS::HandleObject obj, JS::HandleId id, bool* resolved) {
  *resolved = false;
  LazyJson* lazy = GetLazy(obj);
  if (lazy == nullptr || !id.isString()) return true;
  JS::RootedString name(cx, id.toString());
  JS::UniqueChars key = JS_EncodeStringToUTF8(cx, name);
  if (!key) return false;
  for (auto& m : lazy->members) {
    if (!m.defined && m.key == key.get()) {
      if (!DefineMember(cx, obj, lazy, m)) return false;
      *resolved = true;
      return true;
    }
  }
  return true;
}

bool LazyEnumerate(JSContext* cx, JS::HandleObject obj) {
  LazyJson* lazy = GetLazy(obj);
  if (lazy == nullptr) return true;
  for (auto& m : lazy->members) {
    if (!m.defined && !DefineMember(cx, obj, lazy, m)) return false;
  }
  return true;
}

void LazyFinalize(JS::GCContext*, JSObject* obj) {
  LazyJson* lazy = GetLazy(obj);
  if (lazy == nullptr) return;
  JS::RemoveAssociatedMemory(obj, lazy->accounted_bytes, JS::MemoryUse::Embedding1);
  delete lazy;
}

const JSClassOps kLazyOps = {nullptr, nullptr,      LazyEnumerate, nullptr, LazyResolve,
                             nullptr, LazyFinalize, nullptr,       nullptr, nullptr};
const JSClass kLazyClass = {"Object", JSCLASS_HAS_RESERVED_SLOTS(1) | JSCLASS_FOREGROUND_FINALIZE,
                            &kLazyOps};

}  // namespace

struct JsEngine::Impl {
  Limits defaults;
  JSContext* cx = nullptr;
  std::map<CacheKey, std::unique_ptr<CompiledDecoder>> cache;
  ReadingsConverter converter;

  // The current call (set by the engine thread, read by the watchdog and interrupt callback).
  // The time limit counts the engine thread's CPU time, so a thread that the OS does not run
  // (a loaded machine, cgroup throttling) is not blamed for it. The engine thread only bumps
  // a sequence number per call; the watchdog reads the thread's CPU clock every tick.
  std::atomic<bool> call_active{false};
  std::atomic<uint64_t> call_seq{0};
  std::atomic<int64_t> call_limit_ns{0};
  std::atomic<uint64_t> timeout_seq{0};  // the call that ran out of time
  clockid_t cpu_clock{};                 // CPU clock of the engine thread
  bool timed_out = false;
  // Malloc'd memory (array elements, strings) is not bounded by JSGC_MAX_BYTES, so calls that
  // run longer than one watchdog tick are checked: process malloc use may not grow by more
  // than heap_bytes during the call (measured from the first check).
  bool memory_exceeded = false;
  bool memory_baseline_set = false;
  size_t memory_baseline = 0;
  size_t memory_budget = 0;
  std::vector<std::string>* log = nullptr;  // console sink of the current call
  bool log_truncated = false;

  // Watchdog.
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
  std::thread watchdog;
  std::unique_ptr<js::MicrotaskQueue> jobs;  // promise jobs, drained inside timed calls

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    if (watchdog.joinable()) watchdog.join();
    cache.clear();
    prelude = nullptr;
    zone_anchor.reset();
    if (jobs) jobs->Release();
    if (cx != nullptr) JS_DestroyContext(cx);
  }

  int64_t EngineCpuNs() const {
    timespec ts{};
    if (clock_gettime(cpu_clock, &ts) != 0) return 0;
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }

  // A call is timed from the first tick that sees it (so up to one tick late); calls shorter
  // than a tick are never looked at.
  void WatchdogLoop() {
    std::unique_lock<std::mutex> lock(mu);
    uint64_t seen_seq = 0;
    int64_t seen_cpu = 0;
    while (!stop) {
      cv.wait_for(lock, std::chrono::nanoseconds(kTickNs));
      if (stop) break;
      if (!call_active.load(std::memory_order_acquire)) continue;
      uint64_t seq = call_seq.load(std::memory_order_acquire);
      int64_t cpu = EngineCpuNs();
      if (seq != seen_seq) {
        seen_seq = seq;
        seen_cpu = cpu;
        continue;
      }
      if (cpu - seen_cpu >= call_limit_ns.load(std::memory_order_acquire)) {
        timeout_seq.store(seq, std::memory_order_release);
      }
      JS_RequestInterruptCallback(cx);  // a long call: check its time and memory
    }
  }

  static constexpr int64_t kTickNs = 2000000;  // watchdog period: 2 ms

  // Memory in use by the process: malloc statistics, or the resident set size when the
  // allocator keeps no glibc statistics (e.g. under AddressSanitizer).
  static size_t MemoryInUse() {
    struct mallinfo2 mi = mallinfo2();
    size_t used = mi.uordblks + mi.hblkhd;
    if (used > 0) return used;
    int fd = ::open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[128];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    unsigned long size = 0, resident = 0;
    if (std::sscanf(buf, "%lu %lu", &size, &resident) != 2) return 0;
    return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  }

  static bool InterruptCallback(JSContext* cx) {
    auto* self = static_cast<Impl*>(JS_GetContextPrivate(cx));
    if (self == nullptr || !self->call_active.load(std::memory_order_acquire)) return true;
    if (self->timeout_seq.load(std::memory_order_acquire) ==
        self->call_seq.load(std::memory_order_relaxed)) {
      self->timed_out = true;
      return false;  // uncatchable: stops the script
    }
    if (js::AllocBudgetEnforced()) {
      if (!js::AllocBudgetBroken()) return true;
      self->memory_exceeded = true;
      return false;
    }
    size_t used = MemoryInUse();
    if (!self->memory_baseline_set) {
      self->memory_baseline_set = true;
      self->memory_baseline = used;
    } else if (used > self->memory_baseline + self->memory_budget) {
      self->memory_exceeded = true;
      return false;
    }
    return true;
  }

  // ---- natives ----------------------------------------------------------------------------

  static bool Atob(JSContext* cx, unsigned argc, JS::Value* vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    JS::RootedString s(cx, JS::ToString(cx, args.get(0)));
    if (!s) return false;
    std::string in = ToUtf8(cx, s);
    std::string out;
    if (!Base64Decode(in, &out)) {
      JS_ReportErrorASCII(cx, "atob: the string to be decoded is not correctly encoded");
      return false;
    }
    JSString* r = JS_NewStringCopyN(cx, out.data(), out.size());  // Latin-1: one char per byte
    if (!r) return false;
    args.rval().setString(r);
    return true;
  }

  static bool Btoa(JSContext* cx, unsigned argc, JS::Value* vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    JS::RootedString s(cx, JS::ToString(cx, args.get(0)));
    if (!s) return false;
    size_t n = JS_GetStringLength(s);
    std::string bytes;
    bytes.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      char16_t c;
      if (!JS_GetStringCharAt(cx, s, i, &c)) return false;
      if (c > 0xff) {
        JS_ReportErrorASCII(cx, "btoa: the string contains characters outside of the Latin1 range");
        return false;
      }
      bytes.push_back(static_cast<char>(c));
    }
    std::string out = EncodeBase64(bytes);
    JSString* r = JS_NewStringCopyN(cx, out.data(), out.size());
    if (!r) return false;
    args.rval().setString(r);
    return true;
  }

  template <int kLevel>
  static bool Console(JSContext* cx, unsigned argc, JS::Value* vp) {
    JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
    args.rval().setUndefined();
    auto* self = static_cast<Impl*>(JS_GetContextPrivate(cx));
    if (self == nullptr || self->log == nullptr) return true;
    if (self->log->size() >= kMaxLogLines) {
      if (!self->log_truncated) self->log->push_back("[bysans] console output truncated");
      self->log_truncated = true;
      return true;
    }
    std::string line = kLevel == 1 ? "[warn] " : kLevel == 2 ? "[error] " : "";
    for (unsigned i = 0; i < args.length(); ++i) {
      if (i > 0) line += ' ';
      JS::RootedValue v(cx, args[i]);
      if (v.isObject()) {
        std::string json;
        JsonSink sink{&json, kMaxLogLineBytes};
        if (JS_Stringify(cx, &v, nullptr, JS::NullHandleValue, JsonWrite, &sink) || sink.overflow) {
          line += json;
          JS_ClearPendingException(cx);
          continue;
        }
        if (!JS_IsExceptionPending(cx)) return false;  // interrupted
        JS_ClearPendingException(cx);
      }
      JS::RootedString s(cx, JS::ToString(cx, v));
      if (!s) return false;
      line += ToUtf8(cx, s);
      if (line.size() > kMaxLogLineBytes) break;
    }
    if (line.size() > kMaxLogLineBytes) line.resize(kMaxLogLineBytes);
    self->log->push_back(std::move(line));
    return true;
  }

  // ---- globals and compilation -----------------------------------------------------------

  // A fresh realm (global, built-ins, prelude) for one decoder, so that nothing a decoder does
  // to its built-ins (Object.prototype.toJSON, enumerable methods) reaches another decoder.
  Result<JSObject*> NewGlobal(Id org_id) {
    JS::RealmOptions options;
    // Every realm in its own compartment, all in one GC zone: a zone per realm would cost a
    // set of GC arenas per decoder.
    if (zone_anchor) options.creationOptions().setNewCompartmentInExistingZone(zone_anchor);
    JS::RootedObject global(
        cx, JS_NewGlobalObject(cx, &kGlobalClass, nullptr, JS::FireOnNewGlobalHook, options));
    if (!global)
      return Internal("cannot create a JS global for organisation " + std::to_string(org_id));
    JSAutoRealm ar(cx, global);
    if (!JS::InitRealmStandardClasses(cx)) return Internal("cannot init JS standard classes");
    for (const char* name : {"WebAssembly", "SharedArrayBuffer", "Atomics", "uneval"}) {
      if (!JS_DeleteProperty(cx, global, name)) JS_ClearPendingException(cx);
    }
    if (!JS_DefineFunction(cx, global, "atob", Atob, 1, 0) ||
        !JS_DefineFunction(cx, global, "btoa", Btoa, 1, 0)) {
      return Internal("cannot define atob/btoa");
    }
    JS::RootedObject console(cx, JS_NewPlainObject(cx));
    if (!console || !JS_DefineFunction(cx, console, "log", Console<0>, 0, JSPROP_ENUMERATE) ||
        !JS_DefineFunction(cx, console, "info", Console<0>, 0, JSPROP_ENUMERATE) ||
        !JS_DefineFunction(cx, console, "debug", Console<0>, 0, JSPROP_ENUMERATE) ||
        !JS_DefineFunction(cx, console, "warn", Console<1>, 0, JSPROP_ENUMERATE) ||
        !JS_DefineFunction(cx, console, "error", Console<2>, 0, JSPROP_ENUMERATE) ||
        !JS_DefineProperty(cx, global, "console", console, 0)) {
      return Internal("cannot define console");
    }
    // The prelude is parsed once per engine (a stencil) and instantiated in each realm.
    if (!prelude) {
      JS::CompileOptions opts(cx);
      opts.setFileAndLine("bysans-prelude", 1);
      JS::SourceText<mozilla::Utf8Unit> src;
      if (!src.init(cx, js::kPrelude, std::strlen(js::kPrelude), JS::SourceOwnership::Borrowed)) {
        return Internal("cannot load prelude");
      }
      prelude = JS::CompileGlobalScriptToStencil(cx, opts, src);
      if (!prelude) {
        JS_ClearPendingException(cx);
        return Internal("JS prelude does not compile");
      }
    }
    JS::InstantiateOptions instantiate;
    JS::RootedScript script(cx, JS::InstantiateGlobalStencil(cx, instantiate, prelude.get()));
    JS::RootedValue rv(cx);
    if (!script || !JS_ExecuteScript(cx, script, &rv)) {
      JS_ClearPendingException(cx);
      return Internal("JS prelude failed");
    }
    return global.get();
  }

  // Describes and clears the pending exception (or the reason there is none).
  std::string TakeError(const char* what) {
    if (memory_exceeded || js::AllocBudgetBroken()) {
      memory_exceeded = true;
      JS_ClearPendingException(cx);
      out_of_memory = true;
      return std::string(what) + ": memory limit exceeded (" + std::to_string(memory_budget >> 20) +
             " MB)";
    }
    if (timed_out) {
      return std::string(what) + ": time limit exceeded (" + std::to_string(current_time_ms) +
             " ms of CPU time); infinite loop?";
    }
    if (!JS_IsExceptionPending(cx)) {
      return std::string(what) + ": stopped without an exception (out of memory?)";
    }
    if (JS_IsThrowingOutOfMemory(cx)) {
      JS_ClearPendingException(cx);
      out_of_memory = true;
      return std::string(what) + ": out of memory (heap limit " +
             std::to_string(defaults.heap_bytes >> 20) + " MB)";
    }
    JS::ExceptionStack exn(cx);
    if (!JS::StealPendingExceptionStack(cx, &exn)) {
      JS_ClearPendingException(cx);
      return std::string(what) + ": unknown error";
    }
    JS::ErrorReportBuilder report(cx);
    if (!report.init(cx, exn, JS::ErrorReportBuilder::NoSideEffects)) {
      JS_ClearPendingException(cx);
      return std::string(what) + ": unknown error";
    }
    std::string msg = std::string(what) + ": ";
    const char* text = report.toStringResult().c_str();
    msg += text != nullptr ? text : "error";
    if (msg.find("out of memory") != std::string::npos) out_of_memory = true;
    const JSErrorReport* r = report.report();
    if (r != nullptr && r->lineno > 0 && r->filename != nullptr &&
        std::string_view(r->filename) == "decoder") {
      // CompileFunction puts "function decoder(\n) {" before the body: one extra line.
      msg += " (line " + std::to_string(r->lineno > 1 ? r->lineno - 1 : 1) + ")";
    }
    return msg;
  }

  int64_t current_time_ms = 0;
  bool out_of_memory = false;

  void BeginCall(const Limits& limits, std::vector<std::string>* call_log) {
    jobs->Clear();
    timed_out = false;
    out_of_memory = false;
    memory_exceeded = false;
    memory_baseline_set = false;
    memory_budget = js::AllocBudgetEnforced() ? limits.heap_bytes : defaults.heap_bytes;
    if (js::AllocBudgetEnforced()) js::BeginAllocBudget(memory_budget, &OnBudgetBroken, this);
    log = call_log;
    log_truncated = false;
    current_time_ms = limits.time_ms;
    call_limit_ns.store(limits.time_ms * 1000000, std::memory_order_relaxed);
    call_seq.fetch_add(1, std::memory_order_acq_rel);
    call_active.store(true, std::memory_order_release);
  }

  // Every call ends here: promise jobs the call queued but did not run are dropped, so no
  // decoder code is left to run outside a timed call.
  void EndCall() {
    js::EndAllocBudget();
    jobs->Clear();
    call_active.store(false, std::memory_order_release);
    log = nullptr;
  }

  // Runs inside the allocator (must not allocate): stop the script at once.
  static void OnBudgetBroken(void* self) {
    JS_RequestInterruptCallbackCanWait(static_cast<Impl*>(self)->cx);
  }

  // True when the call broke its memory budget (even if the decoder caught the error).
  bool BudgetBroken() {
    if (js::AllocBudgetBroken()) memory_exceeded = true;
    return memory_exceeded;
  }

  // What the engine's calls may leave allocated (the thread's allocation ledger, see
  // js/alloc_budget.h): two calls' budgets plus the cached realms. Beyond it, after a call, a
  // shrinking GC runs; if that is not enough the decoder that just ran loses its realm (what it
  // kept in globals goes with it), and if even that is not enough every realm is dropped.
  size_t RetainedCap() const {
    return 2 * defaults.heap_bytes + defaults.cached_decoders * kRealmAllowanceBytes;
  }

  // Runs after every public call, when no realm is entered any more.
  void AfterCall(const JsDecoder& d) {
    if (!js::AllocBudgetEnforced() || js::AllocLedger() <= RetainedCap()) return;
    js::BeginAllocCount();  // the frees the GC does on this thread count
    auto collect = [&] { JS::NonIncrementalGC(cx, JS::GCOptions::Shrink, JS::GCReason::API); };
    collect();
    if (js::AllocLedger() > RetainedCap()) {
      cache.erase(KeyOf(d));
      collect();
    }
    if (js::AllocLedger() > RetainedCap()) {
      // Frees done by GC helper threads are not in the ledger: start it afresh from an engine
      // that holds nothing.
      cache.clear();
      collect();
      js::ResetAllocLedger();
    }
    js::EndAllocBudget();
  }

  static CacheKey KeyOf(const JsDecoder& d) {
    return CacheKey{d.org_id, d.decoder_id, d.version,
                    d.decoder_id == 0 ? std::hash<std::string_view>{}(d.code) : 0};
  }

  void AfterFailure(const JsDecoder& d) {
    if (out_of_memory) {
      // The realm may hold half-built state: start the decoder afresh and reclaim memory.
      cache.erase(KeyOf(d));
      JS_GC(cx);
    }
  }

  // Keeps the cache (and so the realms) bounded: the least recently used decoder goes first.
  // A linear scan, but only when a decoder is compiled (which costs far more).
  void EvictLeastRecentlyUsed() {
    while (!cache.empty() && cache.size() >= defaults.cached_decoders) {
      auto oldest = cache.begin();
      for (auto it = cache.begin(); it != cache.end(); ++it) {
        if (it->second->last_used < oldest->second->last_used) oldest = it;
      }
      cache.erase(oldest);
    }
  }
  uint64_t use_tick = 0;
  RefPtr<JS::Stencil> prelude;             // compiled once, instantiated in every realm
  JS::PersistentRootedObject zone_anchor;  // an empty global whose zone holds every realm

  JSObject* GlobalOf(const CompiledDecoder& dec) { return dec.global.get(); }

  void DropOrg(Id org_id) {
    for (auto it = cache.begin(); it != cache.end();) {
      it = it->second->org_id == org_id ? cache.erase(it) : std::next(it);
    }
  }

  // Takes the entry points from the array the compiled top level returns. The decoder controls
  // that value (a top-level `return` ends its code early), so it is only read as a plain array's
  // own data properties: no getter, Proxy trap or conversion, i.e. no decoder code, runs here.
  // The functions' arity and source (for auto) are read without running decoder code either.
  Status ReadEntries(JS::HandleValue rv, std::string_view code, CompiledDecoder* compiled) {
    static constexpr char kReturned[] =
        "decoder top level returned a value: a decoder must not use `return` outside a function";
    if (!rv.isObject()) return InvalidArgument(kReturned);
    JS::RootedObject arr(cx, &rv.toObject());
    bool is_array = false;
    if (::js::IsProxy(arr) || !JS::IsArrayObject(cx, arr, &is_array) || !is_array) {
      JS_ClearPendingException(cx);
      return InvalidArgument(kReturned);
    }
    std::vector<js::EntryCandidate> candidates;
    for (int i = 0; i < kSlots; ++i) {
      JS::Rooted<mozilla::Maybe<JS::PropertyDescriptor>> desc(cx);
      JS::RootedId id(cx, JS::PropertyKey::Int(i));
      if (!JS_GetOwnPropertyDescriptorById(cx, arr, id, &desc)) {
        JS_ClearPendingException(cx);
        return InvalidArgument(kReturned);
      }
      js::EntryCandidate c;
      if (i < kSlotEncodeDownlink) c.contract = kSlotContracts[i];
      if (desc.isSome() && desc->isDataDescriptor() && desc->value().isObject() &&
          JS::IsCallable(&desc->value().toObject())) {
        compiled->fns[i] =
            std::make_unique<JS::PersistentRootedObject>(cx, &desc->value().toObject());
        c.present = true;
        JS::RootedFunction fun(cx, JS_GetObjectFunction(&desc->value().toObject()));
        if (fun && i < kSlotEncodeDownlink) {
          c.arity = JS_GetFunctionArity(fun);
          JS::RootedString text(cx, JS_DecompileFunction(cx, fun));
          if (text) {
            c.source = ToUtf8(cx, text);
          } else {
            JS_ClearPendingException(cx);
          }
        }
      }
      if (i < kSlotEncodeDownlink) candidates.push_back(std::move(c));
    }
    compiled->auto_choice = js::ChooseEntry(Contract::kUnknown, candidates, code);
    return Status::Ok();
  }

  // The entry point of an explicit contract (auto: CompiledDecoder::auto_choice).
  static Result<js::EntryChoice> ExplicitEntry(const CompiledDecoder& dec, Contract requested) {
    std::vector<js::EntryCandidate> one(1);
    one[0].contract = requested;
    one[0].present = dec.fn(SlotOf(requested)) != nullptr;
    return js::ChooseEntry(requested, one);
  }

  Result<CompiledDecoder*> Compile(const JsDecoder& d, const Limits& limits,
                                   std::vector<std::string>* call_log) {
    CacheKey key = KeyOf(d);
    auto it = cache.find(key);
    if (it != cache.end()) {
      it->second->last_used = ++use_tick;
      return it->second.get();
    }
    BYSANS_ASSIGN_OR_RETURN(JSObject * g, NewGlobal(d.org_id));
    JS::RootedObject global(cx, g);
    JSAutoRealm ar(cx, global);
    // The code becomes the body of a function, so its top-level declarations stay private to
    // this decoder; the appended statement hands back its entry points.
    std::string body(d.code);
    body +=
        "\n;return [typeof decodeUplink === 'function' ? decodeUplink : undefined,"
        " typeof decode === 'function' ? decode : undefined,"
        " typeof Decode === 'function' ? Decode : undefined,"
        " typeof Decoder === 'function' ? Decoder : undefined,"
        " typeof encodeDownlink === 'function' ? encodeDownlink : undefined];";
    JS::CompileOptions opts(cx);
    opts.setFileAndLine("decoder", 1);
    // Decoder source is UTF-8. SpiderMonkey 102's UTF-8 CompileFunction reads it as Latin-1
    // ('°C' became 'Â°C'), so it is converted to UTF-16 here.
    size_t units = 0;
    JS::UniqueTwoByteChars chars(
        JS::UTF8CharsToNewTwoByteCharsZ(cx, JS::UTF8Chars(body.data(), body.size()), &units,
                                        ::js::MallocArena)
            .get());
    JS::SourceText<char16_t> src;
    if (!chars || !src.init(cx, std::move(chars), units)) {
      bool pending = JS_IsExceptionPending(cx);
      JS_ClearPendingException(cx);
      return InvalidArgument(pending ? "decoder source is not valid UTF-8"
                                     : "decoder source could not be loaded");
    }
    JS::RootedObjectVector env(cx);
    BeginCall(limits, call_log);
    JS::RootedFunction fn(cx, JS::CompileFunction(cx, env, opts, "decoder", 0, nullptr, src));
    if (!fn) {
      std::string err = TakeError("syntax error");
      EndCall();
      return InvalidArgument(std::move(err));
    }
    // The top level and the promise jobs it queued run inside the timed call.
    JS::RootedValue rv(cx);
    bool ok = JS_CallFunction(cx, global, fn, JS::HandleValueArray::empty(), &rv) &&
              jobs->Drain(cx) && !BudgetBroken();
    if (!ok) {
      std::string err = TakeError("decoder top level failed");
      EndCall();
      AfterFailure(d);
      return InvalidArgument(std::move(err));
    }
    auto compiled = std::make_unique<CompiledDecoder>(cx);
    compiled->org_id = d.org_id;
    compiled->global = global;
    compiled->last_used = ++use_tick;
    Status picked = ReadEntries(rv, d.code, compiled.get());
    EndCall();
    if (!picked.ok()) return picked;
    CompiledDecoder* ptr = compiled.get();
    EvictLeastRecentlyUsed();
    cache.emplace(key, std::move(compiled));
    return ptr;
  }

  // ---- argument building -----------------------------------------------------------------

  bool ParseJson(std::string_view json, JS::MutableHandleValue out) {
    return ParseJsonText(cx, json, out);
  }

  // A lazily materialised object for a JSON object text (see LazyJson); falls back to a plain
  // JSON.parse for anything that is not an object.
  bool LazyJsonValue(std::string_view json, JS::MutableHandleValue out) {
    auto lazy = std::make_unique<LazyJson>();
    lazy->text = simdjson::padded_string(json);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    bool ok = lazy_parser.iterate(lazy->text).get(doc) == simdjson::SUCCESS &&
              doc.get_object().get(obj) == simdjson::SUCCESS;
    if (ok) {
      for (auto field : obj) {
        std::string_view key, raw;
        simdjson::ondemand::value value;
        simdjson::ondemand::json_type type;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS ||
            field.value().get(value) != simdjson::SUCCESS ||
            value.type().get(type) != simdjson::SUCCESS) {
          ok = false;
          break;
        }
        simdjson::error_code err;
        if (type == simdjson::ondemand::json_type::object) {
          simdjson::ondemand::object sub;
          err = value.get_object().get(sub);
          if (err == simdjson::SUCCESS) err = sub.raw_json().get(raw);
        } else if (type == simdjson::ondemand::json_type::array) {
          simdjson::ondemand::array sub;
          err = value.get_array().get(sub);
          if (err == simdjson::SUCCESS) err = sub.raw_json().get(raw);
        } else {
          raw = value.raw_json_token();
          err = simdjson::SUCCESS;
        }
        if (err != simdjson::SUCCESS) {
          ok = false;
          break;
        }
        lazy->members.push_back(
            {std::string(key), static_cast<size_t>(raw.data() - lazy->text.data()), raw.size()});
      }
    }
    if (!ok) return ParseJsonText(cx, json, out);
    JS::RootedObject o(cx, JS_NewObject(cx, &kLazyClass));
    if (!o) return false;
    // Tell the GC about the C++ memory this object owns, so it collects often enough.
    lazy->accounted_bytes =
        sizeof(LazyJson) + lazy->text.size() + lazy->members.size() * sizeof(LazyJson::Member);
    size_t bytes = lazy->accounted_bytes;
    JS::SetReservedSlot(o, 0, JS::PrivateValue(lazy.release()));
    JS::AddAssociatedMemory(o, bytes, JS::MemoryUse::Embedding1);
    out.setObject(*o);
    return true;
  }
  simdjson::ondemand::parser lazy_parser;

  JSObject* BytesArray(std::string_view bytes) {
    JS::RootedValueVector vals(cx);
    if (!vals.resize(bytes.size())) return nullptr;
    for (size_t i = 0; i < bytes.size(); ++i) {
      vals[i].setInt32(static_cast<uint8_t>(bytes[i]));
    }
    return JS::NewArrayObject(cx, vals);
  }

  JSObject* Variables(const std::map<std::string, std::string>& vars) {
    JS::RootedObject obj(cx, JS_NewPlainObject(cx));
    if (!obj) return nullptr;
    for (const auto& [k, v] : vars) {
      JS::RootedString s(cx, JS_NewStringCopyUTF8N(cx, JS::UTF8Chars(v.data(), v.size())));
      if (!s) return nullptr;
      JS::RootedValue sv(cx, JS::StringValue(s));
      if (!JS_DefineProperty(cx, obj, k.c_str(), sv, JSPROP_ENUMERATE)) return nullptr;
    }
    return obj;
  }

  // Builds the arguments for the decoder's contract. False with an exception pending on failure.
  bool BuildArgs(Contract c, const DecodeInput& in, JS::RootedValueVector* args) {
    switch (c) {
      case Contract::kOs2iot: {
        JS::RootedValue payload(cx), metadata(cx);
        if (!in.uplink_json.empty()) {
          if (!LazyJsonValue(in.uplink_json, &payload)) return false;
        } else {
          JS::RootedObject p(cx, JS_NewPlainObject(cx));
          std::string b64 = EncodeBase64(in.bytes);
          JS::RootedString s(cx, JS_NewStringCopyN(cx, b64.data(), b64.size()));
          if (!p || !s) return false;
          JS::RootedValue sv(cx, JS::StringValue(s));
          if (!JS_DefineProperty(cx, p, "data", sv, JSPROP_ENUMERATE) ||
              !JS_DefineProperty(cx, p, "fPort", in.fport, JSPROP_ENUMERATE)) {
            return false;
          }
          payload.setObject(*p);
        }
        if (!in.device_json.empty()) {
          if (!LazyJsonValue(in.device_json, &metadata)) return false;
        } else {
          JSObject* m = JS_NewPlainObject(cx);
          if (!m) return false;
          metadata.setObject(*m);
        }
        return args->append(payload) && args->append(metadata);
      }
      case Contract::kTtnDecodeUplink: {
        JS::RootedObject input(cx, JS_NewPlainObject(cx));
        JS::RootedObject bytes(cx, BytesArray(in.bytes));
        JS::RootedObject date(
            cx, JS::NewDateObject(cx, JS::TimeClip(static_cast<double>(in.recv_time))));
        JS::RootedObject vars(cx, Variables(in.variables));
        if (!input || !bytes || !date || !vars) return false;
        if (!JS_DefineProperty(cx, input, "bytes", bytes, JSPROP_ENUMERATE) ||
            !JS_DefineProperty(cx, input, "fPort", in.fport, JSPROP_ENUMERATE) ||
            !JS_DefineProperty(cx, input, "recvTime", date, JSPROP_ENUMERATE) ||
            !JS_DefineProperty(cx, input, "variables", vars, JSPROP_ENUMERATE)) {
          return false;
        }
        return args->append(JS::ObjectValue(*input));
      }
      case Contract::kTtnV2Decoder: {
        JSObject* bytes = BytesArray(in.bytes);
        if (!bytes) return false;
        return args->append(JS::ObjectValue(*bytes)) && args->append(JS::Int32Value(in.fport));
      }
      case Contract::kChirpstackV3Decode: {
        JS::RootedObject bytes(cx, BytesArray(in.bytes));
        JS::RootedObject vars(cx, Variables(in.variables));
        if (!bytes || !vars) return false;
        return args->append(JS::Int32Value(in.fport)) && args->append(JS::ObjectValue(*bytes)) &&
               args->append(JS::ObjectValue(*vars));
      }
      default:
        return false;
    }
  }

  // Reads `obj[name]` as a list of strings (decodeUplink / encodeDownlink `warnings` and
  // `errors`). Absent, undefined or null: empty. Not an array: an error. Items that are not
  // strings are converted with String(), as TTN does. Runs inside the timed call.
  Status ReadStringList(JS::HandleObject obj, const char* owner, const char* name,
                        std::vector<std::string>* out) {
    JS::RootedValue v(cx);
    if (!JS_GetProperty(cx, obj, name, &v)) return InvalidArgument(TakeError(owner));
    if (v.isNullOrUndefined()) return Status::Ok();
    bool is_array = false;
    if (v.isObject()) {
      JS::RootedObject a(cx, &v.toObject());
      if (!JS::IsArrayObject(cx, a, &is_array)) return InvalidArgument(TakeError(owner));
    }
    if (!is_array) {
      return InvalidArgument(std::string(owner) + ": `" + name + "` must be an array of strings");
    }
    JS::RootedObject a(cx, &v.toObject());
    uint32_t n = 0;
    if (!JS::GetArrayLength(cx, a, &n)) return InvalidArgument(TakeError(owner));
    for (uint32_t i = 0; i < n && i < kMaxListItems; ++i) {
      JS::RootedValue e(cx);
      if (!JS_GetElement(cx, a, i, &e)) return InvalidArgument(TakeError(owner));
      JS::RootedString str(cx, JS::ToString(cx, e));
      if (!str) return InvalidArgument(TakeError(owner));
      std::string item = ToUtf8(cx, str);
      if (item.size() > kMaxLogLineBytes) item.resize(kMaxLogLineBytes);
      out->push_back(std::move(item));
    }
    if (n > kMaxListItems) {
      out->push_back("(" + std::to_string(n - kMaxListItems) + " more " + name + " left out)");
    }
    return Status::Ok();
  }

  static Status ReportedErrors(const char* who, const std::vector<std::string>& errors) {
    std::string msg = std::string(who) + " reported " + std::to_string(errors.size()) +
                      (errors.size() == 1 ? " error: " : " errors, the first: ") + errors[0];
    if (msg.size() > 300) msg = msg.substr(0, 297) + "...";
    return InvalidArgument(std::move(msg));
  }

  // Collects decodeUplink's {data, warnings, errors}: `data` into *data (may be undefined when
  // errors were reported), the lists into the result. Runs inside the timed call.
  Status UnpackUplinkResult(JS::HandleValue rv, JS::MutableHandleValue data, DecodeResult* r) {
    if (!rv.isObject()) {
      return InvalidArgument(std::string("decodeUplink must return an object {data, warnings, "
                                         "errors}, not ") +
                             (rv.isNull()        ? "null"
                              : rv.isUndefined() ? "undefined"
                                                 : "a primitive"));
    }
    JS::RootedObject obj(cx, &rv.toObject());
    BYSANS_RETURN_IF_ERROR(ReadStringList(obj, "decodeUplink result", "warnings", &r->warnings));
    BYSANS_RETURN_IF_ERROR(ReadStringList(obj, "decodeUplink result", "errors", &r->errors));
    if (!JS_GetProperty(cx, obj, "data", data)) {
      return InvalidArgument(TakeError("decodeUplink result"));
    }
    if (r->errors.empty() && data.isNullOrUndefined()) {
      return InvalidArgument(std::string("decodeUplink returned ") +
                             (data.isNull() ? "null" : "no") + " data and no errors");
    }
    return Status::Ok();
  }

  // Ends a failed call: the status, the call closed, the realm dropped when memory ran out.
  void Fail(Status st, const JsDecoder& d) {
    failure = std::move(st);
    JS_ClearPendingException(cx);
    EndCall();
    AfterFailure(d);
  }
  Status failure;

  // `r` with duration_us set to the time since `start` (Decode and Encode results).
  template <typename Result>
  static Result Timed(Result r, SteadyClock::time_point start) {
    r.duration_us =
        std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
    return r;
  }

  DecodeResult Run(const JsDecoder& d, const DecodeInput& in, Id device_id, const Limits& limits) {
    auto start = SteadyClock::now();
    DecodeResult result;
    auto finish = [&](DecodeResult& r) { return Timed(std::move(r), start); };
    auto failed = [&](Status st) {
      Fail(std::move(st), d);
      result.status = failure;
      result.output_json.clear();
      return finish(result);
    };
    auto compiled = Compile(d, limits, &result.log);
    if (!compiled.ok()) {
      result.status = compiled.status();
      return finish(result);
    }
    // Only a compile that succeeded is set-up later calls do not pay again (a failed one is
    // not cached: it is paid by every call).
    result.compile_us =
        std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
    CompiledDecoder* dec = *compiled;
    Result<js::EntryChoice> explicit_entry = js::EntryChoice{};
    if (d.contract != Contract::kUnknown) explicit_entry = ExplicitEntry(*dec, d.contract);
    const Result<js::EntryChoice>& entry =
        d.contract == Contract::kUnknown ? dec->auto_choice : explicit_entry;
    if (!entry.ok()) {
      result.status = entry.status();
      return finish(result);
    }
    Contract contract = entry->contract;
    result.entry_point = EntryPointName(contract);
    if (!entry->warning.empty()) result.warnings.push_back(entry->warning);
    JS::RootedObject global(cx, GlobalOf(*dec));
    JSAutoRealm ar(cx, global);
    JS::RootedValueVector args(cx);
    BeginCall(limits, &result.log);
    if (!BuildArgs(contract, in, &args)) {
      return failed(InvalidArgument(TakeError("decoder input could not be built")));
    }
    JS::RootedValue fval(cx, JS::ObjectValue(*dec->fn(SlotOf(contract))));
    JS::RootedValue rv(cx);
    if (!JS_CallFunctionValue(cx, nullptr, fval, args, &rv)) {
      return failed(InvalidArgument(TakeError("decoder failed")));
    }
    JS::RootedValue out(cx, rv);
    if (contract == Contract::kTtnDecodeUplink) {
      Status st = UnpackUplinkResult(rv, &out, &result);
      if (!st.ok()) return failed(std::move(st));
    } else if (out.isNullOrUndefined()) {
      return failed(InvalidArgument(std::string(result.entry_point) + " returned " +
                                    (out.isNull() ? "null" : "undefined") + " (no output)"));
    }
    bool has_output = !out.isNullOrUndefined();
    if (has_output && (out.isSymbol() || (out.isObject() && JS::IsCallable(&out.toObject())))) {
      if (result.errors.empty()) {
        return failed(InvalidArgument(
            "decoder returned a value that is not JSON-serialisable (function or symbol)"));
      }
      has_output = false;
    }
    // The output is read first and the promise jobs run after it, as in Node, where microtasks
    // run once the synchronous caller is done; both inside the timed call.
    if (has_output) {
      JsonSink sink{&result.output_json, limits.output_bytes};
      bool ok = JS_Stringify(cx, &out, nullptr, JS::NullHandleValue, JsonWrite, &sink);
      if (!ok || sink.overflow) {
        return failed(InvalidArgument(sink.overflow
                                          ? "decoder output exceeds the limit of " +
                                                std::to_string(limits.output_bytes) + " bytes"
                                          : TakeError("decoder output is not JSON-serialisable")));
      }
    }
    bool drained = jobs->Drain(cx);
    if (!drained || BudgetBroken()) {
      return failed(InvalidArgument(TakeError(drained ? "decoder" : "decoder promise job failed")));
    }
    EndCall();
    if (!result.errors.empty()) {
      // TTN meaning: decoding failed. `data`, when returned, is kept but gives no readings.
      result.status = ReportedErrors("decodeUplink", result.errors);
      return finish(result);
    }
    if (result.output_json.empty()) {
      result.status =
          InvalidArgument("decoder returned a value that is not JSON-serialisable (function?)");
      return finish(result);
    }
    auto conv = converter.Convert(result.output_json, device_id, in.recv_time);
    if (!conv.ok()) {
      result.status = conv.status();
    } else {
      result.readings = std::move(conv->readings);
      for (auto& w : conv->warnings) result.warnings.push_back(std::move(w));
    }
    return finish(result);
  }

  // Reads encodeDownlink's `bytes`: an array (or typed array) of at most kMaxDownlinkBytes
  // integers 0..255. Runs inside the timed call.
  Status ReadDownlinkBytes(JS::HandleObject obj, std::string* out) {
    static constexpr char kWhat[] = "encodeDownlink result";
    JS::RootedValue v(cx);
    if (!JS_GetProperty(cx, obj, "bytes", &v)) return InvalidArgument(TakeError(kWhat));
    bool is_array = false;
    if (v.isObject()) {
      JS::RootedObject a(cx, &v.toObject());
      if (!JS::IsArrayObject(cx, a, &is_array)) return InvalidArgument(TakeError(kWhat));
      is_array = is_array || JS_IsTypedArrayObject(a);
    }
    if (!is_array) {
      return InvalidArgument(
          "encodeDownlink must return {bytes: [...]}: an array of integers "
          "0..255");
    }
    JS::RootedObject a(cx, &v.toObject());
    uint32_t n = 0;
    if (JS_IsTypedArrayObject(a)) {
      n = static_cast<uint32_t>(std::min<size_t>(JS_GetTypedArrayLength(a), UINT32_MAX));
    } else if (!JS::GetArrayLength(cx, a, &n)) {
      return InvalidArgument(TakeError(kWhat));
    }
    if (n > kMaxDownlinkBytes) {
      return InvalidArgument("encodeDownlink returned " + std::to_string(n) +
                             " bytes; a LoRaWAN downlink carries at most " +
                             std::to_string(kMaxDownlinkBytes));
    }
    for (uint32_t i = 0; i < n; ++i) {
      JS::RootedValue e(cx);
      if (!JS_GetElement(cx, a, i, &e)) return InvalidArgument(TakeError(kWhat));
      double x = e.isNumber() ? e.toNumber() : -1;
      if (!(x >= 0 && x <= 255) || x != static_cast<double>(static_cast<int>(x))) {
        return InvalidArgument("encodeDownlink returned bytes[" + std::to_string(i) +
                               "] that is not an integer 0..255");
      }
      out->push_back(static_cast<char>(static_cast<int>(x)));
    }
    return Status::Ok();
  }

  // encodeDownlink's fPort: an integer 1..223, else the requested one, else an error.
  Status ReadDownlinkPort(JS::HandleObject obj, int requested, int* fport) {
    JS::RootedValue v(cx);
    if (!JS_GetProperty(cx, obj, "fPort", &v)) {
      return InvalidArgument(TakeError("encodeDownlink result"));
    }
    if (v.isNullOrUndefined()) {
      if (requested >= 1 && requested <= 223) {
        *fport = requested;
        return Status::Ok();
      }
      return InvalidArgument("encodeDownlink returned no fPort and none was requested");
    }
    double x = v.isNumber() ? v.toNumber() : 0;
    if (!(x >= 1 && x <= 223) || x != static_cast<double>(static_cast<int>(x))) {
      return InvalidArgument("encodeDownlink returned an fPort that is not an integer 1..223");
    }
    *fport = static_cast<int>(x);
    return Status::Ok();
  }

  EncodeResult RunEncode(const JsDecoder& d, const EncodeInput& in, const Limits& limits) {
    auto start = SteadyClock::now();
    EncodeResult result;
    auto finish = [&](EncodeResult& r) { return Timed(std::move(r), start); };
    auto failed = [&](Status st) {
      Fail(std::move(st), d);
      result.status = failure;
      result.bytes.clear();
      result.fport = 0;
      return finish(result);
    };
    auto compiled = Compile(d, limits, &result.log);
    if (!compiled.ok()) {
      result.status = compiled.status();
      return finish(result);
    }
    CompiledDecoder* dec = *compiled;
    JS::RootedObject global(cx, GlobalOf(*dec));
    JSAutoRealm ar(cx, global);
    if (dec->fn(kSlotEncodeDownlink) == nullptr) {
      result.status = FailedPrecondition(
          "decoder has no function encodeDownlink(input): it cannot encode downlink objects; "
          "send the bytes ('data' or 'hex') instead");
      return finish(result);
    }
    JS::RootedValue fval(cx, JS::ObjectValue(*dec->fn(kSlotEncodeDownlink)));
    BeginCall(limits, &result.log);
    JS::RootedObject input(cx, JS_NewPlainObject(cx));
    JS::RootedValue data(cx);
    JS::RootedObject vars(cx, Variables(in.variables));
    if (!input || !vars) return failed(InvalidArgument(TakeError("encoder input")));
    if (!ParseJson(in.data_json.empty() ? std::string_view("{}") : in.data_json, &data)) {
      return failed(InvalidArgument(TakeError("downlink object is not valid JSON")));
    }
    if (!JS_DefineProperty(cx, input, "data", data, JSPROP_ENUMERATE) ||
        (in.fport != 0 && !JS_DefineProperty(cx, input, "fPort", in.fport, JSPROP_ENUMERATE)) ||
        !JS_DefineProperty(cx, input, "variables", vars, JSPROP_ENUMERATE)) {
      return failed(InvalidArgument(TakeError("encoder input")));
    }
    JS::RootedValueVector args(cx);
    JS::RootedValue rv(cx);
    if (!args.append(JS::ObjectValue(*input)) ||
        !JS_CallFunctionValue(cx, nullptr, fval, args, &rv)) {
      return failed(InvalidArgument(TakeError("encodeDownlink failed")));
    }
    if (!rv.isObject()) {
      return failed(
          InvalidArgument("encodeDownlink must return an object {bytes, fPort, warnings, errors}"));
    }
    JS::RootedObject obj(cx, &rv.toObject());
    static constexpr char kWhat[] = "encodeDownlink result";
    Status st = ReadStringList(obj, kWhat, "warnings", &result.warnings);
    if (st.ok()) st = ReadStringList(obj, kWhat, "errors", &result.errors);
    if (st.ok() && !result.errors.empty()) st = ReportedErrors("encodeDownlink", result.errors);
    if (st.ok()) st = ReadDownlinkBytes(obj, &result.bytes);
    if (st.ok()) st = ReadDownlinkPort(obj, in.fport, &result.fport);
    bool drained = st.ok() && jobs->Drain(cx);
    if (st.ok() && (!drained || BudgetBroken())) {
      st = InvalidArgument(TakeError(drained ? "encodeDownlink" : "encoder promise job failed"));
    }
    if (!st.ok()) return failed(std::move(st));
    EndCall();
    return finish(result);
  }
};

JsEngine::JsEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JsEngine::~JsEngine() = default;

Result<std::unique_ptr<JsEngine>> JsEngine::Create(const Limits& defaults) {
  if (!InitSpiderMonkeyOnce()) return Internal("SpiderMonkey JS_Init failed");
  auto impl = std::make_unique<Impl>();
  impl->defaults = defaults;
  // The GC heap holds the cached decoders' realms besides what one call allocates.
  size_t gc_max = defaults.heap_bytes + defaults.cached_decoders * kRealmAllowanceBytes;
  impl->cx = JS_NewContext(gc_max);
  if (impl->cx == nullptr) return Internal("cannot create a SpiderMonkey context");
  JSContext* cx = impl->cx;
  JS_SetGCParameter(cx, JSGC_MAX_BYTES,
                    static_cast<uint32_t>(std::min<size_t>(gc_max, UINT32_MAX)));
  if (!JS::InitSelfHostedCode(cx)) return Internal("SpiderMonkey self-hosted code failed");
  JS_SetContextPrivate(cx, impl.get());
  if (pthread_getcpuclockid(pthread_self(), &impl->cpu_clock) != 0) {
    return Internal("cannot read the engine thread's CPU clock");
  }
  if (!JS_AddInterruptCallback(cx, &Impl::InterruptCallback)) {
    return Internal("cannot install the JS interrupt callback");
  }
  impl->jobs = js::MicrotaskQueue::Install(cx);
  {
    JS::RealmOptions options;
    impl->zone_anchor.init(
        cx, JS_NewGlobalObject(cx, &kGlobalClass, nullptr, JS::FireOnNewGlobalHook, options));
    if (!impl->zone_anchor) return Internal("cannot create the engine's first JS global");
  }
  js::ResetAllocLedger();  // one engine per thread: its ledger starts here
  Impl* raw = impl.get();
  impl->watchdog = std::thread([raw] { raw->WatchdogLoop(); });
  return std::unique_ptr<JsEngine>(new JsEngine(std::move(impl)));
}

DecodeResult JsEngine::Decode(const JsDecoder& decoder, const DecodeInput& input, Id device_id) {
  return Decode(decoder, input, device_id, impl_->defaults);
}

DecodeResult JsEngine::Decode(const JsDecoder& decoder, const DecodeInput& input, Id device_id,
                              const Limits& limits) {
  DecodeResult r = impl_->Run(decoder, input, device_id, limits);
  impl_->AfterCall(decoder);
  return r;
}

EncodeResult JsEngine::Encode(const JsDecoder& decoder, const EncodeInput& input,
                              const Limits& limits) {
  EncodeResult r = impl_->RunEncode(decoder, input, limits);
  impl_->AfterCall(decoder);
  return r;
}

void JsEngine::DropOrganisation(Id org_id) { impl_->DropOrg(org_id); }

size_t JsEngine::cached_decoders() const { return impl_->cache.size(); }

size_t JsEngine::GcHeapBytes(bool collect_first) {
  if (collect_first) JS_GC(impl_->cx);
  return JS_GetGCParameter(impl_->cx, JSGC_BYTES);
}

}  // namespace bysans::decode

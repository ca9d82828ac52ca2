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
#include <jsapi.h>
#include <malloc.h>
#include <pthread.h>
#include <simdjson.h>
#include <time.h>
#include <unistd.h>

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

#include "decode/js/microtask_queue.h"
#include "decode/js/prelude.h"
#include "decode/to_readings.h"

namespace bysans::decode {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kMaxLogLines = 100;
constexpr size_t kMaxLogLineBytes = 1000;
constexpr size_t kMaxCachedDecoders = 4096;

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

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto u = [&](size_t k) { return static_cast<uint8_t>(in[k]); };
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (u(i) << 16) | (u(i + 1) << 8) | u(i + 2);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = u(i) << 16;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (u(i) << 16) | (u(i + 1) << 8);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Forgiving base64 decode (WHATWG atob: whitespace ignored, padding optional).
bool Base64Decode(std::string_view in, std::string* out) {
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : in) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad > 0) return false;
    int v = B64Value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return pad <= 2 && bits < 6;
}

void AppendUtf16AsUtf8(const char16_t* s, size_t n, std::string* out) {
  for (size_t i = 0; i < n; ++i) {
    uint32_t c = s[i];
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < n && s[i + 1] >= 0xdc00 && s[i + 1] < 0xe000) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s[i + 1] - 0xdc00);
      ++i;
    } else if (c >= 0xd800 && c < 0xe000) {
      c = 0xfffd;
    }
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (c >> 6)));
      out->push_back(static_cast<char>(0x80 | (c & 63)));
    } else if (c < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (c >> 12)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 63)));
      out->push_back(static_cast<char>(0x80 | (c & 63)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (c >> 18)));
      out->push_back(static_cast<char>(0x80 | ((c >> 12) & 63)));
      out->push_back(static_cast<char>(0x80 | ((c >> 6) & 63)));
      out->push_back(static_cast<char>(0x80 | (c & 63)));
    }
  }
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

// Per decoder version: the entry functions its code defines.
struct CompiledDecoder {
  Contract contract = Contract::kUnknown;
  JS::PersistentRootedObject entry;  // the function for `contract`
  Id org_id = 0;
  CompiledDecoder(JSContext* cx) : entry(cx) {}  // NOLINT
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
  std::map<Id, std::unique_ptr<JS::PersistentRootedObject>> globals;
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
    globals.clear();
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
    std::string out = Base64Encode(bytes);
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

  Result<JSObject*> GlobalFor(Id org_id) {
    auto it = globals.find(org_id);
    if (it != globals.end()) return it->second->get();
    JS::RealmOptions options;
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
    JS::CompileOptions opts(cx);
    opts.setFileAndLine("bysans-prelude", 1);
    JS::SourceText<mozilla::Utf8Unit> src;
    if (!src.init(cx, js::kPrelude, std::strlen(js::kPrelude), JS::SourceOwnership::Borrowed)) {
      return Internal("cannot load prelude");
    }
    JS::RootedValue rv(cx);
    if (!JS::Evaluate(cx, opts, src, &rv)) {
      JS_ClearPendingException(cx);
      return Internal("JS prelude failed");
    }
    auto rooted = std::make_unique<JS::PersistentRootedObject>(cx, global);
    JSObject* g = rooted->get();
    globals.emplace(org_id, std::move(rooted));
    return g;
  }

  // Describes and clears the pending exception (or the reason there is none).
  std::string TakeError(const char* what) {
    if (memory_exceeded) {
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
    memory_budget = defaults.heap_bytes;
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
    jobs->Clear();
    call_active.store(false, std::memory_order_release);
    log = nullptr;
  }

  void AfterFailure(Id org_id) {
    if (out_of_memory) {
      // The realm may hold half-built state: start the organisation afresh and reclaim memory.
      DropOrg(org_id);
      JS_GC(cx);
    }
  }

  void DropOrg(Id org_id) {
    for (auto it = cache.begin(); it != cache.end();) {
      it = it->second->org_id == org_id ? cache.erase(it) : std::next(it);
    }
    globals.erase(org_id);
  }

  // Takes the entry point from the array the compiled top level returns. The decoder controls
  // that value (a top-level `return` ends its code early), so it is only read as a plain array's
  // own data properties: no getter, Proxy trap or conversion, i.e. no decoder code, runs here.
  Status PickEntry(JS::HandleValue rv, CompiledDecoder* compiled) {
    static constexpr char kReturned[] =
        "decoder top level returned a value: a decoder must not use `return` outside a function";
    if (!rv.isObject()) return InvalidArgument(kReturned);
    JS::RootedObject arr(cx, &rv.toObject());
    bool is_array = false;
    if (::js::IsProxy(arr) || !JS::IsArrayObject(cx, arr, &is_array) || !is_array) {
      JS_ClearPendingException(cx);
      return InvalidArgument(kReturned);
    }
    static constexpr Contract kOrder[] = {Contract::kTtnDecodeUplink, Contract::kOs2iot,
                                          Contract::kChirpstackV3Decode, Contract::kTtnV2Decoder};
    for (uint32_t i = 0; i < 4; ++i) {
      JS::Rooted<mozilla::Maybe<JS::PropertyDescriptor>> desc(cx);
      JS::RootedId id(cx, JS::PropertyKey::Int(static_cast<int32_t>(i)));
      if (!JS_GetOwnPropertyDescriptorById(cx, arr, id, &desc)) {
        JS_ClearPendingException(cx);
        return InvalidArgument(kReturned);
      }
      if (desc.isNothing() || !desc->isDataDescriptor()) continue;
      const JS::Value& f = desc->value();
      if (f.isObject() && JS::IsCallable(&f.toObject())) {
        compiled->contract = kOrder[i];
        compiled->entry = &f.toObject();
        break;
      }
    }
    return Status::Ok();
  }

  Result<CompiledDecoder*> Compile(const JsDecoder& d, const Limits& limits,
                                   std::vector<std::string>* call_log) {
    CacheKey key{d.org_id, d.decoder_id, d.version,
                 d.decoder_id == 0 ? std::hash<std::string_view>{}(d.code) : 0};
    auto it = cache.find(key);
    if (it != cache.end()) return it->second.get();
    if (cache.size() >= kMaxCachedDecoders) cache.clear();

    BYSANS_ASSIGN_OR_RETURN(JSObject * g, GlobalFor(d.org_id));
    JS::RootedObject global(cx, g);
    JSAutoRealm ar(cx, global);
    // The code becomes the body of a function, so its top-level declarations stay private to
    // this decoder; the appended statement hands back its entry points.
    std::string body(d.code);
    body +=
        "\n;return [typeof decodeUplink === 'function' ? decodeUplink : undefined,"
        " typeof decode === 'function' ? decode : undefined,"
        " typeof Decode === 'function' ? Decode : undefined,"
        " typeof Decoder === 'function' ? Decoder : undefined];";
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
    bool ok =
        JS_CallFunction(cx, global, fn, JS::HandleValueArray::empty(), &rv) && jobs->Drain(cx);
    if (!ok) {
      std::string err = TakeError("decoder top level failed");
      EndCall();
      AfterFailure(d.org_id);
      return InvalidArgument(std::move(err));
    }
    auto compiled = std::make_unique<CompiledDecoder>(cx);
    compiled->org_id = d.org_id;
    Status picked = PickEntry(rv, compiled.get());
    EndCall();
    if (!picked.ok()) return picked;
    if (compiled->contract == Contract::kUnknown) {
      return InvalidArgument(
          "decoder defines none of decodeUplink(input), decode(payload, metadata), "
          "Decode(fPort, bytes, variables) or Decoder(bytes, port)");
    }
    CompiledDecoder* ptr = compiled.get();
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
          std::string b64 = Base64Encode(in.bytes);
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

  // Collects decodeUplink's {data, warnings, errors}. Returns the `data` value in *data.
  Status UnpackUplinkResult(JS::HandleValue rv, JS::MutableHandleValue data,
                            std::vector<std::string>* warnings) {
    if (!rv.isObject()) {
      return InvalidArgument("decodeUplink must return an object {data, warnings, errors}");
    }
    JS::RootedObject obj(cx, &rv.toObject());
    auto strings = [&](const char* name, std::vector<std::string>* out) -> bool {
      JS::RootedValue v(cx);
      if (!JS_GetProperty(cx, obj, name, &v)) return false;
      if (!v.isObject()) return true;
      JS::RootedObject a(cx, &v.toObject());
      bool is_array = false;
      if (!JS::IsArrayObject(cx, a, &is_array)) return false;
      if (!is_array) return true;
      uint32_t n = 0;
      if (!JS::GetArrayLength(cx, a, &n)) return false;
      for (uint32_t i = 0; i < n && i < 100; ++i) {
        JS::RootedValue e(cx);
        if (!JS_GetElement(cx, a, i, &e)) return false;
        JS::RootedString s(cx, JS::ToString(cx, e));
        if (!s) return false;
        out->push_back(ToUtf8(cx, s));
      }
      return true;
    };
    std::vector<std::string> errors;
    if (!strings("warnings", warnings) || !strings("errors", &errors)) {
      return InvalidArgument(TakeError("decodeUplink result"));
    }
    if (!errors.empty()) {
      std::string msg = "decodeUplink reported errors: ";
      for (size_t i = 0; i < errors.size(); ++i) msg += (i ? "; " : "") + errors[i];
      return InvalidArgument(std::move(msg));
    }
    if (!JS_GetProperty(cx, obj, "data", data)) {
      return InvalidArgument(TakeError("decodeUplink result"));
    }
    if (data.isUndefined()) return InvalidArgument("decodeUplink returned no data");
    return Status::Ok();
  }

  DecodeResult Run(const JsDecoder& d, const DecodeInput& in, Id device_id, const Limits& limits) {
    auto start = SteadyClock::now();
    DecodeResult result;
    auto finish = [&](DecodeResult& r) {
      r.duration_us =
          std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
    };
    auto compiled = Compile(d, limits, &result.log);
    if (!compiled.ok()) {
      result.status = compiled.status();
      finish(result);
      return result;
    }
    CompiledDecoder* dec = *compiled;
    JS::RootedObject global(cx, globals.at(d.org_id)->get());
    JSAutoRealm ar(cx, global);
    JS::RootedValueVector args(cx);
    BeginCall(limits, &result.log);
    bool ok = BuildArgs(dec->contract, in, &args);
    if (!ok) {
      result.status = InvalidArgument(TakeError("decoder input could not be built"));
      EndCall();
      AfterFailure(d.org_id);
      finish(result);
      return result;
    }
    JS::RootedValue fval(cx, JS::ObjectValue(*dec->entry));
    JS::RootedValue rv(cx);
    ok = JS_CallFunctionValue(cx, nullptr, fval, args, &rv);
    if (!ok) {
      result.status = InvalidArgument(TakeError("decoder failed"));
      EndCall();
      AfterFailure(d.org_id);
      finish(result);
      return result;
    }
    JS::RootedValue out(cx, rv);
    if (dec->contract == Contract::kTtnDecodeUplink) {
      Status st = UnpackUplinkResult(rv, &out, &result.warnings);
      if (!st.ok()) {
        EndCall();
        result.status = st;
        finish(result);
        return result;
      }
    }
    if (out.isUndefined() || out.isSymbol() ||
        (out.isObject() && JS::IsCallable(&out.toObject()))) {
      EndCall();
      result.status = InvalidArgument(
          out.isUndefined() ? "decoder returned undefined (no output)"
                            : "decoder returned a value that is not JSON-serialisable (function "
                              "or symbol)");
      finish(result);
      return result;
    }
    // The output is read first and the promise jobs run after it, as in Node, where microtasks
    // run once the synchronous caller is done; both inside the timed call.
    JsonSink sink{&result.output_json, limits.output_bytes};
    ok = JS_Stringify(cx, &out, nullptr, JS::NullHandleValue, JsonWrite, &sink);
    if (ok && !sink.overflow && !jobs->Drain(cx)) {
      result.status = InvalidArgument(TakeError("decoder promise job failed"));
      EndCall();
      AfterFailure(d.org_id);
      result.output_json.clear();
      finish(result);
      return result;
    }
    if (!ok || sink.overflow) {
      std::string err = sink.overflow ? "decoder output exceeds the limit of " +
                                            std::to_string(limits.output_bytes) + " bytes"
                                      : TakeError("decoder output is not JSON-serialisable");
      JS_ClearPendingException(cx);
      EndCall();
      AfterFailure(d.org_id);
      result.output_json.clear();
      result.status = InvalidArgument(std::move(err));
      finish(result);
      return result;
    }
    EndCall();
    if (result.output_json.empty()) {
      result.status =
          InvalidArgument("decoder returned a value that is not JSON-serialisable (function?)");
      finish(result);
      return result;
    }
    auto conv = converter.Convert(result.output_json, device_id, in.recv_time);
    if (!conv.ok()) {
      result.status = conv.status();
    } else {
      result.readings = std::move(conv->readings);
      for (auto& w : conv->warnings) result.warnings.push_back(std::move(w));
    }
    finish(result);
    return result;
  }
};

JsEngine::JsEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JsEngine::~JsEngine() = default;

Result<std::unique_ptr<JsEngine>> JsEngine::Create(const Limits& defaults) {
  if (!InitSpiderMonkeyOnce()) return Internal("SpiderMonkey JS_Init failed");
  auto impl = std::make_unique<Impl>();
  impl->defaults = defaults;
  impl->cx = JS_NewContext(defaults.heap_bytes);
  if (impl->cx == nullptr) return Internal("cannot create a SpiderMonkey context");
  JSContext* cx = impl->cx;
  JS_SetGCParameter(cx, JSGC_MAX_BYTES, static_cast<uint32_t>(defaults.heap_bytes));
  if (!JS::InitSelfHostedCode(cx)) return Internal("SpiderMonkey self-hosted code failed");
  JS_SetContextPrivate(cx, impl.get());
  if (pthread_getcpuclockid(pthread_self(), &impl->cpu_clock) != 0) {
    return Internal("cannot read the engine thread's CPU clock");
  }
  if (!JS_AddInterruptCallback(cx, &Impl::InterruptCallback)) {
    return Internal("cannot install the JS interrupt callback");
  }
  impl->jobs = js::MicrotaskQueue::Install(cx);
  Impl* raw = impl.get();
  impl->watchdog = std::thread([raw] { raw->WatchdogLoop(); });
  return std::unique_ptr<JsEngine>(new JsEngine(std::move(impl)));
}

DecodeResult JsEngine::Decode(const JsDecoder& decoder, const DecodeInput& input, Id device_id) {
  return impl_->Run(decoder, input, device_id, impl_->defaults);
}

DecodeResult JsEngine::Decode(const JsDecoder& decoder, const DecodeInput& input, Id device_id,
                              const Limits& limits) {
  return impl_->Run(decoder, input, device_id, limits);
}

EncodeResult JsEngine::Encode(const JsDecoder&, const EncodeInput&, const Limits&) {
  EncodeResult r;
  r.status = FailedPrecondition("encodeDownlink is not supported by this build yet");
  return r;
}

void JsEngine::DropOrganisation(Id org_id) { impl_->DropOrg(org_id); }

size_t JsEngine::cached_decoders() const { return impl_->cache.size(); }

size_t JsEngine::GcHeapBytes(bool collect_first) {
  if (collect_first) JS_GC(impl_->cx);
  return JS_GetGCParameter(impl_->cx, JSGC_BYTES);
}

}  // namespace bysans::decode

#include "ingest/flatten.h"

#include <simdjson.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "core/json_depth.h"
#include "core/padded_copy.h"
#include "core/time_format.h"

namespace bysans::ingest {
namespace {

constexpr std::string_view kTimeMembers[] = {"timestamp", "time", "ts"};

// Collects readings for one message and enforces the limits. The key is kept
// as one growing path buffer: Push appends a segment, Pop restores the length.
class Emitter {
 public:
  Emitter(Id device_id, TimeMs ts, std::vector<Reading>& out)
      : device_id_(device_id), ts_(ts), out_(out), start_(out.size()) {}

  void set_ts(TimeMs ts) { ts_ = ts; }

  size_t Push(std::string_view segment) {
    size_t old = path_.size();
    if (!path_.empty()) path_.push_back('.');
    path_.append(segment);
    return old;
  }
  size_t PushIndex(size_t i) { return Push(std::to_string(i)); }
  void Pop(size_t old) { path_.resize(old); }

  Status Emit(Value v) {
    if (out_.size() - start_ >= kMaxReadingsPerMessage) {
      return InvalidArgument(
          "the message has more than " + std::to_string(kMaxReadingsPerMessage) +
          " values (limit kMaxReadingsPerMessage=" + std::to_string(kMaxReadingsPerMessage) + ")");
    }
    std::string_view key = path_.empty() ? std::string_view("value") : std::string_view(path_);
    if (key.size() > kMaxKeyLength) {
      return InvalidArgument("key '" + std::string(key.substr(0, 40)) + "...' is " +
                             std::to_string(key.size()) + " bytes long (limit " +
                             std::to_string(kMaxKeyLength) + ")");
    }
    Reading& r = out_.emplace_back();
    r.device_id = device_id_;
    r.key.assign(key);
    r.ts = ts_;
    r.value = std::move(v);
    return Status::Ok();
  }

  Status DepthError() const {
    return InvalidArgument("JSON nested deeper than " + std::to_string(kMaxFlattenDepth) +
                           " levels at '" + path_.substr(0, 60) + "'");
  }

  // Undo everything emitted (on error the caller's vector is unchanged).
  void Rollback() { out_.resize(start_); }

 private:
  Id device_id_;
  TimeMs ts_;
  std::vector<Reading>& out_;
  size_t start_;
  std::string path_;
};

std::optional<TimeMs> TimeFromMs(double d) {
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) return std::nullopt;
  return static_cast<TimeMs>(d);
}

// ---- simdjson (fast path) -------------------------------------------------

Status WalkSimd(simdjson::dom::element e, int depth, Emitter& em);

Status WalkSimdObject(simdjson::dom::object obj, int depth, Emitter& em,
                      std::string_view skip_member) {
  for (auto field : obj) {
    if (!skip_member.empty() && field.key == skip_member) continue;
    size_t old = em.Push(field.key);
    Status st = WalkSimd(field.value, depth, em);
    em.Pop(old);
    if (!st.ok()) return st;
  }
  return Status::Ok();
}

Status WalkSimd(simdjson::dom::element e, int depth, Emitter& em) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT:
      if (depth + 1 > kMaxFlattenDepth) return em.DepthError();
      return WalkSimdObject(simdjson::dom::object(e.get_object().value_unsafe()), depth + 1, em,
                            {});
    case element_type::ARRAY: {
      if (depth + 1 > kMaxFlattenDepth) return em.DepthError();
      // Copy the array out of the simdjson_result first: iterating the
      // result's value directly would outlive the temporary.
      simdjson::dom::array arr = e.get_array().value_unsafe();
      size_t i = 0;
      for (auto child : arr) {
        size_t old = em.PushIndex(i++);
        Status st = WalkSimd(child, depth + 1, em);
        em.Pop(old);
        if (!st.ok()) return st;
      }
      return Status::Ok();
    }
    case element_type::INT64:
      return em.Emit(static_cast<double>(e.get_int64().value_unsafe()));
    case element_type::UINT64:
      return em.Emit(static_cast<double>(e.get_uint64().value_unsafe()));
    case element_type::DOUBLE:
      return em.Emit(e.get_double().value_unsafe());
    case element_type::STRING:
      return em.Emit(std::string(e.get_string().value_unsafe()));
    case element_type::BOOL:
      return em.Emit(e.get_bool().value_unsafe());
    case element_type::NULL_VALUE:
      return Status::Ok();
  }
  return Status::Ok();
}

// Finds the message time member of a top-level object; returns its name.
std::string_view FindSimdTime(simdjson::dom::object obj, Emitter& em) {
  for (std::string_view name : kTimeMembers) {
    simdjson::dom::element v;
    if (obj.at_key(name).get(v) != simdjson::SUCCESS) continue;
    std::optional<TimeMs> t;
    if (v.is_string()) {
      t = ParseTime(v.get_string().value_unsafe());
    } else if (v.is_int64()) {
      t = v.get_int64().value_unsafe();
    } else if (v.is_double()) {
      t = TimeFromMs(v.get_double().value_unsafe());
    }
    if (t) {
      em.set_ts(*t);
      return name;
    }
  }
  return {};
}

// ---- nlohmann (fallback when simdjson refuses a document nlohmann accepts,
// e.g. integers beyond 64 bits or nesting beyond simdjson's own depth limit) --

using njson = nlohmann::json;

Status WalkN(const njson& e, int depth, Emitter& em, std::string_view skip_member) {
  switch (e.type()) {
    case njson::value_t::object:
      if (depth + 1 > kMaxFlattenDepth) return em.DepthError();
      for (const auto& [k, v] : e.items()) {
        if (!skip_member.empty() && k == skip_member) continue;
        size_t old = em.Push(k);
        Status st = WalkN(v, depth + 1, em, {});
        em.Pop(old);
        if (!st.ok()) return st;
      }
      return Status::Ok();
    case njson::value_t::array: {
      if (depth + 1 > kMaxFlattenDepth) return em.DepthError();
      size_t i = 0;
      for (const auto& v : e) {
        size_t old = em.PushIndex(i++);
        Status st = WalkN(v, depth + 1, em, {});
        em.Pop(old);
        if (!st.ok()) return st;
      }
      return Status::Ok();
    }
    case njson::value_t::number_integer:
    case njson::value_t::number_unsigned:
    case njson::value_t::number_float: {
      double d = e.get<double>();
      if (!std::isfinite(d)) return InvalidArgument("a number in the message is out of range");
      return em.Emit(d);
    }
    case njson::value_t::string:
      return em.Emit(e.get<std::string>());
    case njson::value_t::boolean:
      return em.Emit(e.get<bool>());
    default:
      return Status::Ok();
  }
}

std::string_view FindNTime(const njson& obj, Emitter& em) {
  for (std::string_view name : kTimeMembers) {
    auto it = obj.find(name);
    if (it == obj.end()) continue;
    std::optional<TimeMs> t;
    if (it->is_string()) {
      t = ParseTime(it->get_ref<const std::string&>());
    } else if (it->is_number_integer()) {
      t = TimeFromMs(it->get<double>());
    }
    if (t) {
      em.set_ts(*t);
      return name;
    }
  }
  return {};
}

// The parser's complaint with its byte position, for a user to act on.
Status MalformedJson(std::string_view text, const njson::parse_error& e) {
  std::string what = e.what();
  size_t colon = what.find(": ", what.find("column"));
  std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
  (void)text;
  return InvalidArgument("malformed JSON at byte " + std::to_string(e.byte) + ": " + detail);
}

}  // namespace

struct JsonFlattener::Impl {
  simdjson::dom::parser parser;
  std::string buffer;  // the text copied with simdjson's padding, reused
};

JsonFlattener::JsonFlattener() : impl_(std::make_unique<Impl>()) {}
JsonFlattener::~JsonFlattener() = default;

Status JsonFlattener::Flatten(std::string_view json_text, Id device_id, TimeMs ts,
                              std::vector<Reading>& out, const FlattenOptions& options) {
  Emitter em(device_id, ts, out);
  simdjson::dom::element root;
  const char* padded = PaddedCopy(json_text, simdjson::SIMDJSON_PADDING, impl_->buffer);
  auto err = impl_->parser.parse(padded, json_text.size(), false).get(root);
  Status st;
  if (err == simdjson::SUCCESS) {
    if (root.is_object()) {
      auto obj = root.get_object().value_unsafe();
      std::string_view skip = options.take_top_level_time ? FindSimdTime(obj, em) : "";
      st = WalkSimdObject(obj, 1, em, skip);
    } else {
      st = WalkSimd(root, 0, em);
    }
  } else {
    // Slow path: let nlohmann decide, for a precise error or a document
    // simdjson cannot represent. A document simdjson refused for its depth
    // is refused here before nlohmann builds it.
    BYSANS_RETURN_IF_ERROR(CheckJsonDepth(json_text, kMaxFlattenDepth));
    njson doc;
    try {
      doc = njson::parse(json_text);
    } catch (const njson::parse_error& e) {
      return MalformedJson(json_text, e);
    } catch (const njson::out_of_range& e) {
      return InvalidArgument(std::string("JSON holds a number that is not finite: ") + e.what());
    } catch (const std::exception& e) {
      return InvalidArgument(std::string("malformed JSON: ") + e.what());
    }
    if (doc.is_object()) {
      std::string_view skip = options.take_top_level_time ? FindNTime(doc, em) : "";
      st = WalkN(doc, 0, em, skip);
    } else {
      st = WalkN(doc, 0, em, {});
    }
  }
  if (!st.ok()) em.Rollback();
  return st;
}

Status FlattenJson(std::string_view json_text, Id device_id, TimeMs ts, std::vector<Reading>& out) {
  JsonFlattener f;
  return f.Flatten(json_text, device_id, ts, out);
}

}  // namespace bysans::ingest

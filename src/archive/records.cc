#include "archive/records.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/encoding.h"
#include "core/time_format.h"

namespace bysans::archive {
namespace {

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void AppendDouble(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";  // JSON has no NaN or infinity; the importer refuses such a line
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest that reads back exactly
  out.append(buf, end);
}

// A cursor over one line of a flat JSON object (string, number, true/false values).
class Flat {
 public:
  explicit Flat(std::string_view s) : s_(s) {}
  void Ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool Eat(char c) {
    Ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  char Peek() {
    Ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  bool AtEnd() {
    Ws();
    return i_ == s_.size();
  }
  // A string literal into `out` (escapes decoded).
  bool String(std::string& out) {
    out.clear();
    if (!Eat('"')) return false;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = 0;
            if (i_ + 1 >= s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') return false;
            i_ += 2;
            if (!Hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          Utf8(out, cp);
          break;
        }
        default:
          return false;
      }
    }
    return false;
  }
  // A number token (validated by from_chars by the caller).
  std::string_view NumberToken() {
    Ws();
    const size_t start = i_;
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '-' ||
                              s_[i_] == '+' || s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E'))
      ++i_;
    return s_.substr(start, i_ - start);
  }
  bool Literal(std::string_view word) {
    Ws();
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

 private:
  bool Hex4(uint32_t& v) {
    if (i_ + 4 > s_.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return false;
    }
    return true;
  }
  static void Utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  std::string_view s_;
  size_t i_ = 0;
};

Status FieldError(std::string_view field, std::string_view what) {
  return InvalidArgument("field \"" + std::string(field) + "\": " + std::string(what));
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

void AppendReadingLine(std::string& out, const Reading& r) {
  out += "{\"device\":";
  AppendInt(out, r.device_id);
  out += ",\"key\":";
  AppendJsonString(out, r.key);
  out += ",\"time\":\"";
  AppendRfc3339(out, r.ts);
  out += "\",\"value\":";
  if (const auto* d = std::get_if<double>(&r.value)) {
    AppendDouble(out, *d);
  } else if (const auto* b = std::get_if<bool>(&r.value)) {
    out += *b ? "true" : "false";
  } else {
    AppendJsonString(out, std::get<std::string>(r.value));
  }
  out += ",\"unit\":";
  AppendJsonString(out, r.unit);
  out += ",\"quality\":\"";
  out += QualityName(r.quality);
  out += "\"}\n";
}

Status ParseReadingLine(std::string_view line, Reading& r) {
  Flat f(line);
  if (!f.Eat('{')) return InvalidArgument("not a JSON object");
  enum : unsigned { kDevice = 1, kKey = 2, kTime = 4, kValue = 8, kUnit = 16, kQuality = 32 };
  unsigned seen = 0;
  std::string name, text;
  r.unit.clear();
  if (!f.Eat('}')) {
    do {
      if (!f.String(name)) return InvalidArgument("expected a field name");
      if (!f.Eat(':')) return InvalidArgument("expected ':' after \"" + name + "\"");
      if (name == "device") {
        const auto tok = f.NumberToken();
        int64_t v = 0;
        auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
        if (tok.empty() || ec != std::errc() || p != tok.data() + tok.size() || v <= 0)
          return FieldError(name, "must be a positive integer");
        r.device_id = v;
        seen |= kDevice;
      } else if (name == "key") {
        if (!f.String(r.key) || r.key.empty())
          return FieldError(name, "must be a non-empty string");
        seen |= kKey;
      } else if (name == "time") {
        if (!f.String(text)) return FieldError(name, "must be an RFC 3339 string");
        auto t = ParseTime(text);
        if (!t) return FieldError(name, "\"" + text + "\" is not an RFC 3339 time");
        r.ts = *t;
        seen |= kTime;
      } else if (name == "value") {
        const char c = f.Peek();
        if (c == '"') {
          if (!f.String(text)) return FieldError(name, "bad string");
          r.value = text;
        } else if (c == 't' || c == 'f') {
          if (f.Literal("true"))
            r.value = true;
          else if (f.Literal("false"))
            r.value = false;
          else
            return FieldError(name, "must be a number, string or boolean");
        } else {
          const auto tok = f.NumberToken();
          double v = 0;
          auto [p, ec] = std::from_chars(tok.data(), tok.data() + tok.size(), v);
          if (tok.empty() || ec != std::errc() || p != tok.data() + tok.size())
            return FieldError(name, "must be a number, string or boolean");
          r.value = v;
        }
        seen |= kValue;
      } else if (name == "unit") {
        if (!f.String(r.unit)) return FieldError(name, "must be a string");
        seen |= kUnit;
      } else if (name == "quality") {
        if (!f.String(text)) return FieldError(name, "must be a string");
        auto q = ParseQuality(text);
        if (!q) return FieldError(name, "unknown quality \"" + text + "\"");
        r.quality = *q;
        seen |= kQuality;
      } else {
        return FieldError(name, "unknown field");
      }
    } while (f.Eat(','));
    if (!f.Eat('}')) return InvalidArgument("expected ',' or '}'");
  }
  if (!f.AtEnd()) return InvalidArgument("text after the object");
  for (auto [bit, field] : {std::pair{kDevice, "device"}, std::pair{kKey, "key"},
                            std::pair{kTime, "time"}, std::pair{kValue, "value"}}) {
    if (!(seen & bit)) return FieldError(field, "missing");
  }
  if (!(seen & kQuality)) r.quality = Quality::kOk;
  return Status::Ok();
}

std::optional<DecodeStatus> ParseDecodeStatus(std::string_view s) {
  for (auto st :
       {DecodeStatus::kPending, DecodeStatus::kOk, DecodeStatus::kError, DecodeStatus::kNone}) {
    if (s == DecodeStatusName(st)) return st;
  }
  return std::nullopt;
}

void AppendRawMessageLine(std::string& out, const RawMessage& m) {
  nlohmann::json j = {{"id", m.id},
                      {"device", m.device_id},
                      {"time", FormatRfc3339(m.received_ms)},
                      {"transport", TransportName(m.transport)},
                      {"contentType", m.content_type},
                      {"payload", EncodeBase64(m.payload)},
                      {"decodeStatus", DecodeStatusName(m.decode_status)},
                      {"decodeError", m.decode_error},
                      {"decodeErrors", m.decode_errors},
                      {"decodeWarnings", m.decode_warnings}};
  out += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out.push_back('\n');
}

Status ParseRawMessageLine(std::string_view line, RawMessage& m) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("not a JSON object");
  auto want = [&](const char* field, auto check, const char* what) -> Status {
    auto it = j.find(field);
    if (it == j.end()) return FieldError(field, "missing");
    if (!check(*it)) return FieldError(field, what);
    return Status::Ok();
  };
  auto is_id = [](const nlohmann::json& v) {
    return v.is_number_integer() && v.get<int64_t>() > 0;
  };
  auto is_str = [](const nlohmann::json& v) { return v.is_string(); };
  auto is_strs = [](const nlohmann::json& v) {
    if (!v.is_array()) return false;
    for (const auto& e : v)
      if (!e.is_string()) return false;
    return true;
  };
  BYSANS_RETURN_IF_ERROR(want("id", is_id, "must be a positive integer"));
  BYSANS_RETURN_IF_ERROR(want("device", is_id, "must be a positive integer"));
  for (const char* f :
       {"time", "transport", "contentType", "payload", "decodeStatus", "decodeError"}) {
    BYSANS_RETURN_IF_ERROR(want(f, is_str, "must be a string"));
  }
  for (const char* f : {"decodeErrors", "decodeWarnings"}) {
    BYSANS_RETURN_IF_ERROR(want(f, is_strs, "must be an array of strings"));
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    static const char* kKnown[] = {"id",           "device",        "time",         "transport",
                                   "contentType",  "payload",       "decodeStatus", "decodeError",
                                   "decodeErrors", "decodeWarnings"};
    bool known = false;
    for (const char* k : kKnown) known = known || it.key() == k;
    if (!known) return FieldError(it.key(), "unknown field");
  }
  m.id = j["id"].get<int64_t>();
  m.device_id = j["device"].get<int64_t>();
  auto t = ParseTime(j["time"].get<std::string>());
  if (!t) return FieldError("time", "not an RFC 3339 time");
  m.received_ms = *t;
  auto tr = ParseTransport(j["transport"].get<std::string>());
  if (!tr) return FieldError("transport", "unknown transport");
  m.transport = *tr;
  m.content_type = j["contentType"].get<std::string>();
  auto payload = DecodeBase64(j["payload"].get<std::string>());
  if (!payload.ok()) return FieldError("payload", "not base64");
  m.payload = std::move(*payload);
  auto ds = ParseDecodeStatus(j["decodeStatus"].get<std::string>());
  if (!ds) return FieldError("decodeStatus", "unknown decode status");
  m.decode_status = *ds;
  m.decode_error = j["decodeError"].get<std::string>();
  m.decode_errors = j["decodeErrors"].get<std::vector<std::string>>();
  m.decode_warnings = j["decodeWarnings"].get<std::vector<std::string>>();
  return Status::Ok();
}

}  // namespace bysans::archive

#include "store/sqlite/raw_log_codec.h"

#include <array>

#include "store/sqlite/chunk_codec.h"

namespace bysans::sqlite {
namespace {

constexpr char kFormat = 1;

// Content types by code (index + 1); 0 means a literal follows.
constexpr std::array<std::string_view, 4> kContentTypes = {
    "application/json", "application/octet-stream", "application/senml+json", "text/plain"};

// a - b and a + b modulo 2^64: any two times round-trip, no signed overflow.
int64_t WrappingSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t WrappingAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

bool GetString(std::string_view* in, std::string_view* s) {
  uint64_t len = 0;
  if (!GetVarint(in, &len) || len > in->size()) return false;
  *s = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}

bool GetByte(std::string_view* in, uint8_t* b) {
  if (in->empty()) return false;
  *b = static_cast<uint8_t>(in->front());
  in->remove_prefix(1);
  return true;
}

}  // namespace

RawMessage RawLogEntry::ToMessage() const {
  RawMessage m;
  m.id = id;
  m.device_id = device_id;
  m.received_ms = received_ms;
  m.transport = transport;
  m.content_type = std::string(content_type);
  m.payload = std::string(payload);
  m.decode_status = decode_status;
  m.decode_error = std::string(decode_error);
  m.dedup_key = std::string(dedup_key);
  return m;
}

void EncodeRawLog(std::span<const RawMessage* const> msgs, std::string* out) {
  out->push_back(kFormat);
  TimeMs prev = 0;
  for (const RawMessage* m : msgs) {
    PutVarint(static_cast<uint64_t>(m->device_id), out);
    PutVarint(ZigZag(WrappingSub(m->received_ms, prev)), out);
    prev = m->received_ms;
    out->push_back(static_cast<char>(m->transport));
    out->push_back(static_cast<char>(m->decode_status));
    uint64_t code = 0;
    for (size_t i = 0; i < kContentTypes.size(); ++i) {
      if (m->content_type == kContentTypes[i]) code = i + 1;
    }
    PutVarint(code, out);
    if (code == 0) PutString(m->content_type, out);
    PutString(m->payload, out);
    PutString(m->decode_error, out);
    PutString(m->dedup_key, out);
  }
}

RawLogReader::RawLogReader(std::string_view data, Id first_id) : in_(data), next_id_(first_id) {
  if (in_.empty() || in_.front() != kFormat) {
    Fail();
  } else {
    in_.remove_prefix(1);
  }
}

bool RawLogReader::Fail() {
  if (status_.ok()) status_ = Internal("corrupt raw_log row");
  in_ = {};
  return false;
}

bool RawLogReader::Next(RawLogEntry* e) {
  if (in_.empty()) return false;
  uint64_t device = 0, delta = 0, code = 0;
  uint8_t transport = 0, decode = 0;
  if (!GetVarint(&in_, &device) || !GetVarint(&in_, &delta) || !GetByte(&in_, &transport) ||
      !GetByte(&in_, &decode) || !GetVarint(&in_, &code) || code > kContentTypes.size())
    return Fail();
  if (transport > static_cast<uint8_t>(Transport::kLorawan) ||
      decode > static_cast<uint8_t>(DecodeStatus::kNone))
    return Fail();
  if (code == 0) {
    if (!GetString(&in_, &e->content_type)) return Fail();
  } else {
    e->content_type = kContentTypes[code - 1];
  }
  if (!GetString(&in_, &e->payload) || !GetString(&in_, &e->decode_error) ||
      !GetString(&in_, &e->dedup_key))
    return Fail();
  e->id = next_id_++;
  e->device_id = static_cast<Id>(device);
  prev_ms_ = WrappingAdd(prev_ms_, UnZigZag(delta));
  e->received_ms = prev_ms_;
  e->transport = static_cast<Transport>(transport);
  e->decode_status = static_cast<DecodeStatus>(decode);
  return true;
}

}  // namespace bysans::sqlite

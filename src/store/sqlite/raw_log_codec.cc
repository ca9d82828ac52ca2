#include "store/sqlite/raw_log_codec.h"

#include <array>

#include "store/sqlite/chunk_codec.h"

namespace bysans::sqlite {
namespace {

constexpr char kFormatV1 = 1;  // without decode notes (before migration 15)
constexpr char kFormat = 2;
constexpr char kFormatZstd = 3;  // format 2 without its format byte, in one zstd frame
// Below this a row is stored as it is: a single small message gains little and zstd's frame
// header and the compression call would cost more than they save.
constexpr size_t kCompressFromBytes = 256;

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

bool GetStrings(std::string_view* in, std::vector<std::string>* out) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;  // each string takes >= 1 byte
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view s;
    if (!GetString(in, &s)) return false;
    if (out != nullptr) out->emplace_back(s);
  }
  return true;
}

void PutStrings(const std::vector<std::string>& list, std::string* out) {
  PutVarint(list.size(), out);
  for (const std::string& s : list) PutString(s, out);
}

}  // namespace

std::string EncodeDecodeNotes(const std::vector<std::string>& errors,
                              const std::vector<std::string>& warnings) {
  std::string out;
  if (errors.empty() && warnings.empty()) return out;
  PutStrings(errors, &out);
  PutStrings(warnings, &out);
  return out;
}

bool DecodeDecodeNotes(std::string_view in, std::vector<std::string>* errors,
                       std::vector<std::string>* warnings) {
  if (in.empty()) return true;
  return GetStrings(&in, errors) && GetStrings(&in, warnings) && in.empty();
}

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
  DecodeDecodeNotes(decode_notes, &m.decode_errors, &m.decode_warnings);  // checked by Next
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
    PutString(EncodeDecodeNotes(m->decode_errors, m->decode_warnings), out);
  }
}

Result<std::string_view> CompressRawLog(std::string_view row, ZstdCompressor& z,
                                        std::string* scratch) {
  if (row.size() < kCompressFromBytes || row.size() > kMaxRawLogRowBytes ||
      row.front() != kFormat) {
    return row;
  }
  scratch->assign(1, kFormatZstd);
  BYSANS_RETURN_IF_ERROR(z.Compress(row.substr(1), scratch));
  if (scratch->size() >= row.size()) return row;
  return std::string_view(*scratch);
}

RawLogReader::RawLogReader(std::string_view data, Id first_id) : in_(data), next_id_(first_id) {
  if (!in_.empty() && in_.front() == kFormatZstd) {
    Status st = ZstdDecompress(in_.substr(1), kMaxRawLogRowBytes, &plain_);
    if (!st.ok()) {
      status_ = Internal("corrupt raw_log row: " + st.message());
      in_ = {};
      return;
    }
    format_ = kFormat;
    in_ = plain_;
  } else if (in_.empty() || (in_.front() != kFormat && in_.front() != kFormatV1)) {
    Fail();
  } else {
    format_ = in_.front();
    in_.remove_prefix(1);
  }
}

bool RawLogReader::Fail() {
  if (status_.ok()) status_ = Internal("corrupt raw_log row");
  in_ = {};
  return false;
}

bool RawLogReader::Next(RawLogEntry* e) {
  while (NextEntry(e)) {
    if (e->device_id != kErasedDevice) return true;  // a tombstone keeps its id's place only
  }
  return false;
}

bool RawLogReader::NextEntry(RawLogEntry* e) {
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
  e->decode_notes = {};
  if (format_ != kFormatV1 &&
      (!GetString(&in_, &e->decode_notes) || !DecodeDecodeNotes(e->decode_notes, nullptr, nullptr)))
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

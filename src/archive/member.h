// One archive member as it is written and read: a file whose bytes are hashed (SHA-256) and
// counted, optionally gzip-compressed (the big JSON Lines files), written to a spool file first
// because a tar header needs the size before the data. Reading verifies the same way and hands
// out lines, so neither side ever holds a member's records in memory.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace bysans::archive {

// Streaming SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t n);
  std::string HexDigest();  // once

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes a member to `path`: Append text, then Finish. With gzip (level 1: the archive is
// written at the speed of the store) the stored bytes are a gzip stream (RFC 1952).
class MemberWriter {
 public:
  MemberWriter();
  ~MemberWriter();
  MemberWriter(const MemberWriter&) = delete;
  MemberWriter& operator=(const MemberWriter&) = delete;
  Status Open(const std::string& path, bool gzip);
  // Buffered; `records` is added to the record count.
  Status Append(std::string_view text, int64_t records = 0);
  Status Finish();
  int64_t records() const { return records_; }
  int64_t raw_bytes() const { return raw_bytes_; }        // before compression
  int64_t stored_bytes() const { return stored_bytes_; }  // as in the archive
  const std::string& sha256() const { return sha256_; }   // of the stored bytes

 private:
  Status Flush(bool finish);
  Status WriteOut(const void* data, size_t n);
  struct Z;
  std::unique_ptr<Z> z_;
  std::FILE* out_ = nullptr;
  bool gzip_ = false;
  std::string buf_;
  Sha256 sha_;
  int64_t records_ = 0, raw_bytes_ = 0, stored_bytes_ = 0;
  std::string sha256_;
};

// Reads `size` bytes at `offset` of `in` (a member), hashing them and, for gzip, inflating;
// Next gives the content line by line (without the '\n'). Check() after the last line compares
// the hash and tells a truncated or damaged gzip stream.
class LineReader {
 public:
  LineReader(std::FILE* in, int64_t offset, int64_t size, bool gzip, std::string name);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  // false at the end (or on an error: status()).
  bool Next(std::string_view& line);
  const Status& status() const { return status_; }
  int64_t line_no() const { return line_no_; }
  // The stored bytes' SHA-256 (after the last Next).
  std::string HexDigest() { return sha_.HexDigest(); }

 private:
  bool Fill();
  struct Z;
  std::unique_ptr<Z> z_;
  std::FILE* in_;
  int64_t left_;
  bool gzip_;
  std::string name_;
  std::vector<char> in_buf_;
  std::string data_;  // decoded bytes not yet handed out, from pos_
  size_t pos_ = 0;
  bool eof_ = false;
  Status status_;
  int64_t line_no_ = 0;
  Sha256 sha_;
};

// The whole member as bytes (small JSON files), hashed into `sha256_hex`.
Result<std::string> ReadMember(std::FILE* in, int64_t offset, int64_t size,
                               std::string& sha256_hex);

}  // namespace bysans::archive

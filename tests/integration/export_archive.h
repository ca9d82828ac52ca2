// Test helpers for export archives fetched over the API: wait for an export job, and the
// decompressed text of every member (to search for secrets).
#pragma once

#include <zlib.h>

#include <cstring>
#include <string>

#include "integration/fixture.h"

namespace bysans::testing {

// Starts an export of `org` as `client` and waits until its job is done; returns the job id
// (0 on failure).
inline int64_t ExportAndWait(HttpClient& client, int64_t org) {
  auto start = client.Request("POST", "/api/v1/organizations/" + std::to_string(org) + "/export",
                              "", {"Content-Type: application/json"});
  EXPECT_EQ(start.status, 202) << start.body;
  const int64_t job = start.Json().value("jobId", int64_t{0});
  if (job == 0) return 0;
  std::string state;
  WaitFor([&] {
    auto j = client.Get("/api/v1/jobs/" + std::to_string(job));
    state = j.Json().value("state", "");
    return state == "done" || state == "failed";
  });
  EXPECT_EQ(state, "done");
  return job;
}

inline std::string Base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out.push_back(kAlphabet[(v >> k) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// Every member of a tar archive, gzip members decompressed, concatenated.
inline std::string ArchiveText(const std::string& tar) {
  std::string out;
  size_t pos = 0;
  while (pos + 512 <= tar.size() && tar[pos] != '\0') {
    const std::string name(tar.c_str() + pos);
    const size_t size = std::stoull(std::string(tar, pos + 124, 11), nullptr, 8);
    std::string data = tar.substr(pos + 512, size);
    if (name.ends_with(".gz")) {
      z_stream s{};
      inflateInit2(&s, 15 + 16);
      s.next_in = reinterpret_cast<Bytef*>(data.data());
      s.avail_in = static_cast<uInt>(data.size());
      char buf[65536];
      int rc = Z_OK;
      do {
        s.next_out = reinterpret_cast<Bytef*>(buf);
        s.avail_out = sizeof buf;
        rc = inflate(&s, Z_NO_FLUSH);
        out.append(buf, sizeof buf - s.avail_out);
      } while (rc == Z_OK);
      inflateEnd(&s);
    } else {
      out += data;
    }
    pos += 512 + (size + 511) / 512 * 512;
  }
  return out;
}

}  // namespace bysans::testing

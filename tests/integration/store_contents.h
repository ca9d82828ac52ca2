// What a test server's store holds at rest, as text to search for a marker (erasure, secrets at
// rest), on either store:
// - SQLite (no BYSANS_STORE_URL in the server's environment): every byte of the database file and
//   its WAL in the data directory;
// - PostgreSQL: every row of every table of the server's database (the last path segment of its
//   BYSANS_STORE_URL, on the binary's SharedPostgres) as row text, where bytea columns read as hex
//   ("\x4d41…"): search for HexOf(marker) as well as the marker.
// For binaries that link bysans_test_postgres.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "unit/store_postgres/shared_postgres.h"

namespace bysans::testing {

// The database name of the server's BYSANS_STORE_URL; empty on SQLite.
inline std::string PostgresDatabaseOf(const std::vector<std::string>& server_env) {
  for (const std::string& e : server_env)
    if (e.rfind("BYSANS_STORE_URL=", 0) == 0) return e.substr(e.rfind('/') + 1);
  return "";
}

inline std::string StoredText(const std::string& data_dir,
                              const std::vector<std::string>& server_env) {
  const std::string db = PostgresDatabaseOf(server_env);
  if (!db.empty()) {
    if (!SharedPostgres::Get()) {
      ADD_FAILURE() << "no PostgreSQL to read the store of";
      return "";
    }
    auto rows = SharedPostgres::Get()->Query(
        db,
        "SELECT string_agg(query_to_xml(format('SELECT t::text AS r FROM %I t', table_name), "
        "false, false, '')::text, E'\\n') FROM information_schema.tables WHERE table_schema = "
        "'public' AND table_type = 'BASE TABLE'");
    EXPECT_TRUE(rows.ok()) << rows.status().message();
    return rows.ok() ? *rows : "";
  }
  std::string all;
  for (const char* f : {"bysans.db", "bysans.db-wal"}) {
    std::ifstream in(std::filesystem::path(data_dir) / f, std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

// Lower-case hex of the bytes, as PostgreSQL writes a bytea.
inline std::string HexOf(std::string_view s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// True when the store holds `marker`, as text or as bytes.
inline bool StoreHolds(const std::string& data_dir, const std::vector<std::string>& server_env,
                       std::string_view marker) {
  const std::string text = StoredText(data_dir, server_env);
  return text.find(marker) != std::string::npos || text.find(HexOf(marker)) != std::string::npos;
}

}  // namespace bysans::testing

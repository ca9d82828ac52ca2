// Test helper: whether bytes still stand anywhere in a server's database file or its WAL (the
// erasure tests search for a marker payload after an erasure).
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace bysans::testing {

inline bool InDatabaseFiles(const std::string& data_dir, const std::string& needle) {
  for (const char* f : {"/bysans.db", "/bysans.db-wal"}) {
    std::ifstream in(data_dir + f, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    if (s.str().find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace bysans::testing

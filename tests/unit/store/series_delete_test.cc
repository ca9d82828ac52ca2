// SeriesStore::DeleteReadings / DeleteSeries on SQLite: the freed bytes gone from the database
// file and its WAL. The behaviour every backend shares (ranges, ids, beside the writer):
// tests/unit/store_postgres/erase_backends_test.cc.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "unit/store/temp_store.h"

namespace bysans {
namespace {

using testing::StoreTest;

constexpr TimeMs kT0 = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
constexpr TimeMs kMin = 60'000;
constexpr const char* kMarker = "MARKER-7f3a9c1e-erase-me";

class SeriesDeleteTest : public StoreTest {
 protected:
  void Put(std::vector<Reading> rs) {
    IngestBatch b;
    b.readings = std::move(rs);
    Status s = store_->Append(std::move(b));
    ASSERT_TRUE(s.ok()) << s.message();
  }
  static Reading R(Id dev, std::string key, TimeMs ts, Value v) {
    return Reading{dev, std::move(key), ts, std::move(v), "", Quality::kOk};
  }
  std::vector<TimeMs> Times(Id dev, const std::string& key) {
    return testing::ReadingTimes(*store_, dev, key);
  }
  int64_t SeriesId(Id dev, const std::string& key) {
    auto list = store_->ListSeries({dev});
    EXPECT_TRUE(list.ok());
    for (const SeriesRef& s : *list)
      if (s.key == key) return s.id;
    return 0;
  }
  // Whether the marker's bytes are anywhere in the database file or its WAL.
  bool MarkerInFiles() {
    for (const std::string suffix : {"", "-wal"}) {
      std::ifstream f(dir_.path() + "/bysans.db" + suffix, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (bytes.find(kMarker) != std::string::npos) return true;
    }
    return false;
  }
};

// A distinctive string reading, sealed (Close) and then another unsealed: after DeleteReadings
// its bytes are in neither the database file nor the WAL.
TEST_F(SeriesDeleteTest, DeletedValuesAreGoneFromTheFiles) {
  Put({R(3, "status", kT0, std::string(kMarker) + "-sealed"), R(3, "temp", kT0, 20.0)});
  Reopen();  // Close seals the log into chunks
  Put({R(3, "status", kT0 + kMin, std::string(kMarker) + "-open")});
  ASSERT_TRUE(MarkerInFiles());  // the search can find it
  const int64_t sid = SeriesId(3, "status");
  ASSERT_TRUE(store_->DeleteReadings(sid, kT0, kT0 + kMin).ok());
  EXPECT_TRUE(Times(3, "status").empty());
  EXPECT_FALSE(MarkerInFiles());
  EXPECT_EQ(Times(3, "temp").size(), 1u);
  // DeleteSeries likewise.
  Put({R(3, "status", kT0 + 2 * kMin, std::string(kMarker) + "-again")});
  ASSERT_TRUE(MarkerInFiles());
  ASSERT_TRUE(store_->DeleteSeries(sid).ok());
  EXPECT_FALSE(MarkerInFiles());
}

}  // namespace
}  // namespace bysans

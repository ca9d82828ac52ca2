// Latest values of a device that sends large texts and many keys, on both backends: every key's
// newest reading comes back, whatever was sent in which order. On PostgreSQL such a device's
// packed row of latest values (rewritten at each of its messages) stays small: what does not fit
// is kept apart (store/postgres/latest_row.h).
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "model/reading_bytes.h"
#include "store/sqlite/store_impl.h"
#include "unit/store_postgres/series_backend_fixture.h"

namespace bysans::testing {
namespace {

class LatestBackendsTest : public SeriesBackendTest {
 protected:
  static constexpr Id kDev = 1;
  static constexpr int kNumbers = 200;  // more keys than a packed row holds
  static constexpr int kTexts = 20;

  static std::string Big(char c, size_t n = 20'000) { return std::string(n, c); }
  static std::string NumberKey(int i) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "k%03d", i);
    return buf;
  }

  // Sends `r` and records it as the key's expected latest reading when `newest`.
  void Send(Reading r, bool newest = true) {
    if (newest) expected_[r.key] = r;
    Put({std::move(r)});
  }

  // Latest, Keys and GetSeries all give `expected_`; ListSeries too, but a text longer than
  // kListedLatestTextBytes only as "a text" (empty, latest_text_omitted) with its time.
  void Check(const std::string& phase) {
    SCOPED_TRACE(phase);
    auto latest = s().Latest({kDev});
    ASSERT_TRUE(latest.ok()) << latest.status().message();
    ASSERT_EQ(latest->size(), expected_.size());
    std::sort(latest->begin(), latest->end(),  // the order is not part of the contract
              [](const Reading& a, const Reading& b) { return a.key < b.key; });
    auto want = expected_.begin();
    for (const Reading& r : *latest) {
      EXPECT_EQ(r.key, want->first);
      EXPECT_EQ(r.ts, want->second.ts) << r.key;
      EXPECT_TRUE(r.value == want->second.value) << r.key;
      EXPECT_EQ(r.unit, want->second.unit) << r.key;
      EXPECT_EQ(r.quality, want->second.quality) << r.key;
      ++want;
    }
    auto keys = s().Keys(kDev);
    ASSERT_TRUE(keys.ok()) << keys.status().message();
    std::vector<std::string> want_keys;
    for (const auto& [k, r] : expected_) want_keys.push_back(k);
    std::sort(keys->begin(), keys->end());
    EXPECT_EQ(*keys, want_keys);
    auto listed = s().ListSeries({kDev});
    ASSERT_TRUE(listed.ok()) << listed.status().message();
    ASSERT_EQ(listed->size(), expected_.size());
    for (const SeriesRef& sr : *listed) {
      ASSERT_TRUE(sr.latest.has_value()) << sr.key;
      EXPECT_EQ(sr.latest->ts, expected_[sr.key].ts) << sr.key;
      const Value& want_value = expected_[sr.key].value;
      const auto* text = std::get_if<std::string>(&want_value);
      const bool long_text = text && text->size() > kListedLatestTextBytes;
      EXPECT_EQ(sr.latest_text_omitted, long_text) << sr.key;
      EXPECT_TRUE(sr.latest->value == (long_text ? Value(std::string()) : want_value)) << sr.key;
      auto one = s().GetSeries(sr.id);
      ASSERT_TRUE(one.ok());
      ASSERT_TRUE(one->latest.has_value());
      EXPECT_TRUE(one->latest->value == expected_[sr.key].value) << sr.key;
    }
  }

  std::map<std::string, Reading> expected_;
};

TEST_P(LatestBackendsTest, EveryKeysNewestReadingWhateverItsSizeAndOrder) {
  std::vector<Reading> first;
  for (int i = 0; i < kNumbers; ++i)
    first.push_back(R(kDev, NumberKey(i), kT0, double(i), "m", Quality::kSpike));
  for (int i = 0; i < kTexts; ++i)
    first.push_back(R(kDev, "big" + std::to_string(i), kT0, Big(static_cast<char>('a' + i))));
  for (const Reading& r : first) expected_[r.key] = r;
  Put(first);
  Check("many keys and large texts");
  if (postgres()) {
    // The packed row holds at most 128 entries of at most 256 bytes (a few dozen bytes of
    // numbers each here); the rest, and every large text, are rows of their own.
    EXPECT_LT(std::stoll(Query("SELECT octet_length(vals) FROM device_latest")), 128 * 300);
    EXPECT_EQ(Query("SELECT count(*) FROM series_latest"), std::to_string(kNumbers + kTexts - 128));
  } else {
    // SQLite's series cache holds no text longer than 256 bytes: its memory is bounded by the
    // number of series, whatever texts devices send.
    auto* sqlite = dynamic_cast<sqlite::SqliteStore*>(&s());
    ASSERT_NE(sqlite, nullptr);
    EXPECT_EQ(sqlite->CachedLatestTextBytes(), 0u);
  }

  Send(R(kDev, "big0", kT0 + 10, std::string("small now")));
  Check("a large text's key gets a small one");
  Send(R(kDev, "big0", kT0 + 5, Big('x')), false);
  Check("an older large text does not replace the newer small one");
  Send(R(kDev, "big0", kT0 + 10, Big('y')));
  Check("a large text of the same time replaces it (the last write wins)");
  Send(R(kDev, "big0", kT0 + 10, std::string("small again")));
  Check("and a small one of the same time replaces that");
  Send(R(kDev, NumberKey(0), kT0 + 20, Big('z'), "m"));
  Check("a number's key gets a large text");
  ASSERT_TRUE(s().DeleteReadings(SeriesId(kDev, NumberKey(0)), kT0 + 20, kT0 + 20).ok());
  expected_[NumberKey(0)] = first[0];
  Check("the large text deleted: the number before it is the latest again");
  ASSERT_TRUE(s().DeleteReadings(SeriesId(kDev, "big1"), kT0 + 1, kT0 + 2).ok());
  Check("deleting readings that are not the latest changes nothing");
  ASSERT_TRUE(s().DeleteSeries(SeriesId(kDev, "big1")).ok());
  expected_.erase("big1");
  Check("a series deleted");
  Reopen();
  Check("reopened");
  if (postgres()) {
    EXPECT_LT(std::stoll(Query("SELECT octet_length(vals) FROM device_latest")), 128 * 300);
    EXPECT_EQ(Query("SELECT count(*) FROM series_latest WHERE series_id NOT IN "
                    "(SELECT id FROM series)"),
              "0");
  }
}

// The keys of `readings` as (device, key), in order.
std::vector<std::pair<Id, std::string>> KeysOf(const std::vector<Reading>& readings) {
  std::vector<std::pair<Id, std::string>> out;
  for (const Reading& r : readings) out.emplace_back(r.device_id, r.key);
  return out;
}

// LatestWithin: the devices' latest readings in slices of at most a budget (at least one reading
// each), device by device in the order asked and each device's keys in order, each slice going on
// where the one before stopped: what lets an API page or the rules' restore read devices that keep
// 1,000 keys of 64 KiB texts each without holding them all.
TEST_P(LatestBackendsTest, LatestInSlicesOfABudgetInTheOrderAsked) {
  std::vector<Reading> sent;
  for (int i = 29; i >= 0; --i)
    sent.push_back(R(3, NumberKey(i), kT0, Big(static_cast<char>('a' + i % 26), 10'000)));
  for (int i = 0; i < 50; ++i) sent.push_back(R(1, NumberKey(49 - i), kT0 + i, double(i), "m"));
  sent.push_back(R(4, "b", kT0, Big('q', 100'000)));
  sent.push_back(R(4, "a", kT0, true));
  sent.push_back(R(5, "elsewhere", kT0, 1.0));  // a device not asked for
  Put(sent);
  const std::vector<Id> order = {3, 2, 1, 4};  // 2 has no readings
  std::vector<std::pair<Id, std::string>> want;
  for (int i = 0; i < 30; ++i) want.emplace_back(3, NumberKey(i));
  for (int i = 0; i < 50; ++i) want.emplace_back(1, NumberKey(i));
  want.emplace_back(4, "a");
  want.emplace_back(4, "b");
  std::map<std::pair<Id, std::string>, Value> value;
  for (const Reading& r : sent) value[{r.device_id, r.key}] = r.value;

  auto all = s().Latest(order);
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(KeysOf(*all), want);

  for (size_t budget : {size_t{64} << 10, size_t{1}}) {
    SCOPED_TRACE("budget " + std::to_string(budget));
    LatestQuery q;
    q.device_ids = order;
    q.max_bytes = budget;
    std::vector<Reading> joined;
    size_t slices = 0;
    while (true) {
      auto slice = s().LatestWithin(q);
      ASSERT_TRUE(slice.ok()) << slice.status().message();
      ASSERT_FALSE(slice->readings.empty());
      size_t bytes = 0;
      for (const Reading& r : slice->readings) bytes += ReadingBytes(r);
      if (slice->readings.size() > 1) {
        EXPECT_LE(bytes, budget);
      }
      for (Reading& r : slice->readings) joined.push_back(std::move(r));
      ++slices;
      ASSERT_LT(slices, 200u);
      if (!slice->next) break;
      q.start = slice->next;
    }
    EXPECT_EQ(KeysOf(joined), want);
    for (const Reading& r : joined)
      EXPECT_TRUE(r.value == (value[{r.device_id, r.key}])) << r.device_id << " " << r.key;
    if (budget == 1) {
      EXPECT_EQ(slices, want.size());  // one reading a slice
    } else {
      EXPECT_GE(slices, 5u);  // device 3's 300 KB of texts and device 4's 100 KB
    }
  }

  LatestQuery stray;
  stray.device_ids = order;
  stray.start = LatestPosition{5, ""};
  EXPECT_EQ(s().LatestWithin(stray).status().code(), Code::kInvalidArgument);
}

BYSANS_ON_BOTH_BACKENDS(LatestBackendsTest);

}  // namespace
}  // namespace bysans::testing

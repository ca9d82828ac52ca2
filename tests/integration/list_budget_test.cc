// Reading and message lists within their byte budget (api/readings.cc kListBudgetBytes), and the
// public open-data history within its own (opendata/history.h max_bytes), against
// the real server on each store: a device's large messages (three 60 KB text readings each,
// under the 64 KiB a text reading may hold; one time per message) listed with the largest limits
// would be tens of MB in one answer; each
// answer stays within 16 MiB, says it was cut and where the rest begins (`next`, Link
// rel="next"), and following it gives every row exactly once, newest first — across a cut inside
// a run of readings of one time too.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "backend_fixture.h"

namespace bysans::testing {
namespace {

// The binary's PostgreSQL environment is registered once, in ingest_test.cc.

constexpr size_t kListBudgetBytes = size_t{16} << 20;  // as api/readings.cc
// The answer's other fields around its rows (deviceId, limit, total, truncated, next).
constexpr size_t kEnvelopeBytes = 4096;
constexpr int kMessages = 120;
constexpr size_t kValueBytes = 60'000;
constexpr std::array<const char*, 3> kKeys = {"a", "b", "c"};

// 2026-11-20T10:00:00Z plus `i` seconds, as the message's timestamp.
std::string TimeOf(int i) {
  char out[32];
  std::snprintf(out, sizeof out, "2026-11-20T10:%02d:%02d.000Z", i / 60, i % 60);
  return out;
}

// A row of a list: (key, ts) for readings, (id, receivedAt) for messages.
using Row = std::pair<std::string, std::string>;

class ListBudgetTest : public BackendServerTest {
 protected:
  void SetUp() override {
    BackendServerTest::SetUp();
    if (HasFatalFailure()) return;
    device_ = CreateHttpDevice("Budget Kommune");
    for (int i = 0; i < kMessages; ++i) {
      json body = {{"timestamp", TimeOf(i)}};
      for (const std::string k : kKeys) {
        std::string value = k + std::to_string(i) + "-";
        value.resize(kValueBytes, 'x');
        body[k] = value;
      }
      auto r = Ingest(device_.ingest_key, body.dump());
      ASSERT_EQ(r.status, 204) << r.body;
    }
  }

  std::string Path(const std::string& list) const {
    return "/api/v1/devices/" + std::to_string(device_.device_id) + "/" + list;
  }

  // GETs `path` and the pages its answers name until one is not cut; each answer must stay within
  // the budget and name the next page in its body (JSON) and its Link header alike. `rows_of`
  // gives an answer's rows.
  // `client` defaults to the admin's.
  template <typename RowsOf>
  std::vector<Row> FollowPages(std::string path, bool csv, RowsOf rows_of,
                               HttpClient* client = nullptr) {
    // Only the reading and message lists say `truncated`; the open-data history and the latest
    // values are cursor pagers, whose `next` alone says there is more.
    const bool says_truncated = path.find("/readings?") != std::string::npos ||
                                path.find("/messages?") != std::string::npos;
    std::vector<Row> rows;
    int pages = 0;
    while (!path.empty()) {
      ++pages;
      if (pages > 10) {
        ADD_FAILURE() << "more pages than the data can fill";
        break;
      }
      HttpResult r = (client ? client : admin_.get())->Get(path);
      EXPECT_EQ(r.status, 200) << r.body.substr(0, 300);
      EXPECT_LE(r.body.size(), kListBudgetBytes + kEnvelopeBytes) << path;
      const std::string link = r.headers["link"];
      std::string next;
      if (!link.empty()) {
        EXPECT_EQ(link.substr(link.size() - 13), ">; rel=\"next\"") << link;
        next = link.substr(1, link.find('>') - 1);
      }
      if (!csv) {
        const json j = r.Json();
        EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.body.substr(0, 300);
        if (j.is_discarded()) break;
        if (says_truncated) {
          EXPECT_EQ(j["truncated"], !next.empty()) << path;
        }
        EXPECT_EQ(j["next"], next.empty() ? json(nullptr) : json(next)) << path;
      }
      for (Row& row : rows_of(r)) rows.push_back(std::move(row));
      path = next.empty() ? "" : next.substr(next.find("/api/"));
    }
    EXPECT_GE(pages, 2) << "the first answer should have been cut at the budget";
    return rows;
  }

  // Every (key, ts) of the device's readings once, in any order.
  static void ExpectEveryReadingOnce(const std::vector<Row>& rows) {
    std::set<Row> want;
    for (int i = 0; i < kMessages; ++i)
      for (const char* k : kKeys) want.insert({k, TimeOf(i)});
    std::set<Row> got(rows.begin(), rows.end());
    EXPECT_EQ(got.size(), rows.size()) << "a reading came twice";
    EXPECT_EQ(got, want) << "a reading is missing";
  }

  // Every (key, ts) of the device's readings, newest first (keys of one time in any order).
  static void ExpectAllReadingsOnce(const std::vector<Row>& rows) {
    ExpectEveryReadingOnce(rows);
    for (size_t i = 1; i < rows.size(); ++i)
      EXPECT_GE(rows[i - 1].second, rows[i].second) << "not newest first at row " << i;
  }

  // The (key, ts) rows of a JSON answer's reading items, each value beginning with its key.
  static std::vector<Row> ReadingRows(const HttpResult& r) {
    std::vector<Row> out;
    const json j = r.Json();
    for (const json& item : j["items"]) {
      const auto key = item["key"].get<std::string>(), ts = item["ts"].get<std::string>();
      EXPECT_EQ(item["value"].get<std::string>().rfind(key, 0), 0u) << key << " " << ts;
      out.emplace_back(key, ts);
    }
    return out;
  }

  // The rows of a CSV answer: the fields `first` and `second` (0-based, before any quoted field)
  // of each line after the header.
  static std::vector<Row> CsvRows(const HttpResult& r, size_t first, size_t second) {
    std::vector<Row> rows;
    size_t line = r.body.find("\r\n");  // after the header
    while (line != std::string::npos && line + 2 < r.body.size()) {
      const size_t start = line + 2;
      line = r.body.find("\r\n", start);
      std::vector<std::string> fields;
      size_t at = start;
      while (fields.size() <= std::max(first, second)) {
        const size_t comma = r.body.find(',', at);
        fields.push_back(r.body.substr(at, comma - at));
        at = comma + 1;
      }
      rows.emplace_back(fields[first], fields[second]);
    }
    return rows;
  }

  // The public path of a published dataset of the device (every key); "" on failure.
  std::string PublishedDataset() {
    const std::string org = "/api/v1/organizations/" + std::to_string(device_.org_id);
    auto made = admin_->PostJson(org + "/open-data/datasets",
                                 {{"title", "Budget"},
                                  {"description", "Store tekster"},
                                  {"license", "https://creativecommons.org/licenses/by/4.0/"},
                                  {"contactName", "Teknik"},
                                  {"contactEmail", "teknik@example.dk"},
                                  {"deviceIds", {device_.device_id}}});
    EXPECT_EQ(made.status, 201) << made.body;
    if (made.status != 201) return "";
    const std::string id = std::to_string(made.Json()["id"].get<int64_t>());
    auto pub =
        admin_->Request("PUT", "/api/v1/open-data/datasets/" + id, json{{"published", true}}.dump(),
                        {"Content-Type: application/json"});
    EXPECT_EQ(pub.status, 200) << pub.body;
    return "/api/v1/open-data-dk-sharing/" + std::to_string(device_.org_id) + "/datasets/" + id;
  }

  DeviceHandle device_;
};

BYSANS_ON_BOTH_STORES(ListBudgetTest);

TEST_P(ListBudgetTest, ReadingsStayWithinTheBudgetAndNextGivesTheRestOnce) {
  // A small list is answered as before, whole.
  auto small = admin_->Get(Path("readings?key=a&limit=10"));
  ASSERT_EQ(small.status, 200) << small.body.substr(0, 300);
  EXPECT_EQ(small.Json()["items"].size(), 10u);
  EXPECT_EQ(small.Json()["truncated"], false);
  EXPECT_TRUE(small.Json()["next"].is_null());
  EXPECT_TRUE(small.headers["link"].empty());

  // Every key: 360 readings of 60 KB, cut inside a time's run of three.
  std::vector<Row> rows = FollowPages(Path("readings?limit=100000"), false, ReadingRows);
  ExpectAllReadingsOnce(rows);

  std::vector<Row> csv_rows = FollowPages(Path("readings?limit=100000&format=csv"), true,
                                          [](const HttpResult& r) { return CsvRows(r, 1, 2); });
  ExpectAllReadingsOnce(csv_rows);
}

TEST_P(ListBudgetTest, MessagesStayWithinTheBudgetAndNextGivesTheRestOnce) {
  auto ids_of = [](const std::vector<Row>& rows) {
    std::vector<int64_t> ids;
    for (const Row& row : rows) ids.push_back(std::stoll(row.first));
    return ids;
  };
  auto expect_all_once_newest_first = [&](const std::vector<Row>& rows) {
    std::vector<int64_t> ids = ids_of(rows);
    EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), size_t{kMessages})
        << "a message is missing or came twice";
    EXPECT_EQ(ids.size(), size_t{kMessages});
    for (size_t i = 1; i < ids.size(); ++i) EXPECT_GT(ids[i - 1], ids[i]) << "row " << i;
  };

  std::vector<Row> rows = FollowPages(Path("messages?limit=10000"), false, [](const HttpResult& r) {
    std::vector<Row> out;
    const json j = r.Json();
    for (const json& item : j["items"]) {
      EXPECT_GT(item["payload"].get<std::string>().size(), 3 * kValueBytes);
      out.emplace_back(std::to_string(item["id"].get<int64_t>()),
                       item["receivedAt"].get<std::string>());
    }
    return out;
  });
  expect_all_once_newest_first(rows);

  std::vector<Row> csv_rows = FollowPages(Path("messages?limit=10000&format=csv"), true,
                                          [](const HttpResult& r) { return CsvRows(r, 1, 2); });
  expect_all_once_newest_first(csv_rows);
}

// The public history of a published dataset (no login: anyone may ask, as often as they like) is
// bounded the same way: without it, `limit=10000` over a series of large text values would be
// hundreds of MB in one answer.
TEST_P(ListBudgetTest, OpenDataHistoryStaysWithinTheBudgetAndNextGivesTheRestOnce) {
  const std::string history = PublishedDataset() + "/history";
  ASSERT_FALSE(HasFailure());
  HttpClient anon(server_->url());

  // Every reading once, series by series (key a, b, c), each newest first.
  auto expect_all_once = [](const std::vector<Row>& rows) {
    ExpectEveryReadingOnce(rows);
    for (size_t i = 1; i < rows.size(); ++i) {
      EXPECT_TRUE(rows[i - 1].first < rows[i].first ||
                  (rows[i - 1].first == rows[i].first && rows[i - 1].second > rows[i].second))
          << "not series by series, newest first, at row " << i;
    }
  };
  std::vector<Row> rows =
      FollowPages(history + ".json?from=0&limit=10000", false, ReadingRows, &anon);
  expect_all_once(rows);

  std::vector<Row> csv_rows = FollowPages(
      history + ".csv?from=0&limit=10000", true,
      [](const HttpResult& r) { return CsvRows(r, 2, 3); }, &anon);
  expect_all_once(csv_rows);
}

// A device's latest values: one per key it ever sent. 96 more messages with three new 60 KB keys
// each make its latest values 17 MB (the reviewer's attack: one device, hundreds of large
// keys, its dataset's public `latest` asked for by anyone). The device's, its application's and
// the public dataset's latest values each come in pages within the budget whose `next` links
// give every key exactly once.
TEST_P(ListBudgetTest, LatestValuesStayWithinTheBudgetAndNextGivesEveryKeyOnce) {
  std::set<std::string> keys(kKeys.begin(), kKeys.end());
  for (int i = 0; i < 96; ++i) {
    json body;
    for (int k = 0; k < 3; ++k) {
      const std::string key = "n" + std::to_string(100 + i) + "_" + std::to_string(k);
      std::string value = key + "-";
      value.resize(kValueBytes, 'y');
      body[key] = value;
      keys.insert(key);
    }
    auto r = Ingest(device_.ingest_key, body.dump());
    ASSERT_EQ(r.status, 204) << r.body;
  }
  const std::string dataset = PublishedDataset();
  ASSERT_FALSE(HasFailure());
  HttpClient anon(server_->url());
  // (key, "") rows: a latest value's key; its value must begin with it.
  auto rows_of_items = [](const json& items, bool keyed_items) {
    std::vector<Row> out;
    for (const json& item : items) {
      if (keyed_items) {
        const auto key = item["key"].get<std::string>();
        EXPECT_EQ(item["value"].get<std::string>().rfind(key, 0), 0u) << key;
        out.emplace_back(key, "");
        continue;
      }
      for (const auto& [key, reading] : item["readings"].items()) {
        EXPECT_EQ(reading["value"].get<std::string>().rfind(key, 0), 0u) << key;
        out.emplace_back(key, "");
      }
    }
    return out;
  };
  struct List {
    std::string path;
    HttpClient* client;
    bool keyed_items;  // items are readings with a key, not devices with readings
  } lists[] = {
      {Path("latest"), admin_.get(), true},
      {"/api/v1/applications/" + std::to_string(device_.app_id) + "/latest", admin_.get(), false},
      {dataset + "/latest", &anon, false},
  };
  for (const List& list : lists) {
    SCOPED_TRACE(list.path);
    std::vector<Row> rows = FollowPages(
        list.path, false,
        [&](const HttpResult& r) {
          const json j = r.Json();
          return rows_of_items(j["items"], list.keyed_items);
        },
        list.client);
    std::set<std::string> got;
    for (const Row& row : rows) EXPECT_TRUE(got.insert(row.first).second) << row.first << " twice";
    EXPECT_EQ(got, keys);
  }
}

}  // namespace
}  // namespace bysans::testing

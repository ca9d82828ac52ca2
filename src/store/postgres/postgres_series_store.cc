#include "store/postgres/postgres_series_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "core/thread_name.h"
#include "model/reading_bytes.h"
#include "store/latest_slice.h"
#include "store/node_leases.h"
#include "store/postgres/change_feed.h"
#include "store/postgres/copy_rows.h"
#include "store/postgres/maintenance.h"
#include "store/postgres/migrations.h"
#include "store/postgres/pg_latest_values.h"
#include "store/postgres/pg_live_relay.h"
#include "store/postgres/pg_rule_feed.h"
#include "store/postgres/pool.h"
#include "store/postgres/raw_message_row.h"
#include "store/postgres/sql_text.h"
#include "store/postgres/value_columns.h"
#include "store/postgres/writer_share.h"
#include "store/rule_feed_codec.h"
#include "store/share_codec.h"

namespace bysans {
namespace {

using pg::DoubleArray;
using pg::FloorTo;
using pg::IntArray;
using pg::TextArray;

constexpr int64_t kHourMs = 3'600'000;
// Times are clamped here so that hour arithmetic cannot overflow.
constexpr int64_t kTimeLimit = int64_t{1} << 60;
int64_t Clamp(int64_t t) { return std::clamp(t, -kTimeLimit, kTimeLimit); }

// Text-format fields parsed directly (pqxx 6's conversions of numbers are much slower, and Latest
// of 10,000 devices parses ~500,000 of them).
int64_t I64(const pqxx::field& f) { return std::strtoll(f.c_str(), nullptr, 10); }
double F64(const pqxx::field& f) { return std::strtod(f.c_str(), nullptr); }

// Series with their device's latest values (NULL: none) and their latest reading kept apart
// (NULL: none; latest_row.h): SELECT kSeriesCols kSeriesFrom WHERE … (columns of `series s`).
constexpr const char* kSeriesCols =
    "s.id, s.device_id, s.key, s.unit, l.vals, x.ts, x.kind, x.num, x.txt, x.quality";
constexpr const char* kSeriesFrom =
    " FROM series s LEFT JOIN device_latest l ON l.device_id = s.device_id "
    "LEFT JOIN series_latest x ON x.series_id = s.id";
// ListSeries: kSeriesCols without the packed row (read once per device, not once per series),
// a text kept apart only up to kListedLatestTextBytes (store.h), then whether it was left out.
const std::string kListedSeriesCols =
    "s.id, s.device_id, s.key, s.unit, NULL, x.ts, x.kind, x.num, CASE WHEN octet_length(x.txt) "
    "<= " +
    std::to_string(kListedLatestTextBytes) +
    " THEN x.txt ELSE '' END, x.quality, "
    "octet_length(x.txt) > " +
    std::to_string(kListedLatestTextBytes);
// Latest readings kept apart: SELECT kApartMetaCols kApartFrom WHERE … (of `series_latest x`).
constexpr const char* kApartFrom = " FROM series_latest x JOIN series s ON s.id = x.series_id";
// Device, key, unit, then ts, kind, num, txt (left empty: texts are read once wanted) and
// quality, then the series of a text (NULL: not a text) and its size.
constexpr const char* kApartMetaCols =
    "SELECT x.device_id, s.key, s.unit, x.ts, x.kind, x.num, '', x.quality, "
    "CASE WHEN x.kind = 1 THEN x.series_id END, octet_length(x.txt)";

// A latest reading kept apart, from its columns ts, kind, num, txt, quality (from `at` on).
Reading ApartReading(Id device, std::string key, std::string unit, const pqxx::row& r, int at) {
  const pqxx::field txt = r[at + 3];
  return Reading{device,
                 std::move(key),
                 I64(r[at]),
                 pg::ValueOfColumns(static_cast<int>(I64(r[at + 1])), F64(r[at + 2]),
                                    std::string_view(txt.c_str(), txt.size())),
                 std::move(unit),
                 static_cast<Quality>(I64(r[at + 4]))};
}
// A row of kApartMetaCols as a reading (a text empty).
Reading ApartReading(const pqxx::row& r) {
  return ApartReading(I64(r[0]), r[1].as<std::string>(), r[2].as<std::string>(), r, 3);
}
// The devices' latest-value rows of one result, each decoded once (a device has a row per key
// in the result, all with the same `vals`).
class DecodedLatestRows {
 public:
  // The device's row (nullptr: none, or not readable).
  pg::LatestRow* Of(Id device, const pqxx::field& vals) {
    auto [it, fresh] = rows_.try_emplace(device);
    if (fresh && !vals.is_null()) {
      Result<pg::LatestRow> row = pg::DecodeLatestRow(std::string_view(vals.c_str(), vals.size()));
      if (row.ok()) it->second = std::move(row).value();
    }
    return it->second ? &*it->second : nullptr;
  }

 private:
  std::unordered_map<Id, std::optional<pg::LatestRow>> rows_;
};

SeriesRef SeriesFromRow(const pqxx::row& r, DecodedLatestRows& latest_rows) {
  SeriesRef s;
  s.id = I64(r[0]);
  s.device_id = I64(r[1]);
  s.key = r[2].as<std::string>();
  s.unit = r[3].as<std::string>();
  if (pg::LatestRow* row = latest_rows.Of(s.device_id, r[4]))
    if (const pg::LatestEntry* e = pg::FindLatest(*row, s.key)) {
      s.latest = pg::ReadingOf(*e, s.device_id);
      s.latest->unit = s.unit;
    }
  if (!r[5].is_null() && (!s.latest || I64(r[5]) > s.latest->ts)) {  // kept apart, and newer
    s.latest = ApartReading(s.device_id, s.key, s.unit, r, 5);
    s.latest_text_omitted = r.size() > 10 && !r[10].is_null() && r[10].as<bool>();
  }
  return s;
}
SeriesRef SeriesFromRow(const pqxx::row& r) {
  DecodedLatestRows one;
  return SeriesFromRow(r, one);
}

struct KeyHash {
  size_t operator()(const std::pair<Id, std::string>& k) const {
    return std::hash<std::string>()(k.second) * 31 + std::hash<Id>()(k.first);
  }
};

// The device a batch is of (its writer's key, writer_share.h).
Id DeviceOf(const IngestBatch& batch) {
  if (!batch.messages.empty()) return batch.messages.front().device_id;
  if (!batch.readings.empty()) return batch.readings.front().device_id;
  return 0;
}

// How often a node counts the nodes alive on the database to share the writers out.
constexpr auto kNodesCountEvery = std::chrono::seconds(5);

}  // namespace

struct PostgresSeriesStore::Impl {
  struct Item {
    std::shared_ptr<const IngestBatch> batch;  // or
    std::function<Status(pqxx::connection&)> op;
    AppendDone done;
  };
  struct Cached {
    int64_t id = 0;
    std::string unit;
  };

  PostgresStoreOptions o;

  std::mutex pool_mu;
  std::vector<std::unique_ptr<pqxx::connection>> idle;

  // Writer thread only: the series of (device, key) and their units, the partitions that exist.
  std::unordered_map<std::pair<Id, std::string>, Cached, KeyHash> series;
  std::unordered_map<int64_t, std::pair<Id, std::string>> key_of;
  std::set<int64_t> months;
  pg::LatestValues latest;  // the device_latest rows it wrote
  std::unique_ptr<pqxx::connection> wconn;
  bool retryable = false;  // the writer's last failure was a deadlock or serialization failure
  static constexpr int kCommitAttempts = 4;
  // SetLiveRelay, before the first append.
  pg::PgLiveRelay* live = nullptr;
  std::string live_node;

  // Series other nodes changed (ForgetCachedSeries), taken up by the writer (TakeForgets).
  std::mutex forget_mu;
  std::vector<int64_t> forget_ids;  // guarded by forget_mu
  bool forget_all = false;          // guarded by forget_mu

  pg::WriterShare* writer_share = nullptr;  // the store's: told when a batch is done

  std::mutex q_mu;
  std::condition_variable q_cv;
  std::deque<Item> queue;
  size_t queued_readings = 0;
  bool closing = false;
  std::thread writer;

  // ---- connections ----
  Result<std::unique_ptr<pqxx::connection>> Connect() {
    try {
      return std::make_unique<pqxx::connection>(o.url);
    } catch (const std::exception& e) {
      return Unavailable("PostgreSQL unreachable at " + pg::RedactedUrl(o.url) + ": " + e.what());
    }
  }

  // Runs f(connection) on a pooled reader connection; exceptions become a Status.
  template <typename T, typename F>
  Result<T> Read(const std::string& what, F f) {
    std::unique_ptr<pqxx::connection> c;
    {
      std::lock_guard lk(pool_mu);
      if (!idle.empty()) {
        c = std::move(idle.back());
        idle.pop_back();
      }
    }
    if (!c) {
      BYSANS_ASSIGN_OR_RETURN(c, Connect());
    }
    try {
      Result<T> r = f(*c);
      std::lock_guard lk(pool_mu);
      if (idle.size() < o.max_readers) idle.push_back(std::move(c));
      return r;
    } catch (const std::exception& e) {
      return pg::FromException(e, what);  // the connection is dropped, not pooled again
    }
  }

  // ---- writer ----
  Status Enqueue(Item item) {
    {
      std::lock_guard lk(q_mu);
      if (closing) return Unavailable("the store is closing");
      if (queue.size() >= o.max_queue_batches)
        return Unavailable("the PostgreSQL store's ingest queue is full; retry later");
      if (item.batch) queued_readings += item.batch->readings.size();
      queue.push_back(std::move(item));
    }
    q_cv.notify_all();
    return Status::Ok();
  }

  // An operation on the writer thread, serialised with the group commits.
  Status RunOp(std::function<Status(pqxx::connection&)> op) {
    auto p = std::make_shared<std::promise<Status>>();
    auto f = p->get_future();
    Item it;
    it.op = std::move(op);
    it.done = [p](Status s) { p->set_value(std::move(s)); };
    BYSANS_RETURN_IF_ERROR(Enqueue(std::move(it)));
    return f.get();
  }

  void WriterLoop() {
    for (;;) {
      std::vector<Item> group;
      {
        std::unique_lock lk(q_mu);
        q_cv.wait(lk, [&] { return closing || !queue.empty(); });
        if (queue.empty()) return;  // closing
        const bool paced = queue.front().batch && queue.front().batch->paced;
        if (paced && o.group_commit_interval_us > 0 && !closing) {
          q_cv.wait_for(lk, std::chrono::microseconds(o.group_commit_interval_us),
                        [&] { return closing || queued_readings >= o.max_commit_readings; });
        }
        if (queue.front().op) {  // operations run alone
          group.push_back(std::move(queue.front()));
          queue.pop_front();
        } else {
          size_t n = 0;
          while (!queue.empty() && !queue.front().op &&
                 (group.empty() ||
                  n + queue.front().batch->readings.size() <= o.max_commit_readings)) {
            n += queue.front().batch->readings.size();
            queued_readings -= queue.front().batch->readings.size();
            group.push_back(std::move(queue.front()));
            queue.pop_front();
          }
        }
      }
      TakeForgets();
      Status s;
      if (group.front().op) {
        s = WithWriter("an operation", [&](pqxx::connection& c) { return group.front().op(c); });
      } else {
        s = CommitGroup(group);
        if (!s.ok() && s.code() != Code::kUnavailable && group.size() > 1) {
          // A batch the database refuses (a bug, a value nothing checked) must not fail the other
          // batches of its group, other organisations' among them: each is committed alone.
          for (auto& it : group) {
            std::vector<Item> one;
            one.push_back(std::move(it));
            const Status alone = CommitGroup(one);
            Finish(one.front(), alone);
          }
          continue;
        }
      }
      for (auto& it : group) Finish(it, s);
    }
  }

  // The item is done (committed, or failed with s): its device may move to another writer.
  void Finish(Item& it, const Status& s) {
    if (it.batch && writer_share) writer_share->Finished(DeviceOf(*it.batch));
    if (it.done) it.done(s);
  }

  Status CommitGroup(std::vector<Item>& group) {
    // Writers lock the rows they share in one order (latest values by device, rollups sorted,
    // share heads by application), so a deadlock between two is not expected; one that still
    // happens (a retention or deletion of another node, say) aborts one of the transactions, and
    // PostgreSQL's advice is to run it again, which this does, a few times.
    for (int attempt = 1;; ++attempt) {
      retryable = false;
      Status s =
          WithWriter("a group commit", [&](pqxx::connection& c) { return Commit(c, group); });
      if (s.ok() || !retryable || attempt == kCommitAttempts) return s;
      spdlog::debug("postgres: group commit attempt {} ended in a deadlock; again", attempt);
    }
  }

  template <typename F>
  Status WithWriter(const std::string& what, F f) {
    if (!wconn) {
      auto c = Connect();
      if (!c.ok()) return c.status();
      wconn = std::move(c).value();
    }
    try {
      return f(*wconn);
    } catch (const std::exception& e) {
      retryable = dynamic_cast<const pqxx::deadlock_detected*>(&e) != nullptr ||
                  dynamic_cast<const pqxx::serialization_failure*>(&e) != nullptr;
      Status s = pg::FromException(e, what);
      if (pg::ConnectionGone(e)) wconn.reset();
      // Whatever the writer cached from an aborted transaction may be wrong: forget it.
      series.clear();
      key_of.clear();
      months.clear();
      latest.Clear();
      return s;
    }
  }

  // Monthly partitions for these months, created under the migration lock (DDL by one node at a
  // time; IF NOT EXISTS makes it idempotent).
  void EnsureMonths(pqxx::connection& c, const std::set<int64_t>& wanted) {
    std::vector<int64_t> missing;
    for (int64_t m : wanted)
      if (!months.count(m)) missing.push_back(m);
    if (missing.empty()) return;
    pqxx::work w(c);
    w.exec_params("SELECT pg_advisory_xact_lock($1)", pg::kMigrationLock);
    for (int64_t m : missing) {
      w.exec("CREATE TABLE IF NOT EXISTS " + pg::PartitionName(m) +
             " PARTITION OF readings FOR VALUES FROM (" + std::to_string(pg::MonthStartMs(m)) +
             ") TO (" + std::to_string(pg::MonthStartMs(m + 1)) + ")");
    }
    w.commit();
    months.insert(missing.begin(), missing.end());
  }

  // Series ids of (device, key) pairs the cache does not know, created when new.
  void EnsureSeries(pqxx::connection& c, const std::vector<std::pair<Id, std::string>>& keys) {
    std::vector<int64_t> devs;
    std::vector<std::string> names;
    std::set<std::pair<Id, std::string>> seen;
    for (const auto& k : keys)
      if (!series.count(k) && seen.insert(k).second) {
        devs.push_back(k.first);
        names.push_back(k.second);
      }
    if (devs.empty()) return;
    pqxx::work w(c);
    const std::string d = IntArray(devs), n = TextArray(names);
    w.exec_params(
        "INSERT INTO series (device_id, key) SELECT * FROM unnest($1::bigint[], $2::text[]) "
        "ON CONFLICT (device_id, key) DO NOTHING",
        d, n);
    pqxx::result r = w.exec_params(
        "SELECT s.id, s.device_id, s.key, s.unit FROM series s JOIN unnest($1::bigint[], "
        "$2::text[]) u(d, k) ON s.device_id = u.d AND s.key = u.k",
        d, n);
    w.commit();
    for (const auto& row : r)
      Remember(I64(row[0]), I64(row[1]), row[2].as<std::string>(), row[3].as<std::string>());
  }

  void Remember(int64_t id, Id dev, const std::string& key, const std::string& unit) {
    series[{dev, key}] = Cached{id, unit};
    key_of[id] = {dev, key};
  }
  // Writer thread: applies what other nodes changed (ForgetCachedSeries) to the cache.
  void TakeForgets() {
    std::vector<int64_t> ids;
    bool all = false;
    {
      std::lock_guard lk(forget_mu);
      ids.swap(forget_ids);
      std::swap(all, forget_all);
    }
    if (all) {
      series.clear();
      key_of.clear();
    }
    for (int64_t id : ids) Forget(id);
  }
  void Forget(int64_t id) {
    auto it = key_of.find(id);
    if (it == key_of.end()) return;
    series.erase(it->second);
    key_of.erase(it);
  }

  Status Commit(pqxx::connection& c, std::vector<Item>& group) {
    std::set<int64_t> want_months;
    std::vector<std::pair<Id, std::string>> keys;
    for (auto& it : group)
      for (const Reading& r : it.batch->readings) {  // times checked by AppendShared
        want_months.insert(pg::MonthOf(r.ts));
        keys.emplace_back(r.device_id, r.key);
      }
    EnsureMonths(c, want_months);
    EnsureSeries(c, keys);

    pqxx::work w(c);
    // Readings in arrival order; SortKeepingLast below makes the last write win within the group.
    std::vector<int64_t> sid, ts, kind, quality;
    std::vector<double> num;
    std::vector<std::string> txt;
    std::unordered_map<int64_t, std::string> unit_changes;
    ShareAppends share;
    // (partition, organisation) → rows of packed records: the partition's holder reads each
    // organisation's rows in turn (pg_rule_feed.cc).
    std::map<std::pair<int, Id>, std::vector<std::string>> feed;
    RuleFeedEncoder feed_records;
    const bool relay = live != nullptr && live->Relaying();
    std::vector<std::string> live_records;
    size_t live_left_out = 0;
    const MessageIds ids = InsertMessages(w, group);
    size_t k = 0;  // the group's messages in order
    for (auto& it : group) {
      const IngestBatch& b = *it.batch;
      b.duplicates = 0;
      bool duplicate = false;
      std::vector<int64_t> message_ids;
      for (size_t i = 0; i < b.messages.size(); ++i, ++k) {
        if (ids.inserted.count(ids.ids[k]) == 0) {
          duplicate = true;
          ++b.duplicates;
        } else {
          message_ids.push_back(ids.ids[k]);
        }
      }
      if (duplicate) continue;  // its readings were stored with the first copy
      if (b.share_app_id != 0) AddToShare(b, message_ids, share);
      if (b.feed_device && b.feed_partition >= 0) {
        const std::string record = feed_records.Encode(*b.feed_device, b.readings);
        pg::AddFeedRecord(feed[{b.feed_partition, b.feed_device->org_id}], record);
        if (relay) {
          std::string hex;
          pg::AppendHex(hex, record);
          if (hex.size() + live_node.size() < pg::kMaxLivePayload) {
            live_records.push_back(std::move(hex));
          } else {
            for (std::string& r :
                 pg::LiveRecords(*b.feed_device, b.readings, live_node.size(), &live_left_out))
              live_records.push_back(std::move(r));
          }
        }
      }
      for (const Reading& r : b.readings) {
        Cached& s = series.at({r.device_id, r.key});
        if (!r.unit.empty()) {
          auto uc = unit_changes.find(s.id);
          const std::string& known = uc != unit_changes.end() ? uc->second : s.unit;
          if (known != r.unit) unit_changes[s.id] = r.unit;
        }
        pg::ValueColumns cols = pg::ColumnsOf(r.value);
        sid.push_back(s.id);
        ts.push_back(r.ts);
        kind.push_back(cols.kind);
        num.push_back(cols.num);
        txt.push_back(std::move(cols.txt));
        quality.push_back(static_cast<int>(r.quality));
      }
    }
    SortKeepingLast(sid, ts, kind, num, txt, quality);
    if (!feed.empty()) {  // store/rule_feed.h: evaluated by the partition's holder
      static const std::vector<std::string> kFeedCols = {"partition", "org_id", "record"};
      std::vector<std::pair<const std::pair<int, Id>*, const std::string*>> rows;
      for (const auto& [key, packed] : feed)
        for (const std::string& row : packed) rows.emplace_back(&key, &row);
      pg::CopyRows(w, "rule_feed", kFeedCols, rows.size(), [&](size_t i, pg::CopyRow& row) {
        row.Int4(rows[i].first->first).Int8(rows[i].first->second).Bytes(*rows[i].second);
      });
    }
    // The hourly rollups and the latest values (WriteReadings' end, WriteLatest) are rows another
    // node's writer may update too (a device's messages reach either node): the feed's COPY goes
    // before them, so that their locks are held for as short a time as can be until the commit.
    if (!sid.empty()) {
      WriteReadings(w, sid, ts, kind, num, txt, quality);
      WriteLatest(w, sid, ts, kind, num, txt, quality, unit_changes);
    }
    if (!unit_changes.empty()) {
      std::vector<int64_t> ids;
      std::vector<std::string> units;
      for (auto& [id, u] : unit_changes) {
        ids.push_back(id);
        units.push_back(u);
      }
      w.exec_params(
          "UPDATE series s SET unit = u.unit FROM unnest($1::bigint[], $2::text[]) u(id, unit) "
          "WHERE s.id = u.id",
          IntArray(ids), TextArray(units));
    }
    if (!live_records.empty()) pg::NotifyLive(w, pg::LivePayloads(live_node, live_records));
    if (live_left_out > 0)
      spdlog::debug("postgres: {} reading(s) too big for the live relay not relayed",
                    live_left_out);
    AppendShareLog(w, share);  // last: it holds the applications' head rows until the commit
    w.commit();
    for (auto& [id, u] : unit_changes) {
      auto k = key_of.find(id);
      if (k != key_of.end()) series[k->second].unit = u;
    }
    return Status::Ok();
  }

  // The raw messages of a group, in order: their ids (taken from the sequence first), and which
  // were inserted (a message whose dedup key is already stored, or repeated in the group, is not).
  struct MessageIds {
    std::vector<int64_t> ids;
    std::unordered_set<int64_t> inserted;
  };
  // A few statements for the whole group, not one round trip per message (that cost most of an
  // MQTT message's time on PostgreSQL: bench/postgres): the ids, then COPY, or an INSERT with
  // ON CONFLICT when a dedup key is already stored.
  static MessageIds InsertMessages(pqxx::work& w, const std::vector<Item>& group) {
    MessageIds out;
    size_t n = 0;
    for (const auto& it : group) n += it.batch->messages.size();
    if (n == 0) return out;
    // The sequence by name (bigserial's in migration 1): pg_get_serial_sequence() is evaluated
    // for every row generated (a catalog lookup each: 4 % of PostgreSQL's CPU in bench/mqtt).
    pqxx::result r =
        w.exec_params("SELECT nextval('raw_messages_id_seq'::regclass) FROM generate_series(1, $1)",
                      static_cast<int64_t>(n));
    out.ids.reserve(n);
    for (const auto& row : r) out.ids.push_back(I64(row[0]));
    if (CopyMessages(w, group, out.ids)) {
      out.inserted.insert(out.ids.begin(), out.ids.end());
      return out;
    }
    std::vector<int64_t> dev, received, transport, status;
    std::vector<std::string> content_type, payload, error, notes, dedup;
    for (const auto& it : group)
      for (const RawMessage& m : it.batch->messages) {
        dev.push_back(m.device_id);
        received.push_back(m.received_ms);
        transport.push_back(static_cast<int>(m.transport));
        content_type.push_back(m.content_type);
        pg::AppendHex(payload.emplace_back(), m.payload);  // without the \x of the bytea form
        status.push_back(static_cast<int>(m.decode_status));
        error.push_back(m.decode_error);
        notes.push_back(pg::DecodeNotesText(m));
        dedup.push_back(m.dedup_key);
      }
    pqxx::result ins = w.exec_params(
        "INSERT INTO raw_messages (id, device_id, received_ms, transport, content_type, payload, "
        "decode_status, decode_error, decode_notes, dedup_key) "
        "SELECT u.id, u.d, u.r, u.t, u.ct, decode(u.p, 'hex'), u.s, u.e, u.n, NULLIF(u.k, '') "
        "FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::smallint[], $5::text[], "
        "$6::text[], $7::smallint[], $8::text[], $9::text[], $10::text[]) "
        "AS u(id, d, r, t, ct, p, s, e, n, k) "
        "ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
        IntArray(out.ids), IntArray(dev), IntArray(received), IntArray(transport),
        TextArray(content_type), TextArray(payload), IntArray(status), TextArray(error),
        TextArray(notes), TextArray(dedup));
    for (const auto& row : ins) out.inserted.insert(I64(row[0]));
    return out;
  }

  // The usual case, no message stored before: the group's messages with COPY. False (and
  // nothing written) when a dedup key is already stored or repeated in the group: the caller
  // inserts them with ON CONFLICT instead.
  static bool CopyMessages(pqxx::work& w, const std::vector<Item>& group,
                           const std::vector<int64_t>& ids) {
    std::vector<const RawMessage*> ms;
    ms.reserve(ids.size());
    for (const auto& it : group)
      for (const RawMessage& m : it.batch->messages) ms.push_back(&m);
    static const std::vector<std::string> kCols = {
        "id",      "device_id",     "received_ms",  "transport",    "content_type",
        "payload", "decode_status", "decode_error", "decode_notes", "dedup_key"};
    // By device (as for the readings): consecutive entries of the (device, time) index go to the
    // same leaf; the ids and dedup keys of one group are close together whatever the order.
    std::vector<size_t> order(ms.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return ms[a]->device_id < ms[b]->device_id; });
    w.exec("SAVEPOINT messages_fast");
    try {
      pg::CopyRows(w, "raw_messages", kCols, ms.size(), [&](size_t n, pg::CopyRow& row) {
        const size_t i = order[n];
        const RawMessage& m = *ms[i];
        row.Int8(ids[i]).Int8(m.device_id).Int8(m.received_ms);
        row.Int2(static_cast<int16_t>(m.transport)).Bytes(m.content_type).Bytes(m.payload);
        row.Int2(static_cast<int16_t>(m.decode_status)).Bytes(m.decode_error);
        row.Bytes(pg::DecodeNotesText(m));
        if (m.dedup_key.empty()) {
          row.Null();
        } else {
          row.Bytes(m.dedup_key);
        }
      });
    } catch (const pqxx::unique_violation&) {
      w.exec("ROLLBACK TO SAVEPOINT messages_fast");
      return false;
    }
    w.exec("RELEASE SAVEPOINT messages_fast");
    return true;
  }

  // The share log's records of a group commit per application, in commit order (store/
  // target_store.h): received_ms and the record (share_codec.h) as hex.
  struct ShareRecords {
    std::vector<int64_t> received_ms;
    std::vector<std::string> hex;
  };
  // Ordered by application: writers lock the head rows in one order (no deadlock across nodes).
  using ShareAppends = std::map<Id, ShareRecords>;

  // A batch's messages for its application's share log; in a batch of several messages (the
  // pipeline's hold one) the readings go with the first, as on SQLite.
  static void AddToShare(const IngestBatch& b, const std::vector<int64_t>& message_ids,
                         ShareAppends& share) {
    ShareRecords& to = share[b.share_app_id];
    for (size_t i = 0; i < b.messages.size() && i < message_ids.size(); ++i) {
      const RawMessage& m = b.messages[i];
      std::span<const Reading> readings;
      if (i == 0) readings = b.readings;
      std::string blob;
      EncodeShareRecord(m.device_id, m.received_ms, message_ids[i], b.share_decoded, readings,
                        &blob);
      to.received_ms.push_back(m.received_ms);
      to.hex.push_back(pg::ByteaHex(blob).substr(2));  // without the \x of the bytea form
    }
  }

  // Positions from the application's head row, raised by the number of records in this
  // transaction: the row stays locked until the commit, so another writer of the application
  // (this node's next commit or another node's) takes the following positions only after this
  // commit is visible. Positions are thus assigned in commit order with no gap a reader could
  // skip (a rolled-back transaction's positions were never visible and are taken again).
  static void AppendShareLog(pqxx::work& w, const ShareAppends& share) {
    for (const auto& [app_id, recs] : share) {
      if (recs.hex.empty()) continue;
      const auto n = static_cast<int64_t>(recs.hex.size());
      const int64_t last =
          I64(w.exec_params1("INSERT INTO share_log_heads (app_id, last_position) VALUES ($1, $2) "
                             "ON CONFLICT (app_id) DO UPDATE SET last_position = "
                             "share_log_heads.last_position + EXCLUDED.last_position "
                             "RETURNING last_position",
                             app_id, n)[0]);
      std::vector<int64_t> positions(recs.hex.size());
      for (int64_t i = 0; i < n; ++i) positions[i] = last - n + 1 + i;
      w.exec_params(
          "INSERT INTO share_log (app_id, position, received_ms, record) "
          "SELECT $1, u.p, u.r, decode(u.h, 'hex') FROM unnest($2::bigint[], $3::bigint[], "
          "$4::text[]) AS u(p, r, h)",
          app_id, IntArray(positions), IntArray(recs.received_ms), TextArray(recs.hex));
    }
  }

  // A group's readings in (series, time) order, the last of each (series, time) kept (a later
  // reading replaces an earlier one). In that order each row's entry in the primary key goes next
  // to the last one's, on pages the backend just touched, not to another series' far leaf (the
  // COPY's backend time per reading fell by a quarter); and sorting costs no allocation per
  // series, as the map of maps that found the repeats did (most of this thread's allocations).
  static void SortKeepingLast(std::vector<int64_t>& sid, std::vector<int64_t>& ts,
                              std::vector<int64_t>& kind, std::vector<double>& num,
                              std::vector<std::string>& txt, std::vector<int64_t>& quality) {
    std::vector<size_t> order(sid.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return sid[a] != sid[b] ? sid[a] < sid[b] : ts[a] < ts[b];
    });
    std::vector<int64_t> s2, t2, k2, q2;
    std::vector<double> n2;
    std::vector<std::string> x2;
    for (std::vector<int64_t>* v : {&s2, &t2, &k2, &q2}) v->reserve(order.size());
    n2.reserve(order.size());
    x2.reserve(order.size());
    for (size_t j = 0; j < order.size(); ++j) {
      const size_t i = order[j];
      if (j + 1 < order.size() && sid[order[j + 1]] == sid[i] && ts[order[j + 1]] == ts[i])
        continue;  // a later reading at the same (series, time) replaces this one
      s2.push_back(sid[i]);
      t2.push_back(ts[i]);
      k2.push_back(kind[i]);
      n2.push_back(num[i]);
      x2.push_back(std::move(txt[i]));
      q2.push_back(quality[i]);
    }
    sid.swap(s2);
    ts.swap(t2);
    kind.swap(k2);
    num.swap(n2);
    txt.swap(x2);
    quality.swap(q2);
  }

  // COPY of these readings into `readings` (PostgreSQL routes them to the partitions), in the
  // order given (SortKeepingLast's).
  static void CopyReadings(pqxx::work& w, const std::vector<int64_t>& sid,
                           const std::vector<int64_t>& ts, const std::vector<int64_t>& kind,
                           const std::vector<double>& num, const std::vector<std::string>& txt,
                           const std::vector<int64_t>& quality) {
    static const std::vector<std::string> kCols = {"series_id", "ts",  "kind",
                                                   "num",       "txt", "quality"};
    pg::CopyRows(w, "readings", kCols, sid.size(), [&](size_t i, pg::CopyRow& row) {
      row.Int8(sid[i]).Int8(ts[i]).Int2(static_cast<int16_t>(kind[i])).Float8(num[i]);
      row.Bytes(txt[i]).Int2(static_cast<int16_t>(quality[i]));
    });
  }

  void WriteReadings(pqxx::work& w, const std::vector<int64_t>& sid, const std::vector<int64_t>& ts,
                     const std::vector<int64_t>& kind, const std::vector<double>& num,
                     const std::vector<std::string>& txt, const std::vector<int64_t>& quality) {
    // Fast path: readings at new (series, time) pairs, the usual case, are written with COPY
    // (no ON CONFLICT checks, no RETURNING of every key, no unnest materialising the arrays: those
    // took about half of the backend's time). A replaced reading makes the COPY fail with a
    // unique violation: the savepoint is rolled back and the batch takes the slow path below.
    bool all_new = true;
    w.exec("SAVEPOINT readings_fast");
    try {
      CopyReadings(w, sid, ts, kind, num, txt, quality);
    } catch (const pqxx::unique_violation&) {
      all_new = false;
    }
    w.exec(all_new ? "RELEASE SAVEPOINT readings_fast" : "ROLLBACK TO SAVEPOINT readings_fast");
    pqxx::result ins;
    if (!all_new)
      ins = w.exec_params(
          "INSERT INTO readings (series_id, ts, kind, num, txt, quality) "
          "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::float8[], "
          "$5::text[], $6::smallint[]) ON CONFLICT (series_id, ts) DO NOTHING "
          "RETURNING series_id, ts",
          IntArray(sid), IntArray(ts), IntArray(kind), DoubleArray(num), TextArray(txt),
          IntArray(quality));
    // Hours whose rollup is recomputed from the readings (a reading replaced one): (series, hour).
    std::set<std::pair<int64_t, int64_t>> dirty;
    std::vector<bool> inserted(sid.size(), true);
    if (!all_new && ins.size() != sid.size()) {
      std::set<std::pair<int64_t, int64_t>> got;
      for (const auto& row : ins) got.emplace(I64(row[0]), I64(row[1]));
      std::vector<int64_t> us, ut, uk, uq;
      std::vector<double> un;
      std::vector<std::string> ux;
      for (size_t i = 0; i < sid.size(); ++i) {
        if (got.count({sid[i], ts[i]})) continue;
        inserted[i] = false;
        dirty.emplace(sid[i], FloorTo(ts[i], kHourMs));
        us.push_back(sid[i]);
        ut.push_back(ts[i]);
        uk.push_back(kind[i]);
        un.push_back(num[i]);
        ux.push_back(txt[i]);
        uq.push_back(quality[i]);
      }
      w.exec_params(
          "UPDATE readings r SET kind = u.k, num = u.n, txt = u.x, quality = u.q "
          "FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::float8[], $5::text[], "
          "$6::smallint[]) u(s, t, k, n, x, q) WHERE r.series_id = u.s AND r.ts = u.t",
          IntArray(us), IntArray(ut), IntArray(uk), DoubleArray(un), TextArray(ux), IntArray(uq));
    }
    // Rollup deltas of the new numeric readings, per (series, hour).
    struct Acc {
      int64_t n = 0;
      double mn = 0, mx = 0, sm = 0;
    };
    std::map<std::pair<int64_t, int64_t>, Acc> acc;
    for (size_t i = 0; i < sid.size(); ++i) {
      if (!inserted[i] || kind[i] != 0) continue;
      const std::pair<int64_t, int64_t> k{sid[i], FloorTo(ts[i], kHourMs)};
      if (dirty.count(k)) continue;
      Acc& a = acc[k];
      a.mn = a.n ? std::min(a.mn, num[i]) : num[i];
      a.mx = a.n ? std::max(a.mx, num[i]) : num[i];
      a.sm += num[i];
      ++a.n;
    }
    if (!acc.empty()) {
      std::vector<int64_t> hs, hh, hn;
      std::vector<double> hmn, hmx, hsm;
      for (auto& [k, a] : acc) {
        hs.push_back(k.first);
        hh.push_back(k.second);
        hn.push_back(a.n);
        hmn.push_back(a.mn);
        hmx.push_back(a.mx);
        hsm.push_back(a.sm);
      }
      w.exec_params(
          "INSERT INTO readings_hourly AS h (series_id, hour, n, mn, mx, sm) "
          "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::float8[], "
          "$5::float8[], $6::float8[]) ON CONFLICT (series_id, hour) DO UPDATE SET "
          "n = h.n + excluded.n, mn = least(h.mn, excluded.mn), mx = greatest(h.mx, excluded.mx), "
          "sm = h.sm + excluded.sm",
          IntArray(hs), IntArray(hh), IntArray(hn), DoubleArray(hmn), DoubleArray(hmx),
          DoubleArray(hsm));
    }
    if (!dirty.empty()) {
      std::vector<int64_t> ds, dh;
      for (auto& [s, h] : dirty) {
        ds.push_back(s);
        dh.push_back(h);
      }
      RecomputeHours(w, IntArray(ds), IntArray(dh));
    }
  }

  // The newest reading of each series in the group into its device's latest values, with the
  // series' unit (as changed by this group).
  void WriteLatest(pqxx::work& w, const std::vector<int64_t>& sid, const std::vector<int64_t>& ts,
                   const std::vector<int64_t>& kind, const std::vector<double>& num,
                   const std::vector<std::string>& txt, const std::vector<int64_t>& quality,
                   const std::unordered_map<int64_t, std::string>& unit_changes) {
    std::unordered_map<int64_t, size_t> newest;
    for (size_t i = 0; i < sid.size(); ++i) {
      auto [it, fresh] = newest.emplace(sid[i], i);
      if (!fresh && ts[i] > ts[it->second]) it->second = i;
    }
    std::map<Id, std::vector<pg::LatestEntry>> entries;
    for (auto& [s, i] : newest) {
      const std::pair<Id, std::string>& dk = key_of.at(s);
      auto uc = unit_changes.find(s);
      entries[dk.first].push_back(pg::LatestEntry{
          dk.second, ts[i], static_cast<int>(kind[i]), num[i], static_cast<int>(quality[i]),
          uc != unit_changes.end() ? uc->second : series.at(dk).unit, txt[i], s});
    }
    std::map<std::pair<Id, std::string>, std::string> units;
    for (auto& [s, u] : unit_changes) units[key_of.at(s)] = u;
    latest.Write(w, std::move(entries), units);
  }

  // Replaces the rollups of these (series, hour) pairs by what the readings hold now.
  static void RecomputeHours(pqxx::work& w, const std::string& series_ids,
                             const std::string& hours) {
    w.exec_params(
        "DELETE FROM readings_hourly h USING unnest($1::bigint[], $2::bigint[]) d(s, hr) "
        "WHERE h.series_id = d.s AND h.hour = d.hr",
        series_ids, hours);
    w.exec_params(
        "INSERT INTO readings_hourly (series_id, hour, n, mn, mx, sm) "
        "SELECT d.s, d.hr, count(*), min(r.num), max(r.num), sum(r.num) "
        "FROM unnest($1::bigint[], $2::bigint[]) d(s, hr) JOIN readings r "
        "ON r.series_id = d.s AND r.ts >= d.hr AND r.ts < d.hr + 3600000 AND r.kind = 0 "
        "GROUP BY d.s, d.hr",
        series_ids, hours);
  }

  // The partitions named by `SELECT DISTINCT tableoid::regclass::text` over deleted rows.
  static std::vector<std::string> DeletedFrom(const pqxx::result& r) {
    std::vector<std::string> out;
    for (const auto& row : r) out.push_back(row[0].as<std::string>());
    return out;
  }

  // The writer backend's counts of the rows it just deleted reach pg_stat_user_tables now, before
  // the VACUUM (not up to a second later, where they would count the removed rows as dead again).
  // Statistics only: a failure here does not undo the committed deletion (a broken connection is
  // found by the writer's next statement).
  static void FlushStats(pqxx::connection& c) {
    try {
      pqxx::nontransaction n(c);
      n.exec("SELECT pg_stat_force_next_flush()");
    } catch (const std::exception&) {
    }
  }

  // VACUUM of the tables an erasure left dead rows in, on a pooled connection (not the writer's:
  // ingest goes on meanwhile).
  Status VacuumAfterErasure(const std::vector<std::string>& tables, bool index_cleanup) {
    if (tables.empty()) return Status::Ok();
    return Read<bool>("VACUUM after an erasure",
                      [&](pqxx::connection& c) -> Result<bool> {
                        pg::Vacuum(c, tables, index_cleanup);
                        return true;
                      })
        .status();
  }

  // The series' entry in its device's latest values, recomputed from its readings (writer
  // thread: an operation).
  void RecomputeLatest(pqxx::work& w, int64_t series_id) {
    pqxx::result r = w.exec_params(
        "SELECT s.device_id, s.key, s.unit, l.ts, l.kind, l.num, l.txt, l.quality FROM series s "
        "LEFT JOIN LATERAL (SELECT ts, kind, num, txt, quality FROM readings "
        "WHERE series_id = s.id ORDER BY ts DESC LIMIT 1) l ON true WHERE s.id = $1",
        series_id);
    if (r.empty()) return;
    const pqxx::row& row = r[0];
    const Id device = I64(row[0]);
    const std::string key = row[1].as<std::string>();
    std::optional<pg::LatestEntry> e;
    if (!row[3].is_null())
      e = pg::LatestEntry{key,
                          I64(row[3]),
                          static_cast<int>(I64(row[4])),
                          F64(row[5]),
                          static_cast<int>(I64(row[7])),
                          row[2].as<std::string>(),
                          row[6].as<std::string>()};
    pg::LatestValues::Replace(w, device, series_id, key, e);
    latest.Forget(device);
  }
};

PostgresSeriesStore::PostgresSeriesStore(std::vector<std::unique_ptr<Impl>> writers)
    : writers_(std::move(writers)), impl_(writers_.front().get()), share_(writers_.size()) {
  for (auto& w : writers_) w->writer_share = &share_;
  if (writers_.size() > 1) nodes_watch_ = std::thread([this] { WatchNodes(); });
}

// Every kNodesCountEvery: the nodes whose node lease is running (server/node_coordinator.h;
// none where no coordinator runs, as in the store's own tests: then this node is alone).
void PostgresSeriesStore::WatchNodes() {
  NameThisThread("store-nodes");
  std::unique_lock lock(watch_mu_);
  while (!watch_stop_) {
    lock.unlock();
    auto nodes = impl_->Read<int64_t>("counting the nodes", [](pqxx::connection& c) {
      pqxx::nontransaction n(c);
      return Result<int64_t>(n.exec_params1("SELECT count(*) FROM node_leases WHERE "
                                            "starts_with(name, $1) AND expires_at > now()",
                                            std::string(kNodeLeasePrefix))[0]
                                 .as<int64_t>());
    });
    if (nodes.ok()) {
      const size_t before = share_.in_use();
      share_.SetNodes(static_cast<size_t>(*nodes));
      if (share_.in_use() != before)
        spdlog::info(
            "postgres: {} node(s) alive on the database: this node commits with {} of "
            "its {} writers (store.writers)",
            std::max<int64_t>(1, *nodes), share_.in_use(), writers_.size());
    }
    lock.lock();
    watch_cv_.wait_for(lock, kNodesCountEvery, [&] { return watch_stop_; });
  }
}

Result<std::unique_ptr<PostgresSeriesStore>> PostgresSeriesStore::Open(
    PostgresStoreOptions options) {
  if (options.clock == nullptr) return InvalidArgument("PostgresStoreOptions.clock is required");
  if (options.url.rfind("postgresql://", 0) != 0 && options.url.rfind("postgres://", 0) != 0)
    return InvalidArgument("store URL must start with postgresql://, got " +
                           pg::RedactedUrl(options.url));
  if (options.writers < 1 || options.writers > 16)
    return InvalidArgument("PostgresStoreOptions.writers must be 1 to 16");
  BYSANS_RETURN_IF_ERROR(pg::ApplyMigrations(options.url).status());
  if (options.node_id.empty()) options.node_id = pg::RandomNodeId();
  std::vector<std::unique_ptr<Impl>> writers;
  for (int n = 0; n < options.writers; ++n) {
    writers.push_back(std::make_unique<Impl>());
    writers.back()->o = options;
  }
  Impl& i = *writers.front();
  // Partitions for this month and the next ones, so ingest rarely creates one.
  std::set<int64_t> ahead;
  const int64_t now = pg::MonthOf(i.o.clock->NowMs());
  for (int64_t m = now; m <= now + i.o.months_ahead; ++m) ahead.insert(m);
  Status s = i.WithWriter("creating partitions", [&](pqxx::connection& c) {
    i.EnsureMonths(c, ahead);
    return Status::Ok();
  });
  BYSANS_RETURN_IF_ERROR(s);
  for (auto& w : writers) {
    w->months = i.months;
    Impl* p = w.get();
    w->writer = std::thread([p] {
      NameThisThread("store-writer");  // as SQLite's: bench/mqtt's CPU by thread tells them apart
      p->WriterLoop();
    });
  }
  return std::unique_ptr<PostgresSeriesStore>(new PostgresSeriesStore(std::move(writers)));
}

PostgresSeriesStore::~PostgresSeriesStore() { Close(); }

void PostgresSeriesStore::Close() {
  {
    std::lock_guard lock(watch_mu_);
    watch_stop_ = true;
  }
  watch_cv_.notify_all();
  if (nodes_watch_.joinable()) nodes_watch_.join();
  for (auto& w : writers_) {
    std::lock_guard lk(w->q_mu);
    w->closing = true;
  }
  for (auto& w : writers_) {
    w->q_cv.notify_all();
    if (w->writer.joinable()) w->writer.join();
    w->wconn.reset();
    std::lock_guard lk(w->pool_mu);
    w->idle.clear();
  }
}

void PostgresSeriesStore::AppendShared(std::shared_ptr<const IngestBatch> batch, AppendDone done) {
  if (Status st = CheckIngestBatch(*batch); !st.ok()) {
    if (done) done(st);
    return;
  }
  const Id device = DeviceOf(*batch);
  Impl& writer = *writers_[share_.Take(device)];
  Impl::Item it;
  it.batch = std::move(batch);
  it.done = done;
  Status s = writer.Enqueue(std::move(it));
  if (!s.ok()) {
    share_.Finished(device);
    if (done) done(s);
  }
}

Status PostgresSeriesStore::Append(IngestBatch batch) {
  auto p = std::make_shared<std::promise<Status>>();
  auto f = p->get_future();
  AppendAsync(std::move(batch), [p](Status s) { p->set_value(std::move(s)); });
  return f.get();
}

Result<std::vector<Reading>> PostgresSeriesStore::QueryReadings(const ReadingQuery& q) {
  return impl_->Read<std::vector<Reading>>("QueryReadings", [&](pqxx::connection& c) {
    pqxx::nontransaction n(c);
    const std::string order = q.oldest_first ? "ASC" : "DESC";
    pqxx::result r = n.exec_params(
        "SELECT s.device_id, s.key, r.ts, r.kind, r.num, r.txt, s.unit, r.quality "
        "FROM series s JOIN readings r ON r.series_id = s.id "
        "WHERE s.device_id = $1 AND ($2 = '' OR s.key = $2) AND r.ts >= $3 AND r.ts <= $4 "
        "AND ($5 < 0 OR r.quality = $5) ORDER BY r.ts " +
            order + ", s.id " + order + " LIMIT $6",
        q.device_id, q.key, q.from, q.to, q.quality ? static_cast<int>(*q.quality) : -1,
        std::max<int64_t>(q.limit, 0));
    std::vector<Reading> out;
    out.reserve(r.size());
    for (const auto& row : r)
      out.push_back(Reading{I64(row[0]), row[1].as<std::string>(), I64(row[2]),
                            pg::ValueOfColumns(static_cast<int>(I64(row[3])), F64(row[4]),
                                               std::string_view(row[5].c_str(), row[5].size())),
                            row[6].as<std::string>(),
                            static_cast<Quality>(static_cast<int>(I64(row[7])))});
    return out;
  });
}

Result<std::vector<Bucket>> PostgresSeriesStore::Aggregate(const AggregateQuery& q) {
  if (q.key.empty()) return InvalidArgument("Aggregate needs a key");
  if (q.bucket_ms <= 0) return InvalidArgument("Aggregate needs a positive bucket_ms");
  return impl_->Read<std::vector<Bucket>>("Aggregate", [&](pqxx::connection& c) {
    pqxx::nontransaction n(c);
    std::vector<Bucket> rows;  // one per row, each in its bucket; folded by bucket at the end
    const int64_t b = q.bucket_ms;
    auto add = [&](const pqxx::result& r) {
      rows.reserve(rows.size() + r.size());
      for (const auto& row : r) {
        const TimeMs t = I64(row[0]);
        rows.push_back(
            Bucket{t - ((t % b) + b) % b, I64(row[1]), F64(row[2]), F64(row[3]), F64(row[4])});
      }
    };
    const int64_t from = Clamp(q.from), to = Clamp(q.to);
    // Whole hours come from the rollups when buckets are whole hours, the partial hours at the
    // ends from the readings: [from, hf) and [ht, to] from the readings, [hf, ht) from the
    // rollups. One statement (one round trip, the series looked up inside). With rollups the rows
    // (one per hour, in index order) are bucketed here: grouping them on the server cost a sort
    // of every row. Without, the server groups the readings (fewer rows to send).
    int64_t hf = FloorTo(from + kHourMs - 1, kHourMs), ht = FloorTo(to + 1, kHourMs);
    const bool rollups = b % kHourMs == 0 && hf < ht;
    if (!rollups) hf = ht = to + 1;  // everything from the readings
    const std::string parts =
        "WITH s AS (SELECT id FROM series WHERE device_id = $1 AND key = $2), p AS ("
        "SELECT r.ts AS t, 1::bigint AS n, r.num AS mn, r.num AS mx, r.num AS sm FROM readings r, "
        "s WHERE r.series_id = s.id AND r.kind = 0 AND r.ts >= $3 AND r.ts < $4 "
        "UNION ALL SELECT h.hour, h.n, h.mn, h.mx, h.sm FROM readings_hourly h, s "
        "WHERE h.series_id = s.id AND h.hour >= $4 AND h.hour < $5 "
        "UNION ALL SELECT r.ts, 1, r.num, r.num, r.num FROM readings r, s "
        "WHERE r.series_id = s.id AND r.kind = 0 AND r.ts >= $5 AND r.ts <= $6) ";
    if (rollups) {
      add(n.exec_params(parts + "SELECT t, n, mn, mx, sm FROM p", q.device_id, q.key, from, hf, ht,
                        to));
    } else {
      add(n.exec_params(parts + "SELECT t - ((t % $7) + $7) % $7 AS bk, sum(n)::bigint, min(mn), "
                                "max(mx), sum(sm) FROM p GROUP BY bk",
                        q.device_id, q.key, from, hf, ht, to, b));
    }
    // The rollups' rows come in time order (a vector, not a map of 8,760 nodes: a year's
    // aggregate is ~1 ms quicker); the grouped ones do not. A stable sort keeps each bucket's rows
    // in the order they came, so its sum adds up as before.
    auto by_start = [](const Bucket& x, const Bucket& y) { return x.start < y.start; };
    if (!std::is_sorted(rows.begin(), rows.end(), by_start))
      std::stable_sort(rows.begin(), rows.end(), by_start);
    std::vector<Bucket> out;
    out.reserve(rows.size());
    for (const Bucket& x : rows) {
      if (out.empty() || out.back().start != x.start) {
        out.push_back(x);
        continue;
      }
      Bucket& y = out.back();
      y.count += x.count;
      y.min = std::min(y.min, x.min);
      y.max = std::max(y.max, x.max);
      y.sum += x.sum;
    }
    return out;
  });
}

namespace {

// Devices' latest readings by device, then key; those kept apart that are texts come without
// them (read once they are wanted): `text[i]` is then reading i's series and the text's size.
struct PgLatest {
  std::vector<Reading> readings;
  std::vector<std::pair<int64_t, size_t>> text;  // empty: none such
};

Result<PgLatest> ReadLatestOf(pqxx::transaction_base& n, std::vector<int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.empty()) return PgLatest{};
  // Device ids asked for together are usually dense (an organisation's devices): then one range
  // read of device_latest's primary key, the devices not asked for dropped here (at most 3 in 4
  // rows), costs less than sending the list (PostgreSQL parses and hashes a 10,000-element array
  // per call). Sparse lists name their devices. The rows are sorted here, not by the server.
  const bool dense = static_cast<uint64_t>(ids.back()) - static_cast<uint64_t>(ids.front()) <
                     4 * static_cast<uint64_t>(ids.size());
  auto select = [&](const std::string& cols, const char* device_col) {
    const std::string col = device_col;
    return dense
               ? n.exec_params(cols + col + " >= $1 AND " + col + " <= $2", ids.front(), ids.back())
               : n.exec_params(cols + col + " = ANY($1::bigint[])", IntArray(ids));
  };
  // Not ordered by the server (a bitmap scan's rows would be sorted there, with their values):
  // the rows' device ids are sorted here, then each row is decoded in that order.
  pqxx::result r = select("SELECT device_id, vals FROM device_latest WHERE ", "device_id");
  std::vector<std::pair<Id, int>> order;
  order.reserve(r.size());
  for (int i = 0; i < static_cast<int>(r.size()); ++i) {
    const Id device = I64(r[i][0]);
    if (!dense || std::binary_search(ids.begin(), ids.end(), device)) order.emplace_back(device, i);
  }
  std::sort(order.begin(), order.end());
  std::vector<Reading> packed;
  packed.reserve(order.size() * 8);
  for (const auto& [device, i] : order) {
    const pqxx::field vals = r[i][1];
    if (!pg::AppendLatestReadings(std::string_view(vals.c_str(), vals.size()), device, packed))
      return Internal("the latest values of device " + std::to_string(device) +
                      " are not readable");
  }
  // The readings kept apart without their texts, which are read once they are wanted.
  std::vector<Reading> apart;
  std::vector<std::pair<int64_t, size_t>> apart_text;  // series, size (series 0: not a text)
  for (const auto& row :
       select(std::string(kApartMetaCols) + kApartFrom + " WHERE ", "x.device_id"))
    if (!dense || std::binary_search(ids.begin(), ids.end(), I64(row[0]))) {
      apart.push_back(ApartReading(row));
      apart_text.emplace_back(row[8].is_null() ? 0 : I64(row[8]),
                              row[8].is_null() ? 0 : static_cast<size_t>(I64(row[9])));
    }
  std::vector<int> origin;
  pg::MergeApart(packed, std::move(apart), &origin);
  PgLatest out;
  out.readings = std::move(packed);
  if (!origin.empty()) {
    out.text.resize(out.readings.size());
    for (size_t i = 0; i < origin.size(); ++i)
      if (origin[i] >= 0) out.text[i] = apart_text[origin[i]];
  }
  return out;  // by device, then key
}

}  // namespace

Result<LatestSlice> PostgresSeriesStore::LatestWithin(const LatestQuery& q) {
  BYSANS_RETURN_IF_ERROR(LatestSliceBuilder(q).status());
  // Devices a statement reads: without a budget all at once (an overview of 10,000 devices in
  // two statements); with one a few hundred (a packed row holds at most ~40 KB, and the texts
  // kept apart are read only once they are within the budget).
  const size_t group = q.max_bytes == SIZE_MAX ? q.device_ids.size() : 256;
  const std::unordered_map<Id, size_t> position = DevicePositions(q.device_ids);
  return impl_->Read<LatestSlice>("LatestWithin", [&](pqxx::connection& c) -> Result<LatestSlice> {
    LatestSliceBuilder slice(q);
    // One snapshot for the packed rows, the readings kept apart and their texts.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> n(c);
    std::vector<std::pair<size_t, int64_t>> texts;  // (reading, its series) whose text to read
    bool more = true;
    for (size_t at = slice.first(); more && at < q.device_ids.size(); at += group) {
      std::vector<int64_t> ids(q.device_ids.begin() + static_cast<std::ptrdiff_t>(at),
                               q.device_ids.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                          q.device_ids.size(), at + group)));
      BYSANS_ASSIGN_OR_RETURN(PgLatest latest, ReadLatestOf(n, std::move(ids)));
      std::vector<Reading>& rows = latest.readings;
      slice.readings().reserve(slice.readings().size() + rows.size());
      // Each device's rows (by device id, then key) as a run, the runs in the order asked.
      std::vector<std::array<size_t, 3>> runs;  // position, begin, end
      for (size_t b = 0; b < rows.size();) {
        size_t e = b + 1;
        while (e < rows.size() && rows[e].device_id == rows[b].device_id) ++e;
        runs.push_back({position.at(rows[b].device_id), b, e});
        b = e;
      }
      std::sort(runs.begin(), runs.end());
      for (const auto& [pos, b, e] : runs) {
        for (size_t i = b; more && i < e; ++i) {
          if (!slice.Wanted(pos, rows[i].key)) continue;
          const int64_t text_series = latest.text.empty() ? 0 : latest.text[i].first;
          const size_t cost = text_series
                                  ? ReadingBytes(rows[i].key, rows[i].unit, latest.text[i].second)
                                  : ReadingBytes(rows[i]);
          more = slice.Offer(std::move(rows[i]), cost);
          if (more && text_series) texts.emplace_back(slice.readings().size() - 1, text_series);
        }
        if (!more) break;
      }
    }
    if (!texts.empty()) {
      std::vector<int64_t> series;
      for (const auto& t : texts) series.push_back(t.second);
      std::unordered_map<int64_t, std::string> text;
      for (const auto& row : n.exec_params(
               "SELECT series_id, txt FROM series_latest WHERE series_id = ANY($1::bigint[])",
               IntArray(series)))
        text.emplace(I64(row[0]), row[1].as<std::string>());
      for (const auto& [i, sid] : texts) slice.readings()[i].value = std::move(text[sid]);
    }
    return slice.Finish();
  });
}

Result<std::vector<std::string>> PostgresSeriesStore::Keys(Id device_id) {
  return impl_->Read<std::vector<std::string>>(
      "Keys", [&](pqxx::connection& c) -> Result<std::vector<std::string>> {
        pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> n(c);
        pqxx::result r =
            n.exec_params("SELECT vals FROM device_latest WHERE device_id = $1", device_id);
        std::vector<std::string> out;
        if (!r.empty()) {
          BYSANS_ASSIGN_OR_RETURN(pg::LatestRow row, pg::DecodeLatestRow(std::string_view(
                                                         r[0][0].c_str(), r[0][0].size())));
          for (pg::LatestEntry& e : row) out.push_back(std::move(e.key));
        }
        for (const auto& row : n.exec_params(
                 "SELECT s.key" + std::string(kApartFrom) + " WHERE x.device_id = $1", device_id))
          out.push_back(row[0].as<std::string>());
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;  // in key order
      });
}

Result<std::vector<SeriesRef>> PostgresSeriesStore::ListSeries(const std::vector<Id>& device_ids) {
  std::vector<int64_t> ids(device_ids.begin(), device_ids.end());
  return impl_->Read<std::vector<SeriesRef>>("ListSeries", [&](pqxx::connection& c) {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> n(c);
    DecodedLatestRows latest_rows;
    for (const auto& row :
         n.exec_params("SELECT device_id, vals FROM device_latest WHERE device_id = "
                       "ANY($1::bigint[])",
                       IntArray(ids)))
      latest_rows.Of(I64(row[0]), row[1]);
    pqxx::result r =
        n.exec_params("SELECT " + kListedSeriesCols +
                          " FROM series s LEFT JOIN series_latest x ON x.series_id = s.id"
                          " WHERE s.device_id = ANY($1::bigint[]) ORDER BY s.id",
                      IntArray(ids));
    std::vector<SeriesRef> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(SeriesFromRow(row, latest_rows));
    return out;
  });
}

Result<SeriesRef> PostgresSeriesStore::GetSeries(int64_t series_id) {
  return impl_->Read<SeriesRef>("GetSeries", [&](pqxx::connection& c) -> Result<SeriesRef> {
    pqxx::nontransaction n(c);
    pqxx::result r = n.exec_params(
        std::string("SELECT ") + kSeriesCols + kSeriesFrom + " WHERE s.id = $1", series_id);
    if (r.empty()) return NotFound("no series " + std::to_string(series_id));
    return SeriesFromRow(r[0]);
  });
}

Result<SeriesRef> PostgresSeriesStore::CreateSeries(Id device_id, const std::string& key,
                                                    const std::string& unit, bool* created) {
  if (key.empty()) return InvalidArgument("a series needs a key");
  SeriesRef out;
  bool made = false;
  Status s = impl_->RunOp([&](pqxx::connection& c) {
    pqxx::work w(c);
    pqxx::result r = w.exec_params(
        "INSERT INTO series (device_id, key, unit) VALUES ($1, $2, $3) "
        "ON CONFLICT (device_id, key) DO NOTHING RETURNING id",
        device_id, key, unit);
    made = !r.empty();
    pqxx::result row = w.exec_params(std::string("SELECT ") + kSeriesCols + kSeriesFrom +
                                         " WHERE s.device_id = $1 AND s.key = $2",
                                     device_id, key);
    w.commit();
    out = SeriesFromRow(row[0]);
    impl_->Remember(out.id, out.device_id, out.key, out.unit);
    return Status::Ok();
  });
  BYSANS_RETURN_IF_ERROR(s);
  if (created) *created = made;
  return out;
}

void PostgresSeriesStore::ForgetCachedSeries(int64_t series_id) {
  for (auto& w : writers_) {
    std::lock_guard lk(w->forget_mu);
    w->forget_ids.push_back(series_id);
  }
}

void PostgresSeriesStore::ForgetInOtherWriters(int64_t series_id) {
  for (size_t n = 1; n < writers_.size(); ++n) {
    std::lock_guard lk(writers_[n]->forget_mu);
    writers_[n]->forget_ids.push_back(series_id);
  }
}

void PostgresSeriesStore::SetLiveRelay(pg::PgLiveRelay* relay, std::string node) {
  for (auto& w : writers_) {
    w->live = relay;
    w->live_node = node;
  }
}

void PostgresSeriesStore::ForgetAllCachedSeries() {
  for (auto& w : writers_) {
    std::lock_guard lk(w->forget_mu);
    w->forget_all = true;
  }
}

Status PostgresSeriesStore::SetSeriesUnit(int64_t series_id, const std::string& unit) {
  Status s = impl_->RunOp([&](pqxx::connection& c) -> Status {
    pqxx::work w(c);
    pqxx::result r = w.exec_params(
        "UPDATE series SET unit = $2 WHERE id = $1 RETURNING device_id, key", series_id, unit);
    if (r.empty()) return NotFound("no series " + std::to_string(series_id));
    const Id device = I64(r[0][0]);
    const std::string key = r[0][1].as<std::string>();
    pg::LatestValues::Modify(w, device, [&](pg::LatestRow& row) {
      if (pg::LatestEntry* e = pg::FindLatest(row, key)) e->unit = unit;
    });
    pg::NotifyChange(w, impl_->o.node_id, pg::change::kSeries, series_id);
    w.commit();
    impl_->latest.Forget(device);
    impl_->Remember(series_id, device, key, unit);
    return Status::Ok();
  });
  if (s.ok()) ForgetInOtherWriters(series_id);  // their cached unit
  return s;
}

Status PostgresSeriesStore::DeleteReadings(int64_t series_id, TimeMs from, TimeMs to) {
  std::vector<std::string> touched;  // tables whose dead rows hold the erased values
  Status s = impl_->RunOp([&](pqxx::connection& c) -> Status {
    const int64_t lo = Clamp(from), hi = Clamp(to);
    pqxx::work w(c);
    if (w.exec_params("SELECT 1 FROM series WHERE id = $1 FOR UPDATE", series_id).empty())
      return NotFound("no series " + std::to_string(series_id));
    if (lo <= hi) {
      touched = Impl::DeletedFrom(
          w.exec_params("WITH d AS (DELETE FROM readings WHERE series_id = $1 AND ts >= $2 AND "
                        "ts <= $3 RETURNING tableoid) SELECT DISTINCT tableoid::regclass::text "
                        "FROM d",
                        series_id, lo, hi));
      std::vector<int64_t> ids, hours;
      const int64_t first = FloorTo(lo, kHourMs), last = FloorTo(hi, kHourMs);
      // The rollups of the hours touched (those of the hours the series has, not every hour of a
      // possibly huge range).
      pqxx::result hs = w.exec_params(
          "SELECT hour FROM readings_hourly WHERE series_id = $1 AND hour >= $2 AND hour <= $3",
          series_id, first, last);
      for (const auto& row : hs) {
        ids.push_back(series_id);
        hours.push_back(I64(row[0]));
      }
      if (!ids.empty()) Impl::RecomputeHours(w, IntArray(ids), IntArray(hours));
      impl_->RecomputeLatest(w, series_id);
      if (!touched.empty())
        touched.insert(touched.end(),
                       {"readings_hourly", "series", "device_latest", "series_latest"});
    }
    w.commit();
    Impl::FlushStats(c);
    return Status::Ok();
  });
  BYSANS_RETURN_IF_ERROR(s);
  return impl_->VacuumAfterErasure(touched, false);
}

Status PostgresSeriesStore::DeleteSeries(int64_t series_id) {
  std::vector<std::string> touched;
  Status s = impl_->RunOp([&](pqxx::connection& c) -> Status {
    pqxx::work w(c);
    pqxx::result gone =
        w.exec_params("DELETE FROM series WHERE id = $1 RETURNING device_id, key", series_id);
    if (gone.empty()) return NotFound("no series " + std::to_string(series_id));
    const Id device = I64(gone[0][0]);
    const std::string key = gone[0][1].as<std::string>();
    pg::LatestValues::Modify(w, device, [&](pg::LatestRow& row) { pg::RemoveLatest(row, key); });
    touched = Impl::DeletedFrom(
        w.exec_params("WITH d AS (DELETE FROM readings WHERE series_id = $1 RETURNING tableoid) "
                      "SELECT DISTINCT tableoid::regclass::text FROM d",
                      series_id));
    w.exec_params("DELETE FROM readings_hourly WHERE series_id = $1", series_id);
    pg::NotifyChange(w, impl_->o.node_id, pg::change::kSeries, series_id);
    w.commit();
    Impl::FlushStats(c);
    impl_->Forget(series_id);
    impl_->latest.Forget(device);
    touched.insert(touched.end(), {"readings_hourly", "series", "device_latest", "series_latest"});
    return Status::Ok();
  });
  if (s.ok()) ForgetInOtherWriters(series_id);  // not written to again
  BYSANS_RETURN_IF_ERROR(s);
  return impl_->VacuumAfterErasure(touched, false);
}

Result<std::vector<RawMessage>> PostgresSeriesStore::QueryMessages(const MessageQuery& q) {
  return impl_->Read<std::vector<RawMessage>>("QueryMessages", [&](pqxx::connection& c) {
    pqxx::nontransaction n(c);
    pqxx::result r =
        n.exec_params(std::string("SELECT ") + pg::kRawMessageCols +
                          " FROM raw_messages "
                          "WHERE device_id = $1 AND received_ms >= $2 AND received_ms <= $3 "
                          "ORDER BY received_ms DESC, id DESC LIMIT $4",
                      q.device_id, q.from, q.to, std::max<int64_t>(q.limit, 0));
    std::vector<RawMessage> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(pg::RawMessageFromRow(row));
    return out;
  });
}

Result<std::map<Quality, int64_t>> PostgresSeriesStore::CountQuality(Id device_id) {
  return impl_->Read<std::map<Quality, int64_t>>("CountQuality", [&](pqxx::connection& c) {
    pqxx::nontransaction n(c);
    pqxx::result r = n.exec_params(
        "SELECT r.quality, count(*) FROM readings r JOIN series s ON s.id = r.series_id "
        "WHERE s.device_id = $1 GROUP BY r.quality",
        device_id);
    std::map<Quality, int64_t> out;
    for (const auto& row : r)
      out[static_cast<Quality>(static_cast<int>(I64(row[0])))] = I64(row[1]);
    return out;
  });
}

// Beside ingest, on a connection of its own: the writer only inserts raw messages, so the two
// never wait for each other. Then VACUUM, so that the deleted rows' bytes stop being rows at all
// (README.md "Erasure and retention" says what PostgreSQL does and does not guarantee).
Result<int64_t> PostgresSeriesStore::EraseRawMessages(Id device_id, TimeMs from, TimeMs to) {
  BYSANS_ASSIGN_OR_RETURN(
      int64_t erased,
      impl_->Read<int64_t>("EraseRawMessages", [&](pqxx::connection& c) -> Result<int64_t> {
        return pg::DeleteRawMessages(c, device_id, from, to);
      }));
  // Also when nothing was left to delete: a run after a crash between the deletion and the
  // VACUUM finishes the erasure.
  BYSANS_RETURN_IF_ERROR(impl_->VacuumAfterErasure({"raw_messages"}, true));
  return erased;
}

// Readings and rollups in steps on the writer thread (serialised with the group commits, which
// update readings and rollups too: no deadlocks, and the newest reading of a series is the one
// the step sees); raw messages on a connection of their own (the writer only inserts them).
Result<RetentionCounts> PostgresSeriesStore::ApplyRetention(const std::vector<Id>& device_ids,
                                                            const RetentionCutoffs& c) {
  RetentionCounts counts;
  if (device_ids.empty()) return counts;
  if (c.readings_before || c.aggregates_before) {
    BYSANS_ASSIGN_OR_RETURN(
        const std::vector<int64_t> series,
        impl_->Read<std::vector<int64_t>>("ApplyRetention", [&](pqxx::connection& x) {
          return Result<std::vector<int64_t>>(pg::SeriesWithReadings(x, device_ids));
        }));
    auto steps = [&](TimeMs before, auto step, int64_t* count) -> Status {
      std::vector<int64_t> pending = series;
      while (!pending.empty()) {
        BYSANS_RETURN_IF_ERROR(impl_->RunOp([&](pqxx::connection& x) {
          *count += step(x, pending, before);
          return Status::Ok();
        }));
      }
      return Status::Ok();
    };
    if (c.readings_before)
      BYSANS_RETURN_IF_ERROR(steps(*c.readings_before, pg::ExpireReadingsStep, &counts.readings));
    if (c.aggregates_before)
      BYSANS_RETURN_IF_ERROR(
          steps(*c.aggregates_before, pg::ExpireHoursStep, &counts.aggregate_chunks));
  }
  if (c.raw_before) {
    BYSANS_ASSIGN_OR_RETURN(
        counts.raw_messages,
        impl_->Read<int64_t>("ApplyRetention", [&](pqxx::connection& x) -> Result<int64_t> {
          int64_t n = 0;
          for (Id d : pg::DevicesWithRawBefore(x, device_ids, *c.raw_before))
            n +=
                pg::DeleteRawMessages(x, d, std::numeric_limits<int64_t>::min(), *c.raw_before - 1);
          return n;
        }));
  }
  return counts;
}

}  // namespace bysans

// TargetStore on PostgreSQL: data targets (header values and the MQTT password sealed with the
// SecretBox, as on SQLite), reads of the share log (one row per record, schema_targets.cc),
// cursors, dead letters and the delivery log. The share log's writer is
// postgres_series_store.cc (AppendShareLog).
#include "store/postgres/pg_target_store.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <utility>

#include "store/postgres/change_feed.h"
#include "store/postgres/migrations.h"
#include "store/postgres/pg_meta_impl.h"
#include "store/postgres/pool.h"
#include "store/postgres/sql_text.h"
#include "store/share_codec.h"
#include "store/target_columns.h"

namespace bysans {
namespace {

constexpr const char* kTargetCols =
    "id, org_id, app_id, name, type, url, format, batch_size, timeout_ms, device_ids::text, "
    "headers_sealed::text, paused, max_attempts, max_age_ms, cursor, created_ms, updated_ms, "
    "topic, qos, retain, username, password_sealed IS NOT NULL, ngsild";

DataTarget TargetRow(const pqxx::row& r) {
  DataTarget t;
  t.id = r[0].as<Id>();
  t.org_id = r[1].as<Id>();
  t.app_id = r[2].as<Id>();
  t.name = r[3].as<std::string>();
  t.type = r[4].as<std::string>();
  t.url = r[5].as<std::string>();
  t.format = r[6].as<std::string>();
  t.batch_size = r[7].as<int>();
  t.timeout_ms = r[8].as<int64_t>();
  t.device_ids = ParseTargetDeviceIds(r[9].c_str());
  t.header_names = TargetHeaderNames(r[10].c_str());
  t.paused = r[11].as<bool>();
  t.max_attempts = r[12].as<int>();
  t.max_age_ms = r[13].as<int64_t>();
  t.cursor = r[14].as<int64_t>();
  t.created_ms = r[15].as<int64_t>();
  t.updated_ms = r[16].as<int64_t>();
  t.topic = r[17].as<std::string>();
  t.qos = r[18].as<int>();
  t.retain = r[19].as<bool>();
  t.username = r[20].as<std::string>();
  t.has_password = r[21].as<bool>();
  t.ngsild_json = r[22].as<std::string>();
  return t;
}

// One record of the share log or of a dead letter (share_codec.h), at `position`.
Result<ShareRecord> RecordFrom(const pqxx::field& blob, int64_t position) {
  std::vector<ShareRecord> one;
  BYSANS_RETURN_IF_ERROR(DecodeShareRow(0, pg::FromByteaHex(blob.c_str()), -1, &one));
  if (one.size() != 1) return Internal("corrupt share log record");
  one[0].position = position;
  return std::move(one[0]);
}

std::string Encoded(const ShareRecord& r) {
  std::string blob;
  EncodeShareRecord(r.device_id, r.received_ms, r.message_id, r.decoded_json, r.readings, &blob);
  return pg::ByteaHex(blob);
}

constexpr const char* kLetterCols =
    "id, target_id, position, record, error, attempts, created_ms, replay";
// A letter whose record cannot be decoded keeps its other fields (as on SQLite).
DeadLetter LetterRow(const pqxx::row& r) {
  DeadLetter d;
  d.id = r[0].as<Id>();
  d.target_id = r[1].as<Id>();
  auto rec = RecordFrom(r[3], r[2].as<int64_t>());
  if (rec.ok()) d.record = std::move(rec).value();
  d.record.position = r[2].as<int64_t>();
  d.error = r[4].as<std::string>();
  d.attempts = r[5].as<int>();
  d.created_ms = r[6].as<int64_t>();
  d.replay = r[7].as<bool>();
  return d;
}

TargetDelivery DeliveryRow(const pqxx::row& r) {
  TargetDelivery d;
  d.id = r[0].as<Id>();
  d.target_id = r[1].as<Id>();
  d.ts = r[2].as<int64_t>();
  d.ok = r[3].as<bool>();
  d.records = r[4].as<int>();
  d.first_position = r[5].as<int64_t>();
  d.last_position = r[6].as<int64_t>();
  d.error = r[7].as<std::string>();
  d.duration_ms = r[8].as<int64_t>();
  return d;
}

Status NoTarget(Id id) { return NotFound("no data target with id " + std::to_string(id)); }
Status ChangedTarget(const pqxx::result& r, Id id) {
  return r.affected_rows() == 0 ? NoTarget(id) : Status::Ok();
}

// The application's newest position (0 = none yet): the head the series writer raises. It stays
// when the log is pruned.
constexpr const char* kEndSql =
    "SELECT coalesce((SELECT last_position FROM share_log_heads WHERE app_id = $1), 0)";

class PgTargetStore final : public PostgresTargetStore {
 public:
  PgTargetStore(std::unique_ptr<pg::Pool> owned, pg::Pool& pool, const SecretBox& box)
      : owned_(std::move(owned)), pool_(pool), box_(box) {}

  Result<DataTarget> CreateTarget(DataTarget t, const std::map<std::string, std::string>& headers,
                                  const std::optional<std::string>& password) override {
    BYSANS_ASSIGN_OR_RETURN(std::string sealed, SealTargetHeaders(box_, headers));
    std::optional<std::string> password_box;
    if (password && !password->empty()) {
      BYSANS_ASSIGN_OR_RETURN(password_box, box_.SealText(*password));
    }
    // One statement: the cursor is the end of the log as this statement sees it (a record
    // committed after it is forwarded). The foreign keys refuse an unknown application.
    auto made = Tx<Result<std::pair<Id, int64_t>>>("create data target", [&](pqxx::work& w) {
      const pqxx::row r = w.exec_params1(
          "INSERT INTO data_targets (org_id, app_id, name, type, url, format, batch_size, "
          "timeout_ms, device_ids, headers_sealed, paused, max_attempts, max_age_ms, cursor, "
          "created_ms, updated_ms, topic, qos, retain, username, password_sealed, ngsild) "
          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12, $13, "
          "coalesce((SELECT last_position FROM share_log_heads WHERE app_id = $2), 0), $14, $14, "
          "$15, $16, $17, $18, $19, $20) "
          "RETURNING id, cursor",
          t.org_id, t.app_id, t.name, t.type, t.url, t.format, t.batch_size, t.timeout_ms,
          TargetDeviceIdsJson(t.device_ids), sealed, t.paused, t.max_attempts, t.max_age_ms,
          t.created_ms, t.topic, t.qos, t.retain, t.username, password_box, t.ngsild_json);
      pg::NotifyChange(w, pool_, pg::change::kTargets, r[0].as<Id>());
      return Result<std::pair<Id, int64_t>>(std::pair{r[0].as<Id>(), r[1].as<int64_t>()});
    });
    BYSANS_RETURN_IF_ERROR(made.status());
    t.id = made->first;
    t.cursor = made->second;
    t.updated_ms = t.created_ms;
    t.has_password = password_box.has_value();
    t.header_names = HeaderNamesOf(headers);
    generation_.fetch_add(1);
    return t;
  }

  Result<DataTarget> GetTarget(Id id) override {
    return Tx<Result<DataTarget>>("read data target", [&](pqxx::work& w) -> Result<DataTarget> {
      const pqxx::result r = w.exec_params(
          std::string("SELECT ") + kTargetCols + " FROM data_targets WHERE id = $1", id);
      if (r.empty()) return NoTarget(id);
      return TargetRow(r[0]);
    });
  }

  Result<std::vector<DataTarget>> ListTargets(Id app_id) override {
    return Tx<Result<std::vector<DataTarget>>>("list data targets", [&](pqxx::work& w) {
      return Result<std::vector<DataTarget>>(pg::QueryAll<DataTarget>(
          w,
          std::string("SELECT ") + kTargetCols +
              " FROM data_targets WHERE $1::bigint = 0 OR app_id = $1 ORDER BY id",
          TargetRow, app_id));
    });
  }

  Result<int64_t> CountTargets(Id org_id) override {
    return Tx<Result<int64_t>>("count data targets", [&](pqxx::work& w) {
      return Result<int64_t>(
          w.exec_params1("SELECT count(*) FROM data_targets WHERE org_id = $1", org_id)[0]
              .as<int64_t>());
    });
  }

  Status UpdateTarget(const DataTarget& t,
                      const std::optional<std::map<std::string, std::string>>& headers,
                      const std::optional<std::string>& password) override {
    std::string sealed = "{}";
    if (headers) {
      BYSANS_ASSIGN_OR_RETURN(sealed, SealTargetHeaders(box_, *headers));
    }
    std::optional<std::string> password_box;
    if (password && !password->empty()) {
      BYSANS_ASSIGN_OR_RETURN(password_box, box_.SealText(*password));
    }
    BYSANS_RETURN_IF_ERROR(Tx<Status>("update data target", [&](pqxx::work& w) {
      return Announced(
          w, t.id,
          ChangedTarget(
              w.exec_params(
                  "UPDATE data_targets SET name = $1, type = $2, url = $3, format = $4, "
                  "batch_size = $5, timeout_ms = $6, device_ids = $7::jsonb, "
                  "headers_sealed = CASE WHEN $8 THEN $9::jsonb ELSE headers_sealed END, "
                  "paused = $10, max_attempts = $11, max_age_ms = $12, updated_ms = $13, "
                  "topic = $14, qos = $15, retain = $16, username = $17, "
                  "password_sealed = CASE WHEN $18 THEN $19 ELSE password_sealed END, ngsild = $20 "
                  "WHERE id = $21",
                  t.name, t.type, t.url, t.format, t.batch_size, t.timeout_ms,
                  TargetDeviceIdsJson(t.device_ids), headers.has_value(), sealed, t.paused,
                  t.max_attempts, t.max_age_ms, t.updated_ms, t.topic, t.qos, t.retain, t.username,
                  password.has_value(), password_box, t.ngsild_json, t.id),
              t.id));
    }));
    generation_.fetch_add(1);
    return Status::Ok();
  }

  Status SetTargetPaused(Id id, bool paused) override {
    BYSANS_RETURN_IF_ERROR(Tx<Status>("pause data target", [&](pqxx::work& w) {
      return Announced(
          w, id,
          ChangedTarget(
              w.exec_params("UPDATE data_targets SET paused = $1 WHERE id = $2", paused, id), id));
    }));
    generation_.fetch_add(1);
    return Status::Ok();
  }

  // Its dead letters and delivery log go with it (ON DELETE CASCADE).
  Status DeleteTarget(Id id) override {
    BYSANS_RETURN_IF_ERROR(Tx<Status>("delete data target", [&](pqxx::work& w) {
      return Announced(
          w, id, ChangedTarget(w.exec_params("DELETE FROM data_targets WHERE id = $1", id), id));
    }));
    generation_.fetch_add(1);
    return Status::Ok();
  }

  Result<std::map<std::string, std::string>> TargetHeaders(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(std::optional<std::string> text,
                            Column(id, "headers_sealed::text", "read data target headers"));
    return OpenTargetHeaders(box_, text.value_or(""));
  }

  Result<std::string> TargetPassword(Id id) override {
    BYSANS_ASSIGN_OR_RETURN(std::optional<std::string> box,
                            Column(id, "password_sealed", "read data target password"));
    if (!box) return std::string();
    return box_.UnsealText(*box);
  }

  // Counts this process's changes only: a target changed through another node's store is not
  // seen here (the delivery service of each node reconciles on its own store's changes).
  int64_t targets_generation() const override { return generation_.load(); }
  void BumpLocal() override { generation_.fetch_add(1); }

  Result<std::vector<ShareRecord>> ReadShareLog(Id app_id, int64_t after, size_t limit) override {
    return Tx<Result<std::vector<ShareRecord>>>(
        "read share log", [&](pqxx::work& w) -> Result<std::vector<ShareRecord>> {
          std::vector<ShareRecord> out;
          for (const auto& r : w.exec_params("SELECT position, record FROM share_log WHERE "
                                             "app_id = $1 AND position > $2 ORDER BY position "
                                             "LIMIT $3",
                                             app_id, after, static_cast<int64_t>(limit))) {
            BYSANS_ASSIGN_OR_RETURN(ShareRecord rec, RecordFrom(r[1], r[0].as<int64_t>()));
            out.push_back(std::move(rec));
          }
          return out;
        });
  }

  Result<int64_t> ShareLogEnd(Id app_id) override {
    return Tx<Result<int64_t>>("read share log end", [&](pqxx::work& w) {
      return Result<int64_t>(w.exec_params1(kEndSql, app_id)[0].as<int64_t>());
    });
  }

  Result<ShareBacklog> ShareBacklogAfter(Id app_id, int64_t after) override {
    return Tx<Result<ShareBacklog>>("read share backlog", [&](pqxx::work& w) {
      const pqxx::row r = w.exec_params1(
          "SELECT count(*), coalesce((SELECT received_ms FROM share_log WHERE app_id = $1 AND "
          "position > $2 ORDER BY position LIMIT 1), 0) FROM share_log WHERE app_id = $1 AND "
          "position > $2",
          app_id, after);
      return Result<ShareBacklog>(ShareBacklog{r[0].as<int64_t>(), r[1].as<int64_t>()});
    });
  }

  // A cursor only moves forward (two workers of one target never move it back).
  Status SetCursor(Id target_id, int64_t position) override {
    return Tx<Status>("set data target cursor", [&](pqxx::work& w) {
      w.exec_params("UPDATE data_targets SET cursor = greatest(cursor, $1) WHERE id = $2", position,
                    target_id);
      return Status::Ok();
    });
  }

  // The head row stays: positions are never reused.
  Status PruneShareLog(Id app_id, int64_t upto) override {
    return Tx<Status>("prune share log", [&](pqxx::work& w) {
      w.exec_params("DELETE FROM share_log WHERE app_id = $1 AND position <= $2", app_id, upto);
      return Status::Ok();
    });
  }

  Status AddDeadLetter(Id target_id, const ShareRecord& r, const std::string& error, int attempts,
                       TimeMs now) override {
    return Tx<Status>("add dead letter", [&](pqxx::work& w) {
      w.exec_params(
          "INSERT INTO target_dead_letters (target_id, position, record, error, attempts, "
          "created_ms, replay) VALUES ($1, $2, $3::bytea, $4, $5, $6, false)",
          target_id, r.position, Encoded(r), error, attempts, now);
      return Status::Ok();
    });
  }

  Result<Paged<DeadLetter>> ListDeadLetters(Id target_id, Page page) override {
    return Tx<Result<Paged<DeadLetter>>>("list dead letters", [&](pqxx::work& w) {
      return Result<Paged<DeadLetter>>(
          pg::QueryPage<DeadLetter>(w, kLetterCols, "FROM target_dead_letters WHERE target_id = $1",
                                    "id", page, LetterRow, target_id));
    });
  }

  Result<int64_t> ReplayDeadLetters(Id target_id) override {
    return Tx<Result<int64_t>>("replay dead letters", [&](pqxx::work& w) {
      return Result<int64_t>(w.exec_params("UPDATE target_dead_letters SET replay = true WHERE "
                                           "target_id = $1 AND NOT replay",
                                           target_id)
                                 .affected_rows());
    });
  }

  Status QueueReplay(Id target_id, const std::vector<ShareRecord>& records, const std::string& note,
                     TimeMs now) override {
    return Tx<Status>("queue replay", [&](pqxx::work& w) {
      for (const ShareRecord& r : records)
        w.exec_params(
            "INSERT INTO target_dead_letters (target_id, position, record, error, attempts, "
            "created_ms, replay) VALUES ($1, 0, $2::bytea, $3, 0, $4, true)",
            target_id, Encoded(r), note, now);
      return Status::Ok();
    });
  }

  Result<std::vector<DeadLetter>> ReplayQueue(Id target_id, size_t limit) override {
    return Tx<Result<std::vector<DeadLetter>>>("read replay queue", [&](pqxx::work& w) {
      return Result<std::vector<DeadLetter>>(pg::QueryAll<DeadLetter>(
          w,
          std::string("SELECT ") + kLetterCols +
              " FROM target_dead_letters WHERE target_id = $1 AND replay ORDER BY id LIMIT $2",
          LetterRow, target_id, static_cast<int64_t>(limit)));
    });
  }

  Status DeleteDeadLetters(const std::vector<Id>& ids) override {
    if (ids.empty()) return Status::Ok();
    return Tx<Status>("delete dead letters", [&](pqxx::work& w) {
      w.exec_params("DELETE FROM target_dead_letters WHERE id = ANY($1::bigint[])",
                    pg::IntArray(ids));
      return Status::Ok();
    });
  }

  Status RequeueDeadLetters(const std::vector<Id>& ids, const std::string& error) override {
    if (ids.empty()) return Status::Ok();
    return Tx<Status>("requeue dead letters", [&](pqxx::work& w) {
      w.exec_params(
          "UPDATE target_dead_letters SET replay = false, attempts = attempts + 1, error = $1 "
          "WHERE id = ANY($2::bigint[])",
          error, pg::IntArray(ids));
      return Status::Ok();
    });
  }

  // The delivery and the trim of the target's older ones in one transaction; the trim reads the
  // (target_id, id) index from the newest end, so it costs about `keep` index entries.
  Status AppendDelivery(const TargetDelivery& d, int keep) override {
    return Tx<Status>("append target delivery", [&](pqxx::work& w) {
      w.exec_params(
          "INSERT INTO target_deliveries (target_id, ts, ok, records, first_position, "
          "last_position, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
          d.target_id, d.ts, d.ok, d.records, d.first_position, d.last_position, d.error,
          d.duration_ms);
      w.exec_params(
          "DELETE FROM target_deliveries WHERE target_id = $1 AND id <= (SELECT id FROM "
          "target_deliveries WHERE target_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
          d.target_id, std::max(keep, 0));
      return Status::Ok();
    });
  }

  Result<Paged<TargetDelivery>> ListDeliveries(Id target_id, Page page) override {
    return Tx<Result<Paged<TargetDelivery>>>("list target deliveries", [&](pqxx::work& w) {
      return Result<Paged<TargetDelivery>>(pg::QueryPage<TargetDelivery>(
          w, "id, target_id, ts, ok, records, first_position, last_position, error, duration_ms",
          "FROM target_deliveries WHERE target_id = $1", "id DESC", page, DeliveryRow, target_id));
    });
  }

 private:
  template <typename R, typename F>
  R Tx(std::string_view what, F&& f) {
    return pool_.Transact<R>(what, std::forward<F>(f));
  }

  // One column of a target (nullopt when NULL); kNotFound when there is no such target.
  Result<std::optional<std::string>> Column(Id id, const std::string& column,
                                            std::string_view what) {
    return Tx<Result<std::optional<std::string>>>(
        what, [&](pqxx::work& w) -> Result<std::optional<std::string>> {
          const pqxx::result r =
              w.exec_params("SELECT " + column + " FROM data_targets WHERE id = $1", id);
          if (r.empty()) return NoTarget(id);
          if (r[0][0].is_null()) return std::optional<std::string>();
          return std::optional<std::string>(r[0][0].as<std::string>());
        });
  }

  // A change of target `id` that succeeded is told to the other nodes in its transaction.
  Status Announced(pqxx::work& w, Id id, Status st) {
    if (st.ok()) pg::NotifyChange(w, pool_, pg::change::kTargets, id);
    return st;
  }

  std::unique_ptr<pg::Pool> owned_;  // OpenPostgresTargetStore's pool
  pg::Pool& pool_;
  const SecretBox& box_;
  std::atomic<int64_t> generation_{1};
};

}  // namespace

std::unique_ptr<PostgresTargetStore> NewPostgresTargetStore(pg::Pool& pool, const SecretBox& box) {
  return std::make_unique<PgTargetStore>(nullptr, pool, box);
}

Result<std::unique_ptr<TargetStore>> OpenPostgresTargetStore(const std::string& url,
                                                             const SecretBox& box) {
  BYSANS_RETURN_IF_ERROR(pg::ApplyMigrations(url).status());
  auto pool = std::make_unique<pg::Pool>(url, 4);
  pg::Pool& p = *pool;
  return std::unique_ptr<TargetStore>(std::make_unique<PgTargetStore>(std::move(pool), p, box));
}

}  // namespace bysans

// DecoderStore on PostgreSQL (pg_decoder_store.h). Across nodes: every write that bumps
// generation() also sends a change notification in its transaction (InvalidateDecoders its own
// statement), and the other nodes' change feeds bump theirs (BumpLocal; change_feed.h).
#include "store/postgres/pg_decoder_store.h"

#include <algorithm>
#include <atomic>

#include "store/postgres/change_feed.h"
#include "store/postgres/pool.h"
#include "store/postgres/raw_message_row.h"
#include "store/postgres/schema.h"
#include "store/postgres/sql_text.h"

namespace bysans {
namespace {

constexpr char kSelect[] =
    "SELECT d.id, d.org_id, d.name, d.kind, d.version, v.code, d.created_ms, d.updated_ms, "
    "v.contract FROM decoders d "
    "JOIN decoder_versions v ON v.decoder_id = d.id AND v.version = d.version ";

StoredDecoder DecoderFrom(const pqxx::row& r) {
  StoredDecoder d;
  d.id = r[0].as<Id>();
  d.org_id = r[1].as<Id>();
  d.name = r[2].as<std::string>();
  d.kind = static_cast<DecoderKind>(r[3].as<int>());
  d.version = r[4].as<int64_t>();
  d.code = r[5].as<std::string>();
  d.created_ms = r[6].as<TimeMs>();
  d.updated_ms = r[7].as<TimeMs>();
  d.contract = r[8].as<std::string>();
  return d;
}

}  // namespace

// Migration 16 (issue 19): the process running a job (InterruptJobs leaves live nodes' jobs).
const char* pg::JobNodeSchema() {
  return "ALTER TABLE jobs ADD COLUMN node text NOT NULL DEFAULT '';";
}

namespace {

constexpr char kJobCols[] =
    "id, org_id, kind, state, done, total, errors, error, request, created_ms, updated_ms, node";

StoredJob JobFrom(const pqxx::row& r) {
  StoredJob j;
  j.id = r[0].as<Id>();
  j.org_id = r[1].as<Id>();
  j.kind = r[2].as<std::string>();
  j.state = r[3].as<std::string>();
  j.done = r[4].as<int64_t>();
  j.total = r[5].as<int64_t>();
  j.errors = r[6].as<int64_t>();
  j.error = r[7].as<std::string>();
  j.request = r[8].as<std::string>();
  j.created_ms = r[9].as<TimeMs>();
  j.updated_ms = r[10].as<TimeMs>();
  j.node = r[11].as<std::string>();
  return j;
}

class PgDecoderStore final : public PostgresDecoderStore {
 public:
  explicit PgDecoderStore(pg::Pool& pool) : pool_(pool) {}

  Result<StoredDecoder> CreateDecoder(StoredDecoder d, Id created_by, TimeMs now) override {
    auto r = pool_.Transact<Result<StoredDecoder>>(
        "CreateDecoder", [&](pqxx::work& w) -> Result<StoredDecoder> {
          d.id = w.exec_params1(
                      "INSERT INTO decoders (org_id, name, kind, version, created_ms, "
                      "updated_ms) VALUES ($1, $2, $3, 1, $4, $4) RETURNING id",
                      d.org_id, d.name, static_cast<int>(d.kind), now)[0]
                     .as<Id>();
          d.version = 1;
          d.created_ms = d.updated_ms = now;
          InsertVersion(w, d, created_by, now);
          pg::NotifyChange(w, pool_, pg::change::kDecoders, d.id);
          return d;
        });
    if (r.ok()) Bump();
    return r;
  }

  Result<StoredDecoder> GetDecoder(Id id) override {
    return pool_.Transact<Result<StoredDecoder>>("GetDecoder",
                                                 [&](pqxx::work& w) { return Get(w, id); });
  }

  Result<Paged<StoredDecoder>> ListDecoders(Id org_id, Page page) override {
    return pool_.Transact<Result<Paged<StoredDecoder>>>(
        "ListDecoders", [&](pqxx::work& w) -> Result<Paged<StoredDecoder>> {
          Paged<StoredDecoder> out;
          for (const auto& row : w.exec_params(
                   std::string(kSelect) + "WHERE d.org_id = $1 ORDER BY d.id LIMIT $2 OFFSET $3",
                   org_id, std::clamp<int64_t>(page.limit, 1, 10000),
                   std::max<int64_t>(0, page.offset)))
            out.items.push_back(DecoderFrom(row));
          out.total = w.exec_params1("SELECT count(*) FROM decoders WHERE org_id = $1", org_id)[0]
                          .as<int64_t>();
          return out;
        });
  }

  // The decoder's row is locked first (FOR UPDATE, its own statement), so two updates at once
  // (also from two nodes) run one after the other and the second reads, in a new statement's
  // snapshot, the version the first saved. (Locking in the joined SELECT would not do: after the
  // wait PostgreSQL rechecks the join with the new decoders row against the old version row and
  // finds no row.)
  Result<StoredDecoder> UpdateDecoder(const StoredDecoder& d, Id by, TimeMs now) override {
    auto r = pool_.Transact<Result<StoredDecoder>>(
        "UpdateDecoder", [&](pqxx::work& w) -> Result<StoredDecoder> {
          w.exec_params("SELECT 1 FROM decoders WHERE id = $1 FOR UPDATE", d.id);
          BYSANS_ASSIGN_OR_RETURN(StoredDecoder cur, Get(w, d.id));
          StoredDecoder saved = d;
          saved.version = cur.version;
          if (d.code != cur.code || d.contract != cur.contract) {
            ++saved.version;
            InsertVersion(w, saved, by, now);
          }
          w.exec_params(
              "UPDATE decoders SET name = $1, kind = $2, version = $3, updated_ms = $4 "
              "WHERE id = $5",
              d.name, static_cast<int>(d.kind), saved.version, now, d.id);
          pg::NotifyChange(w, pool_, pg::change::kDecoders, d.id);
          return Get(w, d.id);
        });
    if (r.ok()) Bump();
    return r;
  }

  Status DeleteDecoder(Id id) override {
    Status s = pool_.Transact<Status>("DeleteDecoder", [&](pqxx::work& w) -> Status {
      if (w.exec_params("DELETE FROM decoders WHERE id = $1", id).affected_rows() == 0)
        return NotFound("decoder " + std::to_string(id) + " not found");
      pg::NotifyChange(w, pool_, pg::change::kDecoders, id);
      return Status::Ok();
    });
    if (s.ok()) Bump();
    return s;
  }

  Result<std::vector<DecoderVersion>> ListVersions(Id decoder_id) override {
    return pool_.Transact<Result<std::vector<DecoderVersion>>>(
        "ListVersions", [&](pqxx::work& w) -> Result<std::vector<DecoderVersion>> {
          std::vector<DecoderVersion> out;
          for (const auto& r :
               w.exec_params("SELECT decoder_id, version, code, created_ms, created_by, contract "
                             "FROM decoder_versions WHERE decoder_id = $1 ORDER BY version DESC",
                             decoder_id))
            out.push_back({r[0].as<Id>(), r[1].as<int64_t>(), r[2].as<std::string>(),
                           r[3].as<TimeMs>(), r[4].as<Id>(), r[5].as<std::string>()});
          return out;
        });
  }

  Status SetApplicationDecoder(Id app_id, std::optional<Id> decoder_id) override {
    return Attach(decoder_id ? "INSERT INTO application_decoders (app_id, decoder_id) VALUES "
                               "($1, $2) ON CONFLICT (app_id) DO UPDATE SET decoder_id = "
                               "excluded.decoder_id"
                             : "DELETE FROM application_decoders WHERE app_id = $1",
                  app_id, decoder_id);
  }
  Status SetDeviceDecoder(Id device_id, std::optional<Id> decoder_id) override {
    return Attach(decoder_id ? "INSERT INTO device_decoders (device_id, decoder_id) VALUES "
                               "($1, $2) ON CONFLICT (device_id) DO UPDATE SET decoder_id = "
                               "excluded.decoder_id"
                             : "DELETE FROM device_decoders WHERE device_id = $1",
                  device_id, decoder_id);
  }

  Result<DecoderAttachments> ListAttachments() override {
    return pool_.Transact<Result<DecoderAttachments>>(
        "ListAttachments", [&](pqxx::work& w) -> Result<DecoderAttachments> {
          DecoderAttachments out;
          for (const auto& r : w.exec("SELECT app_id, decoder_id FROM application_decoders"))
            out.by_app[r[0].as<Id>()] = r[1].as<Id>();
          for (const auto& r : w.exec("SELECT device_id, decoder_id FROM device_decoders"))
            out.by_device[r[0].as<Id>()] = r[1].as<Id>();
          return out;
        });
  }

  Result<std::vector<RawMessage>> MessagesAfter(Id device_id, TimeMs from, TimeMs to, Id after_id,
                                                int64_t limit) override {
    return pool_.Transact<Result<std::vector<RawMessage>>>(
        "MessagesAfter", [&](pqxx::work& w) -> Result<std::vector<RawMessage>> {
          std::vector<RawMessage> out;
          for (const auto& r : w.exec_params(
                   std::string("SELECT ") + pg::kRawMessageCols +
                       " FROM raw_messages WHERE device_id = $1 AND received_ms >= $2 AND "
                       "received_ms <= $3 AND id > $4 ORDER BY id LIMIT $5",
                   device_id, from, to, after_id, std::clamp<int64_t>(limit, 1, 100000)))
            out.push_back(pg::RawMessageFromRow(r));
          return out;
        });
  }

  Result<int64_t> CountMessages(Id device_id, TimeMs from, TimeMs to) override {
    return pool_.Transact<Result<int64_t>>("CountMessages", [&](pqxx::work& w) -> Result<int64_t> {
      return w
          .exec_params1(
              "SELECT count(*) FROM raw_messages WHERE device_id = $1 AND "
              "received_ms >= $2 AND received_ms <= $3",
              device_id, from, to)[0]
          .as<int64_t>();
    });
  }

  // One statement for the whole batch; a message erased meanwhile is skipped (no row to update),
  // as SQLite's raw_decode row of an erased message is never read.
  Status SetMessageDecodeStatus(const std::vector<RawMessage>& messages) override {
    if (messages.empty()) return Status::Ok();
    std::vector<int64_t> ids, statuses;
    std::vector<std::string> errors, notes;
    for (const RawMessage& m : messages) {
      ids.push_back(m.id);
      statuses.push_back(static_cast<int64_t>(m.decode_status));
      errors.push_back(m.decode_error);
      notes.push_back(pg::DecodeNotesText(m));
    }
    return pool_.Transact<Status>("SetMessageDecodeStatus", [&](pqxx::work& w) -> Status {
      // unnest keeps the arrays' order; with one id twice, the last one is applied last only if
      // PostgreSQL updates in that order, which UPDATE … FROM does not promise: fold duplicates.
      w.exec_params(
          "UPDATE raw_messages m SET decode_status = u.status, decode_error = u.error, "
          "decode_notes = u.notes FROM (SELECT DISTINCT ON (id) id, status, error, notes FROM "
          "unnest($1::bigint[], $2::smallint[], $3::text[], $4::text[]) WITH ORDINALITY AS "
          "x(id, status, error, notes, n) ORDER BY id, n DESC) u WHERE m.id = u.id",
          pg::IntArray(ids), pg::IntArray(statuses), pg::TextArray(errors), pg::TextArray(notes));
      return Status::Ok();
    });
  }

  Result<StoredJob> CreateJob(StoredJob j) override {
    return pool_.Transact<Result<StoredJob>>("CreateJob", [&](pqxx::work& w) -> Result<StoredJob> {
      j.id = w.exec_params1(
                  "INSERT INTO jobs (org_id, kind, state, done, total, errors, error, "
                  "request, created_ms, updated_ms, node) VALUES ($1, $2, $3, $4, $5, $6, $7, "
                  "$8, $9, $10, $11) RETURNING id",
                  j.org_id, j.kind, j.state, j.done, j.total, j.errors, j.error, j.request,
                  j.created_ms, j.updated_ms, j.node)[0]
                 .as<Id>();
      return j;
    });
  }

  Result<StoredJob> GetJob(Id id) override {
    return pool_.Transact<Result<StoredJob>>("GetJob", [&](pqxx::work& w) -> Result<StoredJob> {
      pqxx::result r =
          w.exec_params(std::string("SELECT ") + kJobCols + " FROM jobs WHERE id = $1", id);
      if (r.empty()) return NotFound("job " + std::to_string(id) + " not found");
      return JobFrom(r[0]);
    });
  }

  Status UpdateJob(const StoredJob& j) override {
    return pool_.Transact<Status>("UpdateJob", [&](pqxx::work& w) -> Status {
      if (w.exec_params("UPDATE jobs SET state = $1, done = $2, total = $3, errors = $4, "
                        "error = $5, updated_ms = $6 WHERE id = $7",
                        j.state, j.done, j.total, j.errors, j.error, j.updated_ms, j.id)
              .affected_rows() == 0)
        return NotFound("job " + std::to_string(j.id) + " not found");
      return Status::Ok();
    });
  }

  Result<int64_t> InterruptJobs(TimeMs now, const std::vector<std::string>& live_nodes) override {
    return pool_.Transact<Result<int64_t>>("InterruptJobs", [&](pqxx::work& w) -> Result<int64_t> {
      return static_cast<int64_t>(
          w.exec_params("UPDATE jobs SET state = 'interrupted', error = 'interrupted by a "
                        "restart; run it again', updated_ms = $1 WHERE state IN ('queued', "
                        "'running') AND NOT (node = ANY($2::text[]))",
                        now, pg::TextArray(live_nodes))
              .affected_rows());
    });
  }

  uint64_t generation() const override { return generation_.load(); }
  void InvalidateDecoders() override {
    Bump();
    (void)pg::NotifyChangeNow(pool_, pg::change::kDecoders, 0);  // logged when it fails
  }
  void BumpLocal() override { Bump(); }

 private:
  void Bump() { generation_.fetch_add(1); }

  static Result<StoredDecoder> Get(pqxx::work& w, Id id) {
    pqxx::result r = w.exec_params(std::string(kSelect) + "WHERE d.id = $1", id);
    if (r.empty()) return NotFound("decoder " + std::to_string(id) + " not found");
    return DecoderFrom(r[0]);
  }

  // A version holding d.code and d.contract, numbered d.version.
  static void InsertVersion(pqxx::work& w, const StoredDecoder& d, Id by, TimeMs now) {
    w.exec_params(
        "INSERT INTO decoder_versions (decoder_id, version, code, created_ms, "
        "created_by, contract) VALUES ($1, $2, $3, $4, $5, $6)",
        d.id, d.version, d.code, now, by, d.contract);
  }

  // `sql`: the upsert ($1 target, $2 decoder) when decoder_id is set, else the deletion ($1).
  Status Attach(const char* sql, Id target, std::optional<Id> decoder_id) {
    Status s = pool_.Transact<Status>("SetDecoder", [&](pqxx::work& w) -> Status {
      if (decoder_id) {
        w.exec_params(sql, target, *decoder_id);
      } else {
        w.exec_params(sql, target);
      }
      pg::NotifyChange(w, pool_, pg::change::kDecoders, decoder_id.value_or(0));
      return Status::Ok();
    });
    if (s.ok()) Bump();
    return s;
  }

  pg::Pool& pool_;
  std::atomic<uint64_t> generation_{1};
};

}  // namespace

std::unique_ptr<PostgresDecoderStore> NewPostgresDecoderStore(pg::Pool& pool) {
  return std::make_unique<PgDecoderStore>(pool);
}

}  // namespace bysans

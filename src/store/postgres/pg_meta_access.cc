// PostgreSQL MetaStore: API keys (a key's keys go with it: created_by_key ON DELETE CASCADE,
// recursively), sessions and the audit log.
#include "store/postgres/pg_meta_impl.h"

namespace bysans::pg {
namespace {

constexpr char kKeyCols[] =
    "id, org_id, name, role, prefix, secret_hash, expires_ms, created_by, created_ms, "
    "created_by_key, mqtt_hash";

ApiKey KeyRow(const pqxx::row& r) {
  ApiKey k;
  k.id = r[0].as<Id>();
  k.org_id = r[1].as<Id>();
  k.name = r[2].as<std::string>();
  k.role = RoleFromCode(r[3].as<int64_t>());
  k.prefix = r[4].as<std::string>();
  k.secret_hash = r[5].as<std::string>();
  k.expires_ms = OptInt(r[6]);
  k.created_by = r[7].as<Id>();
  k.created_ms = r[8].as<TimeMs>();
  k.created_by_key = OptInt(r[9]);
  k.mqtt_hash = r[10].as<std::string>();
  return k;
}

constexpr char kAuditCols[] =
    "id, org_id, user_id, api_key_id, action, object_type, object_id, remote_addr, detail, ts";

AuditEntry AuditRow(const pqxx::row& r) {
  AuditEntry a;
  a.id = r[0].as<Id>();
  a.org_id = OptInt(r[1]);
  a.user_id = OptInt(r[2]);
  a.api_key_id = OptInt(r[3]);
  a.action = r[4].as<std::string>();
  a.object_type = r[5].as<std::string>();
  a.object_id = r[6].as<std::string>();
  a.remote_addr = r[7].as<std::string>();
  a.detail = r[8].as<std::string>();
  a.ts = r[9].as<TimeMs>();
  return a;
}

constexpr int64_t kAuditDeleteBatch = 10'000;

}  // namespace

// ---- API keys

Result<ApiKey> MetaPg::CreateApiKey(ApiKey k) {
  if (k.created_ms == 0) k.created_ms = clock_.NowMs();
  return Single<Result<ApiKey>>("create API key", [&](pqxx::transaction_base& w) {
    k.id = w.exec_params(
                "INSERT INTO api_keys (org_id, name, role, prefix, secret_hash, "
                "expires_ms, created_by, created_ms, created_by_key, mqtt_hash) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                k.org_id, k.name, RoleCode(k.role), k.prefix, k.secret_hash, k.expires_ms,
                k.created_by, k.created_ms, k.created_by_key, k.mqtt_hash)[0][0]
               .as<Id>();
    return Result<ApiKey>(k);
  });
}

Result<ApiKey> MetaPg::GetApiKey(Id id) {
  return Single<Result<ApiKey>>("get API key", [&](pqxx::transaction_base& w) {
    return QueryOne<ApiKey>(w, std::string("SELECT ") + kKeyCols + " FROM api_keys WHERE id = $1",
                            KeyRow, "api key", id);
  });
}

Result<ApiKey> MetaPg::FindApiKeyByHash(const std::string& secret_hash) {
  return Single<Result<ApiKey>>("find API key", [&](pqxx::transaction_base& w) {
    return QueryOne<ApiKey>(
        w, std::string("SELECT ") + kKeyCols + " FROM api_keys WHERE secret_hash = $1", KeyRow,
        "api key", secret_hash);
  });
}

Result<Paged<ApiKey>> MetaPg::ListApiKeys(Id org_id, Page page) {
  return Snapshot<Result<Paged<ApiKey>>>("list API keys", [&](pqxx::transaction_base& w) {
    return Result<Paged<ApiKey>>(QueryPage<ApiKey>(w, kKeyCols, "FROM api_keys WHERE org_id = $1",
                                                   "id", page, KeyRow, org_id));
  });
}

Result<std::vector<ApiKey>> MetaPg::ListMqttApiKeys() {
  return Single<Result<std::vector<ApiKey>>>("list MQTT API keys", [&](pqxx::transaction_base& w) {
    return Result<std::vector<ApiKey>>(QueryAll<ApiKey>(
        w, std::string("SELECT ") + kKeyCols + " FROM api_keys WHERE mqtt_hash <> '' ORDER BY id",
        KeyRow));
  });
}

Status MetaPg::DeleteApiKey(Id id) {
  return Single<Status>("delete API key", [&](pqxx::transaction_base& w) {
    return ChangedOne(w.exec_params("DELETE FROM api_keys WHERE id = $1", id), "api key");
  });
}

Status MetaPg::SetApiKeySecret(Id id, const std::string& prefix, const std::string& secret_hash,
                               const std::string& mqtt_hash) {
  return Single<Status>("set API key secret", [&](pqxx::transaction_base& w) {
    return ChangedOne(w.exec_params("UPDATE api_keys SET prefix = $1, secret_hash = $2, "
                                    "mqtt_hash = $3 WHERE id = $4",
                                    prefix, secret_hash, mqtt_hash, id),
                      "api key");
  });
}

// ---- sessions

Status MetaPg::CreateSession(const Session& s) {
  return Single<Status>("create session", [&](pqxx::transaction_base& w) {
    w.exec_params(
        "INSERT INTO sessions (token_hash, user_id, created_ms, expires_ms) "
        "VALUES ($1, $2, $3, $4)",
        s.token_hash, s.user_id, s.created_ms, s.expires_ms);
    return Status::Ok();
  });
}

Result<Session> MetaPg::FindSession(const std::string& token_hash) {
  return Single<Result<Session>>("find session", [&](pqxx::transaction_base& w) {
    return QueryOne<Session>(
        w, "SELECT token_hash, user_id, created_ms, expires_ms FROM sessions WHERE token_hash = $1",
        [](const pqxx::row& r) {
          return Session{r[0].as<std::string>(), r[1].as<Id>(), r[2].as<TimeMs>(),
                         r[3].as<TimeMs>()};
        },
        "session", token_hash);
  });
}

Status MetaPg::DeleteSession(const std::string& token_hash) {
  return Single<Status>("delete session", [&](pqxx::transaction_base& w) {
    return ChangedOne(w.exec_params("DELETE FROM sessions WHERE token_hash = $1", token_hash),
                      "session");
  });
}

Status MetaPg::DeleteExpiredSessions(TimeMs now) {
  return Single<Status>("delete expired sessions", [&](pqxx::transaction_base& w) {
    w.exec_params("DELETE FROM sessions WHERE expires_ms <= $1", now);
    return Status::Ok();
  });
}

Status MetaPg::DeleteSessionsOfUser(Id user_id, const std::string& keep_token_hash) {
  return Single<Status>("delete sessions of user", [&](pqxx::transaction_base& w) {
    w.exec_params("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2", user_id,
                  keep_token_hash);
    return Status::Ok();
  });
}

// ---- audit

Status MetaPg::AppendAudit(AuditEntry a) {
  if (a.ts == 0) a.ts = clock_.NowMs();
  return Single<Status>("append audit", [&](pqxx::transaction_base& w) {
    w.exec_params(
        "INSERT INTO audit (org_id, user_id, api_key_id, action, object_type, "
        "object_id, remote_addr, detail, ts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
        "$9)",
        a.org_id, a.user_id, a.api_key_id, a.action, a.object_type, a.object_id, a.remote_addr,
        a.detail, a.ts);
    return Status::Ok();
  });
}

Result<Paged<AuditEntry>> MetaPg::ListAudit(std::optional<Id> org_id, Page page) {
  return Snapshot<Result<Paged<AuditEntry>>>("list audit", [&](pqxx::transaction_base& w) {
    if (org_id)
      return Result<Paged<AuditEntry>>(QueryPage<AuditEntry>(
          w, kAuditCols, "FROM audit WHERE org_id = $1", "id DESC", page, AuditRow, *org_id));
    return Result<Paged<AuditEntry>>(
        QueryPage<AuditEntry>(w, kAuditCols, "FROM audit", "id DESC", page, AuditRow));
  });
}

// Entries are appended in time order, so the old ones have the lowest ids: the first id to keep
// is found once, and the ones below it go 10,000 per transaction (no long lock on the table).
// Across nodes an entry appended late with an old time may have a higher id than the cut and
// then stays until a later run finds it below a newer cut (as on SQLite).
Result<int64_t> MetaPg::DeleteAuditBefore(TimeMs before) {
  BYSANS_ASSIGN_OR_RETURN(
      const int64_t keep_from,
      Single<Result<int64_t>>("find audit cut-off", [&](pqxx::transaction_base& w) {
        return Result<int64_t>(
            w.exec_params("SELECT coalesce((SELECT id FROM audit WHERE ts >= $1 ORDER BY id "
                          "LIMIT 1), (SELECT coalesce(max(id), 0) + 1 FROM audit))",
                          before)[0][0]
                .as<int64_t>());
      }));
  int64_t deleted = 0;
  for (;;) {
    BYSANS_ASSIGN_OR_RETURN(
        const int64_t n,
        Single<Result<int64_t>>("delete old audit", [&](pqxx::transaction_base& w) {
          return Result<int64_t>(w.exec_params("DELETE FROM audit WHERE id IN (SELECT id FROM "
                                               "audit WHERE id < $1 ORDER BY id LIMIT $2)",
                                               keep_from, kAuditDeleteBatch)
                                     .affected_rows());
        }));
    deleted += n;
    if (n < kAuditDeleteBatch) return deleted;
  }
}

}  // namespace bysans::pg

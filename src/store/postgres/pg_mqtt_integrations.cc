// MqttStore integrations on PostgreSQL (mqtt_integrations): the password and the client
// certificate's private key are sealed with the SecretBox into bytea columns (NULL = none); the
// rest, certificates included, is stored in clear.
#include <utility>

#include "store/postgres/change_feed.h"
#include "store/postgres/pg_mqtt_parts.h"
#include "store/postgres/pool.h"
#include "store/postgres/sql_text.h"

namespace bysans::pg {
namespace {

constexpr const char* kColumns =
    "id, kind, org_id, coalesce(app_id, 0), name, url, username, password_box IS NOT NULL, "
    "client_id, enabled, topic_filter, device_topic_level, device_match, created_ms, updated_ms, "
    "ca_cert, client_cert, client_key_box IS NOT NULL";

MqttIntegration FromRow(const pqxx::row& r) {
  MqttIntegration i;
  i.id = r[0].as<int64_t>();
  i.kind = r[1].as<std::string>();
  i.org_id = r[2].as<int64_t>();
  i.app_id = r[3].as<int64_t>();
  i.name = r[4].as<std::string>();
  i.url = r[5].as<std::string>();
  i.username = r[6].as<std::string>();
  i.has_password = r[7].as<bool>();
  i.client_id = r[8].as<std::string>();
  i.enabled = r[9].as<bool>();
  i.topic_filter = r[10].as<std::string>();
  i.device_topic_level = r[11].as<int>();
  i.device_match = r[12].as<std::string>();
  i.created_ms = r[13].as<int64_t>();
  i.updated_ms = r[14].as<int64_t>();
  i.ca_cert = r[15].as<std::string>();
  i.client_cert = r[16].as<std::string>();
  i.has_client_key = r[17].as<bool>();
  return i;
}

// The sealed box as bytea text ("" = NULL in the statements: nullif($n, '')::bytea).
Result<std::string> SealedHex(const SecretBox& box, const std::string& plain) {
  if (plain.empty()) return std::string();
  BYSANS_ASSIGN_OR_RETURN(auto sealed, box.Seal(plain));
  return ByteaHex(sealed);
}

std::string NoIntegration(Id id) { return "no integration with id " + std::to_string(id); }

}  // namespace

Result<MqttIntegration> CreateIntegration(Pool& pool, const SecretBox& box, MqttIntegration i,
                                          const std::optional<std::string>& password) {
  BYSANS_ASSIGN_OR_RETURN(std::string sealed, SealedHex(box, password.value_or("")));
  // The default client id names the new id: taken from the identity first, one statement.
  return pool.Run<Result<MqttIntegration>>("create integration", [&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto r = tx.exec_params(
        "WITH n AS (SELECT nextval(pg_get_serial_sequence('mqtt_integrations', 'id')) AS id) "
        "INSERT INTO mqtt_integrations (id, kind, org_id, app_id, name, url, username, "
        "password_box, client_id, enabled, topic_filter, device_topic_level, device_match, "
        "created_ms, updated_ms, ca_cert, client_cert) SELECT n.id, $1, $2, nullif($3::bigint, 0), "
        "$4, "
        "$5, $6, nullif($7, '')::bytea, CASE WHEN $8 = '' THEN 'bysans-' || $1 || '-' || n.id "
        "ELSE $8 END, $9, $10, $11, $12, $13, $14, $15, $16 FROM n RETURNING id, client_id",
        i.kind, i.org_id, i.app_id, i.name, i.url, i.username, sealed, i.client_id, i.enabled,
        i.topic_filter, i.device_topic_level, i.device_match, i.created_ms, i.updated_ms, i.ca_cert,
        i.client_cert);
    i.id = r[0][0].as<int64_t>();
    i.client_id = r[0][1].as<std::string>();
    i.has_password = !sealed.empty();
    i.has_client_key = false;  // set by SetIntegrationClientKey
    NotifyChange(tx, pool, change::kMqttIntegrations, i.id);
    tx.commit();
    return Result<MqttIntegration>(std::move(i));
  });
}

Result<MqttIntegration> GetIntegration(Pool& pool, Id id) {
  return pool.Run<Result<MqttIntegration>>("get integration", [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(
        std::string("SELECT ") + kColumns + " FROM mqtt_integrations WHERE id = $1", id);
    if (r.empty()) return Result<MqttIntegration>(NotFound(NoIntegration(id)));
    return Result<MqttIntegration>(FromRow(r[0]));
  });
}

Result<std::vector<MqttIntegration>> ListIntegrations(Pool& pool, const std::string& kind,
                                                      Id org_id, Id app_id) {
  using R = Result<std::vector<MqttIntegration>>;
  return pool.Run<R>("list integrations", [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto r =
        tx.exec_params(std::string("SELECT ") + kColumns +
                           " FROM mqtt_integrations WHERE ($1 = '' OR kind = $1) AND "
                           "($2::bigint = 0 OR org_id = $2) AND ($3::bigint = 0 OR app_id = $3) "
                           "ORDER BY id",
                       kind, org_id, app_id);
    std::vector<MqttIntegration> out;
    out.reserve(r.size());
    for (const auto& row : r) out.push_back(FromRow(row));
    return R(std::move(out));
  });
}

Status UpdateIntegration(Pool& pool, const SecretBox& box, const MqttIntegration& i,
                         const std::optional<std::string>& password) {
  BYSANS_ASSIGN_OR_RETURN(std::string sealed, SealedHex(box, password.value_or("")));
  return pool.Run<Status>("update integration", [&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto r = tx.exec_params(
        "UPDATE mqtt_integrations SET name = $2, url = $3, username = $4, client_id = $5, "
        "enabled = $6, topic_filter = $7, device_topic_level = $8, device_match = $9, "
        "updated_ms = $10, ca_cert = $11, client_cert = $12, password_box = CASE WHEN $13 THEN "
        "nullif($14, '')::bytea ELSE password_box END WHERE id = $1",
        i.id, i.name, i.url, i.username, i.client_id, i.enabled, i.topic_filter,
        i.device_topic_level, i.device_match, i.updated_ms, i.ca_cert, i.client_cert,
        password.has_value(), sealed);
    if (r.affected_rows() == 0) return NotFound(NoIntegration(i.id));
    NotifyChange(tx, pool, change::kMqttIntegrations, i.id);
    tx.commit();
    return Status::Ok();
  });
}

Status DeleteIntegration(Pool& pool, Id id) {
  return pool.Run<Status>("delete integration", [&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto r = tx.exec_params("DELETE FROM mqtt_integrations WHERE id = $1", id);
    if (r.affected_rows() == 0) return NotFound(NoIntegration(id));
    NotifyChange(tx, pool, change::kMqttIntegrations, id);
    tx.commit();
    return Status::Ok();
  });
}

Status SetIntegrationSecret(Pool& pool, const SecretBox& box, Id id, IntegrationSecret which,
                            const std::string& plain) {
  BYSANS_ASSIGN_OR_RETURN(std::string sealed, SealedHex(box, plain));
  const char* sql = which == IntegrationSecret::kPassword
                        ? "UPDATE mqtt_integrations SET password_box = nullif($2, '')::bytea "
                          "WHERE id = $1"
                        : "UPDATE mqtt_integrations SET client_key_box = nullif($2, '')::bytea "
                          "WHERE id = $1";
  return pool.Run<Status>("set integration secret", [&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto r = tx.exec_params(sql, id, sealed);
    if (r.affected_rows() == 0) return NotFound(NoIntegration(id));
    NotifyChange(tx, pool, change::kMqttIntegrations, id);
    tx.commit();
    return Status::Ok();
  });
}

Result<std::string> IntegrationSecretOf(Pool& pool, const SecretBox& box, Id id,
                                        IntegrationSecret which) {
  const bool password = which == IntegrationSecret::kPassword;
  const char* sql = password ? "SELECT password_box FROM mqtt_integrations WHERE id = $1"
                             : "SELECT client_key_box FROM mqtt_integrations WHERE id = $1";
  using R = Result<std::optional<std::string>>;
  auto sealed = pool.Run<R>("read integration secret", [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(sql, id);
    if (r.empty()) return R(NotFound(NoIntegration(id)));
    if (r[0][0].is_null()) return R(std::optional<std::string>());
    return R(std::optional<std::string>(FromByteaHex(r[0][0].c_str())));
  });
  BYSANS_RETURN_IF_ERROR(sealed.status());
  if (!sealed->has_value()) return std::string();
  auto plain = box.Unseal(**sealed);
  if (!plain.ok())
    return Internal(std::string(password ? "the password" : "the client key") + " of integration " +
                    std::to_string(id) +
                    " cannot be decrypted (was secret.key replaced?); set it again");
  return plain;
}

}  // namespace bysans::pg

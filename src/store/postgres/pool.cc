#include "store/postgres/pool.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "store/postgres/change_feed.h"
#include "store/postgres/sql_text.h"

namespace bysans::pg {
namespace {

// A unique clash as a neutral sentence: constraint name → what it means. It must not tell in which
// organisation the other object is (a DevEUI is unique across all of them).
std::string ConflictMessage(std::string_view detail) {
  static constexpr std::pair<std::string_view, std::string_view> kKnown[] = {
      {"devices_dev_eui", "a device with this DevEUI already exists"},
      {"users_email", "a user with this email already exists"},
      {"mqtt_credentials_username", "a device with this MQTT username already exists"},
      {"coap_credentials_identity", "the PSK identity is used by another device; choose another"},
  };
  for (const auto& [name, message] : kKnown)
    if (detail.find(name) != std::string_view::npos) return std::string(message);
  return "an object with the same unique value already exists";
}

}  // namespace

bool ConnectionGone(const std::exception& e) {
  // in_doubt: the connection died while COMMIT was on its way. The transaction may have been
  // committed: a retry is idempotent where it matters (a message's dedup key).
  if (dynamic_cast<const pqxx::broken_connection*>(&e) ||
      dynamic_cast<const pqxx::in_doubt_error*>(&e))
    return true;
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (!sql) return false;
  const std::string& state = sql->sqlstate();
  return state.rfind("57P", 0) == 0 || state.rfind("08", 0) == 0;
}

bool Transient(const std::exception& e) {
  if (ConnectionGone(e)) return true;
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (!sql) return false;
  const std::string& state = sql->sqlstate();
  // 53: insufficient resources (disk full, out of memory, too many connections).
  return state == "40001" || state == "40P01" || state.rfind("53", 0) == 0;
}

Status FromException(const std::exception& e, std::string_view what) {
  // The detail may hold SQL and values: it goes to the log only.
  std::string detail = std::string(what) + ": " + e.what();
  if (dynamic_cast<const pqxx::broken_connection*>(&e)) {
    spdlog::warn("postgres: {}", detail);
    return Unavailable("the database connection was lost; try again");
  }
  if (Transient(e)) {
    spdlog::warn("postgres: {}", detail);
    return Unavailable("the database is busy or restarting; try again");
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    if (state == "23505") {
      spdlog::debug("postgres: {}", detail);
      return AlreadyExists(ConflictMessage(detail));
    }
    if (state == "23503") {
      spdlog::debug("postgres: {}", detail);
      return NotFound("a referenced object does not exist");
    }
  }
  spdlog::error("postgres: {}", detail);
  return Internal("database error");
}

Pool::Pool(std::string url, size_t max_idle)
    : url_(std::move(url)), node_id_(RandomNodeId()), max_idle_(max_idle) {}

Status Pool::Take(std::unique_ptr<pqxx::connection>& c) {
  {
    std::lock_guard lk(mu_);
    if (!idle_.empty()) {
      c = std::move(idle_.back());
      idle_.pop_back();
      return Status::Ok();
    }
  }
  try {
    c = std::make_unique<pqxx::connection>(url_);
    return Status::Ok();
  } catch (const std::exception& e) {
    spdlog::warn("postgres: cannot connect to {}: {}", RedactedUrl(url_), e.what());
    return Unavailable("the database is unreachable; try again");
  }
}

void Pool::Give(std::unique_ptr<pqxx::connection> c) {
  std::lock_guard lk(mu_);
  if (idle_.size() < max_idle_ && c->is_open()) idle_.push_back(std::move(c));
}

}  // namespace bysans::pg

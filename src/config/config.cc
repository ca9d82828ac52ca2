#include "config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <functional>
#include <vector>

#include "core/outbound_policy.h"

extern char** environ;

namespace bysans {
namespace {

// How one setting is parsed into the Config.
struct Setting {
  const char* name;
  std::function<Status(Config&, const std::string&)> apply;
};

// A URL's user and password are not repeated in messages.
std::string WithoutUserInfo(const std::string& v) {
  const size_t scheme = v.find("://"), at = v.rfind('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return v;
  return v.substr(0, scheme + 3) + "…@" + v.substr(at + 1);
}

Status Bad(const std::string& name, const SettingSource& s, const std::string& why) {
  return InvalidArgument("invalid setting " + name + "=\"" + WithoutUserInfo(s.value) +
                         "\" (from " + s.origin + "): " + why);
}

std::optional<int64_t> ToInt(const std::string& s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

template <typename T>
std::function<Status(Config&, const std::string&)> IntIn(T Config::*field, int64_t lo, int64_t hi) {
  return [=](Config& c, const std::string& v) {
    auto n = ToInt(v);
    if (!n || *n < lo || *n > hi)
      return InvalidArgument("must be an integer from " + std::to_string(lo) + " to " +
                             std::to_string(hi));
    c.*field = static_cast<T>(*n);
    return Status::Ok();
  };
}

std::function<Status(Config&, const std::string&)> Text(std::string Config::*field) {
  return [=](Config& c, const std::string& v) {
    c.*field = v;
    return Status::Ok();
  };
}

std::function<Status(Config&, const std::string&)> OneOf(std::string Config::*field,
                                                         const std::vector<std::string>& allowed) {
  return [=](Config& c, const std::string& v) {
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return InvalidArgument("must be one of " + list);
    }
    c.*field = v;
    return Status::Ok();
  };
}

std::function<Status(Config&, const std::string&)> Bool(bool Config::*field) {
  return [=](Config& c, const std::string& v) {
    if (v == "true" || v == "1" || v == "yes") {
      c.*field = true;
    } else if (v == "false" || v == "0" || v == "no") {
      c.*field = false;
    } else {
      return InvalidArgument("must be true or false");
    }
    return Status::Ok();
  };
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> kSettings = {
      {"data_dir", Text(&Config::data_dir)},
      {"http.address", Text(&Config::http_address)},
      {"http.port", IntIn(&Config::http_port, 0, 65535)},
      {"http.threads", IntIn(&Config::http_threads, 1, 64)},
      {"http.body_limit", IntIn(&Config::http_body_limit, 1024, 64 * 1024 * 1024)},
      {"http.tls_cert", Text(&Config::tls_cert_file)},
      {"http.tls_key", Text(&Config::tls_key_file)},
      {"http.trusted_proxies", Text(&Config::http_trusted_proxies)},
      {"http.max_connections", IntIn(&Config::http_max_connections, 1, 1'000'000)},
      {"http.stream_write_timeout_s", IntIn(&Config::http_stream_write_timeout_s, 1, 3600)},
      {"http.metrics_token", Text(&Config::http_metrics_token)},
      {"http.public_url",
       [](Config& c, const std::string& v) {
         bool web = v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0;
         if (!v.empty() && (!web || v.find_first_of(" ?#\"<>") != std::string::npos)) {
           return InvalidArgument("must be http(s)://host[:port] (no query or fragment)");
         }
         c.http_public_url = v;
         return Status::Ok();
       }},
      {"log.format", OneOf(&Config::log_format, {"text", "json"})},
      {"log.level", OneOf(&Config::log_level, {"trace", "debug", "info", "warn", "error"})},
      {"web.dir", Text(&Config::web_dir)},
      {"web.tile_url", Text(&Config::web_tile_url)},
      {"web.geocoder_url",
       [](Config& c, const std::string& v) {
         const bool web = v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0;
         const size_t host_end = v.find_first_of("/?#", v.find("://") + 3);
         if (!v.empty() && (!web || v.find("{q}") == std::string::npos ||
                            v.find("{q}") < host_end || v.find_first_of(" \"<>") != v.npos)) {
           return InvalidArgument("must be empty or an http(s):// URL with {q} after the host");
         }
         c.web_geocoder_url = v;
         return Status::Ok();
       }},
      {"auth.session_ttl_s", IntIn(&Config::session_ttl_s, 60, 90 * 86400)},
      {"auth.login_attempts_per_minute", IntIn(&Config::login_attempts_per_minute, 1, 10000)},
      {"auth.login_free_failures", IntIn(&Config::login_free_failures, 1, 1000)},
      {"auth.login_max_delay_s", IntIn(&Config::login_max_delay_s, 1, 86400)},
      {"auth.stream_recheck_s", IntIn(&Config::stream_recheck_s, 1, 30)},
      {"mqtt.port", IntIn(&Config::mqtt_port, 0, 65535)},
      {"mqtt.url", Text(&Config::mqtt_url)},
      {"mqtt.client_id", Text(&Config::mqtt_client_id)},
      // A topic level of $share/<group>/…: no wildcards, no '/'.
      {"mqtt.shared_group",
       [](Config& c, const std::string& v) {
         const bool plain = std::all_of(v.begin(), v.end(), [](char ch) {
           return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
         });
         if (v.size() > 64 || !plain)
           return InvalidArgument("must be at most 64 letters, digits, '_' or '-'");
         c.mqtt_shared_group = v;
         return Status::Ok();
       }},
      {"mqtt.bind_address", Text(&Config::mqtt_bind_address)},
      {"node.id",
       [](Config& c, const std::string& v) {
         const bool plain = std::all_of(v.begin(), v.end(), [](char ch) {
           return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' ||
                  ch == '.';
         });
         if (v.empty() || v.size() > 64 || !plain)
           return InvalidArgument("must be 1-64 letters, digits, '.', '_' or '-'");
         c.node_id = v;
         return Status::Ok();
       }},
      {"coap.enabled", Bool(&Config::coap_enabled)},
      {"coap.bind", Text(&Config::coap_bind)},
      {"coap.udp_port", IntIn(&Config::coap_udp_port, 0, 65535)},
      {"coap.dtls_port", IntIn(&Config::coap_dtls_port, -1, 65535)},
      {"coap.max_payload", IntIn(&Config::coap_max_payload, 16, 1024)},
      {"coap.lwm2m_awake_ms", IntIn(&Config::coap_lwm2m_awake_ms, 100, 600'000)},
      {"coap.lwm2m_operation_expiry_s",
       IntIn(&Config::coap_lwm2m_operation_expiry_s, 1, 30 * 86'400)},
      {"coap.lwm2m_operation_history_days",
       IntIn(&Config::coap_lwm2m_operation_history_days, 1, 3650)},
      {"coap.lwm2m_observe", Bool(&Config::coap_lwm2m_observe)},
      {"coap.lwm2m_max_api_observations",
       IntIn(&Config::coap_lwm2m_max_api_observations, 1, 10'000)},
      {"coap.piggyback_ms", IntIn(&Config::coap_piggyback_ms, 0, 1000)},
      {"coap.max_idle_sessions", IntIn(&Config::coap_max_idle_sessions, 16, 10'000'000)},
      {"outbound.allow",
       [](Config& c, const std::string& v) {
         BYSANS_RETURN_IF_ERROR(OutboundPolicy::Parse(v).status());
         c.outbound_allow = v;
         return Status::Ok();
       }},
      {"store.commit_interval_ms", IntIn(&Config::store_commit_interval_ms, 0, 1000)},
      {"store.writers", IntIn(&Config::store_writers, 1, 16)},
      // The store: empty = the embedded SQLite database in data_dir, or a PostgreSQL URL.
      {"store.url",
       [](Config& c, const std::string& v) {
         if (!v.empty() && v.rfind("postgresql://", 0) != 0 && v.rfind("postgres://", 0) != 0)
           return InvalidArgument(
               "must be empty (the SQLite database in data_dir) or a PostgreSQL URL "
               "(postgresql://user@host:port/database)");
         c.store_url = v;
         return Status::Ok();
       }},
      {"decode.threads", IntIn(&Config::decode_threads, 1, 64)},
      {"ingest.max_keys_per_device", IntIn(&Config::ingest_max_keys_per_device, 1, 100'000)},
      {"ingest.max_in_flight", IntIn(&Config::ingest_max_in_flight, 16, 10'000'000)},
      {"ingest.max_in_flight_per_org", IntIn(&Config::ingest_max_in_flight_per_org, 0, 10'000'000)},
      {"limits.max_devices_per_org", IntIn(&Config::limits_max_devices_per_org, 0, 100'000'000)},
      {"limits.max_data_targets_per_org",
       IntIn(&Config::limits_max_data_targets_per_org, 0, 10'000)},
      {"limits.max_integrations_per_org",
       IntIn(&Config::limits_max_integrations_per_org, 0, 10'000)},
      {"limits.max_rules_per_org", IntIn(&Config::limits_max_rules_per_org, 0, 1'000'000)},
      {"limits.max_silences_per_org", IntIn(&Config::limits_max_silences_per_org, 0, 1'000'000)},
      {"limits.max_dashboards_per_org",
       IntIn(&Config::limits_max_dashboards_per_org, 0, 1'000'000)},
      {"limits.max_datasets_per_org", IntIn(&Config::limits_max_datasets_per_org, 0, 100'000)},
      {"limits.max_applications_per_org",
       IntIn(&Config::limits_max_applications_per_org, 0, 1'000'000)},
      {"export.free_space_reserve_mb",
       IntIn(&Config::export_free_space_reserve_mb, 0, 1'000'000'000)},
      {"decode.max_timeout_ms", IntIn(&Config::decode_max_timeout_ms, 1, 5000)},
      {"decode.max_backlog_s", IntIn(&Config::decode_max_backlog_s, 1, 86400)},
      {"decode.quarantine_ttl_s", IntIn(&Config::decode_quarantine_ttl_s, 60, 365 * 86400)},
      {"retention.sensitive_raw_days", IntIn(&Config::retention_sensitive_raw_days, 0, 36500)},
      {"retention.sensitive_readings_days",
       IntIn(&Config::retention_sensitive_readings_days, 0, 36500)},
      {"retention.personal_raw_days", IntIn(&Config::retention_personal_raw_days, 0, 36500)},
      {"retention.personal_readings_days",
       IntIn(&Config::retention_personal_readings_days, 0, 36500)},
      {"retention.pseudonymous_raw_days",
       IntIn(&Config::retention_pseudonymous_raw_days, 0, 36500)},
      {"retention.pseudonymous_readings_days",
       IntIn(&Config::retention_pseudonymous_readings_days, 0, 36500)},
      {"retention.none_raw_days", IntIn(&Config::retention_none_raw_days, 0, 36500)},
      {"retention.none_readings_days", IntIn(&Config::retention_none_readings_days, 0, 36500)},
      {"retention.aggregates_days", IntIn(&Config::retention_aggregates_days, 0, 36500)},
      {"audit.retention_days", IntIn(&Config::audit_retention_days, 0, 36500)},
      {"admin.email", Text(&Config::admin_email)},
      {"admin.password", Text(&Config::admin_password)},
      {"demo.enabled", Bool(&Config::demo)},
      {"demo.interval_s", IntIn(&Config::demo_interval_s, 1, 3600)},
  };
  return kSettings;
}

const Setting* Find(const std::string& name) {
  for (const auto& s : Settings())
    if (name == s.name) return &s;
  return nullptr;
}

// Flattens a TOML table into dotted names with textual values.
Status FlattenToml(const toml::table& table, const std::string& prefix, const std::string& origin,
                   std::map<std::string, SettingSource>& out) {
  for (const auto& [k, node] : table) {
    std::string name = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* t = node.as_table()) {
      BYSANS_RETURN_IF_ERROR(FlattenToml(*t, name, origin, out));
      continue;
    }
    std::string value;
    if (auto s = node.value<std::string>()) {
      value = *s;
    } else if (auto i = node.value<int64_t>(); i && node.is_integer()) {
      value = std::to_string(*i);
    } else if (auto b = node.value<bool>(); b && node.is_boolean()) {
      value = *b ? "true" : "false";
    } else if (const auto* list = node.as_array(); list && list->is_homogeneous<std::string>()) {
      for (const auto& item : *list)
        value += (value.empty() ? "" : ",") + *item.value<std::string>();
    } else {
      return InvalidArgument("invalid setting " + name + " (from " + origin +
                             "): must be a string, an integer, a boolean or a list of strings");
    }
    out[name] = {value, origin};
  }
  return Status::Ok();
}

}  // namespace

std::string EnvNameOf(const std::string& dotted) {
  std::string out = "BYSANS_";
  for (char c : dotted) out += c == '.' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

std::map<std::string, std::string> BysansEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (kv.rfind("BYSANS_", 0) != 0) continue;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  return env;
}

Result<Config> LoadConfig(const std::string& config_file,
                          const std::map<std::string, std::string>& env,
                          const std::map<std::string, std::string>& flags) {
  std::map<std::string, SettingSource> values;
  if (!config_file.empty()) {
    std::string origin = "config file " + config_file;
    if (!std::filesystem::exists(config_file))
      return InvalidArgument("invalid setting config=\"" + config_file +
                             "\" (from flag --config): file does not exist");
    toml::table parsed;
    try {
      parsed = toml::parse_file(config_file);
    } catch (const toml::parse_error& err) {
      return InvalidArgument("invalid setting config=\"" + config_file +
                             "\": " + std::string(err.description()) + " at line " +
                             std::to_string(err.source().begin.line));
    }
    BYSANS_RETURN_IF_ERROR(FlattenToml(parsed, "", origin, values));
  }
  for (const auto& s : Settings()) {
    auto it = env.find(EnvNameOf(s.name));
    if (it != env.end()) values[s.name] = {it->second, "environment " + it->first};
  }
  for (const auto& [name, value] : flags) values[name] = {value, "flag " + name};

  Config config;
  for (const auto& [name, src] : values) {
    const Setting* s = Find(name);
    if (!s) return InvalidArgument("unknown setting " + name + " (from " + src.origin + ")");
    Status st = s->apply(config, src.value);
    if (!st.ok()) return Bad(name, src, st.message());
  }
  if (config.tls_cert_file.empty() != config.tls_key_file.empty())
    return InvalidArgument(
        "invalid setting http.tls_cert/http.tls_key: set both (certificate and key) or neither");
  if (config.data_dir.empty())
    return InvalidArgument("invalid setting data_dir: must not be empty");
  return config;
}

}  // namespace bysans

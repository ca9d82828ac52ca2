#include "server/app.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "act/action_secrets.h"
#include "act/outbox.h"
#include "api/context.h"
#include "api/data_targets.h"
#include "api/downlink.h"
#include "api/geocode.h"
#include "api/sms_gateway.h"
#include "api/stream.h"
#include "api/ui_config.h"
#include "auth/auth.h"
#include "coap/server.h"
#include "core/dir_lock.h"
#include "core/metrics.h"
#include "core/outbound_policy.h"
#include "core/random.h"
#include "decode/pipeline_decoder.h"
#include "decode/redecode.h"
#include "http/router.h"
#include "httpserver/http_server.h"
#include "httpserver/static_files.h"
#include "lwm2m/server.h"
#include "model/retention.h"
#include "mqtt/ingest.h"
#include "pipeline/pipeline.h"
#include "quality/quality_checker.h"
#include "rules/action_guard.h"
#include "rules/service.h"
#include "server/coap_downlinks.h"
#include "server/first_admin.h"
#include "server/housekeeping.h"
#include "server/node_coordinator.h"
#include "server/node_wiring.h"
#include "server/rule_contacts.h"
#include "server/rule_downlinks.h"
#include "server/sta_mqtt.h"
#include "share/service.h"
#include "sim/demo.h"
#include "sim/simulator.h"
#include "store/coap_credential_store.h"
#include "store/postgres/postgres_store.h"
#include "store/postgres/sql_text.h"
#include "store/rule_store.h"
#include "store/sqlite/sqlite_store.h"

namespace bysans {
namespace fs = std::filesystem;

namespace {

// The built UI: the configured directory, else web/dist next to the source
// tree or the binary's install prefix.
// The config's retention.* settings (0 = for ever) as model/retention.h defaults.
RetentionDefaults RetentionDefaultsOf(const Config& c) {
  auto days = [](int d) { return d > 0 ? std::optional<int>(d) : std::nullopt; };
  const std::optional<int> aggregates = days(c.retention_aggregates_days);
  RetentionDefaults r;
  r.by_class[DataClass::kSensitive] = {days(c.retention_sensitive_raw_days),
                                       days(c.retention_sensitive_readings_days), aggregates};
  r.by_class[DataClass::kPersonal] = {days(c.retention_personal_raw_days),
                                      days(c.retention_personal_readings_days), aggregates};
  r.by_class[DataClass::kPseudonymous] = {days(c.retention_pseudonymous_raw_days),
                                          days(c.retention_pseudonymous_readings_days), aggregates};
  r.by_class[DataClass::kNone] = {days(c.retention_none_raw_days),
                                  days(c.retention_none_readings_days), aggregates};
  return r;
}

std::string FindWebDir(const Config& c) {
  if (!c.web_dir.empty()) return c.web_dir;
  for (const char* candidate :
       {"web/dist", "../web/dist", "../../web/dist", "/usr/share/bysans/web"}) {
    if (fs::exists(fs::path(candidate) / "index.html")) return fs::absolute(candidate).string();
  }
  return {};
}

// Files of a data directory made by an earlier version (or under a lax umask) become the
// user's only: the database and its WAL/SHM, secret.key, the *.url files, service secrets.
// (The broker's own directory is kept by mqtt/broker.cc.)
void RestrictDataDirFiles(const std::string& data_dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(data_dir, ec)) {
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if ((st.st_mode & 077) != 0) ::chmod(entry.path().c_str(), st.st_mode & 0700);
  }
}

// Creates the data directory (0700) and restricts what an earlier version left in it.
Status PrepareDataDir(const std::string& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return InvalidArgument("invalid setting data_dir=\"" + data_dir + "\": " + ec.message());
  ::chmod(data_dir.c_str(), 0700);
  RestrictDataDirFiles(data_dir);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenConfiguredStore(const Config& c) {
  BYSANS_RETURN_IF_ERROR(PrepareDataDir(c.data_dir));
  static SystemClock clock;  // process-lifetime clock
  const int64_t commit_interval_us = int64_t{c.store_commit_interval_ms} * 1000;
  if (!c.store_url.empty()) {
    PostgresStoreOptions opts;
    opts.url = c.store_url;
    opts.clock = &clock;
    opts.group_commit_interval_us = commit_interval_us;
    opts.writers = c.store_writers;
    opts.node_id = c.node_id;  // names its change-feed connection (empty: a random name)
    spdlog::info("store: PostgreSQL at {}", pg::RedactedUrl(c.store_url));
    return OpenPostgresStore(opts, (fs::path(c.data_dir) / "secret.key").string());
  }
  SqliteOptions opts;
  opts.path = (fs::path(c.data_dir) / "bysans.db").string();
  opts.clock = &clock;
  opts.group_commit_interval_us = commit_interval_us;
  spdlog::info("store: SQLite at {}", opts.path);
  return OpenSqliteStore(opts);
}

struct App::Impl {
  Config config;
  std::optional<DirLock> data_dir_lock;  // released last, after everything has stopped
  SystemClock clock;
  SystemRandom random;
  Metrics metrics;
  std::unique_ptr<Store> store;
  std::unique_ptr<NodeCoordinator> node;  // which node does what (server/node_coordinator.h)
  std::unique_ptr<auth::Authenticator> authenticator;
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::unique_ptr<api::ApiContext> ctx;
  http::Router router;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<sim::Simulator> simulator;
  std::unique_ptr<mqtt::MqttService> mqtt;        // reset after the store is closed
  std::function<void()> stop_downlinks;           // object encodes (api/downlink.h)
  std::unique_ptr<act::Outbox> outbox;            // alarm actions (act/outbox.h)
  std::unique_ptr<rules::RulesService> rules;     // rules thread (rules/service.h)
  std::unique_ptr<Housekeeping> housekeeping;     // audit retention (server/housekeeping.h)
  std::unique_ptr<share::TargetService> targets;  // data targets (share/service.h)
  std::unique_ptr<StaMqttService> sta_mqtt;       // SensorThings over MQTT (server/sta_mqtt.h)
  std::unique_ptr<coap::CoapServer> coap;         // CoAP ingest (coap/server.h), coap.enabled
  std::shared_ptr<api::UiConfig> ui_config;       // GET /api/v1/ui-config (api/ui_config.h)
};

App::App(Config config) : impl_(std::make_unique<Impl>()) { impl_->config = std::move(config); }

App::~App() { Stop(); }

uint16_t App::port() const { return impl_->http ? impl_->http->port() : 0; }

Status App::Start() {
  Impl& m = *impl_;
  const Config& c = m.config;
  auth::AuthOptions auth_opts;
  auto proxies = auth::TrustedProxies::Parse(c.http_trusted_proxies);
  if (!proxies.ok())
    return InvalidArgument("invalid setting http.trusted_proxies=\"" + c.http_trusted_proxies +
                           "\": " + proxies.status().message());
  auth_opts.trusted_proxies = std::move(proxies).value();
  auth_opts.session_ttl_ms = c.session_ttl_s * 1000;
  auth_opts.login_attempts_per_minute = c.login_attempts_per_minute;
  auth_opts.login_free_failures = c.login_free_failures;
  auth_opts.login_max_delay_ms = c.login_max_delay_s * 1000;
  auth_opts.recheck_ms = c.stream_recheck_s * 1000;
  auth_opts.secure_cookies = !c.tls_cert_file.empty();
  // One server per data directory: a second one (or a restore) is refused before it touches it.
  BYSANS_RETURN_IF_ERROR(PrepareDataDir(c.data_dir));
  BYSANS_ASSIGN_OR_RETURN(DirLock lock, DirLock::Acquire(c.data_dir, "serve"));
  m.data_dir_lock.emplace(std::move(lock));
  BYSANS_ASSIGN_OR_RETURN(m.store, OpenConfiguredStore(c));
  // Several nodes on one database share the work out by leases; alone, this node holds it all.
  m.node =
      std::make_unique<NodeCoordinator>(m.store->leases(), m.clock, NodeOptionsOf(c, m.random));
  // A process that died leaves its jobs "running". Whenever what this node holds changes (its
  // node lease taken back from its own killed process, a dead node's partitions shared out) the
  // jobs of processes no longer alive are marked interrupted at once, not at the next (hourly)
  // housekeeping; at start the API does it for what is already known to be dead.
  m.node->OnChange([store = m.store.get(), &clock = m.clock] {
    auto n = decode::InterruptJobsOfDeadNodes(*store, clock.NowMs());
    if (!n.ok()) {
      spdlog::warn("jobs: {}", n.status().message());
    } else if (*n > 0) {
      spdlog::info("jobs: {} job(s) of processes no longer running marked interrupted", *n);
    }
  });
  BYSANS_RETURN_IF_ERROR(m.node->Start());
  m.authenticator = std::make_unique<auth::Authenticator>(*m.store, m.clock, m.random, auth_opts);

  BYSANS_ASSIGN_OR_RETURN(Id admin_id, EnsureFirstAdmin(*m.store, m.random, m.clock, c));
  pipeline::PipelineOptions pipeline_opts;
  pipeline_opts.decode_threads = c.decode_threads;  // shared fairly by organisations
  pipeline_opts.max_decode_backlog_ms = c.decode_max_backlog_s * 1000;
  pipeline_opts.max_keys_per_device = static_cast<size_t>(c.ingest_max_keys_per_device);
  pipeline_opts.max_in_flight = static_cast<size_t>(c.ingest_max_in_flight);
  pipeline_opts.max_in_flight_per_org = static_cast<size_t>(c.ingest_max_in_flight_per_org);
  m.pipeline = std::make_unique<pipeline::Pipeline>(*m.store, m.metrics, pipeline_opts);
  // Payload decoders (decode/pipeline_decoder.h) and quality flags (quality/quality_checker.h).
  // A message whose decode was in flight when an earlier process died is not decoded again
  // (decode/quarantine.h).
  decode::QuarantineOptions quarantine_opts;
  quarantine_opts.dir = c.data_dir;
  quarantine_opts.ttl_ms = c.decode_quarantine_ttl_s * 1000;
  BYSANS_ASSIGN_OR_RETURN(std::shared_ptr<decode::Quarantine> quarantine,
                          decode::Quarantine::Open(quarantine_opts, m.clock));
  auto decoder = std::make_shared<decode::PipelineDecoder>(m.store->decoders(), *m.store);
  decoder->SetQuarantine(std::move(quarantine));
  m.pipeline->SetDecoder(std::move(decoder));
  m.pipeline->SetQualityChecker(std::make_shared<quality::QualityChecker>(*m.store, m.clock));
  // Rules, alarms and actions: committed readings → rules thread → alarms + outbox.
  BYSANS_ASSIGN_OR_RETURN(OutboundPolicy outbound, OutboundPolicy::Parse(c.outbound_allow));
  act::OutboxOptions outbox_opts;
  outbox_opts.outbound = outbound;  // core/outbound_policy.h (setting outbound.allow)
  outbox_opts.secrets = &m.store->secrets();
  m.outbox = std::make_unique<act::Outbox>(m.store->rules(), m.clock, outbox_opts);
  // The rows the rules runtime writes are this node's to send (Submit below) until the lease
  // ends: another node's outbox does not claim them meanwhile (act/outbox.h, issue 19).
  m.store->rules().SetOutboxWriteLease(outbox_opts.lease_ms);
  m.store->rules().SetOutboxHolder(m.node->holder());
  // Rule action secrets stored in clear by an older bysans are sealed now (act/action_secrets.h).
  BYSANS_ASSIGN_OR_RETURN(int sealed,
                          act::SealClearRuleSecrets(m.store->rules(), m.store->secrets()));
  if (sealed > 0) spdlog::info("sealed the action secrets of {} rule(s)", sealed);
  // Every action acts only on a device of its rule's organisation (rules/action_guard.h).
  m.outbox->SetGuard([store = m.store.get()](const OutboxEntry& e) {
    return rules::CheckActionTenancy(*store, e);
  });
  // "sms" and "notify_contacts" find the gateway and the contacts at delivery.
  m.outbox->SetContactResolver(RuleContactResolver(*m.store));
  HousekeepingOptions housekeeping_opts;
  housekeeping_opts.audit_retention_days = c.audit_retention_days;
  housekeeping_opts.retention = RetentionDefaultsOf(c);
  housekeeping_opts.may_run = [node = m.node.get()] { return node->Holds(kHousekeepingRole); };
  m.housekeeping = std::make_unique<Housekeeping>(*m.store, m.clock, housekeeping_opts, &m.metrics);
  m.rules = std::make_unique<rules::RulesService>(
      *m.store, m.clock, rules::RulesServiceOptions{},
      [o = m.outbox.get()](auto rows) { o->Submit(std::move(rows)); });
  if (RuleFeed* feed = m.store->rule_feed()) {
    // A device's readings are committed with its partition's feed entry; the node holding the
    // partition evaluates them (rules/service.h RulePartitions).
    m.rules->SetPartitions(RulePartitionsOf(*m.node, *feed, m.clock));
    m.pipeline->SetRuleFeed(
        [node = m.node.get()](const Device& d) { return node->PartitionOf(d.id); });
  } else {
    m.pipeline->AddSharedCommitListener([r = m.rules.get()](auto device, auto readings) {
      r->OnCommitted(std::move(device), std::move(readings));
    });
  }
  BYSANS_RETURN_IF_ERROR(m.rules->Start());
  m.outbox->Start();
  // Data targets: messages of applications with targets are committed with a share-log record;
  // each commit wakes the application's delivery workers.
  share::ServiceOptions share_opts;
  share_opts.outbound = outbound;
  share_opts.may_deliver = [node = m.node.get()] { return node->Holds(kDataTargetsRole); };
  m.targets = std::make_unique<share::TargetService>(*m.store, m.clock, m.metrics, share_opts);
  BYSANS_RETURN_IF_ERROR(m.targets->Start());
  m.pipeline->SetShareFilter([t = m.targets.get()](Id app_id) { return t->Shares(app_id); });
  m.pipeline->AddCommitListener([t = m.targets.get()](const Device& device, const RawMessage&,
                                                      const auto&) { t->OnCommitted(device); });

  m.ctx = std::make_unique<api::ApiContext>(
      api::ApiContext{*m.store, *m.authenticator, m.clock, m.random, m.metrics, *m.pipeline});
  m.ctx->metrics_token = c.http_metrics_token;
  m.ctx->public_url = c.http_public_url;
  m.ctx->data_dir = c.data_dir;
  m.ctx->export_reserve_bytes = static_cast<uint64_t>(c.export_free_space_reserve_mb) << 20;
  m.ctx->decoder_max_timeout_ms = c.decode_max_timeout_ms;
  m.ctx->limits = {c.limits_max_devices_per_org,      c.limits_max_data_targets_per_org,
                   c.limits_max_integrations_per_org, c.limits_max_rules_per_org,
                   c.limits_max_silences_per_org,     c.limits_max_dashboards_per_org,
                   c.limits_max_datasets_per_org,     c.limits_max_applications_per_org};
  m.ctx->node_holder = m.node->holder();
  m.ctx->retention_defaults = RetentionDefaultsOf(c);
  api::RegisterAllRoutes(m.router, *m.ctx);
  api::RegisterDataTargetRoutes(m.router, *m.ctx, *m.targets, outbound);
  api::RegisterSmsGatewayRoutes(m.router, *m.ctx, outbound);
  {
    mqtt::ServiceOptions mo;
    mo.data_dir = c.data_dir;
    mo.external_url = c.mqtt_url;
    mo.port = c.mqtt_port;
    mo.bind_address = c.mqtt_bind_address;
    mo.client_id = c.mqtt_client_id;
    mo.shared_group = c.mqtt_shared_group;
    mo.node_holder = m.node->holder();
    mo.integrations_may_run = [node = m.node.get()] { return node->Holds(kMqttIntegrationsRole); };
    mo.outbound = outbound;
    // SensorThings over MQTT: its users join the supervised broker's (no mqtt.url).
    if (c.mqtt_url.empty()) {
      m.sta_mqtt = std::make_unique<StaMqttService>(*m.store, *m.pipeline, m.metrics, m.clock,
                                                    m.random, StaMqttOptions{});
      mo.extra_users = [s = m.sta_mqtt.get()] { return s->BrokerUsers(); };
      m.pipeline->AddSharedCommitListener([s = m.sta_mqtt.get()](auto device, auto readings) {
        s->OnCommitted(std::move(device), std::move(readings));
      });
      m.ctx->on_entity_change = [s = m.sta_mqtt.get()](const sta::EntityChange& change) {
        s->OnEntityChange(change);
      };
    }
    m.mqtt = std::make_unique<mqtt::MqttService>(mo, *m.store, *m.pipeline, m.metrics, m.clock,
                                                 m.random);  // started at the end of Start()
    mqtt::MqttService* service = m.mqtt.get();
    // Downlinks go back through the connection that delivered the device's last uplink.
    api::RoutedPublisher publish_via = [service](Id via, std::string topic, std::string payload,
                                                 std::function<void(const Status&)> done) {
      return service->PublishVia(via, std::move(topic), std::move(payload), std::move(done));
    };
    m.stop_downlinks = api::RegisterDownlinkRoutes(m.router, *m.ctx, publish_via);
    // Rule actions "mqtt" go out as the broker's actions user (below orgs/ only), "downlink"
    // through the device's route (act/outbox.h).
    m.outbox->SetMqttPublisher(
        [service](std::string topic, std::string payload, std::function<void(const Status&)> done) {
          return service->PublishAction(std::move(topic), std::move(payload), std::move(done));
        });
    m.outbox->SetDownlinkSender(RuleDownlinkSender(*m.store, m.clock, publish_via));
  }
  m.ui_config = std::make_shared<api::UiConfig>();
  m.ui_config->tile_url = c.web_tile_url;
  api::RegisterUiConfigRoutes(m.router, m.ui_config);
  api::RegisterGeocodeRoutes(m.router, *m.ctx, c.web_geocoder_url, outbound);
  if (std::string web = FindWebDir(c); !web.empty()) {
    m.router.SetFallback(MakeStaticHandler(web));
    spdlog::info("serving the web UI from {}", web);
  } else {
    spdlog::warn("web UI not built (no web/dist/index.html); serving the API only");
  }

  HttpServerOptions ho;
  ho.address = c.http_address;
  ho.port = static_cast<uint16_t>(c.http_port);
  ho.threads = c.http_threads;
  ho.body_limit = static_cast<size_t>(c.http_body_limit);
  ho.tls_cert_file = c.tls_cert_file;
  ho.tls_key_file = c.tls_key_file;
  ho.max_connections = c.http_max_connections;
  ho.stream_write_timeout_s = c.http_stream_write_timeout_s;
  m.http = std::make_unique<HttpServer>(ho, m.router, &m.metrics);
  BYSANS_RETURN_IF_ERROR(m.http->Start());

  std::string scheme = c.tls_cert_file.empty() ? "http" : "https";
  std::string url = scheme + "://" + c.http_address + ":" + std::to_string(m.http->port());
  {
    std::ofstream addr(fs::path(c.data_dir) / "http.url");
    addr << url << "\n";
  }
  spdlog::info("bysans is listening on {}", url);

  std::vector<sim::DemoDevice> demo_devices;
  if (c.demo) {
    BYSANS_ASSIGN_OR_RETURN(demo_devices, sim::SeedDemo(*m.store, m.random, m.clock, admin_id));
  }
  if (c.coap_enabled) {
    coap::CoapOptions co;
    co.bind_address = c.coap_bind;
    co.udp_port = c.coap_udp_port;
    co.max_payload = static_cast<size_t>(c.coap_max_payload);
    co.max_idle_sessions = static_cast<size_t>(c.coap_max_idle_sessions);
    co.dtls_port = c.coap_dtls_port;
    co.piggyback_ms = c.coap_piggyback_ms;
    m.coap =
        std::make_unique<coap::CoapServer>(co, m.ctx->ingest_keys, *m.pipeline, m.metrics, m.clock);
    // DTLS: the PSK identity names the device; its key is unsealed only for the handshake.
    m.coap->SetPskLookup(
        [store = m.store.get()](const std::string& identity) -> Result<coap::PskDevice> {
          BYSANS_ASSIGN_OR_RETURN(CoapCredential cred,
                                  store->coap_credentials().FindCoapCredential(identity));
          BYSANS_ASSIGN_OR_RETURN(std::string key, store->secrets().UnsealText(cred.sealed_key));
          BYSANS_ASSIGN_OR_RETURN(Device d, store->GetDevice(cred.device_id));
          return coap::PskDevice{std::make_shared<const Device>(std::move(d)), std::move(key)};
        },
        [store = m.store.get()] { return store->devices_generation(); });
    m.coap->SetDownlinks(CoapDownlinkSource(*m.store));
    // LwM2M 1.1 (lwm2m/): registration, Send and queued operations on /rd and /dp.
    lwm2m::Lwm2mOptions lo;
    lo.awake_ms = c.coap_lwm2m_awake_ms;
    lo.operation_expiry_ms = int64_t{c.coap_lwm2m_operation_expiry_s} * 1000;
    lo.finished_kept_ms = int64_t{c.coap_lwm2m_operation_history_days} * 86'400'000;
    lo.observe = c.coap_lwm2m_observe;
    lo.max_api_observations = static_cast<size_t>(c.coap_lwm2m_max_api_observations);
    auto lwm2m_server =
        std::make_shared<lwm2m::Lwm2mServer>(m.store->lwm2m(), m.random, m.clock, lo);
    // Notifications of observed resources → readings, as a Send's (no answer waits on them).
    lwm2m_server->SetNotificationSink([pipeline = m.pipeline.get()](pipeline::Uplink up) {
      pipeline->Submit(std::move(up), [](Status st) {
        if (!st.ok()) spdlog::warn("lwm2m: a notification was not stored: {}", st.message());
      });
    });
    m.coap->AddExtension(std::move(lwm2m_server));
    BYSANS_RETURN_IF_ERROR(m.coap->Start());
    m.ui_config->coap_udp_port = m.coap->udp_port();
    m.ui_config->coap_dtls_port = m.coap->dtls_port();
    const std::string host =
        c.coap_bind.find(':') != std::string::npos ? "[" + c.coap_bind + "]" : c.coap_bind;
    std::ofstream addr(fs::path(c.data_dir) / "coap.url");
    addr << "coap://" << host << ":" << m.coap->udp_port() << "\n";
    if (m.coap->dtls_port() != 0) {
      std::ofstream dtls_addr(fs::path(c.data_dir) / "coaps.url");
      dtls_addr << "coaps://" << host << ":" << m.coap->dtls_port() << "\n";
    }
  }
  // MQTT last: the pipeline is fully set up before the first message arrives.
  BYSANS_RETURN_IF_ERROR(m.mqtt->Start());
  if (m.sta_mqtt && m.mqtt->supervised()) {
    auto [host, port] = m.store->mqtt().broker_endpoint();
    const std::string root = (c.http_public_url.empty() ? url : c.http_public_url) + "/sta/v1.1";
    BYSANS_RETURN_IF_ERROR(m.sta_mqtt->Start(host, static_cast<uint16_t>(port), root));
    m.ctx->sta_mqtt_url = m.mqtt->url();
  }
  if (c.demo) {
    if (!c.tls_cert_file.empty()) {
      spdlog::warn("demo simulator needs plain HTTP; not started under TLS");
    } else {
      size_t count = demo_devices.size();
      // LoRaWAN demo devices: ChirpStack uplinks published into bysans' own broker.
      mqtt::MqttService* service = m.mqtt.get();
      m.simulator = std::make_unique<sim::Simulator>(
          "http://127.0.0.1:" + std::to_string(m.http->port()), std::move(demo_devices), m.clock,
          m.random, c.demo_interval_s,
          [service](const std::string& topic, const std::string& payload) {
            return service->Publish(topic, payload, [](const Status&) {});
          });
      m.simulator->Start();
      spdlog::info("demo: simulating {} devices of \"Demo Kommune\", a reading every {} s", count,
                   c.demo_interval_s);
    }
  }
  return Status::Ok();
}

void App::Stop() {
  if (!impl_) return;
  Impl& m = *impl_;
  if (m.simulator) m.simulator->Stop();
  m.simulator.reset();
  if (m.sta_mqtt) m.sta_mqtt->Stop();
  if (m.mqtt) m.mqtt->Stop();  // client, then broker
  if (m.http) m.http->Stop();
  m.http.reset();
  if (m.stop_downlinks) m.stop_downlinks();  // before the MQTT client goes
  if (m.coap) m.coap->Stop();                // before the pipeline: answers the commits in flight
  m.coap.reset();
  if (m.pipeline) m.pipeline->Stop();
  if (m.rules) m.rules->Stop();
  if (m.outbox) m.outbox->Stop();
  if (m.targets) m.targets->Stop();  // after the pipeline: its listener wakes the workers
  m.housekeeping.reset();
  if (m.node) m.node->Stop();  // gives its leases up: another node takes over at once
  if (m.store) m.store->Close();
  m.mqtt.reset();
  m.sta_mqtt.reset();  // after the pipeline: its commit listener
}

}  // namespace bysans

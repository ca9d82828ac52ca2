// Changes that other nodes must hear of, across PostgreSQL's LISTEN/NOTIFY (issue 19: caches and
// listeners invalidated across nodes). Folder-private (brings in libpqxx through pool.h).
//
// Sending: a store change that has an in-process notification or cache generation also calls
// NotifyChange in its own transaction, so PostgreSQL delivers it on commit only (a rolled-back
// change sends nothing). Payload: "<node> <kind> <id>", ids only (never rows): small.
// Receiving: a ChangeFeed (one per PostgresStore) holds one connection that LISTENs on
// kChangeChannel and hands every notification of ANOTHER node to `on_change` (its own node has
// already notified in-process). It reconnects by itself; after a reconnect notifications may
// have been missed, so it calls `on_reconnect` (the owner treats every cache as changed).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "store/postgres/pool.h"

namespace bysans::pg {

inline constexpr char kChangeChannel[] = "bysans_changes";

// The kinds of change, as they appear in a payload.
namespace change {
inline constexpr char kRuleUpserted[] = "rule_upserted";
inline constexpr char kRuleDeleted[] = "rule_deleted";
inline constexpr char kSilenceAdded[] = "silence_added";
inline constexpr char kSilenceDeleted[] = "silence_deleted";
inline constexpr char kAlarmCreated[] = "alarm_created";
inline constexpr char kAlarmUpdated[] = "alarm_updated";
inline constexpr char kDecoders[] = "decoders";                 // id: decoder, 0 = any
inline constexpr char kMqttCredentials[] = "mqtt_credentials";  // id: device, 0 = API keys
inline constexpr char kMqttIntegrations[] = "mqtt_integrations";
inline constexpr char kTargets[] = "targets";
inline constexpr char kDevice[] = "device";  // a device's ingest key, tags, … or its deletion
inline constexpr char kSeries[] = "series";  // a series deleted or its unit set
inline constexpr char kLiveWanted[] = "live_wanted";  // a node's live stream has subscribers
}  // namespace change

struct Change {
  std::string node;
  std::string kind;
  int64_t id = 0;
};

std::string ChangePayload(std::string_view node, std::string_view kind, int64_t id);
// nullopt for a payload that is not of this form (another program on the channel).
std::optional<Change> ParseChange(std::string_view payload);

// Sends one change in `tx` (delivered when it commits), named by `pool.node_id()` (or `node`).
void NotifyChange(pqxx::transaction_base& tx, const Pool& pool, std::string_view kind, int64_t id);
void NotifyChange(pqxx::transaction_base& tx, std::string_view node, std::string_view kind,
                  int64_t id);
// Several at once (one statement): each (kind, id).
void NotifyChanges(pqxx::transaction_base& tx, const Pool& pool,
                   const std::vector<std::pair<std::string, int64_t>>& changes);
// Outside a store transaction (for a change the store cannot see, e.g. InvalidateDecoders, sent
// after the caller's own commit): its own statement; a failure is logged and returned.
Status NotifyChangeNow(Pool& pool, std::string_view kind, int64_t id);

struct ChangeFeedOptions {
  int poll_ms = 200;       // how often the thread looks at its stop flag while idle
  int retry_min_ms = 100;  // first wait after a lost connection, doubled up to retry_max_ms
  int retry_max_ms = 2000;
};

class ChangeFeed {
 public:
  using OnChange = std::function<void(const Change&)>;
  // `node_id`: this node (its own notifications are skipped); the LISTEN connection's
  // application_name is "bysans-changes-<node_id>" (pg_stat_activity).
  ChangeFeed(std::string url, std::string node_id, OnChange on_change,
             std::function<void()> on_reconnect, ChangeFeedOptions options = {});
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Also LISTENs on `channel` for payloads "<node> <body>" and hands the body of another node's
  // to `on_body` (pg_live_relay.h). Before Start.
  void AlsoListen(std::string channel, std::function<void(std::string_view body)> on_body);

  void Start();
  // Stops and joins the thread (at most one poll_ms or retry wait). Idempotent.
  void Stop();

 private:
  void Loop();
  // One connected session: LISTENs and dispatches until the connection is lost or Stop.
  // `listened` is set once LISTEN is in force.
  void Session(bool first, bool* listened);
  bool Sleep(int ms);  // false when stopping

  std::string url_;
  std::string node_id_;
  OnChange on_change_;
  std::function<void()> on_reconnect_;
  std::string extra_channel_;
  std::function<void(std::string_view)> on_extra_;
  ChangeFeedOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A random node id (16 hex digits) for a store not given one.
std::string RandomNodeId();

}  // namespace bysans::pg

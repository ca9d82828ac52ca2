// Changes across nodes by LISTEN/NOTIFY (change_feed.h).
#include "store/postgres/change_feed.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <random>

#include "core/thread_name.h"
#include "store/postgres/sql_text.h"

namespace bysans::pg {
namespace {

// libpqxx calls it for each notification on the channel, on the feed's thread.
class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& c, const std::string& channel,
           std::function<void(const std::string&)> f)
      : pqxx::notification_receiver(c, channel), f_(std::move(f)) {}
  void operator()(const std::string& payload, int) override { f_(payload); }

 private:
  std::function<void(const std::string&)> f_;
};

}  // namespace

std::string ChangePayload(std::string_view node, std::string_view kind, int64_t id) {
  std::string p;
  p.reserve(node.size() + kind.size() + 24);
  p.append(node).append(" ").append(kind).append(" ").append(std::to_string(id));
  return p;
}

std::optional<Change> ParseChange(std::string_view payload) {
  const size_t a = payload.find(' ');
  if (a == std::string_view::npos || a == 0) return std::nullopt;
  const size_t b = payload.find(' ', a + 1);
  if (b == std::string_view::npos || b == a + 1) return std::nullopt;
  Change c;
  c.node = std::string(payload.substr(0, a));
  c.kind = std::string(payload.substr(a + 1, b - a - 1));
  const std::string_view id = payload.substr(b + 1);
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), c.id);
  if (ec != std::errc() || end != id.data() + id.size()) return std::nullopt;
  return c;
}

void NotifyChange(pqxx::transaction_base& tx, std::string_view node, std::string_view kind,
                  int64_t id) {
  tx.exec_params("SELECT pg_notify($1, $2)", kChangeChannel, ChangePayload(node, kind, id));
}

void NotifyChange(pqxx::transaction_base& tx, const Pool& pool, std::string_view kind, int64_t id) {
  NotifyChange(tx, pool.node_id(), kind, id);
}

void NotifyChanges(pqxx::transaction_base& tx, const Pool& pool,
                   const std::vector<std::pair<std::string, int64_t>>& changes) {
  if (changes.empty()) return;
  std::vector<std::string> payloads;
  payloads.reserve(changes.size());
  for (const auto& [kind, id] : changes)
    payloads.push_back(ChangePayload(pool.node_id(), kind, id));
  // Each its own notification (PostgreSQL folds only identical payloads of one transaction).
  tx.exec_params("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", kChangeChannel,
                 TextArray(payloads));
}

Status NotifyChangeNow(Pool& pool, std::string_view kind, int64_t id) {
  Status st = pool.Run<Status>("notify change", [&](pqxx::connection& c) {
    pqxx::nontransaction n(c);
    NotifyChange(n, pool, kind, id);
    return Status::Ok();
  });
  if (!st.ok())
    spdlog::warn("postgres: other nodes not told of a change ({}): {}", kind, st.message());
  return st;
}

std::string RandomNodeId() {
  std::random_device rd;
  std::uniform_int_distribution<uint64_t> d;
  const uint64_t v = (d(rd) << 1) ^ d(rd);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

ChangeFeed::ChangeFeed(std::string url, std::string node_id, OnChange on_change,
                       std::function<void()> on_reconnect, ChangeFeedOptions options)
    : url_(std::move(url)),
      node_id_(std::move(node_id)),
      on_change_(std::move(on_change)),
      on_reconnect_(std::move(on_reconnect)),
      options_(options) {}

ChangeFeed::~ChangeFeed() { Stop(); }

void ChangeFeed::AlsoListen(std::string channel, std::function<void(std::string_view)> on_body) {
  extra_channel_ = std::move(channel);
  on_extra_ = std::move(on_body);
}

void ChangeFeed::Start() {
  std::lock_guard lk(mu_);
  if (thread_.joinable() || stop_) return;
  thread_ = std::thread([this] { Loop(); });
}

void ChangeFeed::Stop() {
  std::thread t;
  {
    std::lock_guard lk(mu_);
    stop_ = true;
    t = std::move(thread_);
  }
  cv_.notify_all();
  if (t.joinable()) t.join();
}

bool ChangeFeed::Sleep(int ms) {
  std::unique_lock lk(mu_);
  cv_.wait_for(lk, std::chrono::milliseconds(ms), [&] { return stop_.load(); });
  return !stop_;
}

void ChangeFeed::Loop() {
  NameThisThread("store-feed");
  int wait_ms = options_.retry_min_ms;
  bool first = true;
  while (!stop_) {
    bool listened = false;
    try {
      Session(first, &listened);
    } catch (const std::exception& e) {
      if (listened) wait_ms = options_.retry_min_ms;  // a lost session: retry soon at first
      spdlog::warn("postgres: change feed connection lost ({}); reconnecting in {} ms", e.what(),
                   wait_ms);
    }
    first = false;
    if (!Sleep(wait_ms)) return;
    wait_ms = std::min(wait_ms * 2, options_.retry_max_ms);
  }
}

void ChangeFeed::Session(bool first, bool* listened) {
  pqxx::connection c(url_);
  {
    pqxx::nontransaction n(c);
    n.exec("SET application_name = " + n.quote("bysans-changes-" + node_id_));
  }
  Receiver receiver(c, kChangeChannel, [this](const std::string& payload) {
    std::optional<Change> ch = ParseChange(payload);
    if (!ch) {
      spdlog::debug("postgres: change feed: payload of another form ignored");
      return;
    }
    if (ch->node == node_id_) return;  // this node notified in-process already
    try {
      if (on_change_) on_change_(*ch);
    } catch (const std::exception& e) {
      spdlog::error("postgres: change feed: {} {} not applied: {}", ch->kind, ch->id, e.what());
    }
  });
  std::optional<Receiver> extra;
  if (on_extra_) {
    extra.emplace(c, extra_channel_, [this](const std::string& payload) {
      const size_t space = payload.find(' ');
      if (space == std::string::npos) return;
      if (std::string_view(payload).substr(0, space) == node_id_) return;  // its own
      try {
        on_extra_(std::string_view(payload).substr(space + 1));
      } catch (const std::exception& e) {
        spdlog::error("postgres: change feed: a payload on {} not handled: {}", extra_channel_,
                      e.what());
      }
    });
  }
  const int pid = c.backendpid();
  *listened = true;
  // LISTEN is in force from here: what was missed while no session listened is covered by
  // treating every cache as changed.
  if (!first) {
    spdlog::info("postgres: change feed reconnected; every cache is treated as changed");
    if (on_reconnect_) on_reconnect_();
  }
  while (!stop_) {
    c.await_notification(0, static_cast<long>(options_.poll_ms) * 1000);
    // libpqxx 6 may reopen a lost connection by itself: a new backend has missed notifications.
    if (!c.is_open() || c.backendpid() != pid)
      throw pqxx::broken_connection("the listening connection was reopened");
  }
}

}  // namespace bysans::pg

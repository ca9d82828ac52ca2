// The live stream across nodes on PostgreSQL (pg_live_relay.h).
#include "store/postgres/pg_live_relay.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "store/postgres/change_feed.h"
#include "store/postgres/sql_text.h"
#include "store/rule_feed.h"

namespace bysans::pg {

void NotifyLive(pqxx::transaction_base& tx, const std::vector<std::string>& payloads) {
  if (payloads.empty()) return;
  tx.exec_params("SELECT pg_notify($1, p) FROM unnest($2::text[]) AS p", kLiveChannel,
                 TextArray(payloads));
}

PgLiveRelay::PgLiveRelay(Pool& pool, const Clock& clock, LiveRelayOptions options)
    : pool_(pool), clock_(clock), options_(options) {}

PgLiveRelay::~PgLiveRelay() { Stop(); }

void PgLiveRelay::SetListener(Listener listener) { listener_ = std::move(listener); }

void PgLiveRelay::SetWanted(bool wanted) {
  const bool was = wanted_.exchange(wanted);
  if (!wanted || was) return;
  std::lock_guard lk(mu_);
  if (stop_) return;
  asked_now_ = true;
  if (!asker_.joinable()) asker_ = std::thread([this] { AskLoop(); });
  cv_.notify_all();
}

void PgLiveRelay::WantedElsewhere() { relay_until_.store(clock_.NowMs() + options_.wanted_for_ms); }

bool PgLiveRelay::Relaying() const { return clock_.NowMs() < relay_until_.load(); }

void PgLiveRelay::Deliver(std::string_view body) {
  if (!wanted_.load() || !listener_) return;
  while (!body.empty()) {
    const size_t comma = body.find(',');
    const std::string_view hex = body.substr(0, comma);
    body = comma == std::string_view::npos ? std::string_view() : body.substr(comma + 1);
    Result<RuleFeedEntry> e = DecodeRuleFeedRecord(FromByteaHex(hex));
    if (!e.ok() || !e->device) {
      spdlog::debug("postgres: live relay: a record of another form ignored");
      continue;
    }
    listener_(*e->device, e->readings);
  }
}

void PgLiveRelay::Stop() {
  std::thread t;
  {
    std::lock_guard lk(mu_);
    stop_ = true;
    t = std::move(asker_);
  }
  cv_.notify_all();
  if (t.joinable()) t.join();
}

void PgLiveRelay::AskLoop() {
  std::unique_lock lk(mu_);
  while (!stop_) {
    if (wanted_.load()) {
      asked_now_ = false;
      lk.unlock();
      (void)NotifyChangeNow(pool_, change::kLiveWanted, 0);  // a failure is logged; asked again
      lk.lock();
    }
    cv_.wait_for(lk, std::chrono::milliseconds(options_.ask_every_ms),
                 [&] { return stop_ || asked_now_; });
  }
}

}  // namespace bysans::pg

#include "act/outbox.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <vector>

namespace bysans::act {
namespace {

using json = nlohmann::json;

struct Attempt {
  bool ok = false;
  std::string error;
};

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

struct ReadState {
  const std::string* data;
  size_t pos = 0;
};

size_t ReadBody(char* buf, size_t size, size_t n, void* user) {
  auto* st = static_cast<ReadState*>(user);
  size_t len = std::min(size * n, st->data->size() - st->pos);
  std::copy_n(st->data->data() + st->pos, len, buf);
  st->pos += len;
  return len;
}

int Progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(user)->load() ? 1 : 0;
}

Attempt Deliver(const OutboxEntry& e, TimeMs default_timeout_ms, std::atomic<bool>* stop) {
  json spec = json::parse(e.spec, nullptr, false);
  if (!spec.is_object()) return {false, "invalid action spec"};
  std::string type = spec.value("type", "");
  std::string url = spec.value("url", "");
  CURL* c = curl_easy_init();
  if (!c) return {false, "curl_easy_init failed"};
  curl_slist* list = nullptr;
  ReadState rs{&e.payload};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(spec.value("timeoutMs", int64_t{0}) > 0
                                         ? spec.value("timeoutMs", int64_t{0})
                                         : default_timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, Progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, stop);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Discard);
  std::string from;
  if (type == "webhook") {
    list = curl_slist_append(list, "Content-Type: application/json");
    list = curl_slist_append(list, "User-Agent: bysans");
    if (spec.contains("headers") && spec["headers"].is_object()) {
      for (auto it = spec["headers"].begin(); it != spec["headers"].end(); ++it) {
        if (it->is_string()) {
          list = curl_slist_append(list, (it.key() + ": " + it->get<std::string>()).c_str());
        }
      }
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, e.payload.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(e.payload.size()));
  } else if (type == "email") {
    from = "<" + spec.value("from", "") + ">";
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
    for (const auto& t : spec.value("to", json::array())) {
      if (t.is_string()) list = curl_slist_append(list, ("<" + t.get<std::string>() + ">").c_str());
    }
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, list);
    if (url.rfind("smtp://", 0) == 0) curl_easy_setopt(c, CURLOPT_USE_SSL, CURLUSESSL_TRY);
    std::string user = spec.value("username", ""), pass = spec.value("password", "");
    if (!user.empty()) {
      curl_easy_setopt(c, CURLOPT_USERNAME, user.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, pass.c_str());
    }
    curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(c, CURLOPT_READDATA, &rs);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  } else {
    curl_easy_cleanup(c);
    return {false, "unsupported action type '" + type + "'"};
  }
  CURLcode rc = curl_easy_perform(c);
  Attempt a;
  if (rc != CURLE_OK) {
    a.error = curl_easy_strerror(rc);
  } else if (type == "webhook") {
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    a.ok = status >= 200 && status < 300;
    if (!a.ok) a.error = "HTTP " + std::to_string(status);
  } else {
    a.ok = true;
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(c);
  return a;
}

}  // namespace

std::string TargetKeyOf(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t end = url.find_first_of("/?#", scheme + 3);
  std::string key = url.substr(0, end);
  size_t at = key.find('@', scheme + 3);  // drop credentials
  if (at != std::string::npos) key = key.substr(0, scheme + 3) + key.substr(at + 1);
  return key;
}

struct Outbox::Impl {
  RuleStore& store;
  const Clock& clock;
  OutboxOptions opts;

  struct Target {
    std::deque<OutboxEntry> queue;
    std::vector<std::thread> workers;
  };

  std::mutex mu;
  std::condition_variable dispatch_cv;  // wakes the dispatcher
  std::condition_variable work_cv;      // wakes workers
  bool wake = false;
  std::atomic<bool> stop{false};
  std::set<Id> taken;  // queued or in flight
  std::map<std::string, Target> targets;
  std::thread dispatcher;

  Impl(RuleStore& s, const Clock& c, OutboxOptions o) : store(s), clock(c), opts(o) {}

  void Dispatch() {
    std::unique_lock lk(mu);
    while (!stop) {
      lk.unlock();
      auto pending = store.ListPendingOutbox(10000);
      lk.lock();
      if (!pending.ok()) {
        spdlog::warn("outbox: {}", pending.status().message());
      } else {
        TimeMs now = clock.NowMs();
        for (auto& e : *pending) {
          if (e.next_attempt_ms > now || taken.count(e.id)) continue;
          taken.insert(e.id);
          Target& t = targets[e.target_key];
          if (t.workers.empty()) {
            std::string key = e.target_key;
            for (int i = 0; i < std::max(1, opts.per_target_concurrency); ++i) {
              t.workers.emplace_back([this, key] { Work(key); });
            }
          }
          t.queue.push_back(std::move(e));
        }
        work_cv.notify_all();
      }
      dispatch_cv.wait_for(lk, std::chrono::milliseconds(opts.poll_ms),
                           [&] { return wake || stop.load(); });
      wake = false;
    }
  }

  void Work(const std::string& key) {
    std::unique_lock lk(mu);
    while (true) {
      Target& t = targets[key];
      work_cv.wait(lk, [&] { return stop.load() || !t.queue.empty(); });
      if (stop) return;
      OutboxEntry e = std::move(t.queue.front());
      t.queue.pop_front();
      lk.unlock();
      Attempt a = Deliver(e, opts.default_timeout_ms, &stop);
      if (stop) {  // aborted by shutdown: stays pending, not an attempt
        lk.lock();
        return;
      }
      json spec = json::parse(e.spec, nullptr, false);
      DeliveryLogEntry log;
      log.org_id = e.org_id;
      log.outbox_id = e.id;
      log.rule_id = e.rule_id;
      log.alarm_id = e.alarm_id;
      log.target_key = e.target_key;
      log.action_type = spec.is_object() ? spec.value("type", "") : "";
      log.attempt = e.attempts + 1;
      log.ts = clock.NowMs();
      log.ok = a.ok;
      log.error = a.error;
      e.attempts += 1;
      e.last_error = a.error;
      if (a.ok) {
        e.state = "delivered";
      } else if (e.attempts >= opts.max_attempts) {
        e.state = "failed";
      } else {
        TimeMs backoff = opts.base_backoff_ms;
        for (int i = 1; i < e.attempts && backoff < opts.max_backoff_ms; ++i) backoff *= 2;
        e.next_attempt_ms = log.ts + std::min(backoff, opts.max_backoff_ms);
      }
      Status s = store.RecordAttempt(e, log);
      if (!s.ok()) spdlog::warn("outbox: recording attempt of {}: {}", e.id, s.message());
      lk.lock();
      taken.erase(e.id);
    }
  }
};

Outbox::Outbox(RuleStore& store, const Clock& clock, OutboxOptions options)
    : impl_(std::make_unique<Impl>(store, clock, options)) {}

Outbox::~Outbox() { Stop(); }

void Outbox::Start() {
  impl_->dispatcher = std::thread([this] { impl_->Dispatch(); });
}

void Outbox::Stop() {
  {
    std::lock_guard lk(impl_->mu);
    impl_->stop = true;
  }
  impl_->dispatch_cv.notify_all();
  impl_->work_cv.notify_all();
  if (impl_->dispatcher.joinable()) impl_->dispatcher.join();
  for (auto& [k, t] : impl_->targets) {
    for (auto& w : t.workers) {
      if (w.joinable()) w.join();
    }
  }
}

void Outbox::Wake() {
  {
    std::lock_guard lk(impl_->mu);
    impl_->wake = true;
  }
  impl_->dispatch_cv.notify_all();
}

}  // namespace bysans::act

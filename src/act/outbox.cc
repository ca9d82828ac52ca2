#include "act/outbox.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <iterator>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "act/action_secrets.h"
#include "act/curl_gate.h"
#include "act/sms.h"
#include "core/encoding.h"
#include "core/thread_name.h"
#include "model/contact.h"

namespace bysans::act {

std::string ActionTopicPrefix(Id org_id) { return "orgs/" + std::to_string(org_id) + "/"; }

Status CheckActionTopic(const std::string& topic) {
  if (topic.empty() || topic.size() > 1024) return InvalidArgument("topic must be 1..1024 bytes");
  if (topic.find_first_of("+#") != std::string::npos || topic.find('\0') != std::string::npos) {
    return InvalidArgument("topic must not contain '+', '#' or NUL");
  }
  for (const char* reserved : {"$", "devices/", "application/"}) {
    if (topic.rfind(reserved, 0) == 0) {
      return InvalidArgument(std::string("topic must not start with '") + reserved +
                             "' (reserved for bysans' devices and ChirpStack)");
    }
  }
  return Status::Ok();
}

bool InActionNamespace(Id org_id, const std::string& topic) {
  const std::string prefix = ActionTopicPrefix(org_id);
  return topic.size() > prefix.size() && topic.compare(0, prefix.size(), prefix) == 0;
}

Status CheckActionTopicOf(Id org_id, const std::string& topic) {
  BYSANS_RETURN_IF_ERROR(CheckActionTopic(topic));
  if (!InActionNamespace(org_id, topic)) {
    return InvalidArgument("topic must start with '" + ActionTopicPrefix(org_id) +
                           "' and go on after it: rule actions publish only in their own "
                           "organisation's namespace on bysans' broker");
  }
  return Status::Ok();
}

bool IsMailAddress(std::string_view address) {
  if (address.empty() || address.size() > 320) return false;
  return std::none_of(address.begin(), address.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',';
  });
}

std::string IdempotencyKey(Id outbox_id) { return "bysans-outbox-" + std::to_string(outbox_id); }

std::string ContactsTargetKey(Id org_id) { return "sms://org-" + std::to_string(org_id); }

std::string MailPayload(const std::string& from, const std::vector<std::string>& to,
                        std::string subject, const std::string& body) {
  std::string to_line;
  for (const std::string& t : to) to_line += (to_line.empty() ? "" : ", ") + t;
  for (char& ch : subject) {
    if (ch == '\r' || ch == '\n') ch = ' ';
  }
  return "From: " + from + "\r\nTo: " + to_line + "\r\nSubject: " + subject +
         "\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n";
}

namespace {

using json = nlohmann::json;

struct Attempt {
  bool ok = false;
  std::string error;
  bool permanent = false;  // retrying cannot help: the row fails at once
};

// A PUBACK (or failure) that arrives on the MQTT client's thread.
struct Completion {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Status> result;
  void Set(const Status& s) {
    std::lock_guard lk(mu);
    if (!result) result = s;
    cv.notify_all();
  }
};

bool Permanent(Code c) {
  return c == Code::kInvalidArgument || c == Code::kFailedPrecondition || c == Code::kNotFound ||
         c == Code::kPermissionDenied || c == Code::kTooLarge;
}

// Waits for the broker's answer, at most `timeout_ms`, giving up early on shutdown.
Attempt Await(const std::shared_ptr<Completion>& c, TimeMs timeout_ms, std::atomic<bool>* stop) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::unique_lock lk(c->mu);
  while (!c->result && !stop->load()) {
    if (std::chrono::steady_clock::now() >= end) {
      return {false, "no acknowledgement from the MQTT broker within " +
                         std::to_string(timeout_ms) + " ms"};
    }
    c->cv.wait_for(lk, std::chrono::milliseconds(100));
  }
  if (!c->result) return {false, "stopped"};
  if (c->result->ok()) return {true, ""};
  return {false, c->result->message(), Permanent(c->result->code())};
}

Attempt DeliverMqtt(Id org_id, const json& spec, const std::string& payload,
                    const MqttPublisher& publish, TimeMs timeout_ms, std::atomic<bool>* stop) {
  if (!publish) return {false, "MQTT is not available in this server"};
  std::string topic = spec.value("topic", "");
  if (Status s = CheckActionTopicOf(org_id, topic); !s.ok()) return {false, s.message(), true};
  auto c = std::make_shared<Completion>();
  Status st = publish(topic, payload, [c](const Status& s) { c->Set(s); });
  if (!st.ok()) return {false, st.message(), Permanent(st.code())};
  return Await(c, timeout_ms, stop);
}

Attempt DeliverDownlink(const OutboxEntry& e, const json& spec, const DownlinkSender& send,
                        TimeMs timeout_ms, std::atomic<bool>* stop) {
  if (!send) return {false, "downlinks are not available in this server"};
  DownlinkRequest r;
  r.org_id = e.org_id;
  r.rule_id = e.rule_id;
  r.device_id = spec.value("deviceId", Id{0});
  r.fport = spec.contains("fPort") ? spec.value("fPort", 0) : -1;
  r.confirmed = spec.value("confirmed", false);
  if (auto object = spec.find("object"); object != spec.end()) {
    r.object_json = object->dump(-1, ' ', false, json::error_handler_t::replace);
  } else {
    auto bytes = spec.contains("hex") ? DecodeHex(spec.value("hex", ""))
                                      : DecodeBase64(spec.value("data", ""));
    if (!bytes.ok()) return {false, bytes.status().message(), true};
    r.data = std::move(bytes).value();
  }
  auto c = std::make_shared<Completion>();
  Status st = send(r, [c](const Status& s) { c->Set(s); });
  if (!st.ok()) return {false, st.message(), Permanent(st.code())};
  return Await(c, timeout_ms, stop);
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

bool SameHeaderName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The e-mail of row `e` with its Message-ID (the row's idempotency key at the sender's domain)
// before the headers MailPayload wrote.
std::string WithMessageId(const OutboxEntry& e, const std::string& from) {
  const size_t at = from.rfind('@');
  const std::string domain =
      at == std::string::npos || at + 1 == from.size() ? "bysans" : from.substr(at + 1);
  return "Message-ID: <" + IdempotencyKey(e.id) + "@" + domain + ">\r\n" + e.payload;
}

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

// Refuses what would inject SMTP commands or header lines, whatever the stored spec says.
Status CheckLines(const json& spec, const std::string& type) {
  if (type == "email") {
    if (!IsMailAddress(spec.value("from", ""))) return InvalidArgument("invalid 'from' address");
    for (const auto& t : spec.value("to", json::array())) {
      if (!t.is_string() || !IsMailAddress(t.get<std::string>())) {
        return InvalidArgument("invalid 'to' address");
      }
    }
  } else if (spec.contains("headers") && spec["headers"].is_object()) {
    for (const auto& [name, value] : spec["headers"].items()) {
      const std::string v = value.is_string() ? value.get<std::string>() : "";
      if (name.find_first_of(std::string(":\r\n\0", 4)) != std::string::npos ||
          v.find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
        return InvalidArgument("invalid header '" + name + "'");
      }
    }
  }
  return Status::Ok();
}

// `c` is the worker's handle: reset before each use, so its connections are reused
// (keep-alive to the same endpoint).
Attempt Deliver(CURL* c, const OutboxEntry& e, const OutboxOptions& opts, std::atomic<bool>* stop) {
  json stored = json::parse(e.spec, nullptr, false);
  if (!stored.is_object()) return {false, "invalid action spec", true};
  auto opened = OpenActionSecrets(std::move(stored), opts.secrets);
  if (!opened.ok()) return {false, opened.status().message(), true};
  const json& spec = *opened;
  std::string type = spec.value("type", "");
  std::string url = spec.value("url", "");
  if (Status s = CheckLines(spec, type); !s.ok()) return {false, s.message(), true};
  if (!c) return {false, "curl_easy_init failed"};
  curl_easy_reset(c);
  curl_slist* list = nullptr;
  const std::string message = type == "email" ? WithMessageId(e, spec.value("from", "")) : "";
  ReadState rs{&message};
  CurlGate gate{&opts.outbound, {}};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  ApplyCurlGate(c, &gate, stop);  // the outbound-address policy (act/curl_gate.h)
  const int64_t timeout = spec.value("timeoutMs", int64_t{0});
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(timeout > 0 ? timeout : opts.default_timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10'000L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Discard);
  std::string from;
  if (type == "webhook") {
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    list = curl_slist_append(list, "Content-Type: application/json");
    list = curl_slist_append(list, "User-Agent: bysans");
    // The same on every attempt, from any node: a receiver can drop a repeated delivery.
    list = curl_slist_append(list, ("Idempotency-Key: \"" + IdempotencyKey(e.id) + "\"").c_str());
    if (spec.contains("headers") && spec["headers"].is_object()) {
      for (auto it = spec["headers"].begin(); it != spec["headers"].end(); ++it) {
        if (it->is_string() && !SameHeaderName(it.key(), "Idempotency-Key")) {
          list = curl_slist_append(list, (it.key() + ": " + it->get<std::string>()).c_str());
        }
      }
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, e.payload.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(e.payload.size()));
  } else if (type == "email") {
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
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
    return {false, "unsupported action type '" + type + "'", true};
  }
  CURLcode rc = curl_easy_perform(c);
  Attempt a;
  if (rc != CURLE_OK) {
    std::string detail = curl_easy_strerror(rc);
    if (!gate.refused.empty()) detail += " (" + gate.refused + ")";
    spdlog::warn("outbox: {} action to {}: {}", type, e.target_key, detail);
    a.error =
        IsConnectPhaseError(rc) ? CouldNotConnectMessage(e.target_key) : curl_easy_strerror(rc);
  } else if (type == "webhook") {
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    a.ok = status >= 200 && status < 300;
    if (!a.ok) a.error = "HTTP " + std::to_string(status);
  } else {
    a.ok = true;
  }
  curl_slist_free_all(list);
  return a;
}

// "sms" (to the numbers of the action) and "notify_contacts" (to the alarm device's effective
// contacts, by SMS, e-mail or both). One request per phone number; an attempt succeeds when
// every message went out. `reached` holds the recipients the row's earlier attempts reached
// ("sms:<phone>", "mail"): they are skipped, and each one this attempt reaches is added, so a
// retry sends only to the others (and a number listed twice gets one message).
Attempt DeliverContacts(CURL* c, const OutboxEntry& e, const json& spec,
                        const ContactResolver& resolve, const OutboxOptions& opts,
                        std::atomic<bool>* stop, std::set<std::string>* reached) {
  if (!resolve) return {false, "SMS is not available in this server"};
  const bool notify = spec.value("type", "") == "notify_contacts";
  const std::string via = notify ? spec.value("via", "email") : "sms";
  auto route = resolve(e, notify);
  if (!route.ok()) return {false, route.status().message(), Permanent(route.status().code())};
  std::vector<std::string> phones = route->phones;
  if (!notify) {
    phones.clear();
    for (const auto& to : spec.value("to", std::vector<std::string>{})) {
      auto phone = NormalizePhone(to);
      if (!phone.ok()) return {false, "'to': " + phone.status().message(), true};
      phones.push_back(std::move(phone).value());
    }
  }
  const bool sms = via != "email" && !phones.empty();
  const bool mail = via != "sms" && !route->emails.empty();
  if (!sms && !mail) {
    return {false,
            "no recipient: the alarm's device and its application have no contacts for " + via,
            true};
  }
  const TimeMs t = spec.value("timeoutMs", int64_t{0});
  const long timeout = static_cast<long>(t > 0 ? t : opts.default_timeout_ms);
  for (size_t i = 0; sms && i < phones.size(); ++i) {
    const std::string key = "sms:" + phones[i];
    if (reached->contains(key)) continue;
    if (!route->gateway) return {false, "the organisation has no SMS gateway", true};
    auto req = BuildSmsRequest(*route->gateway, route->secret, phones[i], e.payload);
    if (!req.ok()) return {false, req.status().message(), true};
    SmsResult r = SendSms(c, *req, opts.outbound, timeout, stop);
    if (!r.ok) return {false, r.error, r.permanent};
    reached->insert(key);
  }
  if (!mail || reached->contains("mail")) return {true, ""};
  json email = spec;
  email["type"] = "email";
  email["to"] = route->emails;
  OutboxEntry m = e;
  m.spec = email.dump();
  m.payload =
      MailPayload(spec.value("from", ""), route->emails, spec.value("subject", ""), e.payload);
  Attempt a = Deliver(c, m, opts, stop);
  if (a.ok) reached->insert("mail");
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
    int in_flight = 0;
    bool ready = false;  // listed in `ready`
  };

  // Everything below is guarded by mu.
  std::mutex mu;
  std::condition_variable dispatch_cv;  // wakes the dispatcher
  std::condition_variable work_cv;      // wakes the workers
  bool wake = false;
  std::atomic<bool> stop{false};
  // The recipients a contacts row's attempts reached so far (DeliverContacts), until the row is
  // delivered or failed. In memory: after a restart a retry may reach some of them again (at
  // least once per recipient).
  std::map<Id, std::set<std::string>> reached;
  std::set<Id> taken;        // queued or in flight
  std::set<Id> finished;     // attempted since the current claim was made
  std::set<TimeMs> retries;  // when retries recorded here fall due (the poll wakes then)
  // Targets with queued rows or deliveries in flight; dropped when both are gone.
  std::map<std::string, Target> targets;
  // Targets that may start a delivery now (rows queued, below per_target_concurrency),
  // served round-robin.
  std::deque<std::string> ready;
  std::vector<std::thread> workers;  // started on demand, at most opts.workers
  int idle_workers = 0;
  std::thread dispatcher;

  MqttPublisher mqtt_publisher;    // guarded by mu
  DownlinkSender downlink_sender;  // guarded by mu
  ActionGuard guard;               // guarded by mu
  ContactResolver contacts;        // guarded by mu

  Impl(RuleStore& s, const Clock& c, OutboxOptions o) : store(s), clock(c), opts(std::move(o)) {}

  Attempt DeliverAny(CURL* c, const OutboxEntry& e) {
    ActionGuard check;
    {
      std::lock_guard lk(mu);
      check = guard;
    }
    if (check) {
      if (Status s = check(e); !s.ok()) {
        spdlog::error("outbox: row {} of rule {} refused: {}", e.id, e.rule_id, s.message());
        return {false, "refused: " + s.message(), true};
      }
    }
    json spec = json::parse(e.spec, nullptr, false);
    std::string type = spec.is_object() ? spec.value("type", "") : "";
    if (type == "sms" || type == "notify_contacts") {
      ContactResolver resolve;
      std::set<std::string> done;
      {
        std::lock_guard lk(mu);
        resolve = contacts;
        if (auto it = reached.find(e.id); it != reached.end()) done = it->second;
      }
      Attempt a = DeliverContacts(c, e, spec, resolve, opts, &stop, &done);
      if (!done.empty()) {
        std::lock_guard lk(mu);
        reached[e.id] = std::move(done);
      }
      return a;
    }
    if (type != "mqtt" && type != "downlink") return Deliver(c, e, opts, &stop);
    int64_t t = spec.value("timeoutMs", int64_t{0});
    TimeMs timeout = t > 0 ? t : opts.default_timeout_ms;
    MqttPublisher publish;
    DownlinkSender send;
    {
      std::lock_guard lk(mu);
      publish = mqtt_publisher;
      send = downlink_sender;
    }
    if (type == "mqtt") return DeliverMqtt(e.org_id, spec, e.payload, publish, timeout, &stop);
    return DeliverDownlink(e, spec, send, timeout, &stop);
  }

  int PerTarget() const { return std::max(1, opts.per_target_concurrency); }

  // Lists `key` as ready if it may start a delivery. Caller holds mu.
  void MaybeReady(const std::string& key, Target& t) {
    if (!t.ready && !t.queue.empty() && t.in_flight < PerTarget()) {
      t.ready = true;
      ready.push_back(key);
    }
  }

  // Queues a due row on its target unless it is already queued, in flight or attempted since
  // the last poll; starts a worker when none is idle and the pool is not full. Caller holds mu.
  void Enqueue(OutboxEntry e) {
    if (stop || taken.count(e.id) || finished.count(e.id)) return;
    taken.insert(e.id);
    std::string key = e.target_key;
    Target& t = targets[key];
    t.queue.push_back(std::move(e));
    MaybeReady(key, t);
    if (idle_workers == 0 && static_cast<int>(workers.size()) < std::max(1, opts.workers)) {
      workers.emplace_back([this] { Work(); });
    } else {
      work_cv.notify_one();
    }
  }

  TimeMs Lease() const { return std::max<TimeMs>(1, opts.lease_ms); }

  // Each round: extends the claims of the rows held here (every lease/4), then claims the due
  // rows nobody holds (RuleStore::ClaimDueOutbox) and queues them. A claimed row already queued,
  // in flight or just attempted here is not queued again (a claim made while its attempt was
  // being recorded returns it as it was before).
  void Dispatch() {
    NameThisThread("outbox");
    std::unique_lock lk(mu);
    TimeMs extended_ms = clock.NowMs();
    while (!stop) {
      finished.clear();  // rows finished from now on may still come back from this claim
      const TimeMs now = clock.NowMs();
      std::vector<Id> held;
      if (now - extended_ms >= Lease() / 4) {
        held.assign(taken.begin(), taken.end());
        extended_ms = now;
      }
      retries.erase(retries.begin(), retries.upper_bound(now));
      const int64_t room = std::max<int64_t>(0, opts.max_claimed - std::ssize(taken));
      lk.unlock();
      if (Status s = store.ExtendOutboxClaims(held, now, Lease()); !s.ok()) {
        spdlog::warn("outbox: extending claims: {}", s.message());
      }
      Result<std::vector<OutboxEntry>> due = std::vector<OutboxEntry>{};
      if (room > 0) due = store.ClaimDueOutbox(room, now, Lease());
      lk.lock();
      std::vector<Id> release;
      if (!due.ok()) {
        spdlog::warn("outbox: {}", due.status().message());
      } else {
        for (auto& e : *due) {
          if (stop) {
            taken.insert(e.id);  // claimed as Stop began: released by Stop
          } else if (taken.contains(e.id)) {
            // Already queued or in flight here (its claim had lapsed): the claim renewed it.
          } else if (finished.contains(e.id)) {
            // Attempted while the claim ran: a copy from before the attempt (whose record ended
            // the claim), or a retry already due again. Released, for the next round.
            release.push_back(e.id);
          } else {
            Enqueue(std::move(e));
          }
        }
      }
      if (!release.empty()) {
        lk.unlock();
        if (Status s = store.ExtendOutboxClaims(release, clock.NowMs(), 0); !s.ok()) {
          spdlog::warn("outbox: releasing claims: {}", s.message());
        }
        lk.lock();
      }
      TimeMs wait_ms = std::min(opts.poll_ms, Lease() / 4);
      const TimeMs after = clock.NowMs();
      if (!retries.empty()) wait_ms = std::min(wait_ms, *retries.begin() - after);
      dispatch_cv.wait_for(lk, std::chrono::milliseconds(std::max<TimeMs>(1, wait_ms)),
                           [&] { return wake || stop.load(); });
      wake = false;
    }
  }

  void Work() {
    NameThisThread("outbox-worker");
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
    std::unique_lock lk(mu);
    while (true) {
      ++idle_workers;
      work_cv.wait(lk, [&] { return stop.load() || !ready.empty(); });
      --idle_workers;
      if (stop) return;
      std::string key = std::move(ready.front());
      ready.pop_front();
      Target& t = targets[key];
      t.ready = false;
      OutboxEntry e = std::move(t.queue.front());
      t.queue.pop_front();
      ++t.in_flight;
      MaybeReady(key, t);  // more rows and room: another worker may take the next one
      if (!ready.empty()) work_cv.notify_one();
      lk.unlock();
      Attempt a = DeliverAny(curl.get(), e);
      if (stop) {  // aborted by shutdown: stays pending, not an attempt
        lk.lock();
        return;
      }
      Record(e, a);
      lk.lock();
      if (e.state == "pending") {
        retries.insert(e.next_attempt_ms);
        wake = true;  // the poll's wait is shortened to when it falls due
        dispatch_cv.notify_all();
      }
      if (e.state == "delivered" || e.state == "failed") reached.erase(e.id);
      taken.erase(e.id);
      finished.insert(e.id);
      Target& done = targets[key];
      --done.in_flight;
      if (done.queue.empty() && done.in_flight == 0) {
        targets.erase(key);  // idle: nothing is kept per target
      } else {
        MaybeReady(key, done);
      }
    }
  }

  // Logs the attempt and moves the row on (delivered, failed or retried later).
  void Record(OutboxEntry& e, const Attempt& a) {
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
    } else if (a.permanent || e.attempts >= opts.max_attempts) {
      e.state = "failed";
    } else {
      TimeMs backoff = opts.base_backoff_ms;
      for (int i = 1; i < e.attempts && backoff < opts.max_backoff_ms; ++i) backoff *= 2;
      e.next_attempt_ms = log.ts + std::min(backoff, opts.max_backoff_ms);
    }
    Status s = store.RecordAttempt(e, log);
    if (!s.ok()) spdlog::warn("outbox: recording attempt of {}: {}", e.id, s.message());
  }
};

Outbox::Outbox(RuleStore& store, const Clock& clock, OutboxOptions options)
    : impl_(std::make_unique<Impl>(store, clock, std::move(options))) {}

Outbox::~Outbox() { Stop(); }

void Outbox::SetMqttPublisher(MqttPublisher publisher) {
  std::lock_guard lk(impl_->mu);
  impl_->mqtt_publisher = std::move(publisher);
}

void Outbox::SetDownlinkSender(DownlinkSender sender) {
  std::lock_guard lk(impl_->mu);
  impl_->downlink_sender = std::move(sender);
}

void Outbox::SetContactResolver(ContactResolver resolver) {
  std::lock_guard lk(impl_->mu);
  impl_->contacts = std::move(resolver);
}

void Outbox::SetGuard(ActionGuard guard) {
  std::lock_guard lk(impl_->mu);
  impl_->guard = std::move(guard);
}

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
  std::vector<std::thread> workers;
  {
    std::lock_guard lk(impl_->mu);
    workers.swap(impl_->workers);  // no worker is started once stop is set
  }
  for (auto& w : workers) {
    if (w.joinable()) w.join();
  }
  // Rows queued or aborted in flight: claimable again at once (by another node).
  std::vector<Id> held;
  {
    std::lock_guard lk(impl_->mu);
    held.assign(impl_->taken.begin(), impl_->taken.end());
    impl_->taken.clear();
    impl_->targets.clear();
    impl_->ready.clear();
  }
  if (Status s = impl_->store.ExtendOutboxClaims(held, impl_->clock.NowMs(), 0); !s.ok()) {
    spdlog::warn("outbox: releasing claims at stop: {}", s.message());
  }
}

void Outbox::Submit(std::vector<OutboxEntry> entries) {
  std::lock_guard lk(impl_->mu);
  if (impl_->stop) return;  // still pending in the store: sent after the restart
  TimeMs now = impl_->clock.NowMs();
  for (auto& e : entries) {
    // Not yet due (never for fresh rows): left to the poll.
    if (e.state == "pending" && e.id != 0 && e.next_attempt_ms <= now) {
      impl_->Enqueue(std::move(e));
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

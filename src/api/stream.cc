// GET /api/v1/organizations/{orgId}/stream: server-sent events of the
// organisation's committed readings, for the web UI's live updates: this node's commits, and
// with several nodes on one database the others' too (store/live_relay.h, asked for while the
// stream has subscribers).
//   event: reading
//   data: {"deviceId":1,"key":"temperature","ts":"...","value":21.5,"unit":"°C"}
// and the organisation's alarm changes (raised by the rules runtime,
// acknowledged / cleared / commented by hand or cleared by a rule), taken from
// the RuleStore's change listener after the change is stored:
//   event: alarm
//   data: {"event":"raised","id":7,"deviceId":1,"ruleId":2,"state":"active",...}
// "event" is raised, acknowledged, cleared or updated (reminder, comment); "status" and "open"
// say whether a cleared alarm still awaits acknowledgement (rules/alarm.h).
// A comment line every 15 s keeps proxies from closing an idle stream.
// The caller's credentials are checked again whenever the Authenticator notes
// a revocation (logout, key revoked, membership changed, password changed) and
// at least every AuthOptions::recheck_ms; when they no longer give a role in
// the organisation the stream ends with
//   event: revoked
// Each stream opened is audited ("subscribe", object "stream", the organisation). A member
// restricted to some applications gets the events of those applications' devices only, and the
// stream ends when their applications change.
#include "api/stream.h"

#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "api/common.h"
#include "core/time_format.h"
#include "rules/alarm.h"
#include "rules/json.h"
#include "store/live_relay.h"
#include "store/rule_store.h"

namespace bysans::api {
namespace {

constexpr size_t kQueueLimit = 2000;       // events per subscriber; oldest dropped beyond
constexpr size_t kMaxEventsPerTick = 500;  // written per 250 ms server tick
constexpr int kKeepAliveTicks = 60;        // 60 × 250 ms = 15 s

struct Subscriber {
  Subscriber(Id org, std::optional<std::set<Id>> a) : org_id(org), apps(std::move(a)) {}
  const Id org_id;
  // A member restricted to some applications gets the events of their devices only.
  const std::optional<std::set<Id>> apps;
  bool Wants(Id app_id) const { return !apps || apps->contains(app_id); }
  std::mutex mu;
  std::deque<std::string> queue;
  size_t dropped = 0;
};

// The set of open streams. Publish runs on the store's writer thread: it
// formats each event once and appends it to the matching queues.
class StreamHub {
 public:
  // `app_of_device`: a device's application (0 when unknown), asked only for alarms with a
  // subscriber restricted to some applications.
  // `relay`: other nodes' committed messages (store/live_relay.h), asked for while the hub has
  // subscribers; null with one process.
  StreamHub(std::function<Id(Id)> app_of_device, LiveRelay* relay)
      : app_of_(std::move(app_of_device)), relay_(relay) {}

  std::shared_ptr<Subscriber> Subscribe(Id org_id, std::optional<std::set<Id>> apps) {
    auto s = std::make_shared<Subscriber>(org_id, std::move(apps));
    std::lock_guard lock(mu_);
    subs_.push_back(s);
    if (relay_) relay_->SetWanted(true);
    return s;
  }

  void Unsubscribe(const std::shared_ptr<Subscriber>& s) {
    std::lock_guard lock(mu_);
    subs_.remove(s);
    if (relay_ && subs_.empty()) relay_->SetWanted(false);
  }

  void Publish(const Device& device, const std::vector<Reading>& readings) {
    std::lock_guard lock(mu_);
    if (subs_.empty()) return;
    std::vector<Subscriber*> targets;
    for (const auto& s : subs_)
      if (s->org_id == device.org_id && s->Wants(device.app_id)) targets.push_back(s.get());
    if (targets.empty()) return;
    for (const Reading& r : readings) {
      json ev = {{"deviceId", device.id},
                 {"key", r.key},
                 {"ts", FormatRfc3339(r.ts)},
                 {"value", std::visit([](const auto& x) { return json(x); }, r.value)},
                 {"unit", r.unit}};
      std::string text =
          "event: reading\ndata: " + ev.dump(-1, ' ', false, json::error_handler_t::replace) +
          "\n\n";
      Deliver(targets, text);
    }
  }

  // Runs on the thread that stored the alarm change.
  void PublishAlarm(const AlarmRecord& a, bool created) {
    std::lock_guard lock(mu_);
    std::vector<Subscriber*> targets;
    std::optional<Id> app;  // looked up once, and only for a restricted subscriber
    for (const auto& s : subs_) {
      if (s->org_id != a.org_id) continue;
      if (s->apps && !app) app = app_of_(a.device_id);
      if (s->Wants(app.value_or(0))) targets.push_back(s.get());
    }
    if (targets.empty()) return;
    std::string event = created ? "raised" : a.state;
    if (!created && a.state == "active") event = "updated";
    json ev = {{"event", event},      {"id", a.id},       {"deviceId", a.device_id},
               {"ruleId", a.rule_id}, {"state", a.state}, {"raisedAt", FormatRfc3339(a.raised_ms)}};
    if (!a.gateway_id.empty()) ev["gatewayId"] = a.gateway_id;
    if (auto doc = rules::AlarmFromDoc(a.doc); doc.ok()) {
      ev["severity"] = rules::SeverityName(doc->severity);
      ev["message"] = doc->message;
      ev["status"] = rules::AlarmStatusName(*doc);  // issue 21: cleared × acknowledged
      ev["open"] = rules::IsOpen(*doc);
    }
    Deliver(targets, "event: alarm\ndata: " +
                         ev.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n");
  }

 private:
  static void Deliver(const std::vector<Subscriber*>& targets, const std::string& text) {
    for (Subscriber* s : targets) {
      std::lock_guard slock(s->mu);
      if (s->queue.size() >= kQueueLimit) {
        s->queue.pop_front();
        ++s->dropped;
      }
      s->queue.push_back(text);
    }
  }

  std::function<Id(Id)> app_of_;
  LiveRelay* const relay_;
  std::mutex mu_;
  std::list<std::shared_ptr<Subscriber>> subs_;
};

// The request's credentials alone, to authenticate it again later.
http::Request CredentialsOf(const http::Request& req) {
  http::Request c;
  for (const char* h : {"x-api-key", "authorization", "cookie"})
    if (req.headers.Has(h)) c.headers.Set(h, req.headers.Get(h));
  c.remote_addr = req.remote_addr;
  return c;
}

// Unsubscribes when the server drops the stream function (client gone,
// server stopping).
struct Subscription {
  Subscription(std::weak_ptr<StreamHub> h, std::shared_ptr<Subscriber> s)
      : hub(std::move(h)), sub(std::move(s)) {}
  ~Subscription() {
    if (auto h = hub.lock()) h->Unsubscribe(sub);
  }
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  std::weak_ptr<StreamHub> hub;
  std::shared_ptr<Subscriber> sub;
  int idle_ticks = 0;
  bool first = true;
  http::Request credentials;  // CredentialsOf the opening request
  uint64_t revocations = 0;   // Authenticator::revocations() at the last check
  TimeMs checked_ms = 0;
};

// True while the stream's caller still has a role in its organisation. Checks
// again only after a revocation or once recheck_ms has passed.
bool StillAllowed(ApiContext& ctx, Subscription& s) {
  const uint64_t revocations = ctx.auth.revocations();
  const TimeMs now = ctx.clock.NowMs();
  if (revocations == s.revocations && now - s.checked_ms < ctx.auth.options().recheck_ms)
    return true;
  s.revocations = revocations;
  s.checked_ms = now;
  auto p = ctx.auth.Authenticate(s.credentials);
  if (!p.ok() || !p->MemberRoleIn(s.sub->org_id)) return false;
  // Restricted or not as when the stream opened, to the same applications.
  const std::set<Id>* scope = p->ScopeIn(s.sub->org_id);
  return scope == nullptr ? !s.sub->apps : s.sub->apps && *s.sub->apps == *scope;
}

}  // namespace

void RegisterStreamRoutes(http::Router& router, ApiContext& ctx) {
  LiveRelay* relay = ctx.store.live_relay();
  auto hub = std::make_shared<StreamHub>(
      [&ctx](Id device_id) { return AppOfDevice(ctx, device_id); }, relay);
  ctx.pipeline.AddCommitListener(
      [hub](const Device& device, const RawMessage&, const std::vector<Reading>& readings) {
        hub->Publish(device, readings);
      });
  // Several nodes: what the other nodes committed, as if committed here.
  if (relay) {
    relay->SetListener([hub](const Device& device, const std::vector<Reading>& readings) {
      hub->Publish(device, readings);
    });
  }
  ctx.store.rules().AddListener([hub](const RuleStoreChange& c) {
    if (!c.alarm) return;
    if (c.kind == RuleStoreChange::Kind::kAlarmCreated) hub->PublishAlarm(*c.alarm, true);
    if (c.kind == RuleStoreChange::Kind::kAlarmUpdated) hub->PublishAlarm(*c.alarm, false);
  });
  AddAuthed(
      router, ctx, "GET", "/api/v1/organizations/{orgId}/stream",
      "Live readings and alarm changes of the organisation (server-sent events)",
      [&ctx, hub](http::Request& req, const auth::Principal& p) -> Result<http::Response> {
        BYSANS_ASSIGN_OR_RETURN(Id org_id, IdParam(req, "orgId"));
        BYSANS_ASSIGN_OR_RETURN(OrgScope scope,
                                LoadOrganizationScope(ctx, p, org_id, Role::kViewer));
        const Organization& org = scope.org;
        std::optional<std::set<Id>> apps;
        if (scope.apps) apps.emplace(scope.apps->begin(), scope.apps->end());
        auto sub = std::make_shared<Subscription>(hub, hub->Subscribe(org.id, std::move(apps)));
        // checked_ms stays 0: the first tick checks again, so a revocation between the
        // authentication of this request and now is not missed.
        sub->credentials = CredentialsOf(req);
        sub->revocations = ctx.auth.revocations();
        Audit(ctx, p, req, org.id, "subscribe", "stream", std::to_string(org.id),
              "live readings and alarms of organisation " + std::to_string(org.id));
        http::Response r;
        r.status = 200;
        r.headers.Set("content-type", "text/event-stream; charset=utf-8");
        r.headers.Set("cache-control", "no-cache, no-store");
        r.headers.Set("x-accel-buffering", "no");
        r.stream = [sub, &ctx](std::string& chunk) -> bool {
          if (sub->hub.expired()) return false;  // server stopping
          if (!StillAllowed(ctx, *sub)) {
            chunk = "event: revoked\ndata: {}\n\n";
            return false;
          }
          if (sub->first) {
            sub->first = false;
            chunk = "retry: 3000\n: connected\n\n";
          }
          {
            Subscriber& s = *sub->sub;
            std::lock_guard lock(s.mu);
            if (s.dropped > 0) {
              chunk += "event: dropped\ndata: {\"count\":" + std::to_string(s.dropped) + "}\n\n";
              s.dropped = 0;
            }
            for (size_t n = 0; n < kMaxEventsPerTick && !s.queue.empty(); ++n) {
              chunk += s.queue.front();
              s.queue.pop_front();
            }
          }
          if (chunk.empty() && ++sub->idle_ticks >= kKeepAliveTicks) chunk = ": keep-alive\n\n";
          if (!chunk.empty()) sub->idle_ticks = 0;
          return !sub->hub.expired();
        };
        return r;
      });
}

}  // namespace bysans::api

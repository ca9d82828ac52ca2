// The RuleStore's behaviour on both backends (rules_backend_fixture.h): rules, alarms and their
// filters, silences, the outbox and the delivery log, listeners, ids never reused, and action
// secrets sealed at rest.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "act/action_secrets.h"
#include "core/secret_box.h"
#include "unit/store_postgres/rules_backend_fixture.h"

namespace bysans::testing {
namespace {

using Kind = RuleStoreChange::Kind;

class RuleBackendTest : public RulesBackendTest {
 protected:
  Id NewSilence(Id org, std::optional<Id> rule, std::optional<Id> device = std::nullopt,
                TimeMs until = 4'070'908'800'000) {  // 2099
    SilenceRecord s;
    s.org_id = org;
    s.rule_id = rule;
    s.device_id = device;
    s.until_ms = until;
    s.created_by = "alice";
    s.created_ms = kT0;
    auto created = rules().CreateSilence(s);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? created->id : 0;
  }
  AlarmRecord NewAlarm(Id org, Id rule, Id device, const std::string& state,
                       bool awaiting_ack = false, const std::string& gateway = "") {
    AlarmRecord a{0,      org, rule, device, state, kT0, "{\"s\":\"" + state + "\"}", awaiting_ack,
                  gateway};
    auto created = rules().CreateAlarm(a, nullptr);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? *created : AlarmRecord{};
  }
  OutboxEntry Entry(Id org, Id rule, const std::string& target = "https://hooks.example:443") {
    OutboxEntry e;
    e.org_id = org;
    e.rule_id = rule;
    e.event = "raise";
    e.target_key = target;
    e.spec = R"({"type":"webhook","url":"https://hooks.example/x"})";
    e.payload = "{\"alarm\":1}";
    e.created_ms = kT0;
    return e;
  }
  std::vector<Id> AlarmIds(const AlarmFilter& f, Page page = {100, 0}, int64_t* total = nullptr) {
    auto r = rules().ListAlarms(f, page);
    EXPECT_TRUE(r.ok()) << r.status().message();
    std::vector<Id> out;
    if (!r.ok()) return out;
    for (const AlarmRecord& a : r->items) out.push_back(a.id);
    if (total) *total = r->total;
    return out;
  }
};

TEST_P(RuleBackendTest, RulesAreCreatedListedUpdatedAndDeleted) {
  const Id a = NewOrg("A"), b = NewOrg("B");
  std::vector<Kind> told;
  std::vector<Id> ids;
  rules().AddListener([&](const RuleStoreChange& c) {
    told.push_back(c.kind);
    ids.push_back(c.id);
  });
  const Id r1 = NewRule(a, R"({"name":"one"})");
  const Id rb = NewRule(b);
  const Id r2 = NewRule(a, R"({"name":"two"})");
  EXPECT_LT(r1, rb);
  EXPECT_LT(rb, r2);
  auto got = rules().GetRule(r1);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->org_id, a);
  EXPECT_TRUE(got->enabled);
  EXPECT_EQ(got->definition, R"({"name":"one"})");
  EXPECT_EQ(got->created_ms, kT0);
  EXPECT_EQ(rules().GetRule(r2 + 100).status().code(), Code::kNotFound);

  auto list = rules().ListRules(a, {});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->total, 2);
  ASSERT_EQ(list->items.size(), 2u);
  EXPECT_EQ(list->items[0].id, r1);
  EXPECT_EQ(list->items[1].id, r2);
  auto second = rules().ListRules(a, {1, 1});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->total, 2);
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].id, r2);
  auto all = rules().ListAllRules();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ(all->at(1).id, rb);

  RuleRecord changed = *got;
  changed.enabled = false;
  changed.definition = R"({"name":"one!"})";
  changed.updated_ms = kT0 + 5;
  ASSERT_TRUE(rules().UpdateRule(changed).ok());
  got = rules().GetRule(r1);
  EXPECT_FALSE(got->enabled);
  EXPECT_EQ(got->definition, R"({"name":"one!"})");
  EXPECT_EQ(got->updated_ms, kT0 + 5);
  EXPECT_EQ(got->created_ms, kT0);
  changed.id = r2 + 100;
  EXPECT_EQ(rules().UpdateRule(changed).code(), Code::kNotFound);

  ASSERT_TRUE(rules().DeleteRule(r1).ok());
  EXPECT_EQ(rules().GetRule(r1).status().code(), Code::kNotFound);
  EXPECT_EQ(rules().DeleteRule(r1).code(), Code::kNotFound);
  EXPECT_EQ(rules().ListRules(a, {})->total, 1);
  // Listeners hear of committed changes only.
  EXPECT_EQ(told, (std::vector<Kind>{Kind::kRuleUpserted, Kind::kRuleUpserted, Kind::kRuleUpserted,
                                     Kind::kRuleUpserted, Kind::kRuleDeleted}));
  EXPECT_EQ(ids, (std::vector<Id>{r1, rb, r2, r1, r1}));
}

// Moved from tests/unit/store/rule_ids_test.cc.
TEST_P(RuleBackendTest, ADeletedRulesIdAndSilencesAreGoneForGood) {
  const Id org_a = NewOrg("A"), org_b = NewOrg("B");
  Id b_rule = NewRule(org_b);
  Id silence = NewSilence(org_b, b_rule);
  ASSERT_TRUE(rules().DeleteRule(b_rule).ok());
  EXPECT_EQ(rules().GetSilence(silence).status().code(), Code::kNotFound);
  EXPECT_TRUE(rules().ListSilences(std::nullopt, 0)->empty());
  Id a_rule = NewRule(org_a);
  EXPECT_GT(a_rule, b_rule);
  Reopen();
  EXPECT_GT(NewRule(org_a), a_rule);
}

TEST_P(RuleBackendTest, AnAlarmAndItsOutboxAreWrittenTogether) {
  const Id org = NewOrg();
  const Id rule = NewRule(org);
  std::vector<Kind> told;
  std::vector<std::string> docs;
  rules().AddListener([&](const RuleStoreChange& c) {
    told.push_back(c.kind);
    docs.push_back(c.alarm ? c.alarm->doc : "");
  });
  std::vector<OutboxEntry> box = {Entry(org, rule), Entry(org, rule, "smtp://mail:25")};
  auto made = rules().CreateAlarm({0, org, rule, 5, "active", kT0, "{\"v\":1}", false, ""}, &box);
  ASSERT_TRUE(made.ok()) << made.status().message();
  EXPECT_GT(made->id, 0);
  EXPECT_EQ(box[0].alarm_id, made->id);
  EXPECT_EQ(box[1].alarm_id, made->id);
  EXPECT_GT(box[0].id, 0);
  EXPECT_GT(box[1].id, box[0].id);
  auto got = rules().GetAlarm(made->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->org_id, org);
  EXPECT_EQ(got->rule_id, rule);
  EXPECT_EQ(got->device_id, 5);
  EXPECT_EQ(got->state, "active");
  EXPECT_EQ(got->raised_ms, kT0);
  EXPECT_EQ(got->doc, "{\"v\":1}");
  EXPECT_FALSE(got->awaiting_ack);
  EXPECT_EQ(got->gateway_id, "");

  AlarmRecord cleared = *got;
  cleared.state = "cleared";
  cleared.awaiting_ack = true;
  cleared.doc = "{\"v\":2}";
  std::vector<OutboxEntry> more = {Entry(org, rule)};
  more[0].event = "clear";
  ASSERT_TRUE(rules().UpdateAlarm(cleared, &more).ok());
  EXPECT_EQ(more[0].alarm_id, made->id);
  EXPECT_GT(more[0].id, box[1].id);
  got = rules().GetAlarm(made->id);
  EXPECT_EQ(got->state, "cleared");
  EXPECT_TRUE(got->awaiting_ack);
  EXPECT_EQ(got->doc, "{\"v\":2}");
  EXPECT_EQ(got->raised_ms, kT0);  // not changed by an update
  AlarmRecord gone = cleared;
  gone.id = made->id + 100;
  EXPECT_EQ(rules().UpdateAlarm(gone, nullptr).code(), Code::kNotFound);
  EXPECT_EQ(rules().GetAlarm(gone.id).status().code(), Code::kNotFound);

  auto pending = rules().ListPendingOutbox(10);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 3u);
  EXPECT_EQ(pending->at(0).id, box[0].id);
  EXPECT_EQ(pending->at(1).target_key, "smtp://mail:25");
  EXPECT_EQ(pending->at(2).event, "clear");
  EXPECT_EQ(pending->at(0).spec, box[0].spec);
  EXPECT_EQ(pending->at(0).payload, box[0].payload);
  EXPECT_EQ(pending->at(0).state, "pending");
  EXPECT_EQ(pending->at(0).created_ms, kT0);
  EXPECT_EQ(told, (std::vector<Kind>{Kind::kAlarmCreated, Kind::kAlarmUpdated}));
  EXPECT_EQ(docs, (std::vector<std::string>{"{\"v\":1}", "{\"v\":2}"}));
}

// Moved from tests/unit/store/rule_ids_test.cc.
// The rules thread's batch: creates and updates in one transaction, ids filled in, a vanished
// alarm only failing its own write, listeners told after the commit.
TEST_P(RuleBackendTest, WriteAlarmsWritesABatchInOneTransaction) {
  const Id org_a = NewOrg("A");
  const Id rule = NewRule(org_a);
  std::vector<Kind> told;
  rules().AddListener([&](const RuleStoreChange& c) { told.push_back(c.kind); });
  auto existing = rules().CreateAlarm({0, org_a, rule, 1, "active", 1, "{}"}, nullptr);
  ASSERT_TRUE(existing.ok());
  std::vector<RuleStore::AlarmWrite> writes(3);
  writes[0].alarm = {0, org_a, rule, 2, "active", 2, R"({"n":1})"};
  writes[0].outbox.resize(1);
  writes[0].outbox[0].org_id = org_a;
  writes[0].outbox[0].rule_id = rule;
  writes[1].alarm = *existing;
  writes[1].alarm.state = "cleared";
  writes[1].outbox.resize(1);
  writes[1].outbox[0].org_id = org_a;
  writes[1].outbox[0].rule_id = rule;
  writes[2].alarm = {9999, org_a, rule, 3, "cleared", 3, "{}"};  // no such alarm
  writes[2].outbox.resize(1);
  writes[2].outbox[0].org_id = org_a;
  told.clear();
  ASSERT_TRUE(rules().WriteAlarms(writes).ok());
  ASSERT_TRUE(writes[0].status.ok());
  ASSERT_TRUE(writes[1].status.ok());
  EXPECT_EQ(writes[2].status.code(), Code::kNotFound);
  EXPECT_GT(writes[0].alarm.id, existing->id);
  EXPECT_EQ(writes[0].outbox[0].alarm_id, writes[0].alarm.id);
  EXPECT_GT(writes[0].outbox[0].id, 0);
  EXPECT_GT(writes[1].outbox[0].id, writes[0].outbox[0].id);
  EXPECT_EQ(rules().GetAlarm(writes[0].alarm.id)->doc, R"({"n":1})");
  EXPECT_EQ(rules().GetAlarm(existing->id)->state, "cleared");
  EXPECT_EQ(rules().ListPendingOutbox(10)->size(), 2u);  // none for the vanished alarm
  EXPECT_EQ(told, (std::vector<Kind>{Kind::kAlarmCreated, Kind::kAlarmUpdated}));
  std::vector<RuleStore::AlarmWrite> none;
  EXPECT_TRUE(rules().WriteAlarms(none).ok());
}

TEST_P(RuleBackendTest, OpenAlarmsAreFoundPerDeviceAndPerGateway) {
  const Id org = NewOrg();
  const Id rule = NewRule(org), other_rule = NewRule(org);
  NewAlarm(org, rule, 5, "cleared");
  const AlarmRecord open = NewAlarm(org, rule, 5, "acknowledged");
  NewAlarm(org, rule, 6, "active");
  NewAlarm(org, other_rule, 5, "active");
  auto found = rules().FindOpenAlarm(rule, 5);
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ(found->id, open.id);
  EXPECT_EQ(rules().FindOpenAlarm(rule, 7).status().code(), Code::kNotFound);

  NewAlarm(org, rule, 0, "active", false, "gw-1");
  const AlarmRecord newer = NewAlarm(org, rule, 0, "active", false, "gw-1");
  NewAlarm(org, rule, 0, "cleared", false, "gw-2");
  auto gw = rules().FindOpenGatewayAlarm(rule, "gw-1");
  ASSERT_TRUE(gw.ok());
  EXPECT_EQ(gw->id, newer.id);  // the newest when there are several
  EXPECT_EQ(gw->gateway_id, "gw-1");
  EXPECT_EQ(rules().FindOpenGatewayAlarm(rule, "gw-2").status().code(), Code::kNotFound);
  EXPECT_EQ(rules().FindOpenGatewayAlarm(rule, "").status().code(), Code::kNotFound);
}

TEST_P(RuleBackendTest, AlarmsAreListedNewestFirstThroughEveryFilter) {
  const Id a = NewOrg("A"), b = NewOrg("B");
  const Id app1 = NewApp(a), app2 = NewApp(a);
  const Id d1 = NewDevice(a, app1), d2 = NewDevice(a, app2);
  const Id rule = NewRule(a), b_rule = NewRule(b);
  const Id x1 = NewAlarm(a, rule, d1, "active").id;
  const Id x2 = NewAlarm(a, rule, d1, "cleared", true).id;  // awaiting acknowledgement
  const Id x3 = NewAlarm(a, rule, d2, "acknowledged").id;
  const Id x4 = NewAlarm(a, rule, d2, "cleared").id;
  const Id g1 = NewAlarm(a, rule, 0, "active", false, "gw-1").id;
  const Id y1 = NewAlarm(b, b_rule, 99, "active").id;
  using Ids = std::vector<Id>;

  AlarmFilter f;
  int64_t total = 0;
  EXPECT_EQ(AlarmIds(f, {100, 0}, &total), (Ids{y1, g1, x4, x3, x2, x1}));
  EXPECT_EQ(total, 6);
  f.org_id = a;
  EXPECT_EQ(AlarmIds(f, {2, 1}, &total), (Ids{x4, x3}));
  EXPECT_EQ(total, 5);
  EXPECT_EQ(AlarmIds(f, {2, 10}, &total), Ids{});
  EXPECT_EQ(total, 5);

  AlarmFilter states = f;
  states.states = {"cleared", "acknowledged"};
  EXPECT_EQ(AlarmIds(states), (Ids{x4, x3, x2}));
  states.awaiting_ack = false;
  EXPECT_EQ(AlarmIds(states), (Ids{x4, x3}));
  AlarmFilter awaiting = f;
  awaiting.awaiting_ack = true;
  EXPECT_EQ(AlarmIds(awaiting), (Ids{x2}));

  AlarmFilter open = f;
  open.open = true;
  open.states = {"cleared"};  // ignored with open
  open.awaiting_ack = false;  // ignored with open
  EXPECT_EQ(AlarmIds(open, {100, 0}, &total), (Ids{g1, x3, x2, x1}));
  EXPECT_EQ(total, 4);

  AlarmFilter device = f;
  device.device_id = d2;
  EXPECT_EQ(AlarmIds(device), (Ids{x4, x3}));
  AlarmFilter gateway = f;
  gateway.gateway_id = "gw-1";
  EXPECT_EQ(AlarmIds(gateway), (Ids{g1}));

  AlarmFilter apps = f;
  apps.app_ids = std::vector<Id>{app1};
  EXPECT_EQ(AlarmIds(apps), (Ids{x2, x1}));  // never a gateway alarm
  apps.app_ids = std::vector<Id>{app1, app2};
  EXPECT_EQ(AlarmIds(apps), (Ids{x4, x3, x2, x1}));
  apps.app_ids = std::vector<Id>{};
  EXPECT_EQ(AlarmIds(apps, {100, 0}, &total), Ids{});  // an empty list matches nothing
  EXPECT_EQ(total, 0);

  AlarmFilter other = f;
  other.org_id = b;
  other.states = {"active"};
  EXPECT_EQ(AlarmIds(other), (Ids{y1}));
  auto page = rules().ListAlarms(f, {0, -3});  // limit clamped to 1, offset to 0
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, g1);
  EXPECT_EQ(page->items[0].gateway_id, "gw-1");
}

TEST_P(RuleBackendTest, SilencesAreListedUntilTheyEndAndDeleted) {
  const Id a = NewOrg("A"), b = NewOrg("B");
  const Id rule = NewRule(a);
  std::vector<Kind> told;
  rules().AddListener([&](const RuleStoreChange& c) { told.push_back(c.kind); });
  const Id s1 = NewSilence(a, rule, std::nullopt, kT0 + 1000);
  const Id s2 = NewSilence(a, std::nullopt, 17, kT0 + 5000);
  const Id s3 = NewSilence(b, std::nullopt, std::nullopt, kT0 + 5000);
  auto got = rules().GetSilence(s2);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->org_id, a);
  EXPECT_EQ(got->device_id, std::optional<Id>(17));
  EXPECT_EQ(got->rule_id, std::nullopt);
  EXPECT_EQ(got->until_ms, kT0 + 5000);
  EXPECT_EQ(got->created_by, "alice");
  EXPECT_EQ(got->created_ms, kT0);
  got = rules().GetSilence(s1);
  EXPECT_EQ(got->rule_id, std::optional<Id>(rule));
  EXPECT_EQ(got->device_id, std::nullopt);

  auto ids = [&](std::optional<Id> org, TimeMs now) {
    std::vector<Id> out;
    auto l = rules().ListSilences(org, now);
    EXPECT_TRUE(l.ok()) << l.status().message();
    if (l.ok())
      for (const auto& s : *l) out.push_back(s.id);
    return out;
  };
  EXPECT_EQ(ids(std::nullopt, kT0), (std::vector<Id>{s1, s2, s3}));
  EXPECT_EQ(ids(a, kT0), (std::vector<Id>{s1, s2}));
  EXPECT_EQ(ids(a, kT0 + 1000), (std::vector<Id>{s2}));  // until_ms > now
  EXPECT_EQ(ids(std::nullopt, kT0 + 5000), (std::vector<Id>{}));

  ASSERT_TRUE(rules().DeleteSilence(s2).ok());
  EXPECT_EQ(rules().DeleteSilence(s2).code(), Code::kNotFound);
  EXPECT_EQ(rules().GetSilence(s2).status().code(), Code::kNotFound);
  EXPECT_EQ(ids(a, kT0), (std::vector<Id>{s1}));
  EXPECT_EQ(told, (std::vector<Kind>{Kind::kSilenceAdded, Kind::kSilenceAdded, Kind::kSilenceAdded,
                                     Kind::kSilenceDeleted}));
}

TEST_P(RuleBackendTest, AttemptsMoveOutboxRowsOnAndAreLogged) {
  const Id a = NewOrg("A"), b = NewOrg("B");
  const Id rule = NewRule(a);
  std::vector<OutboxEntry> box = {Entry(a, rule), Entry(a, rule), Entry(a, rule)};
  auto alarm = rules().CreateAlarm({0, a, rule, 1, "active", kT0, "{}"}, &box);
  ASSERT_TRUE(alarm.ok());
  auto pending = rules().ListPendingOutbox(2);
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);  // oldest first, at most `limit`
  EXPECT_EQ(pending->at(0).id, box[0].id);
  EXPECT_EQ(pending->at(1).id, box[1].id);

  auto attempt = [&](OutboxEntry e, bool ok, const std::string& state, TimeMs ts) {
    e.attempts += 1;
    e.state = state;
    e.last_error = ok ? "" : "HTTP 500";
    e.next_attempt_ms = ts + 60'000;
    const DeliveryLogEntry log{0,         e.org_id,   e.id, e.rule_id, e.alarm_id,  e.target_key,
                               "webhook", e.attempts, ts,   ok,        e.last_error};
    Status s = rules().RecordAttempt(e, log);
    EXPECT_TRUE(s.ok()) << s.message();
  };
  attempt(box[0], false, "pending", kT0 + 1);  // a retry later
  attempt(box[1], true, "delivered", kT0 + 2);
  attempt(box[2], false, "failed", kT0 + 3);
  pending = rules().ListPendingOutbox(10);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->at(0).id, box[0].id);
  EXPECT_EQ(pending->at(0).attempts, 1);
  EXPECT_EQ(pending->at(0).last_error, "HTTP 500");
  EXPECT_EQ(pending->at(0).next_attempt_ms, kT0 + 1 + 60'000);

  auto log = rules().ListDeliveryLog(a, {});
  ASSERT_TRUE(log.ok()) << log.status().message();
  EXPECT_EQ(log->total, 3);
  ASSERT_EQ(log->items.size(), 3u);
  EXPECT_EQ(log->items[0].outbox_id, box[2].id);  // newest first
  EXPECT_FALSE(log->items[0].ok);
  EXPECT_EQ(log->items[0].error, "HTTP 500");
  EXPECT_EQ(log->items[1].outbox_id, box[1].id);
  EXPECT_TRUE(log->items[1].ok);
  EXPECT_EQ(log->items[1].ts, kT0 + 2);
  EXPECT_EQ(log->items[1].rule_id, rule);
  EXPECT_EQ(log->items[1].alarm_id, alarm->id);
  EXPECT_EQ(log->items[1].action_type, "webhook");
  EXPECT_EQ(log->items[1].attempt, 1);
  EXPECT_EQ(log->items[1].target_key, "https://hooks.example:443");
  EXPECT_GT(log->items[0].id, log->items[1].id);
  auto paged = rules().ListDeliveryLog(a, {1, 2});
  ASSERT_TRUE(paged.ok());
  EXPECT_EQ(paged->total, 3);
  ASSERT_EQ(paged->items.size(), 1u);
  EXPECT_EQ(paged->items[0].outbox_id, box[0].id);
  EXPECT_EQ(rules().ListDeliveryLog(b, {})->total, 0);
}

// The store keeps what act/action_secrets.h gives it: a definition's secrets sealed by
// SealClearRuleSecrets are no longer readable in the stored row, and open again for delivery.
TEST_P(RuleBackendTest, ActionSecretsAreSealedAtRestAndOpenForDelivery) {
  auto box = SecretBox::Open(dir_.path() + "/test-secret.key");
  ASSERT_TRUE(box.ok()) << box.status().message();
  const Id org = NewOrg();
  const std::string secret = "s3cr3t-Bearer-9f2c";
  nlohmann::json def = {{"name", "r"},
                        {"actions",
                         {{{"type", "webhook"},
                           {"url", "https://hooks.example/x"},
                           {"headers", {{"Authorization", "Bearer " + secret}}}},
                          {{"type", "email"}, {"to", "a@example.org"}, {"password", secret}}}}};
  const Id rule = NewRule(org, def.dump());
  auto sealed = act::SealClearRuleSecrets(rules(), **box);
  ASSERT_TRUE(sealed.ok()) << sealed.status().message();
  EXPECT_EQ(*sealed, 1);
  EXPECT_EQ(*act::SealClearRuleSecrets(rules(), **box), 0);  // idempotent
  auto stored = rules().GetRule(rule);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->definition.find(secret), std::string::npos) << stored->definition;
  if (postgres()) {
    EXPECT_EQ(Query("SELECT count(*) FROM rules WHERE definition LIKE '%" + secret + "%'"), "0");
  }
  const nlohmann::json actions = nlohmann::json::parse(stored->definition)["actions"];
  ASSERT_TRUE(actions[0].contains(act::kHeadersSealed));
  ASSERT_TRUE(actions[1].contains(act::kPasswordSealed));
  // An outbox row copies the sealed action; delivery opens it.
  std::vector<OutboxEntry> out = {Entry(org, rule)};
  out[0].spec = actions[1].dump();
  ASSERT_TRUE(rules().CreateAlarm({0, org, rule, 1, "active", kT0, "{}"}, &out).ok());
  auto pending = rules().ListPendingOutbox(10);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->at(0).spec.find(secret), std::string::npos);
  auto opened = act::OpenActionSecrets(nlohmann::json::parse(pending->at(0).spec), box->get());
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ((*opened)["password"], secret);
}

// The outbox claims (RuleStore::ClaimDueOutbox): a claim holds rows until its lease ends or an
// attempt is recorded; rows not yet due, or no longer pending, are never claimed.
TEST_P(RuleBackendTest, AClaimLastsForItsLeaseAndAnAttemptEndsIt) {
  const Id org = NewOrg();
  const Id rule = NewRule(org);
  std::vector<OutboxEntry> box = {Entry(org, rule), Entry(org, rule), Entry(org, rule)};
  for (auto& e : box) e.next_attempt_ms = kT0;
  ASSERT_TRUE(rules().CreateAlarm({0, org, rule, 1, "active", kT0, "{}"}, &box).ok());
  const std::vector<Id> rows = {box[0].id, box[1].id, box[2].id};
  auto claim = [&](int64_t limit, TimeMs now, TimeMs lease) {
    auto r = rules().ClaimDueOutbox(limit, now, lease);
    std::vector<Id> out;
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (r.ok())
      for (const auto& e : *r) out.push_back(e.id);
    return out;
  };
  EXPECT_EQ(claim(2, kT0 - 1, 1000), std::vector<Id>{});  // not due
  EXPECT_EQ(claim(2, kT0, 1000), (std::vector<Id>{rows[0], rows[1]}));
  EXPECT_EQ(claim(5, kT0 + 10, 1000), std::vector<Id>{rows[2]});
  EXPECT_EQ(claim(5, kT0 + 999, 1000), std::vector<Id>{});
  // ListPendingOutbox lists every pending row, claimed or not.
  EXPECT_EQ(rules().ListPendingOutbox(10)->size(), 3u);

  // rows[0] delivered, rows[1] to be retried at +5000: the attempts end their claims.
  OutboxEntry done = box[0], retry = box[1];
  done.state = "delivered";
  done.attempts = 1;
  retry.attempts = 1;
  retry.next_attempt_ms = kT0 + 5000;
  DeliveryLogEntry log;
  log.org_id = org;
  ASSERT_TRUE(rules().RecordAttempt(done, log).ok());
  ASSERT_TRUE(rules().RecordAttempt(retry, log).ok());
  // After rows[0..1]'s lease: rows[1] is not due yet; rows[2]'s lease (from +10) has not ended.
  EXPECT_EQ(claim(5, kT0 + 1000, 1000), std::vector<Id>{});
  // rows[2]'s lease ended: claimed again (its holder died without recording an attempt).
  EXPECT_EQ(claim(5, kT0 + 1010, 1000), std::vector<Id>{rows[2]});
  // rows[1] due (its claim ended with the attempt, not at +1000); rows[2]'s second lease too.
  EXPECT_EQ(claim(5, kT0 + 5000, 60'000), (std::vector<Id>{rows[1], rows[2]}));
  // A retry recorded while claimed is claimable as soon as it is due, before the lease ends.
  retry.attempts = 2;
  retry.next_attempt_ms = kT0 + 6000;
  ASSERT_TRUE(rules().RecordAttempt(retry, log).ok());
  EXPECT_EQ(claim(5, kT0 + 5999, 60'000), std::vector<Id>{});
  EXPECT_EQ(claim(5, kT0 + 6000, 60'000), std::vector<Id>{rows[1]});
}

// ExtendOutboxClaims keeps the claims still held, leaves rows whose claim ended alone, and with a
// lease of 0 releases them.
TEST_P(RuleBackendTest, ClaimsStillHeldAreExtendedOrReleased) {
  const Id org = NewOrg();
  const Id rule = NewRule(org);
  std::vector<OutboxEntry> box = {Entry(org, rule), Entry(org, rule), Entry(org, rule)};
  for (auto& e : box) e.next_attempt_ms = kT0;
  ASSERT_TRUE(rules().CreateAlarm({0, org, rule, 1, "active", kT0, "{}"}, &box).ok());
  auto claim = [&](TimeMs now) {
    auto r = rules().ClaimDueOutbox(10, now, 1000);
    std::vector<Id> out;
    EXPECT_TRUE(r.ok()) << r.status().message();
    if (r.ok())
      for (const auto& e : *r) out.push_back(e.id);
    return out;
  };
  ASSERT_EQ(claim(kT0).size(), 3u);  // held to +1000
  // rows 0 and 1 extended at +900 to +1900; row 2's claim left to end at +1000.
  ASSERT_TRUE(rules().ExtendOutboxClaims({box[0].id, box[1].id}, kT0 + 900, 1000).ok());
  EXPECT_EQ(claim(kT0 + 1000), std::vector<Id>{box[2].id});  // claimed again, to +2000
  // A claim that ended is not extended (row 0 at +1900: its lease has just ended).
  ASSERT_TRUE(rules().ExtendOutboxClaims({box[0].id}, kT0 + 1900, 1000).ok());
  EXPECT_EQ(claim(kT0 + 1900), (std::vector<Id>{box[0].id, box[1].id}));  // to +2900
  // Released (lease 0): claimable at once; no other row is touched.
  ASSERT_TRUE(rules().ExtendOutboxClaims({box[1].id}, kT0 + 1950, 0).ok());
  EXPECT_EQ(claim(kT0 + 1950), std::vector<Id>{box[1].id});
  EXPECT_TRUE(rules().ExtendOutboxClaims({}, kT0, 1000).ok());
}

// With a write lease (the server's: its own outbox sends what it writes), the rows CreateAlarm,
// UpdateAlarm and WriteAlarms write are claimed by their writer until created_ms + lease: no
// claim (another node's) takes them before, any claim after (the writer died).
TEST_P(RuleBackendTest, RowsWrittenWithAWriteLeaseAreNotClaimableUntilItEnds) {
  const Id org = NewOrg();
  const Id rule = NewRule(org);
  rules().SetOutboxWriteLease(5000);
  auto entry = [&] {
    OutboxEntry e = Entry(org, rule);
    e.next_attempt_ms = kT0;
    return e;
  };
  std::vector<OutboxEntry> created = {entry()};
  auto alarm = rules().CreateAlarm({0, org, rule, 1, "active", kT0, "{}"}, &created);
  ASSERT_TRUE(alarm.ok());
  std::vector<OutboxEntry> updated = {entry()};
  ASSERT_TRUE(rules().UpdateAlarm(*alarm, &updated).ok());
  std::vector<RuleStore::AlarmWrite> writes(1);
  writes[0].alarm = {0, org, rule, 2, "active", kT0, "{}"};
  writes[0].outbox = {entry()};
  ASSERT_TRUE(rules().WriteAlarms(writes).ok());
  EXPECT_EQ(rules().ListPendingOutbox(10)->size(), 3u);
  EXPECT_TRUE(rules().ClaimDueOutbox(10, kT0, 60'000)->empty());
  EXPECT_TRUE(rules().ClaimDueOutbox(10, kT0 + 4999, 60'000)->empty());
  auto after = rules().ClaimDueOutbox(10, kT0 + 5000, 60'000);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 3u);
  EXPECT_EQ(after->at(0).id, created[0].id);
  EXPECT_EQ(after->at(1).id, updated[0].id);
  EXPECT_EQ(after->at(2).id, writes[0].outbox[0].id);
  // Without a write lease (the default) rows are claimable once committed.
  rules().SetOutboxWriteLease(0);
  std::vector<OutboxEntry> free_row = {entry()};
  ASSERT_TRUE(rules().UpdateAlarm(*alarm, &free_row).ok());
  auto now = rules().ClaimDueOutbox(10, kT0, 60'000);
  ASSERT_TRUE(now.ok());
  ASSERT_EQ(now->size(), 1u);
  EXPECT_EQ(now->at(0).id, free_row[0].id);
}

BYSANS_ON_BOTH_BACKENDS(RuleBackendTest);

}  // namespace
}  // namespace bysans::testing

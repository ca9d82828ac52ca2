// Ids of rules, alarms, silences, outbox and delivery-log rows are never reused (issue 14,
// finding 3): migration 13 keeps an older database's rows and ids and starts every sequence
// beyond the ids stored or still referenced. (Ids never reused after a deletion, a rule's
// silences deleted with it and WriteAlarms, on both backends:
// tests/unit/store_postgres/rule_backends_test.cc.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/rule_store.h"
#include "store/sqlite/db.h"
#include "unit/store/temp_store.h"

namespace bysans {
namespace {

class RuleIdsTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    org_a_ = store_->CreateOrganization({0, "A", 0})->id;
    org_b_ = store_->CreateOrganization({0, "B", 0})->id;
  }

  Id NewRule(Id org) {
    RuleRecord r;
    r.org_id = org;
    r.definition = "{}";
    auto created = store_->rules().CreateRule(r);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? created->id : 0;
  }

  Id NewSilence(Id org, Id rule) {
    SilenceRecord s;
    s.org_id = org;
    s.rule_id = rule;
    s.until_ms = 4'070'908'800'000;  // 2099
    auto created = store_->rules().CreateSilence(s);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? created->id : 0;
  }

  Id org_a_ = 0, org_b_ = 0;
};

// A database from before migration 13 (tables without AUTOINCREMENT, ids already reused):
// every row keeps its id, silences that name another organisation's or a missing rule are
// dropped, and new ids exceed every id stored or referenced.
TEST_F(RuleIdsTest, MigrationKeepsIdsAndNeverHandsOutAnOldOne) {
  // A device of A on which B's tag-scoped rule raised an alarm before scopes were
  // organisation-first: the migration drops that alarm (it holds A's readings).
  auto app = store_->CreateApplication({0, org_a_, "A's app", "", 0});
  ASSERT_TRUE(app.ok());
  Device dev;
  dev.org_id = org_a_;
  dev.app_id = app->id;
  dev.name = "A's device";
  auto a_device = store_->CreateDevice(dev, "hash-a");
  ASSERT_TRUE(a_device.ok()) << a_device.status().message();
  const std::string a_dev = std::to_string(a_device->id);
  store_->Close();
  store_.reset();
  {
    auto db = sqlite::Db::Open(dir_.path() + "/bysans.db", 1024);
    ASSERT_TRUE(db.ok());
    const std::string a = std::to_string(org_a_), b = std::to_string(org_b_);
    Status s = (*db)->Exec(R"sql(
DROP TABLE rules; DROP TABLE alarms; DROP TABLE silences; DROP TABLE outbox;
DROP TABLE delivery_log;
DELETE FROM sqlite_sequence
  WHERE name IN ('rules', 'alarms', 'silences', 'outbox', 'delivery_log');
DELETE FROM schema_version WHERE version = 13;
CREATE TABLE rules(
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  enabled INTEGER NOT NULL, definition TEXT NOT NULL, created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE INDEX rules_org ON rules(org_id, id);
CREATE TABLE alarms(
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  rule_id INTEGER NOT NULL, device_id INTEGER NOT NULL, state TEXT NOT NULL,
  raised_ms INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX alarms_org ON alarms(org_id, id);
CREATE INDEX alarms_open ON alarms(rule_id, device_id, state);
CREATE TABLE silences(
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  device_id INTEGER, rule_id INTEGER, until_ms INTEGER NOT NULL, created_by TEXT NOT NULL,
  created_ms INTEGER NOT NULL);
CREATE TABLE outbox(
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, rule_id INTEGER NOT NULL,
  alarm_id INTEGER NOT NULL, event TEXT NOT NULL, target_key TEXT NOT NULL, spec TEXT NOT NULL,
  payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
  next_attempt_ms INTEGER NOT NULL, last_error TEXT NOT NULL, created_ms INTEGER NOT NULL);
CREATE INDEX outbox_pending ON outbox(state, id);
CREATE TABLE delivery_log(
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, outbox_id INTEGER NOT NULL,
  rule_id INTEGER NOT NULL, alarm_id INTEGER NOT NULL, target_key TEXT NOT NULL,
  action_type TEXT NOT NULL, attempt INTEGER NOT NULL, ts INTEGER NOT NULL, ok INTEGER NOT NULL,
  error TEXT NOT NULL);
CREATE INDEX delivery_log_org ON delivery_log(org_id, id);
INSERT INTO rules VALUES (3, )sql" +
                           a + R"sql(, 1, '{"name":"A"}', 1, 1),
                         (5, )sql" +
                           b + R"sql(, 1, '{"name":"B"}', 1, 1);
INSERT INTO alarms VALUES (4, )sql" +
                           b + R"sql(, 9, 999, 'cleared', 1, '{}'),
                          (7, )sql" +
                           a + R"sql(, 3, 999, 'active', 1, '{}'),
                          (8, )sql" +
                           b + R"sql(, 5, )sql" + a_dev + R"sql(, 'active', 1, '{}'),
                          (9, )sql" +
                           a + R"sql(, 3, )sql" + a_dev + R"sql(, 'active', 1, '{}');
INSERT INTO silences VALUES (1, )sql" +
                           b + R"sql(, NULL, 9, 4070908800000, 'b', 1),
                            (2, )sql" +
                           b + R"sql(, NULL, 3, 4070908800000, 'b', 1),
                            (3, )sql" +
                           a + R"sql(, NULL, 3, 4070908800000, 'a', 1);
INSERT INTO outbox VALUES (6, )sql" +
                           a + R"sql(, 3, 12, 'raise', 'k', '{}', '', 'pending', 0,
                           0, '', 1);
INSERT INTO delivery_log VALUES (2, )sql" +
                           b + R"sql(, 20, 11, 4, 'k', 'webhook', 1, 1, 1, '');
)sql");
    ASSERT_TRUE(s.ok()) << s.message();
  }
  Open();
  RuleStore& rules = store_->rules();
  // Rows and ids kept.
  ASSERT_TRUE(rules.GetRule(3).ok());
  EXPECT_EQ(rules.GetRule(3)->org_id, org_a_);
  EXPECT_EQ(rules.GetRule(5)->definition, R"({"name":"B"})");
  EXPECT_EQ(rules.GetAlarm(4)->rule_id, 9);
  EXPECT_EQ(rules.GetAlarm(7)->state, "active");
  // B's alarm on A's device is gone; A's own alarm on it stays.
  EXPECT_FALSE(rules.GetAlarm(8).ok());
  ASSERT_TRUE(rules.GetAlarm(9).ok());
  EXPECT_EQ(rules.GetAlarm(9)->org_id, org_a_);
  EXPECT_EQ(rules.ListPendingOutbox(10)->at(0).id, 6);
  EXPECT_EQ(rules.ListDeliveryLog(org_b_, Page{})->items.at(0).id, 2);
  // Only A's silence of its own rule is left.
  auto silences = rules.ListSilences(std::nullopt, 0);
  ASSERT_TRUE(silences.ok());
  ASSERT_EQ(silences->size(), 1u);
  EXPECT_EQ(silences->at(0).id, 3);
  // New ids exceed every id stored or referenced (rule 11, alarm 12, outbox row 20).
  EXPECT_GT(NewRule(org_a_), 11);
  EXPECT_GT(NewSilence(org_a_, 3), 3);
  AlarmRecord alarm{0, org_a_, 3, 1, "active", 1, "{}"};
  std::vector<OutboxEntry> box(1);
  box[0].org_id = org_a_;
  box[0].rule_id = 3;
  auto created = rules.CreateAlarm(alarm, &box);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_GT(created->id, 12);
  EXPECT_GT(box[0].id, 20);
  DeliveryLogEntry log;
  log.org_id = org_a_;
  log.outbox_id = box[0].id;
  ASSERT_TRUE(rules.RecordAttempt(box[0], log).ok());
  EXPECT_GT(rules.ListDeliveryLog(org_a_, Page{})->items.at(0).id, 2);
}

}  // namespace
}  // namespace bysans

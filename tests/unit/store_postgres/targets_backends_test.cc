// TargetStore behaviour on both backends (target_backend_fixture.h): the share log written by the
// series writer with the message, read by position; cursors, pruning, targets with sealed header
// values and password, dead letters and replay, the delivery log.
#include <gtest/gtest.h>

#include <algorithm>

#include "unit/store_postgres/target_backend_fixture.h"

BYSANS_SHARED_POSTGRES_ENVIRONMENT();

namespace bysans::testing {
namespace {

class TargetsTest : public TargetBackendTest {};
BYSANS_TARGETS_ON_BOTH_BACKENDS(TargetsTest);

TEST_P(TargetsTest, RecordsAreReadInCommitOrderAfterAPosition) {
  DataTarget t = NewTarget();
  for (int i = 0; i < 5; ++i) Commit(1 + i % 2, i);
  Commit(3, 99, false);  // an application without targets: not in the log
  auto all = ts().ReadShareLog(app_, t.cursor, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const ShareRecord& r = (*all)[i];
    EXPECT_EQ(r.device_id, static_cast<Id>(1 + i % 2));
    EXPECT_EQ(r.decoded_json, R"({"n":)" + std::to_string(i) + "}");
    ASSERT_EQ(r.readings.size(), 1u);
    EXPECT_EQ(std::get<double>(r.readings[0].value), static_cast<double>(i));
    EXPECT_GT(r.message_id, 0);
    if (i > 0) {
      EXPECT_GT(r.position, (*all)[i - 1].position);
    }
  }
  auto rest = ts().ReadShareLog(app_, (*all)[2].position, 100);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ(rest->front().position, (*all)[3].position);
  auto limited = ts().ReadShareLog(app_, t.cursor, 2);
  ASSERT_TRUE(limited.ok());
  ASSERT_EQ(limited->size(), 2u);
  EXPECT_EQ(limited->back().position, (*all)[1].position);
  auto backlog = ts().ShareBacklogAfter(app_, (*all)[1].position);
  ASSERT_TRUE(backlog.ok());
  EXPECT_EQ(backlog->records, 3);
  EXPECT_EQ(backlog->oldest_received_ms, 1002);
  EXPECT_EQ(*ts().ShareLogEnd(app_), (*all)[4].position);
  // Pruned up to a position: what follows stays readable.
  ASSERT_TRUE(ts().PruneShareLog(app_, (*all)[2].position).ok());
  rest = ts().ReadShareLog(app_, 0, 100);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ(rest->front().position, (*all)[3].position);
}

TEST_P(TargetsTest, TheRecordKeepsTheMessageIdAndEveryKindOfReading) {
  NewTarget();
  IngestBatch b;
  RawMessage m;
  m.device_id = 7;
  m.received_ms = 5000;
  m.payload = "raw";
  b.messages.push_back(m);
  b.readings = {Reading{7, "t", 4000, 21.5, "°C", Quality::kOk},
                Reading{7, "door", 4000, true, "", Quality::kSpike},
                Reading{7, "state", 4001, std::string("åben \"x\""), "", Quality::kOk}};
  b.share_app_id = app_;
  b.share_decoded = R"({"t":21.5,"door":true})";
  ASSERT_TRUE(series().Append(std::move(b)).ok());
  auto log = Log();
  ASSERT_EQ(log.size(), 1u);
  const ShareRecord& r = log[0];
  EXPECT_EQ(r.device_id, 7);
  EXPECT_EQ(r.received_ms, 5000);
  EXPECT_EQ(r.decoded_json, R"({"t":21.5,"door":true})");
  MessageQuery q;
  q.device_id = 7;
  auto msgs = series().QueryMessages(q);
  ASSERT_TRUE(msgs.ok());
  ASSERT_EQ(msgs->size(), 1u);
  EXPECT_EQ(r.message_id, (*msgs)[0].id);
  ASSERT_EQ(r.readings.size(), 3u);
  EXPECT_EQ(r.readings[0].key, "t");
  EXPECT_EQ(r.readings[0].unit, "°C");
  EXPECT_EQ(std::get<double>(r.readings[0].value), 21.5);
  EXPECT_EQ(std::get<bool>(r.readings[1].value), true);
  EXPECT_EQ(r.readings[1].quality, Quality::kSpike);
  EXPECT_EQ(std::get<std::string>(r.readings[2].value), "åben \"x\"");
  EXPECT_EQ(r.readings[2].ts, 4001);
  // The same record as a dead letter.
  DataTarget t = NewTarget();
  ASSERT_TRUE(ts().AddDeadLetter(t.id, r, "timeout", 2, 6000).ok());
  auto letters = ts().ListDeadLetters(t.id, Page{});
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->items.size(), 1u);
  const DeadLetter& d = letters->items[0];
  EXPECT_EQ(d.record.message_id, r.message_id);
  EXPECT_EQ(d.record.readings.size(), 3u);
  EXPECT_EQ(std::get<std::string>(d.record.readings[2].value), "åben \"x\"");
  EXPECT_EQ(d.error, "timeout");
  EXPECT_EQ(d.attempts, 2);
  EXPECT_EQ(d.created_ms, 6000);
  EXPECT_FALSE(d.replay);
}

// Pipeline batches hold one message; a batch of several shares each, the readings with the first.
TEST_P(TargetsTest, ABatchOfSeveralMessagesSharesEachOneTheReadingsWithTheFirst) {
  IngestBatch b;
  for (int i = 0; i < 2; ++i) {
    RawMessage m;
    m.device_id = 1;
    m.received_ms = 100 + i;
    m.payload = "{}";
    b.messages.push_back(m);
  }
  b.readings.push_back(Reading{1, "n", 100, 1.0, "", Quality::kOk});
  b.share_app_id = app_;
  b.share_decoded = "{}";
  ASSERT_TRUE(series().Append(std::move(b)).ok());
  auto log = Log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].received_ms, 100);
  EXPECT_EQ(log[0].readings.size(), 1u);
  EXPECT_EQ(log[1].received_ms, 101);
  EXPECT_TRUE(log[1].readings.empty());
  EXPECT_GT(log[1].message_id, log[0].message_id);
  EXPECT_GT(log[1].position, log[0].position);
}

TEST_P(TargetsTest, EachApplicationHasItsOwnLog) {
  auto other = meta().CreateApplication(Application{0, org_, "Affald", "", 1});
  ASSERT_TRUE(other.ok());
  Commit(1, 0);
  Commit(2, 1, true, {}, other->id);
  Commit(1, 2);
  auto mine = Log();
  auto theirs = Log(0, other->id);
  ASSERT_EQ(mine.size(), 2u);
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_EQ(mine[0].device_id, 1);
  EXPECT_EQ(mine[1].device_id, 1);
  EXPECT_EQ(theirs[0].device_id, 2);
  EXPECT_EQ(*ts().ShareLogEnd(other->id), theirs[0].position);
  ASSERT_TRUE(ts().PruneShareLog(other->id, theirs[0].position).ok());
  EXPECT_EQ(Log().size(), 2u) << "pruning one application's log leaves the others";
}

TEST_P(TargetsTest, AnEmptyLogHasNoBacklog) {
  EXPECT_EQ(*ts().ShareLogEnd(app_), 0);
  auto b = ts().ShareBacklogAfter(app_, 0);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->records, 0);
  EXPECT_EQ(b->oldest_received_ms, 0);
  EXPECT_TRUE(Log().empty());
  EXPECT_EQ(NewTarget().cursor, 0);
}

TEST_P(TargetsTest, DuplicatesAreNotSharedTwice) {
  DataTarget t = NewTarget();
  Commit(1, 0, true, "same-key");
  Commit(1, 0, true, "same-key");
  auto all = ts().ReadShareLog(app_, t.cursor, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);
}

TEST_P(TargetsTest, CursorAndLogSurviveAReopen) {
  DataTarget t = NewTarget();
  for (int i = 0; i < 3; ++i) Commit(1, i);
  auto all = ts().ReadShareLog(app_, t.cursor, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_TRUE(ts().SetCursor(t.id, (*all)[0].position).ok());
  Reopen();
  auto again = ts().GetTarget(t.id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->cursor, (*all)[0].position);
  auto rest = ts().ReadShareLog(app_, again->cursor, 100);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->size(), 2u);
  // A new target starts at the end of the log.
  EXPECT_EQ(NewTarget().cursor, (*all)[2].position);
}

TEST_P(TargetsTest, ACursorOnlyMovesForward) {
  DataTarget t = NewTarget();
  ASSERT_TRUE(ts().SetCursor(t.id, 50).ok());
  ASSERT_TRUE(ts().SetCursor(t.id, 20).ok());
  EXPECT_EQ(ts().GetTarget(t.id)->cursor, 50);
}

TEST_P(TargetsTest, HeadersAreSealedAndDeadLettersReplay) {
  DataTarget t = NewTarget();
  EXPECT_EQ(t.header_names, std::vector<std::string>{"Authorization"});
  auto headers = ts().TargetHeaders(t.id);
  ASSERT_TRUE(headers.ok());
  EXPECT_EQ(headers->at("Authorization"), "Bearer x");
  Commit(1, 0);
  auto all = ts().ReadShareLog(app_, t.cursor, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_TRUE(ts().AddDeadLetter(t.id, all->front(), "HTTP 500", 3, 5000).ok());
  auto letters = ts().ListDeadLetters(t.id, Page{});
  ASSERT_TRUE(letters.ok());
  ASSERT_EQ(letters->total, 1);
  EXPECT_EQ(letters->items[0].record.decoded_json, R"({"n":0})");
  EXPECT_EQ(letters->items[0].record.position, all->front().position);
  EXPECT_EQ(*ts().ReplayDeadLetters(t.id), 1);
  EXPECT_EQ(*ts().ReplayDeadLetters(t.id), 0) << "already queued";
  auto queue = ts().ReplayQueue(t.id, 10);
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(queue->size(), 1u);
  ASSERT_TRUE(ts().DeleteDeadLetters({queue->front().id}).ok());
  EXPECT_EQ(ts().ListDeadLetters(t.id, Page{})->total, 0);
}

TEST_P(TargetsTest, QueuedReplaysComeInOrderAndAFailedOneReturnsToTheLetters) {
  DataTarget t = NewTarget();
  DataTarget other = NewTarget();
  std::vector<ShareRecord> records(3);
  for (int i = 0; i < 3; ++i) {
    records[i].device_id = 1;
    records[i].received_ms = 100 + i;
    records[i].decoded_json = std::to_string(i);
  }
  ASSERT_TRUE(ts().QueueReplay(t.id, records, "back-fill", 9000).ok());
  auto queue = ts().ReplayQueue(t.id, 10);
  ASSERT_TRUE(queue.ok());
  ASSERT_EQ(queue->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*queue)[i].record.decoded_json, std::to_string(i));
    EXPECT_EQ((*queue)[i].record.received_ms, 100 + i);
    EXPECT_EQ((*queue)[i].error, "back-fill");
    EXPECT_EQ((*queue)[i].attempts, 0);
    EXPECT_TRUE((*queue)[i].replay);
  }
  EXPECT_EQ(ts().ReplayQueue(t.id, 2)->size(), 2u);
  EXPECT_TRUE(ts().ReplayQueue(other.id, 10)->empty());
  ASSERT_TRUE(ts().RequeueDeadLetters({(*queue)[1].id}, "HTTP 503").ok());
  EXPECT_EQ(ts().ReplayQueue(t.id, 10)->size(), 2u);
  auto page = ts().ListDeadLetters(t.id, Page{1, 1});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 3);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, (*queue)[1].id);
  EXPECT_FALSE(page->items[0].replay);
  EXPECT_EQ(page->items[0].attempts, 1);
  EXPECT_EQ(page->items[0].error, "HTTP 503");
  ASSERT_TRUE(ts().DeleteDeadLetters({(*queue)[0].id, (*queue)[2].id}).ok());
  EXPECT_EQ(ts().ListDeadLetters(t.id, Page{})->total, 1);
  // A deleted target's letters go with it.
  ASSERT_TRUE(ts().DeleteTarget(t.id).ok());
  EXPECT_EQ(ts().ListDeadLetters(t.id, Page{})->total, 0);
}

TEST_P(TargetsTest, TargetsAreCreatedChangedPausedAndDeleted) {
  const int64_t g0 = ts().targets_generation();
  DataTarget t;
  t.org_id = org_;
  t.app_id = app_;
  t.name = "broker";
  t.type = "mqtt";
  t.url = "mqtts://broker.example.dk:8883";
  t.format = "os2iot";
  t.batch_size = 5;
  t.timeout_ms = 3000;
  t.device_ids = {4, 2};
  t.topic = "kommune/{application}/{device}";
  t.qos = 0;
  t.retain = true;
  t.username = "bysans";
  t.max_attempts = 3;
  t.max_age_ms = 60'000;
  t.created_ms = 1234;
  auto made = ts().CreateTarget(t, {{"X-B", "2"}, {"X-A", "1"}}, "hemmelig");
  ASSERT_TRUE(made.ok()) << made.status().message();
  EXPECT_GT(ts().targets_generation(), g0);
  auto got = ts().GetTarget(made->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->org_id, org_);
  EXPECT_EQ(got->app_id, app_);
  EXPECT_EQ(got->name, "broker");
  EXPECT_EQ(got->type, "mqtt");
  EXPECT_EQ(got->url, "mqtts://broker.example.dk:8883");
  EXPECT_EQ(got->format, "os2iot");
  EXPECT_EQ(got->batch_size, 5);
  EXPECT_EQ(got->timeout_ms, 3000);
  EXPECT_EQ(got->device_ids, (std::vector<Id>{4, 2}));
  EXPECT_EQ(got->header_names, (std::vector<std::string>{"X-A", "X-B"}));
  EXPECT_EQ(got->topic, "kommune/{application}/{device}");
  EXPECT_EQ(got->qos, 0);
  EXPECT_TRUE(got->retain);
  EXPECT_EQ(got->username, "bysans");
  EXPECT_TRUE(got->has_password);
  EXPECT_FALSE(got->paused);
  EXPECT_EQ(got->max_attempts, 3);
  EXPECT_EQ(got->max_age_ms, 60'000);
  EXPECT_EQ(got->created_ms, 1234);
  EXPECT_EQ(got->updated_ms, 1234);
  EXPECT_EQ(*ts().TargetPassword(made->id), "hemmelig");

  // nullopt keeps the headers and password.
  DataTarget u = *got;
  u.name = "broker 2";
  u.device_ids = {};
  u.ngsild_json = R"({"tenant":"x"})";
  u.updated_ms = 5678;
  u.cursor = 999;     // not changed by UpdateTarget
  u.created_ms = 1;   // nor this
  u.app_id = 424242;  // nor this
  int64_t g = ts().targets_generation();
  ASSERT_TRUE(ts().UpdateTarget(u, std::nullopt, std::nullopt).ok());
  EXPECT_GT(ts().targets_generation(), g);
  got = ts().GetTarget(made->id);
  EXPECT_EQ(got->name, "broker 2");
  EXPECT_TRUE(got->device_ids.empty());
  EXPECT_EQ(got->ngsild_json, R"({"tenant":"x"})");
  EXPECT_EQ(got->updated_ms, 5678);
  EXPECT_EQ(got->cursor, 0);
  EXPECT_EQ(got->created_ms, 1234);
  EXPECT_EQ(got->app_id, app_);
  EXPECT_EQ(ts().TargetHeaders(made->id)->size(), 2u);
  EXPECT_EQ(*ts().TargetPassword(made->id), "hemmelig");
  // New headers replace them; "" removes the password.
  ASSERT_TRUE(
      ts().UpdateTarget(u, std::map<std::string, std::string>{{"Authorization", "k"}}, "").ok());
  got = ts().GetTarget(made->id);
  EXPECT_FALSE(got->has_password);
  EXPECT_EQ(*ts().TargetPassword(made->id), "");
  EXPECT_EQ(got->header_names, std::vector<std::string>{"Authorization"});
  EXPECT_EQ(ts().TargetHeaders(made->id)->at("Authorization"), "k");
  ASSERT_TRUE(ts().UpdateTarget(u, std::nullopt, "ny").ok());
  EXPECT_EQ(*ts().TargetPassword(made->id), "ny");

  g = ts().targets_generation();
  ASSERT_TRUE(ts().SetTargetPaused(made->id, true).ok());
  EXPECT_GT(ts().targets_generation(), g);
  EXPECT_TRUE(ts().GetTarget(made->id)->paused);

  DataTarget second = NewTarget({}, std::nullopt);
  EXPECT_FALSE(second.has_password);
  EXPECT_TRUE(second.header_names.empty());
  auto list = ts().ListTargets(app_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, made->id);
  EXPECT_EQ((*list)[1].id, second.id);
  EXPECT_EQ(ts().ListTargets(0)->size(), 2u);
  EXPECT_TRUE(ts().ListTargets(app_ + 1000)->empty());

  g = ts().targets_generation();
  ASSERT_TRUE(ts().DeleteTarget(made->id).ok());
  EXPECT_GT(ts().targets_generation(), g);
  EXPECT_EQ(ts().GetTarget(made->id).status().code(), Code::kNotFound);
  EXPECT_EQ(ts().TargetHeaders(made->id).status().code(), Code::kNotFound);
  EXPECT_EQ(ts().TargetPassword(made->id).status().code(), Code::kNotFound);
  EXPECT_EQ(ts().UpdateTarget(u, std::nullopt, std::nullopt).code(), Code::kNotFound);
  EXPECT_EQ(ts().SetTargetPaused(made->id, false).code(), Code::kNotFound);
  EXPECT_EQ(ts().DeleteTarget(made->id).code(), Code::kNotFound);
  EXPECT_EQ(ts().ListTargets(0)->size(), 1u);
}

TEST_P(TargetsTest, ADeletedApplicationTakesItsTargets) {
  DataTarget t = NewTarget();
  ASSERT_TRUE(meta().DeleteApplication(app_).ok());
  EXPECT_EQ(ts().GetTarget(t.id).status().code(), Code::kNotFound);
  // Its share log is no longer a concern of any target; a late commit does not fail.
  Commit(1, 0);
}

TEST_P(TargetsTest, TheDeliveryLogKeepsTheNewestPerTarget) {
  DataTarget t = NewTarget();
  DataTarget other = NewTarget();
  for (int i = 0; i < 200; ++i) {
    TargetDelivery d;
    d.target_id = i % 10 == 0 ? other.id : t.id;
    d.ts = 1000 + i;
    d.ok = i % 3 != 0;
    d.records = i;
    d.first_position = i;
    d.last_position = i + 1;
    d.error = d.ok ? "" : "HTTP 500";
    d.duration_ms = 7;
    ASSERT_TRUE(ts().AppendDelivery(d, 20).ok());
  }
  auto page = ts().ListDeliveries(t.id, Page{5, 0});
  ASSERT_TRUE(page.ok());
  // Both backends keep at least the newest 20; SQLite trims now and then (up to 63 more).
  EXPECT_GE(page->total, 20);
  EXPECT_LE(page->total, 20 + 64);
  ASSERT_EQ(page->items.size(), 5u);
  EXPECT_EQ(page->items[0].ts, 1199) << "newest first";
  EXPECT_EQ(page->items[0].records, 199);
  EXPECT_EQ(page->items[0].first_position, 199);
  EXPECT_EQ(page->items[0].last_position, 200);
  EXPECT_EQ(page->items[0].duration_ms, 7);
  EXPECT_TRUE(page->items[0].ok);
  EXPECT_EQ(page->items[1].ts, 1198);
  EXPECT_FALSE(page->items[1].ok);  // 198 % 3 == 0
  EXPECT_EQ(page->items[1].error, "HTTP 500");
  auto theirs = ts().ListDeliveries(other.id, Page{100, 0});
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(theirs->total, 20) << "the other target's 20 are all its own";
  EXPECT_EQ(theirs->items.front().ts, 1190);
}

}  // namespace
}  // namespace bysans::testing

// The DecoderStore's behaviour on both backends (rules_backend_fixture.h): decoders and their
// versions, attachments, re-decode paging and results on the raw messages, jobs, generation.
#include <string>
#include <vector>

#include "unit/store_postgres/rules_backend_fixture.h"

namespace bysans::testing {
namespace {

using Strings = std::vector<std::string>;

class DecoderBackendTest : public RulesBackendTest {
 protected:
  StoredDecoder Make(Id org, const std::string& name, const std::string& code = "c1",
                     const std::string& contract = "auto") {
    StoredDecoder d;
    d.org_id = org;
    d.name = name;
    d.kind = DecoderKind::kJs;
    d.code = code;
    d.contract = contract;
    auto made = decoders().CreateDecoder(d, 42, kT0);
    EXPECT_TRUE(made.ok()) << made.status().message();
    return made.ok() ? *made : StoredDecoder{};
  }
  std::vector<RawMessage> MsgPage(Id dev, TimeMs from, TimeMs to, Id after, int64_t limit) {
    auto r = decoders().MessagesAfter(dev, from, to, after, limit);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : std::vector<RawMessage>{};
  }
};

TEST_P(DecoderBackendTest, CreateGetListAndPage) {
  const Id a = NewOrg("A"), b = NewOrg("B");
  const StoredDecoder first = Make(a, "first", "function decodeUplink(i){return {}}", "ttn");
  EXPECT_GT(first.id, 0);
  EXPECT_EQ(first.version, 1);
  EXPECT_EQ(first.created_ms, kT0);
  EXPECT_EQ(first.updated_ms, kT0);
  Make(b, "other org's");
  const StoredDecoder second = Make(a, "second");
  EXPECT_GT(second.id, first.id);

  auto got = decoders().GetDecoder(first.id);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->org_id, a);
  EXPECT_EQ(got->name, "first");
  EXPECT_EQ(got->kind, DecoderKind::kJs);
  EXPECT_EQ(got->code, "function decodeUplink(i){return {}}");
  EXPECT_EQ(got->contract, "ttn");
  EXPECT_EQ(decoders().GetDecoder(second.id + 100).status().code(), Code::kNotFound);

  auto all = decoders().ListDecoders(a, {});
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->total, 2);
  ASSERT_EQ(all->items.size(), 2u);
  EXPECT_EQ(all->items[0].id, first.id);  // id order
  EXPECT_EQ(all->items[1].id, second.id);
  auto page = decoders().ListDecoders(a, {1, 1});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 2);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].name, "second");
  auto clamped = decoders().ListDecoders(a, {0, -5});  // limit clamped to 1, offset to 0
  ASSERT_TRUE(clamped.ok());
  ASSERT_EQ(clamped->items.size(), 1u);
  EXPECT_EQ(clamped->items[0].id, first.id);
  EXPECT_EQ(decoders().ListDecoders(NewOrg("C"), {})->total, 0);
}

TEST_P(DecoderBackendTest, EveryChangeOfCodeIsANewVersion) {
  const Id org = NewOrg();
  StoredDecoder d = Make(org, "d", "v1");
  d.name = "renamed";
  d.kind = DecoderKind::kCayenneLpp;
  auto saved = decoders().UpdateDecoder(d, 7, kT0 + 1);
  ASSERT_TRUE(saved.ok()) << saved.status().message();
  EXPECT_EQ(saved->version, 1);  // same code and contract: no new version
  EXPECT_EQ(saved->name, "renamed");
  EXPECT_EQ(saved->kind, DecoderKind::kCayenneLpp);
  EXPECT_EQ(saved->updated_ms, kT0 + 1);
  EXPECT_EQ(saved->created_ms, kT0);
  d.code = "v2";
  saved = decoders().UpdateDecoder(d, 8, kT0 + 2);
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->version, 2);
  EXPECT_EQ(saved->code, "v2");
  EXPECT_EQ(decoders().GetDecoder(d.id)->code, "v2");
  auto versions = decoders().ListVersions(d.id);
  ASSERT_TRUE(versions.ok()) << versions.status().message();
  ASSERT_EQ(versions->size(), 2u);  // newest first
  EXPECT_EQ(versions->at(0).version, 2);
  EXPECT_EQ(versions->at(0).code, "v2");
  EXPECT_EQ(versions->at(0).created_by, 8);
  EXPECT_EQ(versions->at(0).created_ms, kT0 + 2);
  EXPECT_EQ(versions->at(1).version, 1);
  EXPECT_EQ(versions->at(1).code, "v1");
  EXPECT_EQ(versions->at(1).created_by, 42);
  EXPECT_EQ(versions->at(1).decoder_id, d.id);

  StoredDecoder gone = d;
  gone.id = d.id + 1000;
  EXPECT_EQ(decoders().UpdateDecoder(gone, 0, kT0).status().code(), Code::kNotFound);
}

// Moved from tests/unit/store/decode_notes_test.cc.
TEST_P(DecoderBackendTest, AContractIsKeptPerVersion) {
  const Id org = NewOrg();
  const StoredDecoder made = Make(org, "d", "function Decoder(b, p){return {}}", "ttn-v2");
  EXPECT_EQ(made.contract, "ttn-v2");
  StoredDecoder same = made;
  auto saved = decoders().UpdateDecoder(same, 0, kT0 + 1);
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->version, 1);  // nothing changed: no new version
  same.contract = "auto";        // same code, another contract: a new version
  saved = decoders().UpdateDecoder(same, 0, kT0 + 2);
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->version, 2);
  EXPECT_EQ(saved->contract, "auto");
  auto versions = decoders().ListVersions(made.id);
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ(versions->at(0).contract, "auto");
  EXPECT_EQ(versions->at(1).contract, "ttn-v2");
}

TEST_P(DecoderBackendTest, AttachmentsAreSetReplacedDetachedAndGoWithTheDecoder) {
  const Id org = NewOrg();
  const Id app = NewApp(org), dev = NewDevice(org, app), dev2 = NewDevice(org, app);
  const StoredDecoder d1 = Make(org, "one"), d2 = Make(org, "two");
  ASSERT_TRUE(decoders().SetApplicationDecoder(app, d1.id).ok());
  ASSERT_TRUE(decoders().SetDeviceDecoder(dev, d1.id).ok());
  ASSERT_TRUE(decoders().SetDeviceDecoder(dev2, d2.id).ok());
  ASSERT_TRUE(decoders().SetDeviceDecoder(dev, d2.id).ok());  // replaces
  auto at = decoders().ListAttachments();
  ASSERT_TRUE(at.ok()) << at.status().message();
  EXPECT_EQ(at->by_app, (std::unordered_map<Id, Id>{{app, d1.id}}));
  EXPECT_EQ(at->by_device, (std::unordered_map<Id, Id>{{dev, d2.id}, {dev2, d2.id}}));

  ASSERT_TRUE(decoders().SetDeviceDecoder(dev2, std::nullopt).ok());  // detaches
  ASSERT_TRUE(decoders().SetDeviceDecoder(dev2, std::nullopt).ok());  // nothing to detach: ok
  at = decoders().ListAttachments();
  EXPECT_EQ(at->by_device, (std::unordered_map<Id, Id>{{dev, d2.id}}));

  // Deleting a decoder drops its versions and attachments.
  ASSERT_TRUE(decoders().DeleteDecoder(d1.id).ok());
  EXPECT_EQ(decoders().GetDecoder(d1.id).status().code(), Code::kNotFound);
  EXPECT_TRUE(decoders().ListVersions(d1.id)->empty());
  at = decoders().ListAttachments();
  EXPECT_TRUE(at->by_app.empty());
  EXPECT_EQ(at->by_device.size(), 1u);
  EXPECT_EQ(decoders().DeleteDecoder(d1.id).code(), Code::kNotFound);
  EXPECT_EQ(decoders().ListDecoders(org, {})->total, 1);
}

TEST_P(DecoderBackendTest, GenerationMovesWithDecoderWritesOnly) {
  const Id org = NewOrg();
  const Id app = NewApp(org);
  uint64_t g = decoders().generation();
  auto moved = [&] {
    const uint64_t now = decoders().generation();
    const bool m = now > g;
    g = now;
    return m;
  };
  StoredDecoder d = Make(org, "d");
  EXPECT_TRUE(moved());
  d.code = "new";
  ASSERT_TRUE(decoders().UpdateDecoder(d, 0, kT0).ok());
  EXPECT_TRUE(moved());
  ASSERT_TRUE(decoders().SetApplicationDecoder(app, d.id).ok());
  EXPECT_TRUE(moved());
  decoders().InvalidateDecoders();
  EXPECT_TRUE(moved());
  StoredJob j;
  j.org_id = org;
  j.kind = "redecode";
  ASSERT_TRUE(decoders().CreateJob(j).ok());
  ASSERT_TRUE(decoders().SetMessageDecodeStatus({}).ok());
  EXPECT_FALSE(moved());
  ASSERT_TRUE(decoders().DeleteDecoder(d.id).ok());
  EXPECT_TRUE(moved());
  EXPECT_EQ(decoders().DeleteDecoder(d.id).code(), Code::kNotFound);
  EXPECT_FALSE(moved());  // a failed write changes nothing
}

TEST_P(DecoderBackendTest, JobsKeepTheirProgressAndAreInterruptedAtStartup) {
  const Id org = NewOrg();
  StoredJob j;
  j.org_id = org;
  j.kind = "redecode";
  j.total = 10;
  j.request = R"({"from":1})";
  j.created_ms = j.updated_ms = kT0;
  j.node = "dead#1";
  auto a = decoders().CreateJob(j);
  ASSERT_TRUE(a.ok()) << a.status().message();
  auto b = decoders().CreateJob(j);
  ASSERT_TRUE(b.ok());
  EXPECT_GT(b->id, a->id);
  StoredJob done = *b;
  done.state = "done";
  done.done = 10;
  done.errors = 1;
  done.error = "one failed";
  done.updated_ms = kT0 + 5;
  ASSERT_TRUE(decoders().UpdateJob(done).ok());
  StoredJob running = *a;
  running.state = "running";
  running.done = 3;
  ASSERT_TRUE(decoders().UpdateJob(running).ok());
  StoredJob missing = *a;
  missing.id = b->id + 100;
  EXPECT_EQ(decoders().UpdateJob(missing).code(), Code::kNotFound);
  EXPECT_EQ(decoders().GetJob(missing.id).status().code(), Code::kNotFound);

  Reopen();
  auto got = decoders().GetJob(b->id);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->org_id, org);
  EXPECT_EQ(got->kind, "redecode");
  EXPECT_EQ(got->state, "done");
  EXPECT_EQ(got->done, 10);
  EXPECT_EQ(got->total, 10);
  EXPECT_EQ(got->errors, 1);
  EXPECT_EQ(got->error, "one failed");
  EXPECT_EQ(got->request, R"({"from":1})");
  EXPECT_EQ(got->created_ms, kT0);
  EXPECT_EQ(got->updated_ms, kT0 + 5);
  EXPECT_EQ(got->node, "dead#1");

  // A job of a live node is left alone, whatever else runs.
  StoredJob live = j;
  live.state = "running";
  live.node = "live#2";
  auto c = decoders().CreateJob(live);
  ASSERT_TRUE(c.ok()) << c.status().message();
  auto n = decoders().InterruptJobs(kT0 + 9, {"live#2", "other#3"});
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 1);  // the running one of the dead node; the done one stays done
  EXPECT_EQ(decoders().GetJob(c->id)->state, "running");
  got = decoders().GetJob(a->id);
  EXPECT_EQ(got->state, "interrupted");
  EXPECT_EQ(got->done, 3);
  EXPECT_EQ(got->updated_ms, kT0 + 9);
  EXPECT_FALSE(got->error.empty());
  EXPECT_EQ(decoders().GetJob(b->id)->state, "done");
  EXPECT_EQ(*decoders().InterruptJobs(kT0 + 10, {"live#2"}), 0);
  EXPECT_EQ(*decoders().InterruptJobs(kT0 + 11, {}), 1) << "once its node is gone too";
}

TEST_P(DecoderBackendTest, MessagesArePagedInIdOrderWithinAWindowAndCounted) {
  std::vector<RawMessage> ms;
  for (int i = 0; i < 20; ++i) {
    ms.push_back(JsonMessage(7 + i % 2, kT0 + i * 1000, "m" + std::to_string(i)));
  }
  Put({}, ms);
  Strings paged;
  Id after = 0;
  for (;;) {
    auto page = MsgPage(7, INT64_MIN, INT64_MAX, after, 3);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 3u);
    for (const RawMessage& m : page) {
      EXPECT_GT(m.id, after);
      EXPECT_EQ(m.device_id, 7);
      after = m.id;
      paged.push_back(m.payload);
    }
  }
  EXPECT_EQ(paged, (Strings{"m0", "m2", "m4", "m6", "m8", "m10", "m12", "m14", "m16", "m18"}));
  auto window = MsgPage(7, kT0 + 4000, kT0 + 10'000, 0, 100);
  ASSERT_EQ(window.size(), 4u);  // m4, m6, m8, m10: both ends included
  EXPECT_EQ(window.front().payload, "m4");
  EXPECT_EQ(window.back().payload, "m10");
  EXPECT_EQ(window.front().content_type, "application/json");
  EXPECT_EQ(window.front().received_ms, kT0 + 4000);
  EXPECT_EQ(*decoders().CountMessages(7, INT64_MIN, INT64_MAX), 10);
  EXPECT_EQ(*decoders().CountMessages(7, kT0 + 4000, kT0 + 10'000), 4);
  EXPECT_EQ(*decoders().CountMessages(8, kT0, kT0 + 1000), 1);
  EXPECT_EQ(*decoders().CountMessages(9, INT64_MIN, INT64_MAX), 0);
  EXPECT_TRUE(MsgPage(9, INT64_MIN, INT64_MAX, 0, 10).empty());
}

// Moved from tests/unit/store/raw_log_store_test.cc.
TEST_P(DecoderBackendTest, ARedecodeResultReplacesTheStoredStatus) {
  Put({}, {JsonMessage(7, kT0, "a")});
  Put({}, {JsonMessage(7, kT0 + 1000, "b")});
  auto page = MsgPage(7, INT64_MIN, INT64_MAX, 0, 10);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page.at(1).decode_status, DecodeStatus::kPending);
  RawMessage changed = page.at(1);
  changed.decode_status = DecodeStatus::kError;
  changed.decode_error = "decoder threw";
  ASSERT_TRUE(decoders().SetMessageDecodeStatus({changed}).ok());
  changed.decode_status = DecodeStatus::kOk;  // a second re-decode wins
  changed.decode_error = "";
  ASSERT_TRUE(decoders().SetMessageDecodeStatus({changed}).ok());
  Reopen();
  auto newest = Messages(7);
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest.at(0).payload, "b");
  EXPECT_EQ(newest.at(0).decode_status, DecodeStatus::kOk);
  EXPECT_EQ(newest.at(1).decode_status, DecodeStatus::kPending);
}

// One batch naming a message twice: the later entry wins, as with one call after the other.
TEST_P(DecoderBackendTest, InOneBatchTheLaterResultOfAMessageWins) {
  Put({}, {JsonMessage(7, kT0, "a"), JsonMessage(7, kT0 + 1, "b")});
  auto page = MsgPage(7, INT64_MIN, INT64_MAX, 0, 10);
  ASSERT_EQ(page.size(), 2u);
  RawMessage first = page[0], again = page[0], other = page[1];
  first.decode_status = DecodeStatus::kError;
  first.decode_error = "first";
  again.decode_status = DecodeStatus::kOk;
  again.decode_warnings = {"second"};
  other.decode_status = DecodeStatus::kError;
  other.decode_errors = {"bad \"quote\"", "two, with comma"};
  ASSERT_TRUE(decoders().SetMessageDecodeStatus({first, other, again}).ok());
  page = MsgPage(7, INT64_MIN, INT64_MAX, 0, 10);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].decode_status, DecodeStatus::kOk);
  EXPECT_EQ(page[0].decode_error, "");
  EXPECT_EQ(page[0].decode_warnings, Strings{"second"});
  EXPECT_EQ(page[1].decode_status, DecodeStatus::kError);
  EXPECT_EQ(page[1].decode_errors, (Strings{"bad \"quote\"", "two, with comma"}));
}

// Moved from tests/unit/store/decode_notes_test.cc.
TEST_P(DecoderBackendTest, NotesAreStoredWithTheMessageAndReplacedByARedecode) {
  RawMessage m = JsonMessage(7, kT0, "{\"a\":1}");
  m.decode_status = DecodeStatus::kError;
  m.decode_error = "decodeUplink reported errors";
  m.decode_errors = {"unknown fPort 9"};
  m.decode_warnings = {"no battery byte"};
  Put({}, {m});
  Reopen();
  auto got = Messages(7);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].decode_errors, Strings{"unknown fPort 9"});
  EXPECT_EQ(got[0].decode_warnings, Strings{"no battery byte"});

  RawMessage redone = got[0];
  redone.decode_status = DecodeStatus::kOk;
  redone.decode_error.clear();
  redone.decode_errors.clear();
  redone.decode_warnings = {"only a warning now"};
  ASSERT_TRUE(decoders().SetMessageDecodeStatus({redone}).ok());
  got = Messages(7);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].decode_status, DecodeStatus::kOk);
  EXPECT_TRUE(got[0].decode_errors.empty());
  EXPECT_EQ(got[0].decode_warnings, Strings{"only a warning now"});
  auto page = MsgPage(7, INT64_MIN, INT64_MAX, 0, 10);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page.at(0).decode_warnings, Strings{"only a warning now"});
}

BYSANS_ON_BOTH_BACKENDS(DecoderBackendTest);

}  // namespace
}  // namespace bysans::testing

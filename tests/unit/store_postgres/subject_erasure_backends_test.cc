// SubjectErasureStore on both backends (store/subject_erasure_store.h; SQLite migration 24,
// PostgreSQL migration 13), through the whole Store (store_backend_fixture.h): the jobs, and the
// erasure of one device's downlinks, alarms and share-log copies in a time range and of its own
// contacts (dry run counts only; other devices and times are kept; share-log positions stay).
#include <gtest/gtest.h>

#include "store/contact_store.h"
#include "store/mqtt_store.h"
#include "store/rule_store.h"
#include "store/subject_erasure_store.h"
#include "store/target_store.h"
#include "unit/store_postgres/store_backend_fixture.h"

namespace bysans {
namespace {

using testing::StoreBackendTest;

class SubjectErasureStoreTest : public StoreBackendTest {
 protected:
  void SetUp() override {
    StoreBackendTest::SetUp();
    if (HasFatalFailure()) return;
    auto org = store_->CreateOrganization(Organization{0, "Kommune", 1});
    ASSERT_TRUE(org.ok());
    auto app = store_->CreateApplication(Application{0, org->id, "Ældrepleje", "", 1});
    ASSERT_TRUE(app.ok());
    org_ = org->id;
    app_ = app->id;
    for (Id* id : {&subject_, &other_}) {
      Device d;
      d.app_id = app_;
      d.name = "d";
      auto r = store_->CreateDevice(d, "");
      ASSERT_TRUE(r.ok()) << r.status().message();
      *id = r->id;
    }
    DataTarget t;
    t.org_id = org_;
    t.app_id = app_;
    t.name = "t";
    t.url = "https://example.com/";
    auto target = store_->targets().CreateTarget(t, {}, std::nullopt);
    ASSERT_TRUE(target.ok());
    target_ = *target;
  }

  void Commit(Id dev, TimeMs at) {
    IngestBatch b;
    RawMessage m;
    m.device_id = dev;
    m.received_ms = at;
    m.payload = "{}";
    b.messages.push_back(m);
    b.readings.push_back(Reading{dev, "n", at, 1.0, "", Quality::kOk});
    b.share_app_id = app_;
    b.share_decoded = R"({"secret":"x"})";
    ASSERT_TRUE(store_->Append(std::move(b)).ok());
  }

  SubjectErasureStore& se() { return store_->subject_erasures(); }

  Id org_ = 0, app_ = 0, subject_ = 0, other_ = 0;
  DataTarget target_;
};

TEST_P(SubjectErasureStoreTest, DownlinksAndAlarmsInTheRangeOfTheDeviceOnly) {
  for (auto [dev, at] : {std::pair{subject_, 1000}, {subject_, 5000}, {other_, 1000}}) {
    Downlink d;
    d.device_id = dev;
    d.created_ms = at;
    d.data = "\x01";
    d.status = "queued";
    ASSERT_TRUE(store_->mqtt().AppendDownlink(d).ok());
    AlarmRecord a{0, org_, 7, dev, "active", at, "{}"};
    ASSERT_TRUE(store_->rules().CreateAlarm(a, nullptr).ok());
  }
  EXPECT_EQ(*se().EraseDownlinks(subject_, 0, 2000, true), 1);
  EXPECT_EQ(*se().EraseAlarms(subject_, 0, 2000, true), 1);
  EXPECT_EQ(store_->mqtt().ListDownlinks(subject_, 10)->size(), 2u) << "a dry run removes nothing";
  EXPECT_EQ(*se().EraseDownlinks(subject_, 0, 2000, false), 1);
  EXPECT_EQ(*se().EraseAlarms(subject_, 0, 2000, false), 1);
  ASSERT_TRUE(se().ScrubFiles().ok());
  auto left = store_->mqtt().ListDownlinks(subject_, 10);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().created_ms, 5000);
  EXPECT_EQ(store_->mqtt().ListDownlinks(other_, 10)->size(), 1u);
  AlarmFilter f;
  f.device_id = subject_;
  EXPECT_EQ(store_->rules().ListAlarms(f, Page{100, 0})->items.size(), 1u);
  f.device_id = other_;
  EXPECT_EQ(store_->rules().ListAlarms(f, Page{100, 0})->items.size(), 1u);
}

TEST_P(SubjectErasureStoreTest, ShareCopiesBecomeTombstonesAndDeadLettersGo) {
  for (int i = 0; i < 4; ++i) {
    Commit(subject_, 1000 + i);
    Commit(other_, 1000 + i);
  }
  auto before = store_->targets().ReadShareLog(app_, 0, 100);
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->size(), 8u);
  // A copy a target gave up on, of the subject's first message.
  ASSERT_TRUE(store_->targets().AddDeadLetter(target_.id, before->front(), "down", 3, 1).ok());
  ASSERT_EQ(before->front().device_id, subject_);

  EXPECT_EQ(*se().EraseShareCopies(app_, subject_, 1000, 1001, true), 3);  // 2 + the letter
  EXPECT_EQ(store_->targets().ReadShareLog(app_, 0, 100)->front().device_id, subject_);
  EXPECT_EQ(*se().EraseShareCopies(app_, subject_, 1000, 1001, false), 3);
  auto after = store_->targets().ReadShareLog(app_, 0, 100);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 8u) << "positions stay: an erased record is a tombstone";
  int tombstones = 0, subject_left = 0;
  for (size_t i = 0; i < after->size(); ++i) {
    const ShareRecord& r = (*after)[i];
    EXPECT_EQ(r.position, (*before)[i].position);
    if (r.device_id == 0) {
      ++tombstones;
      EXPECT_TRUE(r.decoded_json.empty());
      EXPECT_TRUE(r.readings.empty());
    }
    if (r.device_id == subject_) {
      ++subject_left;
      EXPECT_GE(r.received_ms, 1002);
    }
  }
  EXPECT_EQ(tombstones, 2);
  EXPECT_EQ(subject_left, 2);
  EXPECT_EQ(store_->targets().ListDeadLetters(target_.id, Page{100, 0})->items.size(), 0u);
}

TEST_P(SubjectErasureStoreTest, TheDevicesOwnContactsGoItsApplicationsStay) {
  ContactStore& c = store_->contacts();
  const std::vector<Contact> kin = {{"Datter", "", "+4520000017", "pårørende"},
                                    {"Nabo", "nabo@example.dk", "", ""}};
  const std::vector<Contact> staff = {{"Hjemmeplejen", "", "+4520000099", "vagt"}};
  ASSERT_TRUE(c.ReplaceContacts(ContactOwner::kDevice, subject_, kin).ok());
  ASSERT_TRUE(c.ReplaceContacts(ContactOwner::kDevice, other_, kin).ok());
  ASSERT_TRUE(c.ReplaceContacts(ContactOwner::kApplication, app_, staff).ok());

  auto dry = se().EraseDeviceContacts(subject_, true);
  ASSERT_TRUE(dry.ok()) << dry.status().message();
  EXPECT_EQ(*dry, 2);
  EXPECT_EQ(c.ListContacts(ContactOwner::kDevice, subject_)->size(), 2u) << "a dry run keeps them";

  auto done = se().EraseDeviceContacts(subject_, false);
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(*done, 2);
  EXPECT_TRUE(c.ListContacts(ContactOwner::kDevice, subject_)->empty());
  EXPECT_EQ(*c.ListContacts(ContactOwner::kDevice, other_), kin);
  EXPECT_EQ(*c.ListContacts(ContactOwner::kApplication, app_), staff);
  EXPECT_EQ(*se().EraseDeviceContacts(subject_, false), 0) << "nothing left the second time";
}

TEST_P(SubjectErasureStoreTest, JobsPersistAcrossAReopen) {
  SubjectErasureJob j;
  j.org_id = org_;
  j.request_json = R"({"tag":"x"})";
  j.requested_by = "admin@kommune.dk";
  j.user_id = 3;
  auto created = se().CreateSubjectErasure(j);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_GT(created->id, 0);
  Reopen();
  auto unfinished = se().UnfinishedSubjectErasures();
  ASSERT_EQ(unfinished->size(), 1u);
  SubjectErasureJob got = unfinished->front();
  EXPECT_EQ(got.state, "queued");
  EXPECT_EQ(got.user_id, std::optional<Id>(3));
  EXPECT_EQ(got.requested_by, "admin@kommune.dk");
  got.state = "done";
  got.report_json = R"({"totals":{}})";
  ASSERT_TRUE(se().UpdateSubjectErasure(got).ok());
  EXPECT_TRUE(se().UnfinishedSubjectErasures()->empty());
  EXPECT_EQ(se().GetSubjectErasure(got.id)->report_json, got.report_json);
  EXPECT_EQ(se().ListSubjectErasures(org_)->size(), 1u);
  EXPECT_TRUE(se().ListSubjectErasures(org_ + 1)->empty());
  EXPECT_EQ(se().GetSubjectErasure(got.id + 1).status().code(), Code::kNotFound);
}

BYSANS_STORE_ON_BOTH_BACKENDS(SubjectErasureStoreTest);

}  // namespace
}  // namespace bysans

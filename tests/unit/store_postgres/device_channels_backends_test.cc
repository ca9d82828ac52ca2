// CoAP credentials and LwM2M registrations, operations and observations: the same behaviour on
// SQLite and on PostgreSQL (org_stores_backend_fixture.h). A credential is created, rotated, found
// by its identity (unique across devices), deleted and goes with its device; a registration is
// replaced, found and deleted; operations are listed newest first, the open ones per device oldest
// first, capped per device, expired and updated; observations are put, listed and deleted; all go
// with their device.
#include <gtest/gtest.h>

#include <set>

#include "unit/store_postgres/org_stores_backend_fixture.h"

namespace bysans::testing {
namespace {

class DeviceChannelsBackendTest : public OrgStoresBackendTest {
 protected:
  void SetUp() override {
    OrgStoresBackendTest::SetUp();
    if (HasFatalFailure()) return;
    const Id app = App(Org("o").id, "a").id;
    a_ = Dev(app, "a").id;
    b_ = Dev(app, "b").id;
  }
  static CoapCredential Cred(Id device, const std::string& identity, const std::string& sealed) {
    return CoapCredential{device, identity, sealed, 1000};
  }
  static Lwm2mRegistration Reg(Id device, const std::string& id) {
    Lwm2mRegistration r;
    r.device_id = device;
    r.registration_id = id;
    r.endpoint = "ep-" + id;
    r.lifetime_s = 60;
    r.queue_mode = true;
    r.version = "1.1";
    r.objects = "/3303/0,/3304/0";
    r.registered_ms = 1000;
    r.updated_ms = 2000;
    return r;
  }
  static Lwm2mOperation Op(Id device, Lwm2mOpKind kind, const std::string& path, TimeMs at) {
    Lwm2mOperation op;
    op.device_id = device;
    op.kind = kind;
    op.path = path;
    op.value = kind == Lwm2mOpKind::kWrite ? "42" : "";
    op.created_ms = at;
    return op;
  }
  Id a_ = 0, b_ = 0;
};

TEST_P(DeviceChannelsBackendTest, CoapCredentialsAreCreatedRotatedFoundDeletedAndCascade) {
  CoapCredentialStore& s = coap();
  EXPECT_EQ(s.GetCoapCredential(a_).status().code(), Code::kNotFound);
  ASSERT_TRUE(s.PutCoapCredential(Cred(a_, "meter-a", "sealed-1")).ok());
  auto got = s.GetCoapCredential(a_);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->identity, "meter-a");
  EXPECT_EQ(got->sealed_key, "sealed-1");
  // Rotation replaces the row (same identity, new key), and a new identity replaces the old.
  ASSERT_TRUE(s.PutCoapCredential(Cred(a_, "meter-a", "sealed-2")).ok());
  EXPECT_EQ(s.FindCoapCredential("meter-a")->sealed_key, "sealed-2");
  ASSERT_TRUE(s.PutCoapCredential(Cred(a_, "meter-a2", "sealed-3")).ok());
  EXPECT_EQ(s.FindCoapCredential("meter-a").status().code(), Code::kNotFound);
  EXPECT_EQ(s.FindCoapCredential("meter-a2")->device_id, a_);
  // Another device cannot take the identity; an unknown device has none.
  EXPECT_EQ(s.PutCoapCredential(Cred(b_, "meter-a2", "x")).code(), Code::kAlreadyExists);
  EXPECT_EQ(s.PutCoapCredential(Cred(a_ + b_ + 100, "other", "x")).code(), Code::kNotFound);
  ASSERT_TRUE(s.PutCoapCredential(Cred(b_, "meter-b", "sealed-b")).ok());
  // Delete, and cascade with the device.
  ASSERT_TRUE(s.DeleteCoapCredential(a_).ok());
  EXPECT_EQ(s.DeleteCoapCredential(a_).code(), Code::kNotFound);
  EXPECT_EQ(s.FindCoapCredential("meter-a2").status().code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteDevice(b_).ok());
  EXPECT_EQ(s.FindCoapCredential("meter-b").status().code(), Code::kNotFound);
}

TEST_P(DeviceChannelsBackendTest, Lwm2mRegistrationIsReplacedFoundAndDeleted) {
  Lwm2mStore& s = lwm2m();
  EXPECT_EQ(s.GetRegistration(a_).status().code(), Code::kNotFound);
  ASSERT_TRUE(s.PutRegistration(Reg(a_, "r1")).ok());
  auto got = s.GetRegistration(a_);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->endpoint, "ep-r1");
  EXPECT_TRUE(got->queue_mode);
  EXPECT_EQ(got->objects, "/3303/0,/3304/0");
  EXPECT_FALSE(got->ExpiredAt(2000 + 60'000));
  EXPECT_TRUE(got->ExpiredAt(2000 + 60'001));
  // A new Register replaces the device's registration; the old id is gone.
  ASSERT_TRUE(s.PutRegistration(Reg(a_, "r2")).ok());
  EXPECT_EQ(s.FindRegistration("r1").status().code(), Code::kNotFound);
  EXPECT_EQ(s.FindRegistration("r2")->device_id, a_);
  EXPECT_EQ(s.PutRegistration(Reg(a_ + b_ + 100, "r3")).code(), Code::kNotFound);
  ASSERT_TRUE(s.PutRegistration(Reg(b_, "rb")).ok());
  ASSERT_TRUE(s.DeleteRegistration(a_).ok());
  EXPECT_EQ(s.DeleteRegistration(a_).code(), Code::kNotFound);
  EXPECT_EQ(s.FindRegistration("r2").status().code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteDevice(b_).ok());
  EXPECT_EQ(s.FindRegistration("rb").status().code(), Code::kNotFound);
}

TEST_P(DeviceChannelsBackendTest, Lwm2mOperationsAreListedUpdatedAndCascade) {
  Lwm2mStore& s = lwm2m();
  auto w = s.AddOperation(Op(a_, Lwm2mOpKind::kWrite, "/3/0/13", 10), 100);
  ASSERT_TRUE(w.ok()) << w.status().message();
  auto r = s.AddOperation(Op(a_, Lwm2mOpKind::kRead, "/3/0/0", 20), 100);
  ASSERT_TRUE(r.ok());
  auto e = s.AddOperation(Op(b_, Lwm2mOpKind::kExecute, "/3/0/4", 30), 100);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(s.AddOperation(Op(a_ + b_ + 100, Lwm2mOpKind::kRead, "/3", 1), 100).status().code(),
            Code::kNotFound);
  auto list = s.ListOperations(a_, 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].path, "/3/0/0");  // newest first
  EXPECT_EQ((*list)[1].value, "42");
  EXPECT_EQ((*list)[1].state, Lwm2mOpState::kQueued);
  // Done and failed ones leave the open list.
  Lwm2mOperation done = *w;
  done.state = Lwm2mOpState::kDone;
  done.result_code = 204;
  done.result_payload = "ok";
  done.updated_ms = 99;
  ASSERT_TRUE(s.UpdateOperation(done).ok());
  auto open = s.OpenOperations({a_, b_}, 10);
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 2u);
  EXPECT_EQ((*open)[0].id, r->id);  // oldest first
  EXPECT_EQ((*open)[1].id, e->id);
  auto again = s.ListOperations(a_, 10);
  EXPECT_EQ((*again)[1].state, Lwm2mOpState::kDone);
  EXPECT_EQ((*again)[1].result_code, 204);
  EXPECT_EQ((*again)[1].result_payload, "ok");
  EXPECT_EQ((*again)[1].updated_ms, 99);
  Lwm2mOperation ghost = done;
  ghost.id = 12345;
  EXPECT_EQ(s.UpdateOperation(ghost).code(), Code::kNotFound);
  ASSERT_TRUE(store_->DeleteDevice(b_).ok());
  EXPECT_EQ(s.OpenOperations({a_, b_}, 10)->size(), 1u);
}

// The CoAP server reads the open operations of the devices it can send to, a few of each: another
// device's backlog (of another organisation, say) neither hides nor delays them.
TEST_P(DeviceChannelsBackendTest, Lwm2mOpenOperationsAreReadPerDevice) {
  Lwm2mStore& s = lwm2m();
  std::vector<Id> a_ops;
  for (int i = 0; i < 30; ++i) {
    auto op = s.AddOperation(Op(a_, Lwm2mOpKind::kRead, "/3/0/0", 10 + i), 100);
    ASSERT_TRUE(op.ok()) << op.status().message();
    a_ops.push_back(op->id);
  }
  auto b_op = s.AddOperation(Op(b_, Lwm2mOpKind::kExecute, "/3/0/4", 100), 100);
  ASSERT_TRUE(b_op.ok());
  // Only b's, though a's 30 are older.
  auto only_b = s.OpenOperations({b_}, 2);
  ASSERT_TRUE(only_b.ok()) << only_b.status().message();
  ASSERT_EQ(only_b->size(), 1u);
  EXPECT_EQ((*only_b)[0].id, b_op->id);
  EXPECT_EQ((*only_b)[0].path, "/3/0/4");
  // At most `per_device` of each, its oldest first, device after device in the order given; a
  // sent one is open, a finished one not, and a device without any (or unknown) adds nothing.
  Lwm2mOperation sent = (*s.OpenOperations({a_}, 1))[0];
  sent.state = Lwm2mOpState::kSent;
  sent.updated_ms = 50;
  ASSERT_TRUE(s.UpdateOperation(sent).ok());
  Lwm2mOperation done = (*s.OpenOperations({a_}, 2))[1];
  ASSERT_EQ(done.id, a_ops[1]);
  done.state = Lwm2mOpState::kDone;
  ASSERT_TRUE(s.UpdateOperation(done).ok());
  auto both = s.OpenOperations({b_, a_ + b_ + 100, a_}, 2);
  ASSERT_TRUE(both.ok());
  ASSERT_EQ(both->size(), 3u);
  EXPECT_EQ((*both)[0].id, b_op->id);
  EXPECT_EQ((*both)[1].id, a_ops[0]);
  EXPECT_EQ((*both)[1].state, Lwm2mOpState::kSent);
  EXPECT_EQ((*both)[2].id, a_ops[2]);
  EXPECT_TRUE(s.OpenOperations({}, 10)->empty());
}

TEST_P(DeviceChannelsBackendTest, Lwm2mOpenOperationsOfADeviceAreCapped) {
  Lwm2mStore& s = lwm2m();
  std::vector<Lwm2mOperation> ops;
  for (int i = 0; i < 3; ++i) {
    auto op = s.AddOperation(Op(a_, Lwm2mOpKind::kRead, "/3/0/0", 10 + i), 3);
    ASSERT_TRUE(op.ok()) << op.status().message();
    ops.push_back(*op);
  }
  auto refused = s.AddOperation(Op(a_, Lwm2mOpKind::kRead, "/3/0/1", 20), 3);
  EXPECT_EQ(refused.status().code(), Code::kRateLimited);
  EXPECT_EQ(s.ListOperations(a_, 10)->size(), 3u);
  // Another device's own count.
  EXPECT_TRUE(s.AddOperation(Op(b_, Lwm2mOpKind::kRead, "/3/0/0", 20), 3).ok());
  // A sent one still counts; a finished one (done or failed) frees its place.
  ops[0].state = Lwm2mOpState::kSent;
  ASSERT_TRUE(s.UpdateOperation(ops[0]).ok());
  EXPECT_EQ(s.AddOperation(Op(a_, Lwm2mOpKind::kRead, "/3/0/1", 21), 3).status().code(),
            Code::kRateLimited);
  ops[1].state = Lwm2mOpState::kFailed;
  ASSERT_TRUE(s.UpdateOperation(ops[1]).ok());
  EXPECT_TRUE(s.AddOperation(Op(a_, Lwm2mOpKind::kRead, "/3/0/1", 22), 3).ok());
  EXPECT_EQ(s.AddOperation(Op(a_, Lwm2mOpKind::kRead, "/3/0/1", 23), 3).status().code(),
            Code::kRateLimited);
  EXPECT_EQ(s.ListOperations(a_, 10)->size(), 4u);
}

TEST_P(DeviceChannelsBackendTest, Lwm2mOldOpenOperationsExpire) {
  Lwm2mStore& s = lwm2m();
  auto old_a = s.AddOperation(Op(a_, Lwm2mOpKind::kRead, "/3/0/0", 10), 100);
  auto old_b = s.AddOperation(Op(b_, Lwm2mOpKind::kRead, "/3/0/0", 20), 100);
  auto young = s.AddOperation(Op(a_, Lwm2mOpKind::kRead, "/3/0/1", 40), 100);
  auto sent = s.AddOperation(Op(a_, Lwm2mOpKind::kRead, "/3/0/2", 5), 100);
  auto done = s.AddOperation(Op(a_, Lwm2mOpKind::kRead, "/3/0/3", 6), 100);
  ASSERT_TRUE(old_a.ok() && old_b.ok() && young.ok() && sent.ok() && done.ok());
  // Sent at 35 (queued at 5): its time counts from its sending.
  sent->state = Lwm2mOpState::kSent;
  sent->updated_ms = 35;
  ASSERT_TRUE(s.UpdateOperation(*sent).ok());
  done->state = Lwm2mOpState::kDone;
  done->result_code = 205;
  done->updated_ms = 7;
  ASSERT_TRUE(s.UpdateOperation(*done).ok());
  // A bounded batch at a time.
  auto n = s.ExpireOperations(30, "expired: too old", 1000, 1);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(*s.ExpireOperations(30, "expired: too old", 1000, 10), 1);
  EXPECT_EQ(*s.ExpireOperations(30, "expired: too old", 1000, 10), 0);
  auto by_id = [&](Id device, Id id) {
    auto list = s.ListOperations(device, 10);
    EXPECT_TRUE(list.ok());
    Lwm2mOperation found;
    for (const Lwm2mOperation& op : list.value())
      if (op.id == id) found = op;
    return found;
  };
  for (auto [device, id] : {std::pair{a_, old_a->id}, std::pair{b_, old_b->id}}) {
    Lwm2mOperation op = by_id(device, id);
    EXPECT_EQ(op.state, Lwm2mOpState::kFailed) << id;
    EXPECT_EQ(op.error, "expired: too old");
    EXPECT_EQ(op.updated_ms, 1000);
  }
  EXPECT_EQ(by_id(a_, young->id).state, Lwm2mOpState::kQueued);
  EXPECT_EQ(by_id(a_, sent->id).state, Lwm2mOpState::kSent);
  EXPECT_EQ(by_id(a_, done->id).state, Lwm2mOpState::kDone);
  EXPECT_EQ(by_id(a_, done->id).updated_ms, 7);
  // Later the sent one too.
  EXPECT_EQ(*s.ExpireOperations(36, "no answer", 2000, 10), 1);
  EXPECT_EQ(by_id(a_, sent->id).state, Lwm2mOpState::kFailed);
  EXPECT_EQ(by_id(a_, sent->id).error, "no answer");
  auto open = s.OpenOperations({a_, b_}, 10);
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].id, young->id);
}

// Finished operations (done or failed) older than the cut are deleted, a bounded batch at a
// time, of every device; open ones and younger finished ones stay.
TEST_P(DeviceChannelsBackendTest, Lwm2mOldFinishedOperationsAreDeleted) {
  Lwm2mStore& s = lwm2m();
  auto finish = [&](Id device, TimeMs at, Lwm2mOpState state) {
    auto op = s.AddOperation(Op(device, Lwm2mOpKind::kRead, "/3/0/0", at), 100);
    EXPECT_TRUE(op.ok());
    if (state != Lwm2mOpState::kQueued) {
      op->state = state;
      op->updated_ms = at;
      EXPECT_TRUE(s.UpdateOperation(*op).ok());
    }
    return op->id;
  };
  finish(a_, 10, Lwm2mOpState::kDone);
  finish(b_, 20, Lwm2mOpState::kFailed);
  const Id old_open = finish(a_, 5, Lwm2mOpState::kQueued);
  const Id old_sent = finish(a_, 6, Lwm2mOpState::kSent);
  const Id young_done = finish(a_, 50, Lwm2mOpState::kDone);
  EXPECT_EQ(*s.DeleteFinishedOperations(30, 1), 1);
  EXPECT_EQ(*s.DeleteFinishedOperations(30, 10), 1);
  EXPECT_EQ(*s.DeleteFinishedOperations(30, 10), 0);
  auto ids = [&](Id device) {
    std::set<Id> out;
    auto list = s.ListOperations(device, 100);
    EXPECT_TRUE(list.ok());
    for (const Lwm2mOperation& op : list.value()) out.insert(op.id);
    return out;
  };
  EXPECT_EQ(ids(a_), (std::set<Id>{old_open, old_sent, young_done}));
  EXPECT_TRUE(ids(b_).empty());
}

TEST_P(DeviceChannelsBackendTest, Lwm2mObservationsPutListedDeletedAndCascading) {
  Lwm2mStore& s = lwm2m();
  ASSERT_TRUE(s.PutObservation({a_, "/3303/0", 100, 0, 0}).ok());
  ASSERT_TRUE(s.PutObservation({a_, "/3/0/9", 100, 1, 150}).ok());
  ASSERT_TRUE(s.PutObservation({b_, "/3303/0", 200, 0, 0}).ok());
  // Replaced by (device, path).
  ASSERT_TRUE(s.PutObservation({a_, "/3303/0", 100, 3, 400}).ok());
  auto list = s.ListObservations(a_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].path, "/3/0/9");
  EXPECT_EQ((*list)[1].path, "/3303/0");
  EXPECT_EQ((*list)[1].notifications, 3);
  EXPECT_EQ((*list)[1].last_ms, 400);
  EXPECT_EQ((*list)[1].since_ms, 100);
  EXPECT_EQ(s.PutObservation({a_ + b_ + 100, "/3303/0", 1, 0, 0}).code(), Code::kNotFound);
  ASSERT_TRUE(s.DeleteObservation(a_, "/3/0/9").ok());
  ASSERT_TRUE(s.DeleteObservation(a_, "/none").ok());
  EXPECT_EQ(s.ListObservations(a_)->size(), 1u);
  ASSERT_TRUE(s.DeleteObservations(a_).ok());
  EXPECT_TRUE(s.ListObservations(a_)->empty());
  EXPECT_EQ(s.ListObservations(b_)->size(), 1u);
  ASSERT_TRUE(store_->DeleteDevice(b_).ok());
  EXPECT_TRUE(s.ListObservations(b_)->empty());
  ASSERT_TRUE(s.PutObservation({a_, "/3303/0", 1, 0, 0}).ok());
  ASSERT_TRUE(s.DeleteObservations(0).ok());  // all devices'
  EXPECT_TRUE(s.ListObservations(a_)->empty());
}

BYSANS_META_ON_BOTH_BACKENDS(DeviceChannelsBackendTest);

}  // namespace
}  // namespace bysans::testing

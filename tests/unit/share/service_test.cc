// TargetService with a real store and a receiver on loopback: delivery, pruning of what every
// target passed, and of an application's whole log when its last target goes.
#include "share/service.h"

#include <gtest/gtest.h>

#include <atomic>

#include "core/ip_address.h"
#include "integration/harness.h"
#include "integration/target_receiver.h"
#include "unit/store/temp_store.h"

namespace bysans::share {
namespace {

using bysans::testing::TargetReceiver;
using bysans::testing::WaitFor;

class ServiceTest : public bysans::testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    auto org = store_->CreateOrganization(Organization{0, "Kommune", 1});
    ASSERT_TRUE(org.ok());
    auto app = store_->CreateApplication(Application{0, org->id, "Indeklima", "", 1});
    ASSERT_TRUE(app.ok());
    org_ = org->id;
    app_ = app->id;
    ServiceOptions o;
    o.outbound = OutboundPolicy({*Cidr::Parse("127.0.0.0/8")});
    o.prune_ms = 50;
    o.watch_ms = 20;
    service_ = std::make_unique<TargetService>(*store_, clock_, metrics_, o);
    ASSERT_TRUE(service_->Start().ok());
  }
  void TearDown() override {
    service_->Stop();
    StoreTest::TearDown();
  }

  void Commit(int seq) {
    IngestBatch b;
    RawMessage m;
    m.device_id = 1;
    m.received_ms = 1000 + seq;
    b.messages.push_back(m);
    b.readings.push_back(Reading{1, "n", 1000 + seq, static_cast<double>(seq), "", Quality::kOk});
    b.share_app_id = service_->Shares(app_) ? app_ : 0;
    ASSERT_TRUE(store_->Append(std::move(b)).ok());
    Device d;
    d.id = 1;
    d.app_id = app_;
    service_->OnCommitted(d);
  }

  Id NewTarget(const std::string& url) {
    DataTarget t;
    t.org_id = org_;
    t.app_id = app_;
    t.name = "t";
    t.url = url;
    service_->WillShare(app_);
    auto r = store_->targets().CreateTarget(t, {}, std::nullopt);
    EXPECT_TRUE(r.ok()) << r.status().message();
    service_->Changed();
    return r->id;
  }

  size_t LogSize() {
    auto all = store_->targets().ReadShareLog(app_, 0, 10'000);
    return all.ok() ? all->size() : 0;
  }

  SystemClock clock_;
  Metrics metrics_;
  std::unique_ptr<TargetService> service_;
  Id org_ = 0, app_ = 0;
};

TEST_F(ServiceTest, DeliveredRecordsArePrunedAndTheLogGoesWithTheLastTarget) {
  Commit(-1);  // no target yet: not shared
  EXPECT_EQ(LogSize(), 0u);
  TargetReceiver fast(TargetReceiver::Mode::kOk);
  TargetReceiver down(TargetReceiver::Mode::kFail);
  Id a = NewTarget(fast.url());
  Id b = NewTarget(down.url());
  for (int i = 0; i < 5; ++i) Commit(i);
  EXPECT_EQ(LogSize(), 5u);
  ASSERT_TRUE(WaitFor([&] { return fast.hits().size() == 5; }, 10));
  // The failing target still needs every record: nothing is pruned.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(LogSize(), 5u);
  auto st = service_->StatusOf(*store_->targets().GetTarget(b));
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->queue_depth, 5);
  EXPECT_EQ(st->status, "failing");
  // Once it is gone, what the other delivered is pruned.
  ASSERT_TRUE(store_->targets().DeleteTarget(b).ok());
  service_->Changed();
  ASSERT_TRUE(WaitFor([&] { return LogSize() == 0; }, 10)) << LogSize();
  // The last target goes: the log of the application goes, and no more is written.
  Commit(5);
  ASSERT_TRUE(WaitFor([&] { return fast.hits().size() == 6; }, 10));
  ASSERT_TRUE(store_->targets().DeleteTarget(a).ok());
  service_->Changed();
  ASSERT_TRUE(WaitFor([&] { return !service_->Shares(app_) && LogSize() == 0; }, 10));
  Commit(6);
  EXPECT_EQ(LogSize(), 0u);
}

// Several nodes: only the node allowed to deliver does; the next one goes on from the cursor the
// first stored, so nothing is delivered twice or skipped.
TEST_F(ServiceTest, OnlyTheDeliveringNodeSendsAndTheNextGoesOnFromTheStoredCursor) {
  std::atomic<bool> first_delivers{true}, second_delivers{false};
  service_->Stop();
  auto node = [&](std::atomic<bool>& may) {
    ServiceOptions o;
    o.outbound = OutboundPolicy({*Cidr::Parse("127.0.0.0/8")});
    o.prune_ms = 50;
    o.watch_ms = 20;
    o.poll_ms = 50;
    o.may_deliver = [&may] { return may.load(); };
    auto s = std::make_unique<TargetService>(*store_, clock_, metrics_, o);
    EXPECT_TRUE(s->Start().ok());
    return s;
  };
  service_ = node(first_delivers);
  auto second = node(second_delivers);
  TargetReceiver receiver(TargetReceiver::Mode::kOk);
  Id target = NewTarget(receiver.url());
  second->Changed();
  ASSERT_TRUE(WaitFor([&] { return second->Shares(app_); }, 10)) << "both know the target";
  for (int i = 0; i < 5; ++i) Commit(i);
  ASSERT_TRUE(WaitFor([&] { return receiver.hits().size() == 5; }, 10));
  // The role moves: the first stops (and stores its cursor), then the second starts.
  first_delivers = false;
  ASSERT_TRUE(WaitFor([&] { return store_->targets().GetTarget(target)->cursor > 0; }, 10));
  second_delivers = true;
  for (int i = 5; i < 10; ++i) Commit(i);
  ASSERT_TRUE(WaitFor([&] { return receiver.hits().size() >= 10; }, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(receiver.hits().size(), 10u) << "each record once";
  second->Stop();
}

}  // namespace
}  // namespace bysans::share

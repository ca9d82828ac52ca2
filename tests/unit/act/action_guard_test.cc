// Defence in depth for alarm actions (issue 14, finding 1): the outbox's guard
// (rules/action_guard.h) refuses a row whose alarm's device is not of the row's
// organisation, before any delivery; the row fails at once and the refusal is in the
// delivery log. Real SQLite file; the downlink transport is a fake that counts calls.
#include "rules/action_guard.h"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "act/outbox.h"
#include "store/gateway_store.h"
#include "unit/act/store_fixture.h"

namespace bysans {
namespace {

using json = nlohmann::json;
using act_test::WaitFor;

class ActionGuardTest : public act_test::StoreFixture {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenStore());
    other_ = store_->CreateOrganization({0, "Nabokommune", 0})->id;
  }
  void TearDown() override {
    outbox_.reset();
    StoreFixture::TearDown();
  }

  // A stored rule of `org`, an alarm of it on this organisation's device and a downlink
  // row for that device: the row, ids filled in.
  OutboxEntry DownlinkRow(Id org) {
    RuleRecord r;
    r.org_id = org;
    r.definition = Co2Rule().dump();
    Id rule = store_->rules().CreateRule(r)->id;
    AlarmRecord a{0, org, rule, device_.id, "active", clock_.NowMs(), "{}"};
    std::vector<OutboxEntry> box(1);
    box[0].org_id = org;
    box[0].rule_id = rule;
    box[0].event = "raise";
    box[0].target_key = act::kMqttTargetKey;
    box[0].spec = json{{"type", "downlink"}, {"deviceId", device_.id}, {"hex", "01"}}.dump();
    box[0].next_attempt_ms = clock_.NowMs();
    EXPECT_TRUE(store_->rules().CreateAlarm(a, &box).ok());
    return box[0];
  }

  Id other_ = 0;
  std::unique_ptr<act::Outbox> outbox_;
};

TEST_F(ActionGuardTest, ARowActsOnlyOnADeviceOfItsOrganisation) {
  OutboxEntry foreign = DownlinkRow(other_);  // another organisation's rule, this one's device
  OutboxEntry own = DownlinkRow(org_);
  EXPECT_EQ(rules::CheckActionTenancy(*store_, foreign).code(), Code::kPermissionDenied);
  EXPECT_TRUE(rules::CheckActionTenancy(*store_, own).ok());
  OutboxEntry other_device = own;  // a downlink naming another device than the alarm's
  other_device.spec = json{{"type", "downlink"}, {"deviceId", device_.id + 1}}.dump();
  EXPECT_EQ(rules::CheckActionTenancy(*store_, other_device).code(), Code::kPermissionDenied);

  outbox_ = std::make_unique<act::Outbox>(store_->rules(), clock_, act::OutboxOptions{});
  std::atomic<int> sent{0};
  outbox_->SetDownlinkSender(
      [&sent](const act::DownlinkRequest&, std::function<void(const Status&)> done) {
        ++sent;
        done(Status::Ok());
        return Status::Ok();
      });
  outbox_->SetGuard([this](const OutboxEntry& e) { return rules::CheckActionTenancy(*store_, e); });
  outbox_->Submit({foreign, own});
  ASSERT_TRUE(WaitFor([&] { return store_->rules().ListPendingOutbox(10)->empty(); }));
  EXPECT_EQ(sent.load(), 1);  // only the own row reached the transport
  auto refused = store_->rules().ListDeliveryLog(other_, Page{});
  ASSERT_EQ(refused->items.size(), 1u);  // failed at once, no retries
  EXPECT_FALSE(refused->items[0].ok);
  EXPECT_EQ(refused->items[0].error.rfind("refused: ", 0), 0u) << refused->items[0].error;
  auto delivered = store_->rules().ListDeliveryLog(org_, Page{});
  ASSERT_EQ(delivered->items.size(), 1u);
  EXPECT_TRUE(delivered->items[0].ok);
}

// A gateway rule's alarm (device 0, gateway id): its rows act only for the organisation that has
// the gateway, and never as a downlink or notify_contacts (a gateway has no device or contacts).
TEST_F(ActionGuardTest, AGatewayAlarmsRowActsOnlyForItsOrganisationsGateway) {
  const std::string gw = "0016c001f0001234";
  ASSERT_TRUE(store_->gateways().RecordGatewayState(org_, gw, false, clock_.NowMs()).ok());
  auto row = [&](Id org, const json& spec) {
    RuleRecord r;
    r.org_id = org;
    r.definition = json{{"name", "gw"},
                        {"scope", {{"kind", "gateway"}, {"gatewayId", gw}}},
                        {"kind", "gateway_offline"},
                        {"gateway", {{"offlineMs", 60000}}}}
                       .dump();
    Id rule = store_->rules().CreateRule(r)->id;
    AlarmRecord a{0, org, rule, 0, "active", clock_.NowMs(), "{}"};
    a.gateway_id = gw;
    std::vector<OutboxEntry> box(1);
    box[0].org_id = org;
    box[0].rule_id = rule;
    box[0].event = "raise";
    box[0].target_key = "http://hook.example";
    box[0].spec = spec.dump();
    box[0].next_attempt_ms = clock_.NowMs();
    EXPECT_TRUE(store_->rules().CreateAlarm(a, &box).ok());
    return box[0];
  };
  const json webhook = {{"type", "webhook"}, {"url", "http://hook.example/h"}};
  EXPECT_TRUE(rules::CheckActionTenancy(*store_, row(org_, webhook)).ok());
  // The same gateway id in another organisation that never saw it: not its gateway.
  EXPECT_EQ(rules::CheckActionTenancy(*store_, row(other_, webhook)).code(),
            Code::kPermissionDenied);
  EXPECT_EQ(rules::CheckActionTenancy(
                *store_, row(org_, {{"type", "downlink"}, {"deviceId", device_.id}, {"hex", "01"}}))
                .code(),
            Code::kPermissionDenied);
  EXPECT_EQ(
      rules::CheckActionTenancy(*store_, row(org_, {{"type", "notify_contacts"}, {"via", "sms"}}))
          .code(),
      Code::kPermissionDenied);
  // The stored alarm keeps its gateway (FindOpenGatewayAlarm) and device 0.
  auto open = store_->rules().FindOpenGatewayAlarm(row(org_, webhook).rule_id, gw);
  ASSERT_TRUE(open.ok()) << open.status().message();
  EXPECT_EQ(open->gateway_id, gw);
  EXPECT_EQ(open->device_id, 0);
  EXPECT_EQ(store_->rules().FindOpenGatewayAlarm(open->rule_id, "00000000000000bb").status().code(),
            Code::kNotFound);
}

}  // namespace
}  // namespace bysans

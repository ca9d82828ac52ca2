#include "server/rule_downlinks.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <optional>
#include <utility>

namespace bysans {

act::DownlinkSender RuleDownlinkSender(Store& store, const Clock& clock,
                                       api::RoutedPublisher publish) {
  return [&store, &clock, publish = std::move(publish)](
             const act::DownlinkRequest& r,
             const std::function<void(const Status&)>& done) -> Status {
    auto dev = store.GetDevice(r.device_id);
    if (!dev.ok() || dev->org_id != r.org_id) {
      // Existence of another organisation's device is not revealed in the delivery log.
      spdlog::error(
          "rule {} (organisation {}): downlink to device {} refused: not a device of "
          "the rule's organisation",
          r.rule_id, r.org_id, r.device_id);
      return PermissionDenied("device " + std::to_string(r.device_id) +
                              " is not a device of the rule's organisation");
    }
    std::optional<int64_t> fport;
    if (r.fport >= 0) fport = r.fport;
    auto sent = api::SendDownlink(store, clock, *dev, fport, r.data, r.confirmed, publish, done);
    if (!sent.ok()) return sent.status();
    AuditEntry a;
    a.org_id = r.org_id;
    a.action = "downlink";
    a.object_type = "device";
    a.object_id = std::to_string(dev->id);
    a.detail = fmt::format(R"({{"ruleId":{},"downlinkId":{},"fPort":{},"bytes":{}}})", r.rule_id,
                           sent->id, sent->fport, sent->data.size());
    a.ts = clock.NowMs();
    Status st = store.AppendAudit(std::move(a));
    if (!st.ok()) spdlog::error("audit log write failed: {}", st.message());
    return Status::Ok();
  };
}

}  // namespace bysans

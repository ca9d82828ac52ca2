#include "server/rule_downlinks.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <future>
#include <memory>
#include <optional>
#include <utility>

#include "decode/redecode.h"
#include "store/personal_metadata.h"

namespace bysans {
namespace {

// Encodes rules' downlink objects with the devices' decoders on threads of its own (each with
// its own JsEngine; organisations served in turn); the outbox worker waits for the answer.
class RuleEncoder {
 public:
  explicit RuleEncoder(Store& store) : store_(store), resolver_(store.decoders()) {}

  // The bytes (and the encoder's fPort, 0 = none) for `r.object_json` on `dev`.
  Result<decode::EncodeResult> Encode(const Device& dev, const act::DownlinkRequest& r) {
    BYSANS_ASSIGN_OR_RETURN(auto dec, resolver_.EncoderFor(dev));
    decode::EncodeInput in;
    in.data_json = r.object_json;
    in.fport = r.fport > 0 ? r.fport : 0;
    in.variables = WithoutPersonalMetadata(store_, dev).metadata;  // never to the engine
    auto org = store_.GetOrganization(dev.org_id);
    const int64_t time_ms = org.ok() ? org->decoder_timeout_ms : 0;
    auto done = std::make_shared<std::promise<decode::EncodeResult>>();
    auto answer = done->get_future();
    thread_.Post(dev.org_id, [dec, in, time_ms, done](decode::DecoderRunner& runner) {
      decode::EncodeResult res;
      try {
        res = runner.Encode(*dec, in, time_ms);
      } catch (const std::exception& e) {
        res.status = Internal(std::string("encodeDownlink: ") + e.what());
      }
      done->set_value(std::move(res));
    });
    decode::EncodeResult res = answer.get();
    if (res.status.ok() && res.errors.empty()) return res;
    std::string why = res.status.ok() ? "" : ": " + res.status.message();
    return InvalidArgument("the device's decoder could not encode the downlink object" + why);
  }

 private:
  Store& store_;
  decode::DecoderResolver resolver_;
  decode::DecodeThread thread_;  // last: joined before the resolver goes
};

}  // namespace

act::DownlinkSender RuleDownlinkSender(Store& store, const Clock& clock,
                                       api::RoutedPublisher publish) {
  auto encoder = std::make_shared<RuleEncoder>(store);
  return
      [&store, &clock, publish = std::move(publish), encoder](
          const act::DownlinkRequest& r, const std::function<void(const Status&)>& done) -> Status {
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
        std::string bytes = r.data;
        if (!r.object_json.empty()) {
          BYSANS_ASSIGN_OR_RETURN(decode::EncodeResult encoded, encoder->Encode(*dev, r));
          bytes = std::move(encoded.bytes);
          if (encoded.fport > 0) fport = encoded.fport;
        }
        auto sent = api::SendDownlink(store, clock, *dev, fport, std::move(bytes), r.confirmed,
                                      publish, done, r.object_json);
        if (!sent.ok()) return sent.status();
        AuditEntry a;
        a.org_id = r.org_id;
        a.action = "downlink";
        a.object_type = "device";
        a.object_id = std::to_string(dev->id);
        a.detail = fmt::format(R"({{"ruleId":{},"downlinkId":{},"fPort":{},"bytes":{}}})",
                               r.rule_id, sent->id, sent->fport, sent->data.size());
        a.ts = clock.NowMs();
        Status st = store.AppendAudit(std::move(a));
        if (!st.ok()) spdlog::error("audit log write failed: {}", st.message());
        return Status::Ok();
      };
}

}  // namespace bysans

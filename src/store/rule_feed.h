// The rule partitions' feed (issue 19, several nodes). With several bysans nodes on one
// PostgreSQL, a device's messages reach whichever node the broker or the load balancer picked,
// but its rules are evaluated by one node: the holder of the device's rule partition
// (server/node_coordinator.h). The node that stores a message appends its device and readings to
// the partition's feed IN THE SAME COMMIT (IngestBatch::feed_partition), so a reading stored is a
// reading evaluated, whichever node dies when. The partition's holder reads the feed, evaluates,
// stores the alarms and then acknowledges the entries: evaluation is at least once (an entry
// whose holder died before the acknowledgement is evaluated again by the next holder, which
// restored the open alarms first, so an alarm is not raised twice).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans {

struct RuleFeedEntry {
  int64_t id = 0;  // for Acknowledge
  int partition = 0;
  std::shared_ptr<const Device> device;  // as the storing node knew it (rules/engine.h's view)
  std::vector<Reading> readings;
};

class RuleFeed {
 public:
  virtual ~RuleFeed() = default;
  // The oldest unacknowledged entries of these partitions, from at most `limit` stored rows of
  // each organisation (so that one organisation's backlog does not hide another's entries), in
  // row order. A row holds entries of one organisation (one group commit's, on PostgreSQL): they
  // share its id and are acknowledged together, so there can be more than `limit` entries.
  virtual Result<std::vector<RuleFeedEntry>> ReadFeed(std::span<const int> partitions,
                                                      int64_t limit) = 0;
  // Removes evaluated entries.
  virtual Status AcknowledgeFeed(std::span<const int64_t> ids) = 0;
  // Deletes organisation `org_id`'s rows of these partitions beyond its oldest `keep`, i.e. its
  // newest, unevaluated: the bound of one organisation's backlog (a flood's readings are stored,
  // but evaluating all of them would take without end). The number of rows deleted.
  virtual Result<int64_t> ShedFeed(Id org_id, std::span<const int> partitions, int64_t keep) = 0;
};

// The feed's record of a device and its readings: the device fields the rules and their actions
// read (id, organisation, application, model, name, EUI, tags, expected interval, maintenance)
// and the readings (store/share_codec.h's reading encoding).
std::string EncodeRuleFeedRecord(const Device& device, std::span<const Reading> readings);
Result<RuleFeedEntry> DecodeRuleFeedRecord(std::string_view record);

}  // namespace bysans

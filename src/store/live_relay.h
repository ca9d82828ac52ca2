// The live stream across nodes (issue 19: "the live stream and every API answer the same on every
// node"). With several bysans nodes on one database, a device's messages are stored by whichever
// node received them, but a client's live stream (api/stream.h) is served by whichever node the
// load balancer picked. A node whose stream has subscribers asks the others for their committed
// messages; while asked, each node sends the device and readings of every message it commits,
// after the commit, and the asking nodes hand them to their stream. Best effort, like the stream
// itself: messages committed in the first seconds after the asking (before the others heard it)
// or while a node's listening connection is down are not relayed; the API's reads are complete.
// Null where one process stores everything (SQLite).
#pragma once

#include <functional>
#include <vector>

#include "model/model.h"

namespace bysans {

class LiveRelay {
 public:
  using Listener = std::function<void(const Device& device, const std::vector<Reading>& readings)>;
  virtual ~LiveRelay() = default;
  // Called with each message another node committed while this node wants them (on the relay's
  // thread; keep it short). Set once, before SetWanted.
  virtual void SetListener(Listener listener) = 0;
  // Whether this node has live subscribers. While true, the other nodes are asked again every
  // few seconds; they stop sending a while after the last asking.
  virtual void SetWanted(bool wanted) = 0;
};

}  // namespace bysans

// Payload decoders as stored objects: per organisation, every save a new
// version, attached to applications or devices (a device's own decoder wins).
// Same contracts as store.h: thread-safe, Status errors, store-assigned ids.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "model/model.h"
#include "store/store.h"

namespace bysans {

enum class DecoderKind : uint8_t { kJs = 0, kCayenneLpp = 1, kSenml = 2 };
const char* DecoderKindName(DecoderKind k);  // "js", "cayenne_lpp", "senml"
std::optional<DecoderKind> ParseDecoderKind(std::string_view s);

struct StoredDecoder {
  Id id = 0;
  Id org_id = 0;
  std::string name;
  DecoderKind kind = DecoderKind::kJs;
  int64_t version = 0;  // current version (1 after create)
  std::string code;     // code of the current version
  // The current version's calling convention as the API names it ("auto", "os2iot", "ttn",
  // "chirpstack", "chirpstack-v3", "ttn-v2"; decode/decoder.h ParseContractName). The store
  // keeps it as given; the API checks it.
  std::string contract = "auto";
  TimeMs created_ms = 0;
  TimeMs updated_ms = 0;
};

struct DecoderVersion {
  Id decoder_id = 0;
  int64_t version = 0;
  std::string code;
  TimeMs created_ms = 0;
  Id created_by = 0;  // user id, 0 = unknown / API key
  std::string contract = "auto";
};

// Every attachment in the store: application id → decoder id, device id → decoder id.
struct DecoderAttachments {
  std::unordered_map<Id, Id> by_app;
  std::unordered_map<Id, Id> by_device;
};

// A background job (re-decode), kept so that its progress survives a restart. `request` is the
// job's parameters as JSON (what a re-run needs).
struct StoredJob {
  Id id = 0;
  Id org_id = 0;
  std::string kind;              // "redecode"
  std::string state = "queued";  // queued, running, done, failed, cancelled, interrupted
  int64_t done = 0;
  int64_t total = 0;
  int64_t errors = 0;
  std::string error;
  std::string request;
  TimeMs created_ms = 0;
  TimeMs updated_ms = 0;
  // The process running it: its node's lease holder ("<node.id>#<instance>",
  // server/node_coordinator.h); "" for jobs of an older bysans.
  std::string node;
};

class DecoderStore {
 public:
  virtual ~DecoderStore() = default;

  // Creates the decoder with version 1 (d.code, d.contract). Sets created/updated to `now`.
  virtual Result<StoredDecoder> CreateDecoder(StoredDecoder d, Id created_by, TimeMs now) = 0;
  virtual Result<StoredDecoder> GetDecoder(Id id) = 0;
  virtual Result<Paged<StoredDecoder>> ListDecoders(Id org_id, Page page) = 0;
  // Saves name/kind; when `code` or `contract` differs from the current version's a new
  // version is added and becomes current. Returns the saved decoder.
  virtual Result<StoredDecoder> UpdateDecoder(const StoredDecoder& d, Id by, TimeMs now) = 0;
  virtual Status DeleteDecoder(Id id) = 0;  // drops its versions and attachments
  virtual Result<std::vector<DecoderVersion>> ListVersions(Id decoder_id) = 0;  // newest first

  // nullopt detaches.
  virtual Status SetApplicationDecoder(Id app_id, std::optional<Id> decoder_id) = 0;
  virtual Status SetDeviceDecoder(Id device_id, std::optional<Id> decoder_id) = 0;
  virtual Result<DecoderAttachments> ListAttachments() = 0;

  // Raw messages of a device received in [from, to] with id > after_id, oldest id first, at
  // most `limit` (re-decode paging), and how many there are in [from, to].
  virtual Result<std::vector<RawMessage>> MessagesAfter(Id device_id, TimeMs from, TimeMs to,
                                                        Id after_id, int64_t limit) = 0;
  virtual Result<int64_t> CountMessages(Id device_id, TimeMs from, TimeMs to) = 0;
  // Records re-decode results on stored raw messages (one transaction): id, status, error
  // (RawMessage::id / decode_status / decode_error).
  virtual Status SetMessageDecodeStatus(const std::vector<RawMessage>& messages) = 0;

  // Jobs. CreateJob assigns the id; UpdateJob saves state, progress, error and updated_ms.
  virtual Result<StoredJob> CreateJob(StoredJob j) = 0;
  virtual Result<StoredJob> GetJob(Id id) = 0;
  virtual Status UpdateJob(const StoredJob& j) = 0;
  // Marks "interrupted" every queued or running job whose process is not among `live_nodes`
  // (the holders of running node leases: at a node's start its earlier process's jobs, and
  // with several nodes a dead node's, but never a job another live node runs). Returns how many
  // were marked.
  virtual Result<int64_t> InterruptJobs(TimeMs now, const std::vector<std::string>& live_nodes) = 0;

  // Bumped by every write above (except jobs) (except SetMessageDecodeStatus) and by
  // InvalidateDecoders; caches compare it to know when to reload.
  virtual uint64_t generation() const = 0;
  // For writes the store cannot see (e.g. a deleted application or device).
  virtual void InvalidateDecoders() = 0;
};

}  // namespace bysans

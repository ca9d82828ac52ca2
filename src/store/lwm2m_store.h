// LwM2M registrations, server-initiated operations and active observations of devices (issue 20,
// lwm2m/, SQLite migrations 36, 38 and 43, PostgreSQL 10 and 22). Same contracts as store.h:
// thread-safe, Status errors. A device has at most one registration (a new Register replaces it);
// the peer address of a registration is not stored (the CoAP server keeps the session in memory).
// Deleting the device deletes both.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "model/model.h"

namespace bysans {

struct Lwm2mRegistration {
  Id device_id = 0;
  std::string registration_id;  // the Location-Path "rd/<id>" (random, unique)
  std::string endpoint;         // the `ep` the client gave: recorded, never an identity
  int64_t lifetime_s = 86400;
  std::string binding = "U";
  bool queue_mode = false;
  std::string version;  // `lwm2m=`, e.g. "1.1"
  std::string objects;  // the object instances, "/3303/0,/3304/0" (lwm2m/registration.h)
  TimeMs registered_ms = 0;
  TimeMs updated_ms = 0;  // of the last Register or Update
  // Expired: not registered any more (LwM2M Core §6.2.2).
  bool ExpiredAt(TimeMs now) const { return now > updated_ms + lifetime_s * 1000; }
};

enum class Lwm2mOpKind { kRead, kWrite, kExecute, kObserve, kCancelObserve };
enum class Lwm2mOpState { kQueued, kSent, kDone, kFailed };

struct Lwm2mOperation {
  Id id = 0;
  Id device_id = 0;
  Lwm2mOpKind kind = Lwm2mOpKind::kRead;
  std::string path;   // "/3/0/4"
  std::string value;  // write: the value (text); execute: the arguments (may be empty)
  Lwm2mOpState state = Lwm2mOpState::kQueued;
  int result_code = 0;         // the device's CoAP answer, e.g. 204; 0 = none yet
  std::string result_payload;  // its payload as text (read: the value)
  std::string error;           // failed: why
  TimeMs created_ms = 0;
  TimeMs updated_ms = 0;
};

// An observation the CoAP server holds (lwm2m/README.md "Observe"): written by the CoAP thread
// as it starts, notifies and ends, read by the API. Not carried over a restart.
struct Lwm2mObservation {
  Id device_id = 0;
  std::string path;  // "/3303/0"
  TimeMs since_ms = 0;
  int64_t notifications = 0;  // responses stored as readings (the first one included)
  TimeMs last_ms = 0;         // of the last one stored; 0 = none yet
};

class Lwm2mStore {
 public:
  virtual ~Lwm2mStore() = default;

  // Creates or replaces the device's registration. kNotFound: no such device.
  virtual Status PutRegistration(const Lwm2mRegistration& r) = 0;
  // kNotFound when the device has none (expired ones are returned: check ExpiredAt).
  virtual Result<Lwm2mRegistration> GetRegistration(Id device_id) = 0;
  // kNotFound for an unknown registration id.
  virtual Result<Lwm2mRegistration> FindRegistration(const std::string& registration_id) = 0;
  // De-registration. kNotFound when the device has none.
  virtual Status DeleteRegistration(Id device_id) = 0;

  // Stores a new operation (id and times set from `op`'s created_ms); returns it with its id.
  // kRateLimited when the device already has `max_open` open (queued or sent) ones: counted and
  // inserted at once, so two callers cannot both take the last place.
  virtual Result<Lwm2mOperation> AddOperation(Lwm2mOperation op, int max_open) = 0;
  // The device's operations, newest first, at most `limit`.
  virtual Result<std::vector<Lwm2mOperation>> ListOperations(Id device_id, int limit) = 0;
  // The open (queued or sent) operations of the devices `device_ids`: each device's oldest first
  // and at most `per_device` of each, device after device in the order given. Read per device
  // (index lwm2m_operations_device_open), so another device's backlog never hides them.
  virtual Result<std::vector<Lwm2mOperation>> OpenOperations(const std::vector<Id>& device_ids,
                                                             int per_device) = 0;
  // Fails at most `limit` open operations, of any device, whose last change (queued, or sent) was
  // before `before`: state failed, error `reason`, updated at `now`. Returns how many.
  virtual Result<int64_t> ExpireOperations(TimeMs before, const std::string& reason, TimeMs now,
                                           int limit) = 0;
  // Deletes at most `limit` finished (done or failed) operations, of any device, whose last change
  // was before `before`. Returns how many.
  virtual Result<int64_t> DeleteFinishedOperations(TimeMs before, int limit) = 0;
  // Records state, result and error. kNotFound: no such operation.
  virtual Status UpdateOperation(const Lwm2mOperation& op) = 0;

  // Creates or replaces the observation of (device, path). kNotFound: no such device.
  virtual Status PutObservation(const Lwm2mObservation& o) = 0;
  // Ends one (no error when there is none).
  virtual Status DeleteObservation(Id device_id, const std::string& path) = 0;
  // Ends all of a device's (device_id > 0), or of every device (0: at the server's start).
  virtual Status DeleteObservations(Id device_id) = 0;
  // The device's, by path.
  virtual Result<std::vector<Lwm2mObservation>> ListObservations(Id device_id) = 0;
};

inline const char* Lwm2mOpKindName(Lwm2mOpKind k) {
  switch (k) {
    case Lwm2mOpKind::kWrite:
      return "write";
    case Lwm2mOpKind::kExecute:
      return "execute";
    case Lwm2mOpKind::kObserve:
      return "observe";
    case Lwm2mOpKind::kCancelObserve:
      return "cancel-observe";
    default:
      return "read";
  }
}
inline const char* Lwm2mOpStateName(Lwm2mOpState s) {
  switch (s) {
    case Lwm2mOpState::kSent:
      return "sent";
    case Lwm2mOpState::kDone:
      return "done";
    case Lwm2mOpState::kFailed:
      return "failed";
    default:
      return "queued";
  }
}

// The stored names back (an unknown name is the first value: read, queued).
inline Lwm2mOpKind Lwm2mOpKindFromName(std::string_view s) {
  if (s == "write") return Lwm2mOpKind::kWrite;
  if (s == "execute") return Lwm2mOpKind::kExecute;
  if (s == "observe") return Lwm2mOpKind::kObserve;
  if (s == "cancel-observe") return Lwm2mOpKind::kCancelObserve;
  return Lwm2mOpKind::kRead;
}
inline Lwm2mOpState Lwm2mOpStateFromName(std::string_view s) {
  if (s == "sent") return Lwm2mOpState::kSent;
  if (s == "done") return Lwm2mOpState::kDone;
  if (s == "failed") return Lwm2mOpState::kFailed;
  return Lwm2mOpState::kQueued;
}

}  // namespace bysans

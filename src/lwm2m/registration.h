// LwM2M 1.1 Registration interface (OMA-TS-LightweightM2M_Core §6.2, Transport §6.4): the Uri-Query
// parameters of Register (`POST /rd?ep=..&lt=..&lwm2m=..&b=..&Q`) and Update
// (`POST /rd/<id>?lt=..&b=..`), and the CoRE link-format payload (RFC 6690) naming the
// client's object instances (`</1/0>,</3/0>,</3303/0>`). Pure functions, no sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace bysans::lwm2m {

struct RegisterParams {
  std::string endpoint;        // ep: required, 1..128 bytes
  int64_t lifetime_s = 86400;  // lt: default 86400 (Core §6.2.1), 1..10 years
  std::string version;         // lwm2m: "1.0", "1.1", ...; empty = not given (1.0)
  std::string binding = "U";   // b without Q: only U (UDP) is served
  bool queue_mode = false;     // Q (1.1), or a Q in b (1.0's "UQ")
};

struct UpdateParams {
  std::optional<int64_t> lifetime_s;
  std::optional<std::string> binding;
  std::optional<bool> queue_mode;  // set when b or Q is given
};

// Register's query. Ignores `k=` (bysans' device key on plain UDP) and parameters it does not
// use (sms, pid, ...). Errors (kInvalidArgument, naming the parameter): no ep, an lt that is not
// a positive integer, a version other than 1.x, a binding without U or with unknown letters.
Result<RegisterParams> ParseRegisterQuery(const std::vector<std::string>& query);
// Update's query: only what is present. Errors as ParseRegisterQuery's; ep is refused (an
// endpoint name cannot change).
Result<UpdateParams> ParseUpdateQuery(const std::vector<std::string>& query);

struct ObjectLink {
  int object = 0;
  int instance = -1;  // -1 = the object without an instance (`</3303>`)
  bool operator==(const ObjectLink&) const = default;
};

// The object instances of a registration payload. Entries are `<path>` with optional
// `;attribute` parameters, separated by commas; `</>` or an alternate root path with
// `rt="oma.lwm2m"` is skipped; a path under an alternate root is taken relative to it. Errors
// (kInvalidArgument, with the entry's position): an entry not in angle brackets, a path that is
// not /object or /object/instance with integers 0..65535, more than 1,000 entries.
Result<std::vector<ObjectLink>> ParseLinkFormat(std::string_view payload);

// "/3303/0,/3304/0,/3428" — what the store and the API show.
std::string ObjectsText(const std::vector<ObjectLink>& links);

}  // namespace bysans::lwm2m

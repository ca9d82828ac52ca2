// The answers of an NGSI-LD broker to an upsert: the BatchOperationResult of a 207
// (`success` ids, `errors` with `entityId` and a ProblemDetails `error`) and the
// ProblemDetails of an error status. Pure functions of untrusted text: bounded output.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace bysans::ngsild {

struct EntityError {
  std::string entity_id;
  std::string type;  // ProblemDetails type, e.g. ".../errors/BadRequestData"
  std::string title;
  std::string detail;
};

struct BatchResult {
  std::vector<std::string> success;
  std::vector<EntityError> errors;
};

// InvalidArgument when the body is not a BatchOperationResult. Strings are cut to 500 bytes,
// lists to 1,000 entries.
Result<BatchResult> ParseBatchResult(std::string_view body);

// "title: detail" of a ProblemDetails body (either may be absent), cut to 500 bytes; "" when
// the body is not one.
std::string ProblemSummary(std::string_view body);

}  // namespace bysans::ngsild

#include "ngsild_fuzz.h"

#include <string_view>

#include "core/json_depth.h"
#include "ngsild/batch_result.h"
#include "ngsild/entities.h"

namespace bysans::ngsild {

void FuzzNgsiLd(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ParseBatchResult(text);
  (void)ProblemSummary(text);
  if (!CheckJsonDepth(text).ok()) return;  // as every decoder output is checked before
  BuildInput in;
  in.device.id = 1;
  in.device.org_id = 1;
  in.decoded = nlohmann::json::parse(text, nullptr, false);
  if (in.decoded.is_discarded()) return;
  static const auto catalogue = Catalogue::Embedded();
  if (catalogue.ok()) (void)BuildEntities(in, *catalogue);
}

}  // namespace bysans::ngsild

// Fuzz target for the API's JSON gate: CheckJsonDepth (core/json_depth.h) must
// never let through a document that parses deeper than the limit, since
// nlohmann's dump(), copies and comparisons recurse. Oracle: the depth of the
// parsed value, measured without recursion. Built as a libFuzzer binary with
// clang and replayed by api_json_fuzz_replay with any compiler.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json_depth.h"

namespace {

// Nesting depth of `root` (a scalar is 0, [] or {} is 1), iteratively.
int DepthOf(const nlohmann::json& root) {
  int deepest = 0;
  std::vector<std::pair<const nlohmann::json*, int>> todo{{&root, 0}};
  while (!todo.empty()) {
    auto [v, d] = todo.back();
    todo.pop_back();
    if (!v->is_structured()) continue;
    deepest = std::max(deepest, d + 1);
    for (const auto& child : *v) todo.emplace_back(&child, d + 1);
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr int kLimit = 8;  // small, so that the fuzzer reaches it easily
  if (!bysans::CheckJsonDepth(text, kLimit).ok()) return 0;
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return 0;
  if (DepthOf(doc) > kLimit) std::abort();  // the gate let a deeper document through
  // What handlers and the audit log do with an accepted body.
  std::string dumped = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  nlohmann::json copy = doc;
  if (!(copy == doc)) std::abort();
  return dumped.empty() ? 1 : 0;
}

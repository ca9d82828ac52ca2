#include "query_fuzz_check.h"

#include <cstdlib>
#include <map>
#include <vector>

#include "sta/query/query.h"

namespace bysans::sta::fuzz {
namespace {

// Every entity relates to two others of the graph under every navigation name.
struct Node : EntityAccessor {
  std::vector<const Node*> next;
  int n = 0;
  Value Get(std::string_view property) const override {
    switch ((n + property.size()) % 6) {
      case 0:
        return Value(static_cast<int64_t>(n));
      case 1:
        return Value(1.5 * n);
      case 2:
        return Value("text" + std::to_string(n));
      case 3:
        return Value::Time(1'600'000'000'000 + n);
      case 4: {
        Geometry g;
        g.parts.push_back({GeometryPart::Kind::kPoint, {{{1.0 * n, 2.0}}}});
        return Value(std::move(g));
      }
      default:
        return {};
    }
  }
  void ForEachRelated(std::string_view,
                      const std::function<bool(const EntityAccessor&)>& fn) const override {
    for (const Node* x : next) {
      if (!fn(*x)) return;
    }
  }
};

// A message ending "... at position N": N must not exceed the input's size
// (other messages may quote the input, which may itself say "at position").
std::string CheckPosition(const std::string& message, size_t size) {
  size_t at = message.rfind("at position ");
  if (at == std::string::npos) return "";
  std::string_view digits = std::string_view(message).substr(at + 12);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return "";
  }
  if (std::strtoull(digits.data(), nullptr, 10) > size) {
    return "position outside the input: " + message;
  }
  return "";
}

}  // namespace

std::string CheckQuery(std::string_view input) {
  auto path = ParseResourcePath(input);
  if (!path.ok()) {
    for (char c : path.status().message()) {
      if (c < 0x20 || c > 0x7e) return "a path message byte that is not printable ASCII";
    }
    if (std::string p = CheckPosition(path.status().message(), input.size()); !p.empty()) return p;
  }
  auto options = ParseQueryOptions(input);
  if (!options.ok()) {
    const std::string& m = options.status().message();
    if (m.empty()) return "empty message";
    for (char c : m) {
      if (c < 0x20 || c > 0x7e) return "a message byte that is not printable ASCII: " + m;
    }
    return CheckPosition(m, input.size());
  }
  for (EntitySet set : kAllEntitySets) (void)Validate(*options, set);
  if (options->filter) {
    std::vector<Node> nodes(4);
    for (size_t i = 0; i < nodes.size(); ++i) {
      nodes[i].n = static_cast<int>(i);
      nodes[i].next = {&nodes[(i + 1) % 4], &nodes[(i + 2) % 4]};
    }
    (void)Matches(*options->filter, nodes[0], 1'700'000'000'000);
    (void)BoundsOn(*options->filter, "phenomenonTime");
    (void)EqualityOn(*options->filter, "Datastream/@iot.id");
  }
  return "";
}

}  // namespace bysans::sta::fuzz

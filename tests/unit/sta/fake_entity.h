// An in-memory EntityAccessor for the query language's tests.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sta/query/query.h"

namespace bysans::sta::testing {

struct FakeEntity : EntityAccessor {
  std::map<std::string, Value, std::less<>> props;
  std::map<std::string, std::vector<const FakeEntity*>, std::less<>> related;
  mutable int visits = 0;  // ForEachRelated callbacks made

  Value Get(std::string_view property) const override {
    auto it = props.find(property);
    return it == props.end() ? Value() : it->second;
  }
  void ForEachRelated(std::string_view nav,
                      const std::function<bool(const EntityAccessor&)>& fn) const override {
    auto it = related.find(nav);
    if (it == related.end()) return;
    for (const FakeEntity* e : it->second) {
      ++visits;
      if (!fn(*e)) return;
    }
  }
};

}  // namespace bysans::sta::testing

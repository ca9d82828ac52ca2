// The query library's EntityAccessor over one SensorThings entity of a Catalog: what $filter and
// $orderby read. Navigation reaches only the Catalog's entities (the caller's organisations);
// navigation to Observations reads the store a page at a time and stops when the evaluator does.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "sta/catalog.h"
#include "sta/query/query.h"

namespace bysans::sta {

class Accessor final : public EntityAccessor {
 public:
  // `error` receives the first store error met while navigating (the evaluator's callback
  // cannot return one); the caller checks it after evaluating.
  Accessor(Catalog& catalog, const Entity& entity, Status* error);

  Value Get(std::string_view property) const override;
  void ForEachRelated(std::string_view nav,
                      const std::function<bool(const EntityAccessor&)>& fn) const override;

 private:
  Catalog& catalog_;
  const Entity& entity_;
  Status* error_;
  mutable std::optional<nlohmann::json> props_;
};

}  // namespace bysans::sta

#include "store/postgres/writer_share.h"

#include <algorithm>

namespace bysans::pg {

void WriterShare::SetNodes(size_t nodes) {
  std::lock_guard lock(mu_);
  in_use_ = std::max<size_t>(1, writers_ / std::max<size_t>(1, nodes));
}

size_t WriterShare::in_use() const {
  std::lock_guard lock(mu_);
  return in_use_;
}

size_t WriterShare::Take(Id device) {
  if (writers_ == 1) return 0;
  std::lock_guard lock(mu_);
  auto [it, fresh] = on_way_.try_emplace(device, 0, 0);
  if (fresh) it->second.first = static_cast<size_t>(device) % in_use_;
  ++it->second.second;
  return it->second.first;
}

void WriterShare::Finished(Id device) {
  if (writers_ == 1) return;
  std::lock_guard lock(mu_);
  auto it = on_way_.find(device);
  if (it != on_way_.end() && --it->second.second == 0) on_way_.erase(it);
}

}  // namespace bysans::pg

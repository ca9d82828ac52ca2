#include "pipeline/org_window.h"

namespace bysans::pipeline {

bool OrgWindow::TryTake(Id org) {
  std::lock_guard lock(mu_);
  if (max_per_org_ == 0) return false;
  size_t& n = held_[org];  // an entry exists only while the organisation holds a place
  if (n >= max_per_org_) return false;
  ++n;
  return true;
}

void OrgWindow::Give(Id org) {
  std::lock_guard lock(mu_);
  auto it = held_.find(org);
  if (it == held_.end()) return;
  if (--it->second == 0) held_.erase(it);
}

}  // namespace bysans::pipeline

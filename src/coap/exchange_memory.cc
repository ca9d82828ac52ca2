#include "coap/exchange_memory.h"

#include <algorithm>

namespace bysans::coap {

const Answer* ExchangeMemory::Find(const std::string& key, TimeMs now) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.at + limits_.lifetime_ms < now) return nullptr;
  return &it->second.answer;
}

size_t ExchangeMemory::DeviceEntries(Id device) const {
  auto it = by_device_.find(device);
  return it == by_device_.end() ? 0 : it->second.size();
}

void ExchangeMemory::Erase(const std::string& key) {
  auto it = entries_.find(key);  // `key` may be a list's copy, gone once its node is erased
  Entry& e = it->second;
  if (e.device == 0) {
    refused_.erase(e.in_order);
  } else {
    accepted_.erase(e.in_order);
    auto d = by_device_.find(e.device);
    d->second.erase(e.in_device);
    if (d->second.empty()) by_device_.erase(d);
  }
  entries_.erase(it);
}

void ExchangeMemory::Expire(Keys& order, TimeMs now) {
  while (!order.empty()) {
    auto it = entries_.find(order.front());
    if (it->second.at + limits_.lifetime_ms >= now) return;
    Erase(order.front());
  }
}

void ExchangeMemory::Remember(const std::string& key, Id device, Answer answer, TimeMs now) {
  if (auto it = entries_.find(key); it != entries_.end()) {
    if (it->second.at + limits_.lifetime_ms >= now) {
      it->second.answer = std::move(answer);
      return;
    }
    Erase(key);  // the same endpoint and message id again, after the lifetime: a new exchange
  }
  Expire(accepted_, now);
  Expire(refused_, now);
  Entry e;
  e.answer = std::move(answer);
  e.at = now;
  e.device = device;
  if (device == 0) {
    e.in_order = refused_.insert(refused_.end(), key);
    entries_.emplace(key, std::move(e));
    while (refused_.size() > limits_.refused) Erase(refused_.front());
    return;
  }
  Keys& mine = by_device_[device];
  e.in_order = accepted_.insert(accepted_.end(), key);
  e.in_device = mine.insert(mine.end(), key);
  entries_.emplace(key, std::move(e));
  if (mine.size() > limits_.per_device) Erase(mine.front());
  while (accepted_.size() > limits_.accepted) {
    const size_t fair = std::max<size_t>(1, limits_.accepted / by_device_.size());
    auto own = by_device_.find(device);
    if (own != by_device_.end() && own->second.size() > fair) {
      Erase(own->second.front());
    } else {
      Erase(accepted_.front());
    }
  }
}

}  // namespace bysans::coap

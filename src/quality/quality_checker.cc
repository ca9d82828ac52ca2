#include "quality/quality_checker.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace bysans::quality {

StringMap<Range> ParseRanges(const std::string& doc_json) {
  StringMap<Range> out;
  auto doc = nlohmann::json::parse(doc_json, nullptr, false);
  if (!doc.is_object()) return out;
  auto it = doc.find("x-bysans-ranges");
  if (it == doc.end() || !it->is_object()) return out;
  for (const auto& item : it->items()) {
    const std::string& key = item.key();
    const nlohmann::json& spec = item.value();
    if (!spec.is_object()) continue;
    Range r;
    auto num = [&](const char* f) -> std::optional<double> {
      auto m = spec.find(f);
      if (m == spec.end() || !m->is_number()) return std::nullopt;
      return m->get<double>();
    };
    r.min = num("min");
    r.max = num("max");
    r.max_rate_per_s = num("maxRatePerS");
    if (auto n = num("stuckCount"); n && *n >= 2) r.stuck_count = static_cast<int>(*n);
    if (auto u = spec.find("unit"); u != spec.end() && u->is_string())
      r.unit = u->get<std::string>();
    out.emplace(key, std::move(r));
  }
  return out;
}

std::shared_ptr<const StringMap<Range>> QualityChecker::RangesOf(const Device& d, TimeMs now) {
  if (!d.device_model_id) return nullptr;
  // A model changed on another node (several nodes on PostgreSQL): every model is read again.
  if (const uint64_t g = meta_.devices_generation(); g != models_generation_) {
    models_.clear();
    models_generation_ = g;
  }
  Id id = *d.device_model_id;
  if (auto it = models_.find(id);
      it != models_.end() && now - it->second.loaded_ms < options_.model_cache_ms)
    return it->second.ranges;
  auto m = meta_.GetDeviceModel(id);
  auto ranges = std::make_shared<const StringMap<Range>>(m.ok() ? ParseRanges(m->doc_json)
                                                                : StringMap<Range>{});
  models_[id] = {ranges, now};
  return ranges;
}

void QualityChecker::Check(const Device& device, std::vector<Reading>& readings) {
  if (readings.empty()) return;
  TimeMs now = clock_.NowMs();
  std::lock_guard lock(mu_);
  auto ranges = RangesOf(device, now);
  auto& last = last_[device.id];
  for (Reading& r : readings) {
    r.quality = Quality::kOk;
    if (r.ts < now - options_.late_past_ms || r.ts > now + options_.late_future_ms)
      r.quality = Quality::kLate;
    const Range* range = nullptr;
    if (ranges) {
      auto it = ranges->find(r.key);
      if (it == ranges->end()) {
        size_t dot = r.key.rfind('.');
        if (dot != std::string::npos) it = ranges->find(std::string_view(r.key).substr(dot + 1));
      }
      if (it != ranges->end()) range = &it->second;
    }
    if (!range) continue;
    if (r.unit.empty()) r.unit = range->unit;
    const double* v = std::get_if<double>(&r.value);
    if (!v) continue;
    if (r.quality == Quality::kOk &&
        ((range->min && *v < *range->min) || (range->max && *v > *range->max)))
      r.quality = Quality::kOutOfRange;
    if (r.quality != Quality::kOk) continue;  // late / out of range: not a base for the next
    auto [it, fresh] = last.try_emplace(r.key);
    Last& prev = it->second;
    if (!fresh && range->max_rate_per_s && r.ts > prev.ts) {
      double rate = std::fabs(*v - prev.value) / (static_cast<double>(r.ts - prev.ts) / 1000.0);
      if (rate > *range->max_rate_per_s) r.quality = Quality::kSpike;
    }
    prev.repeats = (!fresh && prev.value == *v) ? prev.repeats + 1 : 1;
    int stuck = range->stuck_count > 0 ? range->stuck_count : options_.stuck_count;
    if (r.quality == Quality::kOk && prev.repeats >= stuck) r.quality = Quality::kStuck;
    prev.value = *v;
    prev.ts = r.ts;
  }
}

}  // namespace bysans::quality

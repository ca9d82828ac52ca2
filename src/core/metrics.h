// Process metrics in Prometheus text format (prometheus-cpp core), served on
// GET /metrics. One Metrics object is created by server/ and passed down.
// Thread-safe; the returned references live as long as the Metrics object.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <string>

namespace bysans {

class Metrics {
 public:
  using Labels = std::map<std::string, std::string>;
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  prometheus::Counter& Counter(const std::string& name, const std::string& help,
                               const Labels& labels = {});
  prometheus::Gauge& Gauge(const std::string& name, const std::string& help,
                           const Labels& labels = {});
  // Latency histogram in seconds with buckets from 100 µs to 10 s.
  prometheus::Histogram& Histogram(const std::string& name, const std::string& help,
                                   const Labels& labels = {});
  // The text exposition format (version 0.0.4).
  std::string Serialize() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace bysans

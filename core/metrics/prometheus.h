// The Prometheus text exposition format (version 0.0.4): samples gathered from every shard are
// grouped by metric family (one HELP and TYPE line each, every sample of a family together, as
// the format requires) and written out. Label values are escaped.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/metrics/latency_buckets.h"

namespace ringlog::core::metrics {

enum class MetricType { counter, gauge, histogram };

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
    std::string family;  // e.g. "ringlog_requests_total"
    std::string help;
    MetricType type = MetricType::counter;
    Labels labels;
    double value = 0;                         // counters and gauges
    const LatencyBuckets* buckets = nullptr;  // histograms: read while formatting, on the shard
};

// Collects samples; histograms are expanded into _bucket/_sum/_count lines at once (in seconds,
// Prometheus's unit), so the result holds no pointers.
class SampleSet {
public:
    void add(Sample sample);

    // Everything, grouped by family in first-seen order.
    std::string text() const;

    void append(SampleSet other);

private:
    struct Line {
        std::string family;
        std::string help;
        MetricType type;
        std::string text;  // whole sample lines, each ending in '\n'
    };

    std::vector<Line> lines_;
};

}  // namespace ringlog::core::metrics

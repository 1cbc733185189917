// What one shard counts about itself for /metrics: requests and their latency per Kafka API,
// connections. Per-partition counts live in Partition (PartitionCounters), per-log ones in
// LogStats. Plain integers: only the shard writes them, and the scrape reads them on the shard.
#pragma once

#include <array>
#include <cstdint>

#include "core/metrics/latency_buckets.h"

namespace ringlog::core::metrics {

struct ApiMetrics {
    uint64_t requests = 0;
    LatencyBuckets latency;
};

struct ShardMetrics {
    static constexpr size_t api_key_count = 64;  // every API key the broker serves is below it

    std::array<ApiMetrics, api_key_count> by_api{};
    uint64_t requests_refused = 0;  // closed: unknown API or version, or a malformed request
    uint64_t connections_open = 0;
    uint64_t connections_accepted = 0;
};

// Per partition, kept by the produce and fetch handlers.
struct PartitionCounters {
    uint64_t bytes_in = 0;
    uint64_t records_in = 0;
    uint64_t bytes_out = 0;
    uint64_t produce_errors = 0;
};

}  // namespace ringlog::core::metrics

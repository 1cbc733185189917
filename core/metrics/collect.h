// What one shard contributes to a scrape: its request and connection counts, and each of its
// partitions' traffic, offsets, size and sync latency. Runs on that shard; the result holds
// only text, so it can travel to the shard serving /metrics.
#pragma once

#include "core/metrics/prometheus.h"
#include "core/shard_local.h"

namespace ringlog::core::metrics {

SampleSet collect_shard(const ShardLocal& local);

}  // namespace ringlog::core::metrics

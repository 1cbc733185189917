// What one shard contributes to a scrape: its request and connection counts, and each of its
// partitions' traffic, offsets, size and sync latency. Runs on that shard; the result holds
// only text, so it can travel to the shard serving /metrics.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/group/coordinator.h"
#include "core/metrics/prometheus.h"
#include "core/shard_local.h"

namespace ringlog::core::metrics {

// A shard's part of a scrape: its samples, and what the consumer-lag metric joins across
// shards (a group's coordinator and its partitions may live on different shards).
struct ShardScrape {
    SampleSet samples;
    std::vector<group::CommittedPosition> committed;

    struct Watermark {
        std::string topic;
        int32_t partition;
        int64_t high_watermark;
    };

    std::vector<Watermark> watermarks;
};

SampleSet collect_shard(const ShardLocal& local);

ShardScrape scrape_shard(const ShardLocal& local, const group::GroupCoordinator* groups);

// ringlog_consumer_group_lag{group,topic,partition}: high watermark minus committed offset, for
// every committed offset whose partition some shard reported.
SampleSet consumer_lag(const std::vector<ShardScrape>& shards);

}  // namespace ringlog::core::metrics

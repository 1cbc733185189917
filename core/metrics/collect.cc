#include "core/metrics/collect.h"

#include <algorithm>
#include <map>
#include <string>

#include <absl/strings/str_cat.h>

#include "net/kafka/generated/api_keys.h"

namespace ringlog::core::metrics {
namespace {

void add(SampleSet& set, const char* family, const char* help, MetricType type, Labels labels,
         double value) {
    Sample sample;
    sample.family = family;
    sample.help = help;
    sample.type = type;
    sample.labels = std::move(labels);
    sample.value = value;
    set.add(std::move(sample));
}

void add_histogram(SampleSet& set, const char* family, const char* help, Labels labels,
                   const LatencyBuckets& buckets) {
    Sample sample;
    sample.family = family;
    sample.help = help;
    sample.type = MetricType::histogram;
    sample.labels = std::move(labels);
    sample.buckets = &buckets;
    set.add(std::move(sample));
}

}  // namespace

SampleSet collect_shard(const ShardLocal& local) {
    SampleSet set;
    const std::string shard = absl::StrCat(local.shard().id().value());
    const ShardMetrics& counts = local.metrics();
    for (size_t key = 0; key < counts.by_api.size(); ++key) {
        const ApiMetrics& api = counts.by_api[key];
        if (api.requests == 0) {
            continue;
        }
        const std::string name(net::kafka::api_key_name(static_cast<int16_t>(key)));
        add(set, "ringlog_requests_total", "Kafka requests handled, by API.", MetricType::counter,
            {{"shard", shard}, {"api", name}}, static_cast<double>(api.requests));
        add_histogram(set, "ringlog_request_latency_seconds",
                      "Time from a request's decoding to its response being ready, by API.",
                      {{"shard", shard}, {"api", name}}, api.latency);
    }
    add(set, "ringlog_requests_refused_total",
        "Requests that closed their connection: unknown API or version, malformed body.",
        MetricType::counter, {{"shard", shard}}, static_cast<double>(counts.requests_refused));
    add(set, "ringlog_connections", "Open Kafka connections.", MetricType::gauge,
        {{"shard", shard}}, static_cast<double>(counts.connections_open));
    add(set, "ringlog_connections_accepted_total", "Kafka connections accepted.",
        MetricType::counter, {{"shard", shard}}, static_cast<double>(counts.connections_accepted));
    add(set, "ringlog_partitions", "Partitions owned by the shard.", MetricType::gauge,
        {{"shard", shard}}, static_cast<double>(local.partition_count()));
    if (const io::BufferPool* pool = local.tail_pool()) {
        add(set, "ringlog_tail_memory_bytes",
            "Memory of the shard's log-tail chunks that holds data (the pool's and overflow).",
            MetricType::gauge, {{"shard", shard}}, static_cast<double>(pool->in_use_bytes()));
        add(set, "ringlog_tail_memory_overflow_bytes",
            "Tail chunks made beyond the pool when it ran out, kept for reuse.", MetricType::gauge,
            {{"shard", shard}}, static_cast<double>(pool->overflow_count() * pool->buffer_bytes()));
        add(set, "ringlog_tail_memory_capacity_bytes", "Size of the shard's log-tail pool.",
            MetricType::gauge, {{"shard", shard}},
            static_cast<double>(pool->count() * pool->buffer_bytes()));
    }
    if (const GroupSync* group = local.group_sync()) {
        const GroupSyncStats& sync = group->stats();
        add(set, "ringlog_group_sync_requests_total",
            "Syncs the shard's logs asked for (core/group_sync.h).", MetricType::counter,
            {{"shard", shard}}, static_cast<double>(sync.requests));
        add(set, "ringlog_group_sync_rounds_total",
            "Sync rounds: an fdatasync for one waiting log, a syncfs for several.",
            MetricType::counter, {{"shard", shard}, {"kind", "fdatasync"}},
            static_cast<double>(sync.file_syncs));
        add(set, "ringlog_group_sync_rounds_total",
            "Sync rounds: an fdatasync for one waiting log, a syncfs for several.",
            MetricType::counter, {{"shard", shard}, {"kind", "syncfs"}},
            static_cast<double>(sync.file_system_syncs));
        add(set, "ringlog_group_sync_rounds_total",
            "Sync rounds: an fdatasync for one waiting log, a syncfs for several.",
            MetricType::counter, {{"shard", shard}, {"kind", "dsync_write"}},
            static_cast<double>(sync.solo_writes));
        add(set, "ringlog_group_sync_failed_rounds_total",
            "Sync rounds that failed (every log in them rolls back).", MetricType::counter,
            {{"shard", shard}}, static_cast<double>(sync.failed_rounds));
        add_histogram(set, "ringlog_group_sync_round_seconds", "Duration of each sync round.",
                      {{"shard", shard}}, sync.round_latency);
    }
    local.for_each_partition([&](const Partition& partition) {
        const Labels labels = {{"shard", shard},
                               {"topic", partition.topic()},
                               {"partition", absl::StrCat(partition.index())}};
        const PartitionCounters& traffic = partition.counters();
        const Log& log = partition.log();
        add(set, "ringlog_partition_bytes_in_total", "Record batch bytes appended.",
            MetricType::counter, labels, static_cast<double>(traffic.bytes_in));
        add(set, "ringlog_partition_records_in_total", "Records appended.", MetricType::counter,
            labels, static_cast<double>(traffic.records_in));
        add(set, "ringlog_partition_bytes_out_total", "Record batch bytes fetched.",
            MetricType::counter, labels, static_cast<double>(traffic.bytes_out));
        add(set, "ringlog_partition_produce_errors_total", "Produce requests refused or failed.",
            MetricType::counter, labels, static_cast<double>(traffic.produce_errors));
        add(set, "ringlog_log_end_offset", "The offset the next append gets.", MetricType::gauge,
            labels, static_cast<double>(log.log_end_offset().value()));
        add(set, "ringlog_log_start_offset", "The first offset still stored.", MetricType::gauge,
            labels, static_cast<double>(log.log_start_offset().value()));
        add(set, "ringlog_high_watermark", "What consumers can read (durable under always).",
            MetricType::gauge, labels, static_cast<double>(log.high_watermark().value()));
        add(set, "ringlog_log_size_bytes", "Bytes in the partition's segments.", MetricType::gauge,
            labels, static_cast<double>(log.size_bytes()));
        add(set, "ringlog_log_segments", "Segment files.", MetricType::gauge, labels,
            static_cast<double>(log.segment_count()));
        add(set, "ringlog_log_syncs_total", "fdatasync calls or RWF_DSYNC writes.",
            MetricType::counter, labels, static_cast<double>(log.stats().syncs));
        add(set, "ringlog_log_recycled_segments_total",
            "Segments made from a retained segment's file (already written blocks).",
            MetricType::counter, labels, static_cast<double>(log.stats().recycled_segments));
        add_histogram(set, "ringlog_log_sync_latency_seconds",
                      "Duration of each sync of the active segment.", labels,
                      log.stats().sync_latency);
        add_histogram(set, "ringlog_log_append_stall_seconds",
                      "Appends that waited before they were stored (the disk behind, or a "
                      "segment roll), by how long.",
                      labels, log.stats().append_stall);
    });
    return set;
}

ShardScrape scrape_shard(const ShardLocal& local, const group::GroupCoordinator* groups) {
    ShardScrape scrape;
    scrape.samples = collect_shard(local);
    local.for_each_partition([&](const Partition& partition) {
        scrape.watermarks.push_back(
            {partition.topic(), partition.index(), partition.log().high_watermark().value()});
    });
    if (groups != nullptr) {
        scrape.committed = groups->committed_positions();
        for (const group::CommittedPosition& position : scrape.committed) {
            add(scrape.samples, "ringlog_group_committed_offset",
                "A consumer group's committed offset.", MetricType::gauge,
                {{"group", position.group_id},
                 {"topic", position.topic},
                 {"partition", absl::StrCat(position.partition)}},
                static_cast<double>(position.offset));
        }
    }
    return scrape;
}

SampleSet consumer_lag(const std::vector<ShardScrape>& shards) {
    std::map<std::pair<std::string, int32_t>, int64_t> watermarks;
    for (const ShardScrape& shard : shards) {
        for (const ShardScrape::Watermark& mark : shard.watermarks) {
            watermarks[{mark.topic, mark.partition}] = mark.high_watermark;
        }
    }
    SampleSet lag;
    for (const ShardScrape& shard : shards) {
        for (const group::CommittedPosition& position : shard.committed) {
            const auto it = watermarks.find({position.topic, position.partition});
            if (it == watermarks.end() || position.offset < 0) {
                continue;
            }
            add(lag, "ringlog_consumer_group_lag",
                "Messages a consumer group has not committed yet: high watermark minus the "
                "committed offset.",
                MetricType::gauge,
                {{"group", position.group_id},
                 {"topic", position.topic},
                 {"partition", absl::StrCat(position.partition)}},
                static_cast<double>(std::max<int64_t>(0, it->second - position.offset)));
        }
    }
    return lag;
}

}  // namespace ringlog::core::metrics

// ListOffsets (key 2): a partition's earliest (-2) or latest (-1) offset, or the first offset
// whose timestamp is at or after a given time. "Latest" is the high watermark: what a consumer
// can read (under durability=always, what is on disk). MAX_TIMESTAMP (-3, v7, KIP-734) gives
// the largest timestamp and the base offset of the batch holding it (batch granularity: the
// records of a compressed batch are never opened for it).
#include "net/kafka/generated/list_offsets.h"

#include <vector>

#include "core/api/handlers.h"
#include "io/task_group.h"

namespace ringlog::core::api {
namespace {

using net::kafka::ListOffsetsRequest;
using net::kafka::ListOffsetsResponse;

constexpr int64_t latest_timestamp = -1;
constexpr int64_t earliest_timestamp = -2;
constexpr int64_t max_timestamp = -3;

struct OffsetQuery {
    std::string_view topic;
    int32_t partition;
    int64_t timestamp;
    ListOffsetsResponse::ListOffsetsPartitionResponse* out;
};

io::Task<void> answer(ShardLocal& local, OffsetQuery query) {
    auto& out = *query.out;
    Partition* found = local.find(query.topic, query.partition);
    if (found == nullptr) {
        out.error_code = code(ErrorCode::unknown_topic_or_partition);
        co_return;
    }
    Partition::Use partition = found->use();
    Log& log = partition->log();
    out.leader_epoch = 0;
    if (query.timestamp == latest_timestamp) {
        out.offset = log.high_watermark().value();
    } else if (query.timestamp == earliest_timestamp) {
        out.offset = log.log_start_offset().value();
    } else if (query.timestamp == max_timestamp) {
        if (const auto found_max = log.max_timestamp()) {
            out.offset = found_max->offset.value();
            out.timestamp = found_max->timestamp_ms;
        } else {
            out.offset = -1;
            out.timestamp = -1;
        }
    } else if (query.timestamp < 0) {
        out.error_code = code(ErrorCode::invalid_request);  // no such special timestamp
    } else {
        absl::StatusOr<std::optional<Offset>> found_offset =
            co_await log.offset_for_timestamp(query.timestamp);
        if (!found_offset.ok()) {
            out.error_code = code(error_for_storage(found_offset.status()));
        } else if (found_offset->has_value()) {
            out.offset = (*found_offset)->value();
            out.timestamp = query.timestamp;
        } else {
            // No such record: Kafka answers offset -1, timestamp -1.
            out.offset = -1;
            out.timestamp = -1;
        }
    }
}

io::Task<void> answer_on_shard(ShardLocal& local, std::vector<OffsetQuery> queries) {
    for (const OffsetQuery& query : queries) {
        co_await answer(local, query);
    }
}

io::Task<void> answer_remote(Broker& broker, ShardId shard, std::vector<OffsetQuery> queries) {
    auto call = [&broker, shard, queries = std::move(queries)]() mutable {
        return answer_on_shard(broker.local_of(shard), std::move(queries));
    };
    co_await broker.shards().submit_to(shard, std::move(call));
}

}  // namespace

io::Task<Reply> handle_list_offsets(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<ListOffsetsRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    const int shard_count = context.broker.shard_count();
    std::vector<std::vector<OffsetQuery>> by_shard(static_cast<size_t>(shard_count));
    ListOffsetsResponse response;
    response.topics.reserve(request->topics.size());
    for (const auto& topic : request->topics) {
        auto& topic_out = response.topics.emplace_back();
        topic_out.name = topic.name;
        topic_out.partitions.resize(topic.partitions.size());
        const TopicInfo* info = context.local.catalog().find(topic.name);
        for (size_t i = 0; i < topic.partitions.size(); ++i) {
            const auto& partition = topic.partitions[i];
            auto& out = topic_out.partitions[i];
            out.partition_index = partition.partition_index;
            if (info == nullptr || partition.partition_index < 0
                || partition.partition_index >= info->partitions) {
                out.error_code = code(ErrorCode::unknown_topic_or_partition);
                continue;
            }
            by_shard[shard_for(topic.name, partition.partition_index, shard_count).value()]
                .push_back({topic.name, partition.partition_index, partition.timestamp, &out});
        }
    }
    io::TaskGroup shards;
    const ShardId here = context.local.shard().id();
    for (int i = 0; i < shard_count; ++i) {
        auto& queries = by_shard[static_cast<size_t>(i)];
        if (queries.empty()) {
            continue;
        }
        const ShardId shard(static_cast<uint32_t>(i));
        if (shard == here) {
            shards.spawn(answer_on_shard(context.local, std::move(queries)));
        } else {
            shards.spawn(answer_remote(context.broker, shard, std::move(queries)));
        }
    }
    co_await shards.wait_idle();
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api

// OffsetFetch (key 9): a group's committed offsets (-1 where none), for the partitions asked
// or, with a null topic list (v2+), all of them. v8 asks for several groups at once. There are
// no transactions, so require_stable changes nothing. Each group is answered by its
// coordinator shard.
#include "net/kafka/generated/offset_fetch.h"

#include <deque>

#include "core/api/group_calls.h"
#include "core/api/handlers.h"

namespace ringlog::core::api {
namespace {

template <typename Topics>
group::OffsetQuery make_query(const std::optional<std::vector<Topics>>& topics) {
    if (!topics.has_value()) {
        return std::nullopt;
    }
    group::OffsetQuery query;
    query.emplace();
    for (const auto& topic : *topics) {
        query->emplace_back(topic.name, topic.partition_indexes);
    }
    return query;
}

io::Task<group::FetchedOffsets> fetch_group(RequestContext& context, std::string_view group_id,
                                            const group::OffsetQuery& query) {
    const std::optional<ShardId> shard = coordinator_shard(context, group_id);
    if (group_id.empty() || !shard.has_value()) {
        group::FetchedOffsets failed;
        failed.error =
            group_id.empty() ? ErrorCode::invalid_group_id : ErrorCode::coordinator_not_available;
        co_return failed;
    }
    Broker& broker = context.broker;
    const ShardId target = *shard;
    auto call = [&broker, target, group_id, &query] {
        return broker.groups_of(target).fetch_offsets(group_id, query);
    };
    co_return co_await broker.shards().submit_to(target, std::move(call));
}

// Fills `out` (either response partition type) from the coordinator's answer. Views point
// into `fetched`, which outlives the encoding.
template <typename TopicOut>
void fill_topics(const group::FetchedOffsets& fetched, std::vector<TopicOut>& out) {
    for (const group::FetchedTopic& topic : fetched.topics) {
        auto& topic_out = out.emplace_back();
        topic_out.name = topic.name;
        for (const group::FetchedPartition& partition : topic.partitions) {
            auto& partition_out = topic_out.partitions.emplace_back();
            partition_out.partition_index = partition.partition;
            partition_out.committed_offset = partition.offset;
            partition_out.committed_leader_epoch = partition.leader_epoch;
            partition_out.metadata = partition.metadata;
            partition_out.error_code =
                code(fetched.error != ErrorCode::none ? fetched.error : partition.error);
        }
    }
}

}  // namespace

io::Task<Reply> handle_offset_fetch(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<net::kafka::OffsetFetchRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    net::kafka::OffsetFetchResponse response;
    std::deque<group::FetchedOffsets> kept;  // what the response's views point into
    if (context.version() >= 8) {
        for (const auto& group : request->groups) {
            kept.push_back(co_await fetch_group(context, group.group_id, make_query(group.topics)));
            auto& out = response.groups.emplace_back();
            out.group_id = group.group_id;
            out.error_code = code(kept.back().error);
            fill_topics(kept.back(), out.topics);
        }
    } else {
        kept.push_back(
            co_await fetch_group(context, request->group_id, make_query(request->topics)));
        response.error_code = code(kept.back().error);
        fill_topics(kept.back(), response.topics);
    }
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api

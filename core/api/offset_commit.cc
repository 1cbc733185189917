// OffsetCommit (key 8): a group's consumed positions, written to __consumer_offsets (acks=all:
// on stable storage under durability=always) before the answer. Members commit with their
// generation; a consumer without group management commits with generation -1 while the group
// has no members. Forwarded to the group's coordinator shard, which fills the errors.
#include "net/kafka/generated/offset_commit.h"

#include "core/api/group_calls.h"
#include "core/api/handlers.h"

namespace ringlog::core::api {

io::Task<Reply> handle_offset_commit(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<net::kafka::OffsetCommitRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    net::kafka::OffsetCommitResponse response;
    response.topics.reserve(request->topics.size());
    for (const auto& topic : request->topics) {
        auto& out = response.topics.emplace_back();
        out.name = topic.name;
        for (const auto& partition : topic.partitions) {
            out.partitions.push_back({.partition_index = partition.partition_index,
                                      .error_code = code(ErrorCode::none)});
        }
    }
    const std::optional<ShardId> shard = coordinator_shard(context, request->group_id);
    if (request->group_id.empty() || !shard.has_value()) {
        const ErrorCode error = request->group_id.empty() ? ErrorCode::invalid_group_id
                                                          : ErrorCode::coordinator_not_available;
        for (auto& topic : response.topics) {
            for (auto& partition : topic.partitions) {
                partition.error_code = code(error);
            }
        }
        co_return encode_reply(context, response);
    }
    Broker& broker = context.broker;
    const ShardId target = *shard;
    const auto& commit = *request;
    auto call = [&broker, target, &commit, &response] {
        return broker.groups_of(target).commit(commit, response);
    };
    co_await broker.shards().submit_to(target, std::move(call));
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api

// OffsetDelete (key 47, KIP-496): removes a group's committed offsets for some partitions,
// refused (GROUP_SUBSCRIBED_TO_TOPIC) for topics the group's live members subscribe to.
// Forwarded to the group's coordinator shard, which fills the errors.
#include "net/kafka/generated/offset_delete.h"

#include "core/api/group_calls.h"
#include "core/api/handlers.h"

namespace ringlog::core::api {

io::Task<Reply> handle_offset_delete(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<net::kafka::OffsetDeleteRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    net::kafka::OffsetDeleteResponse response;
    for (const auto& topic : request->topics) {
        auto& out = response.topics.emplace_back();
        out.name = topic.name;
        for (const auto& partition : topic.partitions) {
            out.partitions.push_back(
                {.partition_index = partition.partition_index, .error_code = 0});
        }
    }
    const std::optional<ShardId> shard = coordinator_shard(context, request->group_id);
    if (request->group_id.empty() || !shard.has_value()) {
        response.error_code =
            code(request->group_id.empty() ? ErrorCode::invalid_group_id
                                           : ErrorCode::coordinator_not_available);
        co_return encode_reply(context, response);
    }
    Broker& broker = context.broker;
    const ShardId target = *shard;
    const auto& deletion = *request;
    auto call = [&broker, target, &deletion, &response] {
        return broker.groups_of(target).delete_offsets(deletion, response);
    };
    co_await broker.shards().submit_to(target, std::move(call));
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api

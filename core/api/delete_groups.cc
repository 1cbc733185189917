// DeleteGroups (key 42): removes groups that have no members, with their committed offsets
// (tombstones in __consumer_offsets). NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND
// for a group nobody knows. Each group is handled by its coordinator shard.
#include "net/kafka/generated/delete_groups.h"

#include "core/api/group_calls.h"
#include "core/api/handlers.h"

namespace ringlog::core::api {

io::Task<Reply> handle_delete_groups(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<net::kafka::DeleteGroupsRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    Broker& broker = context.broker;
    net::kafka::DeleteGroupsResponse response;
    for (const std::string_view group_id : request->groups_names) {
        auto& out = response.results.emplace_back();
        out.group_id = group_id;
        const std::optional<ShardId> shard = coordinator_shard(context, group_id);
        if (group_id.empty() || !shard.has_value()) {
            out.error_code = code(group_id.empty() ? ErrorCode::invalid_group_id
                                                   : ErrorCode::coordinator_not_available);
            continue;
        }
        const ShardId target = *shard;
        auto call = [&broker, target, group_id] {
            return broker.groups_of(target).delete_group(group_id);
        };
        out.error_code = code(co_await broker.shards().submit_to(target, std::move(call)));
    }
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api

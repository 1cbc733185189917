// SyncGroup (key 14): after JoinGroup, the leader sends every member's assignment and the
// others wait for theirs. The leader's is stored in __consumer_offsets before anyone is
// answered, so a restarted broker knows the stable group. Forwarded to the coordinator shard.
#include "net/kafka/generated/sync_group.h"

#include "core/api/group_calls.h"
#include "core/api/handlers.h"

namespace ringlog::core::api {

using net::kafka::SyncGroupRequest;
using net::kafka::SyncGroupResponse;

io::Task<Reply> handle_sync_group(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<SyncGroupRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    group::SyncResult result;
    const std::optional<ShardId> shard = coordinator_shard(context, request->group_id);
    if (request->group_id.empty()) {
        result.error = ErrorCode::invalid_group_id;
    } else if (!shard.has_value()) {
        result.error = ErrorCode::coordinator_not_available;
    } else {
        group::SyncRequest sync;
        sync.member_id = request->member_id;
        sync.group_instance_id = request->group_instance_id;
        sync.generation_id = request->generation_id;
        sync.protocol_type = request->protocol_type;
        sync.protocol_name = request->protocol_name;
        for (const auto& assignment : request->assignments) {
            sync.assignments.emplace_back(assignment.member_id, as_text(assignment.assignment));
        }
        Broker& broker = context.broker;
        const ShardId target = *shard;
        const std::string_view group_id = request->group_id;
        auto call = [&broker, target, group_id, &sync] {
            return broker.groups_of(target).sync(group_id, sync);
        };
        result = co_await broker.shards().submit_to(target, std::move(call));
    }
    SyncGroupResponse response;
    response.error_code = code(result.error);
    if (result.error == ErrorCode::none) {
        response.protocol_type = result.protocol_type;
        response.protocol_name = result.protocol_name;
    }
    response.assignment = as_bytes(result.assignment);
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api

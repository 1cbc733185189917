// Heartbeat (key 12): keeps a member's session alive and tells it when a rebalance began
// (REBALANCE_IN_PROGRESS: rejoin). Forwarded to the group's coordinator shard.
#include "net/kafka/generated/heartbeat.h"

#include "core/api/group_calls.h"
#include "core/api/handlers.h"

namespace ringlog::core::api {

io::Task<Reply> handle_heartbeat(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<net::kafka::HeartbeatRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    net::kafka::HeartbeatResponse response;
    const std::optional<ShardId> shard = coordinator_shard(context, request->group_id);
    if (request->group_id.empty()) {
        response.error_code = code(ErrorCode::invalid_group_id);
    } else if (!shard.has_value()) {
        response.error_code = code(ErrorCode::coordinator_not_available);
    } else {
        Broker& broker = context.broker;
        const ShardId target = *shard;
        const auto& beat = *request;
        auto call = [&broker, target, &beat] {
            return broker.groups_of(target).heartbeat(beat.group_id, beat.member_id,
                                                      beat.group_instance_id, beat.generation_id);
        };
        response.error_code = code(co_await broker.shards().submit_to(target, std::move(call)));
    }
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api

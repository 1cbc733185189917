// LeaveGroup (key 13): members leave their group, which rebalances without them. v0-2 name one
// member; v3+ a list, each by member id or group.instance.id (KIP-345), each with its own
// error. Forwarded to the group's coordinator shard.
#include "net/kafka/generated/leave_group.h"

#include "core/api/group_calls.h"
#include "core/api/handlers.h"

namespace ringlog::core::api {

io::Task<Reply> handle_leave_group(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<net::kafka::LeaveGroupRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    std::vector<group::MemberIdentity> identities;
    if (context.version() >= 3) {
        for (const auto& member : request->members) {
            identities.push_back(
                {.member_id = member.member_id, .group_instance_id = member.group_instance_id});
        }
    } else {
        identities.push_back({.member_id = request->member_id, .group_instance_id = std::nullopt});
    }
    group::LeaveResult result;
    const std::optional<ShardId> shard = coordinator_shard(context, request->group_id);
    if (request->group_id.empty() || !shard.has_value()) {
        result.error = request->group_id.empty() ? ErrorCode::invalid_group_id
                                                 : ErrorCode::coordinator_not_available;
        result.members.assign(identities.size(), result.error);
    } else {
        Broker& broker = context.broker;
        const ShardId target = *shard;
        const std::string_view group_id = request->group_id;
        auto call = [&broker, target, group_id, &identities] {
            return broker.groups_of(target).leave(group_id, identities);
        };
        result = co_await broker.shards().submit_to(target, std::move(call));
    }
    net::kafka::LeaveGroupResponse response;
    if (context.version() >= 3) {
        response.error_code = code(result.error);
        for (size_t i = 0; i < identities.size(); ++i) {
            auto& out = response.members.emplace_back();
            out.member_id = identities[i].member_id;
            out.group_instance_id = identities[i].group_instance_id;
            out.error_code = code(result.members[i]);
        }
    } else {
        response.error_code = code(result.members.empty() ? result.error : result.members[0]);
    }
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api

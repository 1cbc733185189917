// DescribeGroups (key 15): each group's state, protocol and members (with their metadata and
// assignment bytes while the group is stable). A group nobody knows is "Dead", as in Kafka.
// Each group is answered by its coordinator shard.
#include "net/kafka/generated/describe_groups.h"

#include <deque>

#include "core/api/group_calls.h"
#include "core/api/handlers.h"

namespace ringlog::core::api {

io::Task<Reply> handle_describe_groups(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<net::kafka::DescribeGroupsRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    Broker& broker = context.broker;
    std::deque<group::DescribedGroup> kept;
    net::kafka::DescribeGroupsResponse response;
    for (const std::string_view group_id : request->groups) {
        const std::optional<ShardId> shard = coordinator_shard(context, group_id);
        if (group_id.empty() || !shard.has_value()) {
            group::DescribedGroup& failed = kept.emplace_back();
            failed.error = group_id.empty() ? ErrorCode::invalid_group_id
                                            : ErrorCode::coordinator_not_available;
            failed.group_id = std::string(group_id);
        } else {
            const ShardId target = *shard;
            auto call = [&broker, target, group_id] {
                return broker.groups_of(target).describe(group_id);
            };
            kept.push_back(co_await broker.shards().submit_to(target, std::move(call)));
        }
        const group::DescribedGroup& described = kept.back();
        auto& out = response.groups.emplace_back();
        out.error_code = code(described.error);
        out.group_id = described.group_id;
        out.group_state = described.state;
        out.protocol_type = described.protocol_type;
        out.protocol_data = described.protocol_data;
        for (const group::DescribedMember& member : described.members) {
            auto& member_out = out.members.emplace_back();
            member_out.member_id = member.member_id;
            member_out.group_instance_id = member.group_instance_id;
            member_out.client_id = member.client_id;
            member_out.client_host = member.client_host;
            member_out.member_metadata = as_bytes(member.metadata);
            member_out.member_assignment = as_bytes(member.assignment);
        }
    }
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api

// JoinGroup (key 11): a member enters (or re-enters) its group and waits until the rebalance
// completes; the leader's answer lists every member with its metadata, so the client assigns.
// The group lives on its coordinator shard (core/group/coordinator.h); this handler forwards
// and translates. v4+ new members first get MEMBER_ID_REQUIRED with their id (KIP-394).
#include "net/kafka/generated/join_group.h"

#include "core/api/group_calls.h"
#include "core/api/handlers.h"

namespace ringlog::core::api {

using net::kafka::JoinGroupRequest;
using net::kafka::JoinGroupResponse;

io::Task<Reply> handle_join_group(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<JoinGroupRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    group::JoinResult result;
    const std::optional<ShardId> shard = coordinator_shard(context, request->group_id);
    if (request->group_id.empty()) {
        result.error = ErrorCode::invalid_group_id;
        result.member_id = std::string(request->member_id);
    } else if (!shard.has_value()) {
        result.error = ErrorCode::coordinator_not_available;
        result.member_id = std::string(request->member_id);
    } else {
        const std::string host = client_host(context);
        group::JoinRequest join;
        join.member_id = request->member_id;
        join.group_instance_id = request->group_instance_id;
        join.client_id = context.header.client_id.value_or("");
        join.client_host = host;
        join.session_timeout_ms = request->session_timeout_ms;
        // v0 has no rebalance timeout: the session timeout served for both (KIP-62).
        join.rebalance_timeout_ms =
            context.version() >= 1 ? request->rebalance_timeout_ms : request->session_timeout_ms;
        join.protocol_type = request->protocol_type;
        for (const auto& protocol : request->protocols) {
            join.protocols.push_back({.name = std::string(protocol.name),
                                      .metadata = std::string(as_text(protocol.metadata))});
        }
        join.require_known_member_id = context.version() >= 4;
        Broker& broker = context.broker;
        const ShardId target = *shard;
        const std::string_view group_id = request->group_id;
        auto call = [&broker, target, group_id, &join] {
            return broker.groups_of(target).join(group_id, join);
        };
        result = co_await broker.shards().submit_to(target, std::move(call));
    }
    JoinGroupResponse response;
    response.error_code = code(result.error);
    response.generation_id = result.generation_id;
    if (context.version() >= 7) {
        if (result.error == ErrorCode::none) {
            response.protocol_type = result.protocol_type;
        }
        response.protocol_name = result.protocol_name;
    } else {
        // Not nullable before v7. (A view of result's string: value_or would make a temporary.)
        response.protocol_name = result.protocol_name.has_value()
                                     ? std::string_view(*result.protocol_name)
                                     : std::string_view();
    }
    response.leader = result.leader_id;
    response.skip_assignment = result.skip_assignment;
    response.member_id = result.member_id;
    response.members.reserve(result.members.size());
    for (const group::MemberInfo& member : result.members) {
        auto& out = response.members.emplace_back();
        out.member_id = member.member_id;
        out.group_instance_id = member.group_instance_id;
        out.metadata = as_bytes(member.metadata);
    }
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api

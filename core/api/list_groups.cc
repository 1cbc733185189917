// ListGroups (key 16): every group of every shard's coordinator, optionally only those in the
// given states (v4, KIP-518; matched without regard to case, as Kafka does).
#include "net/kafka/generated/list_groups.h"

#include <deque>

#include <absl/strings/match.h>

#include "core/api/handlers.h"
#include "io/base/absl_compat.h"

namespace ringlog::core::api {

io::Task<Reply> handle_list_groups(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<net::kafka::ListGroupsRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    Broker& broker = context.broker;
    std::deque<group::ListedGroup> listed;
    for (int i = 0; i < broker.shard_count(); ++i) {
        const ShardId shard(static_cast<uint32_t>(i));
        auto call = [&broker, shard] { return broker.groups_of(shard).list_groups(); };
        for (group::ListedGroup& group :
             co_await broker.shards().submit_to(shard, std::move(call))) {
            listed.push_back(std::move(group));
        }
    }
    net::kafka::ListGroupsResponse response;
    for (const group::ListedGroup& group : listed) {
        const bool wanted =
            request->states_filter.empty()
            || std::any_of(request->states_filter.begin(), request->states_filter.end(),
                           [&](std::string_view state) {
                               return absl::EqualsIgnoreCase(base::to_absl(state),
                                                             base::to_absl(group.state));
                           });
        if (wanted) {
            response.groups.push_back({.group_id = group.group_id,
                                       .protocol_type = group.protocol_type,
                                       .group_state = group.state});
        }
    }
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api

// What the group handlers share: which shard coordinates a group (the owner of its
// __consumer_offsets partition), the client's address for DescribeGroups, and byte views of
// the coordinator's strings. A handler forwards to that shard with submit_to; the request frame
// stays valid meanwhile because its shard waits for the answer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/api/request_context.h"
#include "core/shard.h"
#include "net/kafka/protocol/types.h"

namespace ringlog::core::api {

// nullopt when __consumer_offsets does not exist (it is made at start, so only in tests).
std::optional<ShardId> coordinator_shard(const RequestContext& context, std::string_view group_id);

// "/address" of the client, as Kafka shows clientHost; "/unknown" without a socket.
std::string client_host(const RequestContext& context);

inline net::kafka::ByteView as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

inline std::string_view as_text(net::kafka::ByteView bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace ringlog::core::api

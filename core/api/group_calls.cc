#include "core/api/group_calls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/group/group_limits.h"
#include "core/group/offsets_records.h"

namespace ringlog::core::api {

std::optional<ShardId> coordinator_shard(const RequestContext& context, std::string_view group_id) {
    const TopicInfo* topic = context.local.catalog().find(group::offsets_topic);
    if (topic == nullptr || topic->partitions <= 0) {
        return std::nullopt;
    }
    const int32_t partition = group::partition_for_group(group_id, topic->partitions);
    return shard_for(group::offsets_topic, partition, context.broker.shard_count());
}

std::string client_host(const RequestContext& context) {
    if (context.connection == nullptr) {
        return "/unknown";
    }
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (getpeername(context.connection->fd(), reinterpret_cast<sockaddr*>(&address), &length)
        != 0) {
        return "/unknown";
    }
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw =
        address.ss_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&address)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&address)->sin_addr);
    if (inet_ntop(address.ss_family, raw, text, sizeof text) == nullptr) {
        return "/unknown";
    }
    return std::string("/") + text;
}

}  // namespace ringlog::core::api

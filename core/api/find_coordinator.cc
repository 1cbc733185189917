// FindCoordinator (key 10): which broker coordinates a consumer group: the shard that owns the
// group's __consumer_offsets partition (core/group/coordinator.h), so with --advertise-shards
// the client talks to that shard directly. Advertised from v0 because
// kafka-python sends only v0 and librdkafka turns on group (and LZ4) support only if v0 is in
// range (CLIENT-VERSIONS.md). Transaction coordinators do not exist here.
#include "net/kafka/generated/find_coordinator.h"

#include "core/api/group_calls.h"
#include "core/api/handlers.h"

namespace ringlog::core::api {

io::Task<Reply> handle_find_coordinator(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<net::kafka::FindCoordinatorRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    const Broker& broker = context.broker;
    const auto answer = [&](std::string_view key, int8_t key_type) {
        net::kafka::FindCoordinatorResponse::Coordinator coordinator;
        coordinator.key = key;
        const std::optional<ShardId> shard =
            key_type == 0 ? coordinator_shard(context, key) : std::nullopt;
        if (!shard.has_value()) {
            coordinator.error_code = code(ErrorCode::coordinator_not_available);
            coordinator.error_message =
                key_type != 0 ? "transactions are not supported" : "no group coordinator yet";
            coordinator.node_id = -1;
            coordinator.host = "";
            coordinator.port = -1;
            return coordinator;
        }
        coordinator.node_id = broker.node_of(*shard);
        coordinator.host = broker.config().advertised_host;
        coordinator.port = broker.port_of_node(coordinator.node_id);
        return coordinator;
    };
    net::kafka::FindCoordinatorResponse response;
    if (context.version() >= 4) {
        for (const std::string_view key : request->coordinator_keys) {
            response.coordinators.push_back(answer(key, request->key_type));
        }
    } else {
        const auto coordinator = answer(request->key, request->key_type);
        response.error_code = coordinator.error_code;
        response.error_message = coordinator.error_message;
        response.node_id = coordinator.node_id;
        response.host = coordinator.host;
        response.port = coordinator.port;
    }
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api

// InitProducerId (key 22): a producer id for an idempotent producer (KIP-98), from the
// allocator on the controller shard (core/producer_ids.h): a fresh id with epoch 0 every time,
// also for v3+ requests that name their current id and epoch (KIP-360), as Kafka does for a
// producer without a transactional id. Transactions are not supported: a transactional id gets
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED, which librdkafka and the Java client treat as fatal
// and report, instead of COORDINATOR_NOT_AVAILABLE, which they would retry forever.
// Advertised from v0: librdkafka 2.0.2 enables idempotence only if v0 is in range.
#include "net/kafka/generated/init_producer_id.h"

#include <cstdio>

#include "core/api/handlers.h"

namespace ringlog::core::api {
namespace {

io::Task<absl::StatusOr<int64_t>> allocate_producer_id(Broker& broker) {
    // A named local: g++ 12 destroys a temporary lambda inside co_await twice.
    auto call = [&broker]() { return broker.producer_ids().next(); };
    co_return co_await broker.shards().submit_to(controller_shard, std::move(call));
}

}  // namespace

io::Task<Reply> handle_init_producer_id(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<net::kafka::InitProducerIdRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    net::kafka::InitProducerIdResponse response;
    response.producer_id = -1;
    response.producer_epoch = -1;
    if (request->transactional_id.has_value()) {
        response.error_code = code(ErrorCode::transactional_id_authorization_failed);
        co_return encode_reply(context, response);
    }
    absl::StatusOr<int64_t> id = co_await allocate_producer_id(context.broker);
    if (!id.ok()) {
        std::fprintf(stderr, "ringlogd: InitProducerId: %s\n",
                     std::string(id.status().message()).c_str());
        // Retriable for the client: it asks again (a disk that recovers, an operator who
        // repairs the file).
        response.error_code = code(ErrorCode::coordinator_not_available);
        co_return encode_reply(context, response);
    }
    response.producer_id = *id;
    response.producer_epoch = 0;
    co_return encode_reply(context, response);
}

}  // namespace ringlog::core::api

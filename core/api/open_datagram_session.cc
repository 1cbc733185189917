// The control request that opens a datagram session (net/dpdk/control.h, private API key
// 10000, never advertised by ApiVersions): the session is made on the shard the client names
// (or the one that received the request), whose datagram address the answer carries.
#include "core/api/handlers.h"
#include "core/datagram_server.h"
#include "net/dpdk/control.h"

namespace ringlog::core::api {
namespace {

// encode_reply's shape: a body with encode(writer, version).
struct OpenSessionBody {
    net::dpdk::OpenSessionResponse response;

    void encode(net::kafka::Writer& writer, int16_t) const { response.encode(writer); }
};

}  // namespace

io::Task<Reply> handle_open_datagram_session(RequestContext& context, net::kafka::Reader& body) {
    net::dpdk::OpenSessionRequest request;
    if (const absl::Status decoded = request.decode(body); !decoded.ok()) {
        context.close_connection(decoded);
        co_return std::nullopt;
    }
    Broker& broker = context.broker;
    OpenSessionBody reply;
    const uint32_t here = Shard::current().id().value();
    const int32_t target = request.shard < 0 ? static_cast<int32_t>(here) : request.shard;
    if (target >= broker.shard_count()) {
        reply.response.error_code = net::dpdk::error_invalid;
        reply.response.shard_count = broker.shard_count();
        co_return encode_reply(context, reply);
    }
    const ShardId shard(static_cast<uint32_t>(target));
    const int32_t datagram_bytes_max = request.datagram_bytes_max;
    auto call = [&broker, shard, datagram_bytes_max]() {
        DatagramServer* server = broker.datagram_server_of(shard);
        if (server == nullptr) {
            net::dpdk::OpenSessionResponse none;
            none.error_code = net::dpdk::error_not_enabled;
            none.shard = static_cast<int32_t>(shard.value());
            none.shard_count = broker.shard_count();
            return none;
        }
        return server->open_session(datagram_bytes_max);
    };
    reply.response = co_await broker.shards().submit_to(shard, std::move(call));
    co_return encode_reply(context, reply);
}

}  // namespace ringlog::core::api

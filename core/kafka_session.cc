#include "core/kafka_session.h"

#include <chrono>
#include <cstdio>
#include <string>

#include "core/api/handlers.h"
#include "net/dpdk/control.h"

namespace ringlog::core {
namespace {

void record(metrics::ApiMetrics& api, std::chrono::steady_clock::time_point start) {
    ++api.requests;
    api.latency.record(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                 std::chrono::steady_clock::now() - start)
                                                 .count()));
}

// A deferred response counts until its answer is ready, not just until the next request may
// start.
io::Task<std::optional<net::tcp::Response>> timed(
    io::Task<std::optional<net::tcp::Response>> completion, metrics::ApiMetrics& api,
    std::chrono::steady_clock::time_point start) {
    std::optional<net::tcp::Response> reply = co_await std::move(completion);
    record(api, start);
    co_return reply;
}

}  // namespace

io::Task<std::optional<net::tcp::Response>> KafkaSession::handle(std::span<const std::byte> frame) {
    net::kafka::Reader reader(frame);
    net::kafka::RequestHeader header;
    int16_t header_version = 0;
    const absl::Status decoded = net::kafka::decode_request_header(reader, header, header_version);
    api::RequestContext context{broker_, broker_.local(), header, connection_};
    if (!decoded.ok()) {
        context.close_connection(decoded);
        co_return std::nullopt;
    }
    if (header.request_api_key == net::dpdk::open_session_api_key
        && header.request_api_version == net::dpdk::open_session_api_version) {
        co_return co_await api::handle_open_datagram_session(context, reader);
    }
    const net::kafka::ApiVersionRange* served = api::find_served_api(header.request_api_key);
    const bool version_served = served != nullptr
                                && header.request_api_version >= served->min_version
                                && header.request_api_version <= served->max_version;
    metrics::ShardMetrics& counts = context.local.metrics();
    if (!version_served) {
        ++counts.requests_refused;
        if (header.request_api_key == static_cast<int16_t>(net::kafka::ApiKey::api_versions)) {
            co_return api::unsupported_api_versions(context);
        }
        context.close_connection(absl::UnimplementedError(
            served == nullptr ? "API not supported by this broker" : "unsupported API version"));
        co_return std::nullopt;
    }
    const auto start = std::chrono::steady_clock::now();
    std::optional<net::tcp::Response> reply = co_await api::dispatch(context, reader);
    metrics::ApiMetrics& api = counts.by_api[static_cast<size_t>(header.request_api_key)];
    if (reply.has_value() && reply->is_deferred()) {
        co_return net::tcp::Response::deferred(timed(reply->take_completion(), api, start));
    }
    record(api, start);
    co_return reply;
}

}  // namespace ringlog::core

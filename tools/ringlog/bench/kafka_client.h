// The load generator's Kafka plumbing: encoding a whole request frame (size, header, body) and
// decoding a response frame, over the generated codec; and KafkaClient, a connection for the
// few one-shot control requests (ApiVersions, Metadata, CreateTopics, ListOffsets), which the
// CLI's clients (tools/ringlog/client/) use for every request. The load generator's data path
// (Produce, Fetch) pipelines its own requests on a ClientConnection with the same helpers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <absl/strings/str_cat.h>

#include "io/base/status_macros.h"
#include "io/reactor.h"
#include "io/task.h"
#include "net/kafka/generated/api_versions.h"
#include "net/kafka/generated/headers.h"
#include "net/kafka/protocol/reader.h"
#include "net/kafka/protocol/writer.h"
#include "net/tcp/client_connection.h"

namespace ringlog::tools::bench {

inline constexpr std::string_view client_id = "ringlog-bench";

// Clears `writer` and writes the frame of `request` at `version`: int32 size, request header,
// body. Records go in as external segments (not copied).
template <typename Request>
void encode_request(net::kafka::Writer& writer, const Request& request, int16_t version,
                    int32_t correlation_id) {
    writer.clear();
    const net::kafka::Writer::Mark size = writer.reserve_int32_size();
    net::kafka::RequestHeader header;
    header.request_api_key = static_cast<int16_t>(Request::api_key);
    header.request_api_version = version;
    header.correlation_id = correlation_id;
    header.client_id = client_id;
    header.encode(writer, net::kafka::request_header_version(header.request_api_key, version));
    request.encode(writer, version);
    writer.patch_int32_size(size);
}

// The highest version of `Message` that both the codec and the broker (its ApiVersions answer)
// support; -1 when they share none.
template <typename Message>
int16_t common_version(const net::kafka::ApiVersionsResponse& response) {
    for (const auto& api : response.api_keys) {
        if (api.api_key == static_cast<int16_t>(Message::api_key)) {
            const int16_t high = std::min(api.max_version, Message::max_version);
            return high >= std::max(api.min_version, Message::min_version) ? high : -1;
        }
    }
    return -1;
}

// Decodes a response frame (without its size prefix) into `response`, whose strings and bytes
// then point into `frame`. kInvalidArgument on malformed bytes or a correlation id other than
// `correlation_id` (responses come back in request order, so that means a broken stream).
template <typename Response>
[[nodiscard]] absl::Status decode_response(std::span<const std::byte> frame, int16_t version,
                                           int32_t correlation_id, Response& response) {
    net::kafka::Reader reader(frame);
    net::kafka::ResponseHeader header;
    RL_RETURN_IF_ERROR(header.decode(
        reader,
        net::kafka::response_header_version(static_cast<int16_t>(Response::api_key), version)));
    if (header.correlation_id != correlation_id) {
        return absl::InvalidArgumentError(absl::StrCat(
            "response for correlation id ", header.correlation_id, ", expected ", correlation_id));
    }
    return response.decode(reader, version);
}

// Contract: used on its reactor's thread, one call at a time. What call() decodes points into
// the connection's receive buffer and stays valid until the next call.
class KafkaClient {
public:
    [[nodiscard]] static io::Task<absl::StatusOr<std::unique_ptr<KafkaClient>>> connect(
        io::Reactor& reactor, std::string host, uint16_t port);

    template <typename Request, typename Response>
    [[nodiscard]] io::Task<absl::Status> call(const Request& request, int16_t version,
                                              Response& response) {
        const int32_t correlation_id = next_correlation_id_++;
        encode_request(writer_, request, version, correlation_id);
        const std::vector<net::kafka::ByteView> segments = writer_.gather();
        RL_CO_RETURN_IF_ERROR(co_await connection_->send(segments));
        absl::StatusOr<std::span<const std::byte>> frame = co_await connection_->next_frame();
        if (!frame.ok()) {
            co_return frame.status();
        }
        co_return decode_response(*frame, version, correlation_id, response);
    }

    // Sends a request the broker does not answer (Produce with acks=0).
    template <typename Request>
    [[nodiscard]] io::Task<absl::Status> send(const Request& request, int16_t version) {
        encode_request(writer_, request, version, next_correlation_id_++);
        const std::vector<net::kafka::ByteView> segments = writer_.gather();
        co_return co_await connection_->send(segments);
    }

    void close() { connection_->close(); }

private:
    explicit KafkaClient(std::unique_ptr<net::tcp::ClientConnection> connection)
        : connection_(std::move(connection)) {}

    std::unique_ptr<net::tcp::ClientConnection> connection_;
    net::kafka::Writer writer_;
    int32_t next_correlation_id_ = 1;
};

}  // namespace ringlog::tools::bench

// ApiVersions (key 18): what this broker serves, honestly (CLIENT-VERSIONS.md: librdkafka
// opens with v3, kafka-python with v0, kafkajs with v2).
#include "net/kafka/generated/api_versions.h"

#include "core/api/handlers.h"

namespace ringlog::core::api {
namespace {

net::kafka::ApiVersionsResponse served_versions() {
    net::kafka::ApiVersionsResponse response;
    for (const auto& range : served_apis()) {
        response.api_keys.push_back({.api_key = static_cast<int16_t>(range.api_key),
                                     .min_version = range.min_version,
                                     .max_version = range.max_version});
    }
    return response;
}

}  // namespace

Reply unsupported_api_versions(const RequestContext& context) {
    net::kafka::ApiVersionsResponse response = served_versions();
    response.error_code = code(ErrorCode::unsupported_version);
    // A v0 body, whatever version was asked for: the client can read nothing else.
    net::kafka::Writer writer(512);
    const auto size = writer.reserve_int32_size();
    net::kafka::ResponseHeader{.correlation_id = context.header.correlation_id}.encode(writer, 0);
    response.encode(writer, 0);
    writer.patch_int32_size(size);
    const std::vector<std::byte> bytes = writer.flatten();
    return net::tcp::Response::copy_of(bytes);
}

io::Task<Reply> handle_api_versions(RequestContext& context, net::kafka::Reader& body) {
    auto request = decode_body<net::kafka::ApiVersionsRequest>(context, body);
    if (!request) {
        co_return std::nullopt;
    }
    co_return encode_reply(context, served_versions());
}

}  // namespace ringlog::core::api

// What every Kafka API handler gets: the broker, the shard it runs on, the decoded request
// header, and a way to answer. Handlers are free functions, one file per API (core/api/), of
// the shape
//   io::Task<Reply> handle_produce(RequestContext& context, Reader& body);
// Decoding the body is theirs; a body that does not decode closes the connection (Kafka does the
// same: there is no frame to put an error code in).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <absl/status/status.h>

#include "core/broker.h"
#include "core/producer_state.h"
#include "net/kafka/generated/api_keys.h"
#include "net/kafka/generated/headers.h"
#include "net/kafka/protocol/reader.h"
#include "net/kafka/protocol/writer.h"
#include "net/tcp/connection.h"

namespace ringlog::core::api {

using net::kafka::ErrorCode;
using Reply = std::optional<net::tcp::Response>;

struct RequestContext {
    Broker& broker;
    ShardLocal& local;
    const net::kafka::RequestHeader& header;
    net::tcp::Connection* connection;  // nullptr in tests that call handlers directly

    int16_t version() const { return header.request_api_version; }

    // Ends the connection after this request (a malformed body, say), with a log line.
    void close_connection(const absl::Status& why) const;
};

inline int16_t code(ErrorCode error) {
    return static_cast<int16_t>(error);
}

// What a response frame needs of its request's header, kept by value where the response is
// made after the request frame is gone (a deferred response, net/tcp/connection.h).
struct ReplyHeader {
    int32_t correlation_id;
    int16_t api_key;
    int16_t version;

    static ReplyHeader of(const RequestContext& context) {
        return {context.header.correlation_id, context.header.request_api_key, context.version()};
    }
};

// The response frame for `body`: size, response header, body. `owner` (whatever the body's
// external record segments point into) lives until the frame is sent.
template <typename Body, typename Owner>
net::tcp::Response encode_reply(ReplyHeader header, const Body& body, Owner owner) {
    struct Frame {
        net::kafka::Writer writer;
        Owner owner;
    };

    Frame frame{net::kafka::Writer(256), std::move(owner)};
    const auto size = frame.writer.reserve_int32_size();
    net::kafka::ResponseHeader{.correlation_id = header.correlation_id}.encode(
        frame.writer, net::kafka::response_header_version(header.api_key, header.version));
    body.encode(frame.writer, header.version);
    frame.writer.patch_int32_size(size);
    return net::tcp::Response::holding(
        std::move(frame), [](const Frame& held, std::vector<net::tcp::Response::Segment>& out) {
            held.writer.gather(out);
        });
}

template <typename Body, typename Owner>
net::tcp::Response encode_reply(const RequestContext& context, const Body& body, Owner owner) {
    return encode_reply(ReplyHeader::of(context), body, std::move(owner));
}

template <typename Body>
net::tcp::Response encode_reply(ReplyHeader header, const Body& body) {
    return encode_reply(header, body, std::monostate{});
}

template <typename Body>
net::tcp::Response encode_reply(const RequestContext& context, const Body& body) {
    return encode_reply(ReplyHeader::of(context), body, std::monostate{});
}

// Decodes the body of `Request` or closes the connection; nullopt then.
template <typename Request>
std::optional<Request> decode_body(const RequestContext& context, net::kafka::Reader& reader) {
    Request request;
    absl::Status status = request.decode(reader, context.version());
    if (!status.ok()) {
        context.close_connection(status);
        return std::nullopt;
    }
    return request;
}

// The one table from a Status to the Kafka error code a client acts on (STYLE.md §3).
ErrorCode error_for_storage(const absl::Status& status);

// What Produce answers for a batch the producer table refused (core/producer_state.h).
ErrorCode error_for_sequence(SequenceVerdict verdict);

// For the controller's answers (core/controller.h): kAlreadyExists, kNotFound,
// kInvalidArgument whose message names what was wrong (partitions, replication factor, topic
// name, else a config), and I/O failures.
ErrorCode error_for_topic_change(const absl::Status& status);

}  // namespace ringlog::core::api

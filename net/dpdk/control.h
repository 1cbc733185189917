// The control request that opens a datagram session, carried over the broker's Kafka TCP
// listener as a Kafka-framed request with a private API key (10000). Kafka's own keys are
// below 100 and ApiVersions never advertises this one, so Kafka clients never send it, and a
// broker without the datagram transport answers it with an error code, not a closed socket.
// Request and response headers are Kafka's (request header v1, response header v0), so the
// frame assembler and header decoder serve it unchanged; the bodies are our own:
//   request:  shard int32 (-1: the shard that received it), datagram_bytes_max int32
//   response: error_code int16, shard int32, shard_count int32, session_id int32,
//             credits int32, window int32, datagram_bytes_max int32, host string,
//             port int32, mac bytes (6 bytes, or empty for the kernel UDP transport)
// This is the handshake: the session exists on the shard when the response is sent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "net/dpdk/packet_io.h"
#include "net/dpdk/session_grant.h"
#include "net/kafka/protocol/reader.h"
#include "net/kafka/protocol/writer.h"

namespace ringlog::net::dpdk {

inline constexpr int16_t open_session_api_key = 10000;
inline constexpr int16_t open_session_api_version = 0;

// Error codes in the response: Kafka's, so tools print them the usual way.
inline constexpr int16_t error_none = 0;
inline constexpr int16_t error_not_enabled = 35;  // UNSUPPORTED_VERSION: no datagram transport
inline constexpr int16_t error_invalid = 42;      // INVALID_REQUEST: bad shard or sizes
inline constexpr int16_t error_exhausted = 74;    // ... no more sessions (a retriable kind)

struct OpenSessionRequest {
    int32_t shard = -1;
    int32_t datagram_bytes_max = 1472;

    void encode(kafka::Writer& writer) const;
    [[nodiscard]] absl::Status decode(kafka::Reader& reader);
};

struct OpenSessionResponse {
    int16_t error_code = error_none;
    int32_t shard = 0;
    int32_t shard_count = 0;
    SessionGrant grant;
    Endpoint server;
    std::string mac;  // 6 bytes, or empty

    void encode(kafka::Writer& writer) const;
    [[nodiscard]] absl::Status decode(kafka::Reader& reader);
};

// Opens a session on `shard` of the broker at host:port with one blocking TCP exchange (set-up
// only, never on a data path). kUnavailable when the broker cannot be reached, and the error
// code's meaning when it answers with one.
[[nodiscard]] absl::StatusOr<OpenSessionResponse> open_session_over_tcp(
    const std::string& host, uint16_t port, const OpenSessionRequest& request);

}  // namespace ringlog::net::dpdk

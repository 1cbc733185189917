#include "net/dpdk/control.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <absl/strings/str_cat.h>

#include "io/base/errno_status.h"
#include "net/kafka/generated/headers.h"

namespace ringlog::net::dpdk {
namespace {

absl::Status send_all(int fd, std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
        const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io::errno_to_status(errno, "send the session request");
        }
        bytes = bytes.subspan(static_cast<size_t>(sent));
    }
    return absl::OkStatus();
}

absl::Status receive_all(int fd, std::span<std::byte> bytes) {
    while (!bytes.empty()) {
        const ssize_t got = ::recv(fd, bytes.data(), bytes.size(), 0);
        if (got == 0) {
            return absl::UnavailableError("the broker closed the connection");
        }
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io::errno_to_status(errno, "receive the session response");
        }
        bytes = bytes.subspan(static_cast<size_t>(got));
    }
    return absl::OkStatus();
}

}  // namespace

void OpenSessionRequest::encode(kafka::Writer& writer) const {
    writer.write_int32(shard);
    writer.write_int32(datagram_bytes_max);
}

absl::Status OpenSessionRequest::decode(kafka::Reader& reader) {
    shard = reader.read_int32();
    datagram_bytes_max = reader.read_int32();
    return reader.status();
}

void OpenSessionResponse::encode(kafka::Writer& writer) const {
    writer.write_int16(error_code);
    writer.write_int32(shard);
    writer.write_int32(shard_count);
    writer.write_int32(static_cast<int32_t>(grant.session_id));
    writer.write_int32(static_cast<int32_t>(grant.credits));
    writer.write_int32(static_cast<int32_t>(grant.window));
    writer.write_int32(static_cast<int32_t>(grant.datagram_bytes_max));
    writer.write_string(format_ipv4(server.ipv4), /*flexible=*/false);
    writer.write_int32(server.port);
    writer.write_bytes(kafka::ByteView(reinterpret_cast<const std::byte*>(mac.data()), mac.size()),
                       false);
}

absl::Status OpenSessionResponse::decode(kafka::Reader& reader) {
    error_code = reader.read_int16();
    shard = reader.read_int32();
    shard_count = reader.read_int32();
    grant.session_id = static_cast<uint32_t>(reader.read_int32());
    grant.credits = static_cast<uint32_t>(reader.read_int32());
    grant.window = static_cast<uint32_t>(reader.read_int32());
    grant.datagram_bytes_max = static_cast<uint32_t>(reader.read_int32());
    const std::string host(reader.read_string(false));
    server.port = static_cast<uint16_t>(reader.read_int32());
    const kafka::ByteView mac_bytes = reader.read_bytes(false);
    if (!reader.ok()) {
        return reader.status();
    }
    mac.assign(reinterpret_cast<const char*>(mac_bytes.data()), mac_bytes.size());
    if (error_code != error_none) {
        return absl::OkStatus();
    }
    absl::StatusOr<uint32_t> ipv4 = parse_ipv4(host);
    if (!ipv4.ok()) {
        return ipv4.status();
    }
    server.ipv4 = *ipv4;
    if (grant.window == 0 || grant.credits == 0 || grant.window > 4096
        || grant.datagram_bytes_max <= 64 || grant.datagram_bytes_max > 65'507) {
        return absl::InvalidArgumentError("a session grant out of range");
    }
    return absl::OkStatus();
}

absl::StatusOr<OpenSessionResponse> open_session_over_tcp(const std::string& host, uint16_t port,
                                                          const OpenSessionRequest& request) {
    absl::StatusOr<uint32_t> ipv4 = parse_ipv4(host == "localhost" ? "127.0.0.1" : host);
    if (!ipv4.ok()) {
        return ipv4.status();
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return io::errno_to_status(errno, "open a TCP socket");
    }

    struct Closer {
        int fd;

        ~Closer() { ::close(fd); }
    } closer{fd};

    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(*ipv4);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        return absl::UnavailableError(
            absl::StrCat("connect to ", host, ":", port, ": ", std::strerror(errno)));
    }
    kafka::Writer writer(64);
    const auto size = writer.reserve_int32_size();
    kafka::RequestHeader header;
    header.request_api_key = open_session_api_key;
    header.request_api_version = open_session_api_version;
    header.correlation_id = 1;
    header.client_id = "ringlog-datagram";
    header.encode(writer, 1);
    request.encode(writer);
    writer.patch_int32_size(size);
    const std::vector<std::byte> frame = writer.flatten();
    if (absl::Status sent = send_all(fd, frame); !sent.ok()) {
        return sent;
    }
    std::array<std::byte, 4> prefix;
    if (absl::Status got = receive_all(fd, prefix); !got.ok()) {
        return got;
    }
    const int32_t length = static_cast<int32_t>(
        (static_cast<uint32_t>(prefix[0]) << 24) | (static_cast<uint32_t>(prefix[1]) << 16)
        | (static_cast<uint32_t>(prefix[2]) << 8) | static_cast<uint32_t>(prefix[3]));
    if (length < 4 || length > 4096) {
        return absl::InvalidArgumentError("a session response of a strange size");
    }
    std::vector<std::byte> body(static_cast<size_t>(length));
    if (absl::Status got = receive_all(fd, body); !got.ok()) {
        return got;
    }
    kafka::Reader reader(body);
    kafka::ResponseHeader response_header;
    if (absl::Status decoded = response_header.decode(reader, 0); !decoded.ok()) {
        return decoded;
    }
    OpenSessionResponse response;
    if (absl::Status decoded = response.decode(reader); !decoded.ok()) {
        return decoded;
    }
    switch (response.error_code) {
        case error_none:
            return response;
        case error_not_enabled:
            return absl::FailedPreconditionError("the broker has no datagram transport");
        case error_exhausted:
            return absl::ResourceExhaustedError("the broker shard has no more datagram sessions");
        default:
            return absl::InvalidArgumentError(
                absl::StrCat("open a datagram session: error ", response.error_code));
    }
}

}  // namespace ringlog::net::dpdk

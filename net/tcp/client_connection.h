// ClientConnection: the client side of a TCP connection on io_uring, for tools that talk to a
// broker (the load generator): connect (IORING_OP_CONNECT), vectored sends of whole request
// frames, and receives cut into response frames by the same FrameAssembler the server uses.
// It does not match responses to requests or retry; the caller pipelines requests and reads
// the responses back in order (Kafka answers a connection's requests in the order sent).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "io/reactor.h"
#include "io/task.h"
#include "net/tcp/frame_assembler.h"

namespace ringlog::net::tcp {

struct ClientConnectionOptions {
    // One receive reads at most this much.
    size_t receive_buffer_bytes = 256 * 1024;
    size_t frame_bytes_max = frame_bytes_max_default;
};

// Contract: created by connect() on its reactor's thread and used only there. One send() and
// one next_frame() may be in flight at a time each (a sender and a receiver coroutine);
// asserted. close() shuts the socket down, which ends a receive in flight (it returns
// kUnavailable); the socket is closed at destruction, which must come after both coroutines
// returned.
class ClientConnection {
public:
    using Segment = std::span<const std::byte>;

    // Resolves `host` (a name or an IPv4 address) and connects. kUnavailable when nothing
    // listens there.
    [[nodiscard]] static io::Task<absl::StatusOr<std::unique_ptr<ClientConnection>>> connect(
        io::Reactor& reactor, std::string host, uint16_t port,
        ClientConnectionOptions options = {});

    ~ClientConnection();

    ClientConnection(const ClientConnection&) = delete;
    ClientConnection& operator=(const ClientConnection&) = delete;

    // Sends every byte of `segments` in order (several SENDMSGs if the kernel takes less). The
    // segments must stay valid until it returns.
    [[nodiscard]] io::Task<absl::Status> send(std::span<const Segment> segments);

    // The next frame's payload, without its size prefix. Its bytes stay valid until the next
    // call. kUnavailable when the peer closed or close() was called.
    [[nodiscard]] io::Task<absl::StatusOr<std::span<const std::byte>>> next_frame();

    // Shuts the socket down in both directions. Idempotent.
    void close();

    uint64_t bytes_sent() const { return bytes_sent_; }

    uint64_t bytes_received() const { return bytes_received_; }

private:
    ClientConnection(io::Reactor& reactor, int fd, ClientConnectionOptions options);

    static constexpr size_t iovecs_max = 64;

    io::Reactor& reactor_;
    int fd_;
    FrameAssembler assembler_;
    std::vector<std::byte> receive_buffer_;
    std::vector<FrameAssembler::Frame> frames_;
    size_t next_frame_ = 0;
    std::vector<iovec> iovecs_;
    bool sending_ = false;
    bool receiving_ = false;
    bool closed_ = false;
    uint64_t bytes_sent_ = 0;
    uint64_t bytes_received_ = 0;
};

}  // namespace ringlog::net::tcp

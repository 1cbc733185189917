// Connection: one accepted TCP socket serving Kafka frames. A receive loop cuts the stream into
// frames (FrameAssembler) and hands them one at a time to a FrameHandler; a send loop writes
// the handler's responses, in request order, with vectored sends (IORING_OP_SENDMSG) of their
// gather lists. Knows bytes and connections, not what the frames mean.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <absl/status/status.h>

#include "io/event.h"
#include "io/reactor.h"
#include "io/task.h"
#include "io/task_group.h"
#include "net/tcp/frame_assembler.h"

namespace ringlog::net::tcp {

// A response frame as a gather list in wire order (size prefix included, as
// kafka::Writer::gather() produces it), plus whatever owns the bytes the segments point at,
// kept alive until the last byte has been sent.
class Response {
public:
    using Segment = std::span<const std::byte>;

    Response() = default;

    // Takes `owner` (a Writer, a vector, buffer refs...) and lets `gather(const T&,
    // std::vector<Segment>&)` list its segments; they may point into the moved owner.
    template <typename T, typename Gather>
    static Response holding(T owner, Gather gather) {
        auto holder = std::make_unique<Holder<T>>(std::move(owner));
        Response response;
        gather(std::as_const(holder->value), response.segments_);
        response.owner_ = std::move(holder);
        return response;
    }

    // A copy of `bytes` as the whole frame (tests, small responses).
    static Response copy_of(std::span<const std::byte> bytes) {
        return holding(std::vector<std::byte>(bytes.begin(), bytes.end()),
                       [](const std::vector<std::byte>& owned, std::vector<Segment>& segments) {
                           segments.emplace_back(owned);
                       });
    }

    const std::vector<Segment>& segments() const { return segments_; }

    size_t size_bytes() const;

private:
    struct OwnerBase {
        virtual ~OwnerBase() = default;
    };

    template <typename T>
    struct Holder final : OwnerBase {
        explicit Holder(T owned) : value(std::move(owned)) {}

        T value;
    };

    std::vector<Segment> segments_;
    std::unique_ptr<OwnerBase> owner_;
};

// What a connection calls for each frame. One virtual call per request, not per record.
class FrameHandler {
public:
    virtual ~FrameHandler() = default;

    // `frame` is the payload without its size prefix; its bytes stay valid until the returned
    // task completes. Frames of one connection are handled one at a time, in order. No
    // response (std::nullopt) sends nothing, as for a produce with acks=0.
    virtual io::Task<std::optional<Response>> handle(std::span<const std::byte> frame) = 0;
};

struct ConnectionOptions {
    size_t frame_bytes_max = frame_bytes_max_default;
    // One receive reads at most this much.
    size_t receive_buffer_bytes = 64 * 1024;
    // Back-pressure: while more response bytes than this wait to be sent, the connection stops
    // reading requests. One response may exceed it; the next request then waits.
    size_t unsent_bytes_max = 4 * 1024 * 1024;
};

// Counters for tests and metrics; they only grow.
struct ConnectionStats {
    uint64_t bytes_received = 0;
    uint64_t bytes_sent = 0;
    uint64_t frames_received = 0;
    uint64_t responses_sent = 0;
    uint64_t sends = 0;         // SENDMSG operations, partial ones included
    uint64_t reads_paused = 0;  // times reading stopped for unsent responses to drain
};

// Contract: created, used and destroyed on its reactor's thread; owns the socket from the
// constructor on. run() serves until the peer closes, an error, a bad frame, or close(); it
// returns only after every operation it started has completed (close() cancels them with
// IORING_OP_ASYNC_CANCEL and shuts the socket down), then closes the socket. On a clean end
// (peer EOF between frames, or close()) it returns OK; a peer gone mid-frame is kUnavailable,
// a bad size prefix kInvalidArgument (logged to stderr). After a peer EOF the responses
// already queued are still sent. Destroy it only once run() returned, or if it never ran.
// The handler outlives the connection.
class Connection {
public:
    Connection(io::Reactor& reactor, int fd, FrameHandler& handler, ConnectionOptions options = {});

    ~Connection();

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    [[nodiscard]] io::Task<absl::Status> run();

    // Asks run() to finish now, dropping unsent responses. Idempotent.
    void close();

    const ConnectionStats& stats() const { return stats_; }

    size_t unsent_bytes() const { return unsent_bytes_; }

private:
    // iovecs per SENDMSG; more segments go in the next send.
    static constexpr size_t iovecs_max = 64;

    [[nodiscard]] io::Task<absl::Status> receive_loop();
    [[nodiscard]] io::Task<void> send_loop();
    size_t fill_iovecs();
    void consume_sent(size_t bytes);

    io::Reactor& reactor_;
    int fd_;
    FrameHandler& handler_;
    ConnectionOptions options_;
    FrameAssembler assembler_;
    std::vector<std::byte> receive_buffer_;
    std::vector<FrameAssembler::Frame> frames_;

    // Responses in request order; the front one may be partly sent.
    std::deque<Response> queue_;
    size_t front_segment_ = 0;  // first unsent segment of queue_.front()
    size_t front_offset_ = 0;   // bytes of that segment already sent
    size_t unsent_bytes_ = 0;
    std::array<iovec, iovecs_max> iovecs_{};
    msghdr message_{};
    absl::Status send_status_;

    bool running_ = false;
    bool receive_done_ = false;
    bool closing_ = false;
    io::Notify send_ready_;  // the queue grew, or the receive side finished
    io::Notify drained_;     // bytes were sent, or the send side finished
    io::TaskGroup sender_;
    ConnectionStats stats_;
};

}  // namespace ringlog::net::tcp

// Connection: one accepted TCP socket serving Kafka frames. A receive loop cuts the stream into
// frames (FrameAssembler) and hands them one at a time to a FrameHandler; a send loop writes
// the handler's responses, in request order, with vectored sends (IORING_OP_SENDMSG, or
// SENDMSG_ZC above a size threshold) of their gather lists. Bytes arrive either through one
// multishot receive that picks buffers from the shard's provided buffer ring, or, where the
// kernel has no buffer rings, through plain receives into a buffer of the connection's own.
// Knows bytes and connections, not what the frames mean.
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
#include "io/provided_buffer_ring.h"
#include "io/reactor.h"
#include "io/task.h"
#include "io/task_group.h"
#include "net/tcp/frame_assembler.h"

namespace ringlog::net::tcp {

struct DeferredResponse;

// A response frame as a gather list in wire order (size prefix included, as
// kafka::Writer::gather() produces it), plus whatever owns the bytes the segments point at,
// kept alive until the last byte has been sent.
//
// Or a deferred response: a request whose effects are already ordered (a produce whose batches
// are stored, waiting only for the disk) lets the connection go on with the next frame; the
// response itself comes from `completion`, and is still sent in request order. The completion
// must not touch the request frame: its bytes may be gone by then.
class Response {
public:
    using Segment = std::span<const std::byte>;

    Response();
    ~Response();
    Response(Response&&) noexcept;
    Response& operator=(Response&&) noexcept;

    static Response deferred(io::Task<std::optional<Response>> completion);

    bool is_deferred() const { return deferred_ != nullptr; }

    // The completion of a deferred response (once; the response is empty after).
    io::Task<std::optional<Response>> take_completion();

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
    std::unique_ptr<DeferredResponse> deferred_;
};

struct DeferredResponse {
    io::Task<std::optional<Response>> completion;
};

// What a handler's response becomes once any deferred part has finished (for callers that
// answer one request at a time, like the datagram transport).
io::Task<std::optional<Response>> resolve(std::optional<Response> response);

// What a connection calls for each frame. One virtual call per request, not per record.
class FrameHandler {
public:
    virtual ~FrameHandler() = default;

    // `frame` is the payload without its size prefix; its bytes stay valid until the returned
    // task completes. Frames of one connection are handled one at a time, in order (a deferred
    // response lets the next frame start while its completion runs). No response
    // (std::nullopt) sends nothing, as for a produce with acks=0.
    virtual io::Task<std::optional<Response>> handle(std::span<const std::byte> frame) = 0;
};

struct ConnectionOptions {
    size_t frame_bytes_max = frame_bytes_max_default;
    // One plain receive reads at most this much (without a buffer ring only; with one, a
    // receive fills at most one of its buffers).
    size_t receive_buffer_bytes = 64 * 1024;
    // Back-pressure: while more response bytes than this wait to be sent, the connection stops
    // reading requests. One response may exceed it; the next request then waits.
    size_t unsent_bytes_max = 4 * 1024 * 1024;
    // The shard's provided buffer ring, shared by its connections, which must outlive them. With
    // it, one multishot receive (kernel 6.0) feeds the connection; nullptr (the ring could not
    // be registered: kernel < 5.19) means plain receives. A kernel that has rings but rejects
    // multishot receives (5.19) falls back to plain receives too, per connection.
    io::ProvidedBufferRing* buffer_ring = nullptr;
    // Sends of at least this many bytes use IORING_OP_SENDMSG_ZC where the kernel has it; 0
    // never does. Off by default: on loopback the kernel copies anyway, and zero-copy measured
    // 0.4-0.9x of SENDMSG at 16 KiB, 64 KiB and 4 MiB, 0.7-1.3x at 256 KiB and 1 MiB
    // (bench/README.md, tcp_send_bench). On a real NIC measure again, from about 64 KiB.
    size_t zero_copy_send_bytes_min = 0;
    // Deferred responses (produce requests waiting for the disk) in flight at once; at the
    // bound the connection stops reading, like for unsent bytes.
    size_t deferred_max = 32;
    // A frame still missing at least this many bytes gets the rest by plain receives straight
    // into the FrameAssembler's buffer (one MSG_WAITALL receive for up to a mebibyte) instead
    // of through ring or receive buffers and a copy: that copy was 14 % of a shard's CPU
    // under 1 MiB produce requests (perf). A connection in multishot mode that gets such a
    // frame cancels its multishot receive and uses plain receives from then on. 0 never
    // receives directly.
    size_t direct_receive_bytes_min = 128 * 1024;
};

// Counters for tests and metrics; they only grow.
struct ConnectionStats {
    uint64_t bytes_received = 0;
    uint64_t bytes_sent = 0;
    uint64_t frames_received = 0;
    uint64_t responses_sent = 0;
    uint64_t receives = 0;           // receive completions that carried bytes
    uint64_t receive_arms = 0;       // multishot receives armed (first one and re-arms)
    uint64_t buffer_waits = 0;       // multishot receives ended by ENOBUFS (the ring ran dry)
    uint64_t sends = 0;              // SENDMSG(_ZC) operations, partial ones included
    uint64_t zero_copy_sends = 0;    // of those, SENDMSG_ZC
    uint64_t reads_paused = 0;       // times reading stopped for unsent responses to drain
    uint64_t deferred = 0;           // responses that completed after the next frame started
    uint64_t direct_receives = 0;    // receives straight into a large frame's buffer
    uint64_t direct_bytes = 0;       // the bytes they carried (counted in bytes_received too)
    uint64_t switched_to_plain = 0;  // 1 once a large frame moved a multishot connection to plain
};

// Contract: created, used and destroyed on its reactor's thread; owns the socket from the
// constructor on. run() serves until the peer closes, an error, a bad frame, close(), or the
// end of a drain(); it returns only after every operation it started has completed (close()
// cancels them with IORING_OP_ASYNC_CANCEL and shuts the socket down; a multishot receive is
// waited for until its last CQE, a zero-copy send until its notification) and every ring buffer
// it held went back, then closes the socket. On a clean end (peer EOF between frames, close(),
// or a finished drain) it returns OK; a peer gone mid-frame is kUnavailable, a bad size prefix
// (negative, or above frame_bytes_max) kInvalidArgument, logged to stderr. After a peer EOF the
// responses already queued are still sent. Destroy it only once run() returned, or if it never
// ran. The handler and the buffer ring outlive the connection.
//
// Draining (a broker's SIGTERM): drain() stops asking the kernel for bytes, at once. What the
// connection had already taken from the kernel is still served: the frame being handled, then every
// complete frame of the bytes already received (the rest of the current chunk, bytes copied aside,
// multishot CQEs queued or posted before the cancelled receive's last one, the bytes of a plain
// receive that beat its cancellation), in order; Kafka's broker too lets its request handlers
// finish the requests already read before they stop (a shutdown request is queued behind them,
// KafkaRequestHandlerPool.shutdown). A partial frame at the end of those bytes, and whatever the
// socket still holds, is never handled: a client gets a whole response for a prefix of its requests
// and nothing for the rest, never half an answer. Once every response is sent, the write side is
// shut down (SHUT_WR: the client reads them all, then EOF), and the connection reads and discards
// until the peer closes its side too, so that closing the socket with bytes unread (which makes the
// kernel send RST and drop the responses not yet acknowledged) cannot happen; a Kafka client closes
// on EOF. Then run() returns OK. A drain has no clock of its own: a handler that never finishes, a
// client that stops reading or never closes keep it going until the owner calls close(), which
// still ends everything at once (dropping unsent responses).
//
// Ring buffers: a frame that lies inside one received buffer is handed to the handler in
// place, so that buffer goes back to the ring only after the handler finished with every frame
// in it; a frame spanning buffers is copied by the FrameAssembler and the buffers go back at
// once. A connection paused by back-pressure cancels its multishot receive and holds no ring
// buffer while it waits: what it had received is copied aside (a slow path), so a client that
// stops reading cannot starve the shard's other connections of buffers.
class Connection {
public:
    Connection(io::Reactor& reactor, int fd, FrameHandler& handler, ConnectionOptions options = {});

    ~Connection();

    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    [[nodiscard]] io::Task<absl::Status> run();

    // Asks run() to finish now, dropping unsent responses. Idempotent; also ends a drain.
    void close();

    // Asks run() to finish gracefully: no new reads, the frames already received handled and
    // answered, the socket shut down (see the class comment). Idempotent; nothing after close().
    // May come before run(), which then ends as soon as the peer closes.
    void drain();

    bool draining() const { return draining_; }

    const ConnectionStats& stats() const { return stats_; }

    size_t unsent_bytes() const { return unsent_bytes_; }

    // The socket, for control-plane questions such as the peer's address (getpeername(2)).
    int fd() const { return fd_; }

    // Whether bytes arrive through the multishot receive (false: plain receives, because no
    // ring was given or the kernel refused multishot receives).
    bool multishot() const { return multishot_; }

private:
    // iovecs per SENDMSG; more segments go in the next send.
    static constexpr size_t iovecs_max = 64;

    // A multishot receive's CQE, queued by the completion until the receive loop takes it.
    struct ReceiveCqe {
        int32_t result;
        uint32_t flags;
    };

    // The multishot receive's user_data; it lives in the connection, which outlives the SQE
    // (run() waits for the last CQE).
    struct ReceiveCompletion : io::Completion {
        explicit ReceiveCompletion(Connection& owner) : Completion(&on_cqe), connection(owner) {}

        static void on_cqe(Completion* self, int32_t result, uint32_t flags);

        Connection& connection;
    };

    // What the receive loop does next, decided by next_ring_chunk().
    enum class Step { chunk, wait, wait_for_buffers, retry, end };

    // The result of one plain receive (into the connection's buffer or straight into the frame).
    enum class Received { bytes, retry, end };

    [[nodiscard]] io::Task<absl::Status> receive_loop();
    // One plain receive into `into`; with bytes, `count` says how many.
    [[nodiscard]] io::Task<Received> receive_plain(std::span<std::byte> into, bool wait_all,
                                                   size_t& count, absl::Status& end);

    bool direct_wanted() const {
        return options_.direct_receive_bytes_min > 0
               && assembler_.missing_bytes() >= options_.direct_receive_bytes_min;
    }

    [[nodiscard]] io::Task<void> pause();
    Step next_ring_chunk(std::span<const std::byte>& chunk, absl::Status& end);
    void arm_receive();
    void stop_receiving();
    void copy_aside();
    void release_chunk();
    void release_pending();
    void fall_back_to_plain();

    bool over_bound() const {
        return unsent_bytes_ > options_.unsent_bytes_max
               || deferred_in_flight_ >= options_.deferred_max;
    }

    // A response in the send queue; a deferred one holds its place until its completion.
    struct Queued {
        Response response;
        bool ready = true;
    };

    [[nodiscard]] io::Task<void> complete_deferred(Queued& slot,
                                                   io::Task<std::optional<Response>> completion);

    [[nodiscard]] io::Task<void> linger();

    [[nodiscard]] io::Task<void> send_loop();
    size_t fill_iovecs();
    void consume_sent(size_t bytes);

    io::Reactor& reactor_;
    int fd_;
    FrameHandler& handler_;
    ConnectionOptions options_;
    FrameAssembler assembler_;
    std::vector<std::byte> receive_buffer_;  // plain receives only (and a drain's linger)
    // The plain receive in flight (also a direct one in multishot mode), which drain() cancels,
    // or nullptr. It lives in the receive loop's frame, suspended on it until its CQE.
    io::Completion* plain_receive_ = nullptr;
    // The frames of the chunk being handled; frames_[next_frame_] is the next to hand out.
    std::vector<FrameAssembler::Frame> frames_;
    size_t next_frame_ = 0;

    // The multishot receive. pending_[pending_head_..] are CQEs not yet taken, in order; each
    // that carries a buffer holds it. At most one CQE without IORING_CQE_F_MORE is among them,
    // the last, because a new receive is armed only once the queue is empty.
    io::ProvidedBufferRing* ring_;
    bool multishot_;
    ReceiveCompletion receive_completion_{*this};
    bool receive_armed_ = false;
    bool receive_cancelled_ = false;  // a cancel for the armed receive is on its way
    bool waiting_for_buffers_ = false;
    std::vector<ReceiveCqe> pending_;
    size_t pending_head_ = 0;
    // The ring buffer frames_ points into, or -1.
    int chunk_buffer_id_ = -1;
    // Copied aside while paused (see the class comment): bytes received but not yet fed, which
    // come before pending_ in the stream, and the chunk being fed from them; and the unhandled
    // frames of a ring buffer that was given back, which frames_ then points into.
    std::vector<std::byte> aside_;
    std::vector<std::byte> aside_feeding_;
    std::vector<std::byte> held_frames_;

    // Responses in request order; the front one may be partly sent. A deque: deferred
    // completions hold references to their slots while others are pushed and popped.
    std::deque<Queued> queue_;
    size_t front_segment_ = 0;  // first unsent segment of queue_.front()
    size_t front_offset_ = 0;   // bytes of that segment already sent
    size_t unsent_bytes_ = 0;
    std::array<iovec, iovecs_max> iovecs_{};
    msghdr message_{};
    absl::Status send_status_;

    bool running_ = false;
    bool receive_done_ = false;
    bool closing_ = false;
    bool draining_ = false;    // drain() was called: no new receive is started
    io::Notify send_ready_;    // the queue grew, or the receive side finished
    io::Notify receive_wake_;  // bytes were sent, a receive CQE came, the send side finished
    io::TaskGroup sender_;
    io::TaskGroup deferred_;
    size_t deferred_in_flight_ = 0;
    ConnectionStats stats_;
};

}  // namespace ringlog::net::tcp

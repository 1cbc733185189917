// Connection: see connection.h. The receive loop is the connection's main coroutine (in
// connection_receive.cc); the send loop, here, runs beside it in a TaskGroup so responses go
// out while the next requests are read.
#include "net/tcp/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>

#include "io/base/errno_status.h"
#include "net/tcp/send_op.h"

namespace ringlog::net::tcp {

Response::Response() = default;
Response::~Response() = default;
Response::Response(Response&&) noexcept = default;
Response& Response::operator=(Response&&) noexcept = default;

Response Response::deferred(io::Task<std::optional<Response>> completion) {
    Response response;
    response.deferred_ =
        std::make_unique<DeferredResponse>(DeferredResponse{std::move(completion)});
    return response;
}

io::Task<std::optional<Response>> Response::take_completion() {
    RL_ASSERT(deferred_ != nullptr);
    io::Task<std::optional<Response>> completion = std::move(deferred_->completion);
    deferred_.reset();
    return completion;
}

io::Task<std::optional<Response>> resolve(std::optional<Response> response) {
    if (response.has_value() && response->is_deferred()) {
        co_return co_await response->take_completion();
    }
    co_return response;
}

size_t Response::size_bytes() const {
    size_t total = 0;
    for (const Segment& segment : segments_) {
        total += segment.size();
    }
    return total;
}

Connection::Connection(io::Reactor& reactor, int fd, FrameHandler& handler,
                       ConnectionOptions options)
    : reactor_(reactor),
      fd_(fd),
      handler_(handler),
      options_(options),
      assembler_(options.frame_bytes_max),
      ring_(options.buffer_ring),
      multishot_(options.buffer_ring != nullptr) {
    RL_ASSERT(fd >= 0);
    RL_ASSERT(options.receive_buffer_bytes > 0);
    if (multishot_) {
        // Enough for a burst; the queue can only grow to the ring's size plus one, and keeps
        // its capacity.
        pending_.reserve(std::min<size_t>(ring_->buffer_count() + 1, 64));
    } else {
        receive_buffer_.resize(options.receive_buffer_bytes);
    }
    // Responses are whole frames written at once; Nagle would only delay the last segment.
    const int one = 1;
    (void)::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

Connection::~Connection() {
    RL_ASSERT(!running_, "connection destroyed while run() is in flight");
    RL_ASSERT(!receive_armed_);
    RL_ASSERT(chunk_buffer_id_ < 0 && pending_head_ == pending_.size());
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void Connection::close() {
    if (closing_ || fd_ < 0) {
        return;
    }
    closing_ = true;
    // Cancel whatever receive or send is in flight on the socket; the shutdown also ends a
    // receive the kernel has not picked up yet (and any on kernels without CANCEL_FD, < 5.19).
    reactor_.prepare(nullptr, [this](io_uring_sqe* sqe) {
        io_uring_prep_cancel_fd(sqe, fd_, IORING_ASYNC_CANCEL_ALL);
    });
    (void)::shutdown(fd_, SHUT_RDWR);
    send_ready_.notify_all();
    receive_wake_.notify_all();
    if (ring_ != nullptr) {
        ring_->returned().notify_all();  // a receive loop may wait there for buffers
    }
}

void Connection::drain() {
    if (closing_ || draining_ || fd_ < 0) {
        return;
    }
    draining_ = true;
    // Only the receive is cancelled: sends in flight must finish. A multishot receive posts CQEs
    // until its last one, and the loop serves the bytes they carry; a plain receive ends with
    // -ECANCELED, or with bytes if it won the race, and those are served too. Either way no new
    // receive is started (the loop checks draining_), and the socket stays open for the sends.
    if (multishot_) {
        stop_receiving();
    }
    if (plain_receive_ != nullptr) {  // in multishot mode, a direct receive
        reactor_.prepare(
            nullptr, [this](io_uring_sqe* sqe) { io_uring_prep_cancel(sqe, plain_receive_, 0); });
    }
    // A receive loop waiting for ring buffers ends instead (close() wakes it the same way).
    if (ring_ != nullptr && waiting_for_buffers_) {
        ring_->returned().notify_all();
    }
}

io::Task<absl::Status> Connection::run() {
    RL_ASSERT(!running_ && fd_ >= 0);
    running_ = true;
    sender_.spawn(send_loop());
    absl::Status status = co_await receive_loop();
    receive_done_ = true;
    if (!status.ok()) {
        if (status.code() == absl::StatusCode::kInvalidArgument) {
            std::fprintf(stderr, "ringlog: closing connection: %s\n",
                         std::string(status.message()).c_str());
        }
        close();
    }
    if (receive_armed_ && !closing_) {
        close();  // not reached today: every way out of the loop ends or cancels the receive
    }
    send_ready_.notify_all();
    // A multishot receive posts CQEs until its last one (close() cancelled it); each may carry
    // a buffer that must go back to the ring.
    while (receive_armed_) {
        co_await receive_wake_.wait();
    }
    release_chunk();
    release_pending();
    co_await sender_.wait_idle();
    // Deferred completions write into queue_: they finish (the disk answers, or their log
    // closes) before it goes.
    co_await deferred_.wait_idle();
    if (status.ok()) {
        status = send_status_;
    }
    if (draining_ && !closing_) {
        co_await linger();
    }
    queue_.clear();
    unsent_bytes_ = 0;
    ::close(fd_);
    fd_ = -1;
    running_ = false;
    co_return status;
}

// The end of a drain, once every response went out (the send loop ended without closing): the
// FIN follows the responses, and the bytes the client sent meanwhile are read and dropped until
// its own FIN. Closing the socket with bytes unread would send RST instead, and RST discards
// whatever the kernel still holds of the responses, unacknowledged (tcp_close in
// net/ipv4/tcp.c). close() ends the wait: it cancels the receive and shuts the socket down.
io::Task<void> Connection::linger() {
    (void)::shutdown(fd_, SHUT_WR);
    if (receive_buffer_.empty()) {
        receive_buffer_.resize(4096);  // multishot mode had none; a shutdown path may allocate
    }
    while (!closing_) {
        const int result = co_await reactor_.op([this](io_uring_sqe* sqe) {
            io_uring_prep_recv(sqe, fd_, receive_buffer_.data(), receive_buffer_.size(), 0);
        });
        if (result == -EINTR || result == -EAGAIN) {
            continue;
        }
        if (result <= 0) {
            break;  // the peer's FIN, or it is gone (a reset): nothing left to protect
        }
    }
}

size_t Connection::fill_iovecs() {
    size_t count = 0;
    size_t first_segment = front_segment_;
    size_t first_offset = front_offset_;
    for (const Queued& queued : queue_) {
        if (!queued.ready) {
            break;  // later responses wait for this one: they go out in request order
        }
        const auto& segments = queued.response.segments();
        for (size_t i = first_segment; i < segments.size() && count < iovecs_max; ++i) {
            const size_t skip = i == first_segment ? first_offset : 0;
            if (segments[i].size() > skip) {
                iovecs_[count++] = iovec{const_cast<std::byte*>(segments[i].data()) + skip,
                                         segments[i].size() - skip};
            }
        }
        if (count == iovecs_max) {
            break;
        }
        first_segment = 0;
        first_offset = 0;
    }
    return count;
}

void Connection::consume_sent(size_t bytes) {
    stats_.bytes_sent += bytes;
    unsent_bytes_ -= bytes;
    while (!queue_.empty() && queue_.front().ready) {
        const auto& segments = queue_.front().response.segments();
        while (front_segment_ < segments.size()) {
            const size_t left = segments[front_segment_].size() - front_offset_;
            if (bytes < left) {
                front_offset_ += bytes;
                return;
            }
            bytes -= left;
            ++front_segment_;
            front_offset_ = 0;
        }
        // A deferred request that answered nothing leaves an empty slot: nothing was sent.
        stats_.responses_sent += segments.empty() ? 0 : 1;
        queue_.pop_front();
        front_segment_ = 0;
    }
    RL_ASSERT(bytes == 0);
}

io::Task<void> Connection::send_loop() {
    const bool zero_copy_supported = reactor_.supports(IORING_OP_SENDMSG_ZC);
    while (true) {
        while ((queue_.empty() && !receive_done_ && !closing_)
               || (!queue_.empty() && !queue_.front().ready && !closing_)) {
            co_await send_ready_.wait();
        }
        if (closing_ || queue_.empty()) {
            break;
        }
        const size_t count = fill_iovecs();
        if (count == 0) {
            consume_sent(0);  // only empty segments are left
            continue;
        }
        message_ = msghdr{};
        message_.msg_iov = iovecs_.data();
        message_.msg_iovlen = count;
        size_t bytes = 0;
        for (size_t i = 0; i < count; ++i) {
            bytes += iovecs_[i].iov_len;
        }
        const bool zero_copy = zero_copy_supported && options_.zero_copy_send_bytes_min > 0
                               && bytes >= options_.zero_copy_send_bytes_min;
        // A zero-copy send resumes us only after its notification: until then the kernel may
        // still read the pages, so the responses must not be consumed (freed) before.
        const int result = co_await SendOp(reactor_, fd_, &message_, zero_copy);
        ++stats_.sends;
        stats_.zero_copy_sends += zero_copy ? 1 : 0;
        if (result == -EINTR || result == -EAGAIN) {
            continue;
        }
        if (result <= 0) {
            if (!closing_) {
                send_status_ =
                    io::errno_to_status(result == 0 ? EPIPE : -result, "send to a client");
                close();
            }
            break;
        }
        consume_sent(static_cast<size_t>(result));
        receive_wake_.notify_all();
    }
    receive_wake_.notify_all();
}

io::Task<void> Connection::complete_deferred(Queued& slot,
                                             io::Task<std::optional<Response>> completion) {
    std::optional<Response> response = co_await std::move(completion);
    if (response.has_value()) {
        RL_ASSERT(!response->is_deferred());
        slot.response = std::move(*response);
    }
    // No response (nullopt) leaves an empty slot, which the send loop skips.
    slot.ready = true;
    unsent_bytes_ += slot.response.size_bytes();
    --deferred_in_flight_;
    send_ready_.notify_all();
    receive_wake_.notify_all();
}

}  // namespace ringlog::net::tcp

// Connection: see connection.h. The receive loop is the connection's main coroutine; the send
// loop runs beside it in a TaskGroup so responses go out while the next requests are read.
#include "net/tcp/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>

#include "io/base/errno_status.h"

namespace ringlog::net::tcp {

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
      receive_buffer_(options.receive_buffer_bytes) {
    RL_ASSERT(fd >= 0);
    RL_ASSERT(options.receive_buffer_bytes > 0);
    // Responses are whole frames written at once; Nagle would only delay the last segment.
    const int one = 1;
    (void)::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

Connection::~Connection() {
    RL_ASSERT(!running_, "connection destroyed while run() is in flight");
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
    drained_.notify_all();
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
    send_ready_.notify_all();
    co_await sender_.wait_idle();
    if (status.ok()) {
        status = send_status_;
    }
    queue_.clear();
    unsent_bytes_ = 0;
    ::close(fd_);
    fd_ = -1;
    running_ = false;
    co_return status;
}

io::Task<absl::Status> Connection::receive_loop() {
    while (!closing_) {
        while (unsent_bytes_ > options_.unsent_bytes_max && !closing_) {
            ++stats_.reads_paused;
            co_await drained_.wait();
        }
        if (closing_) {
            break;
        }
        const int result = co_await reactor_.op([this](io_uring_sqe* sqe) {
            io_uring_prep_recv(sqe, fd_, receive_buffer_.data(), receive_buffer_.size(), 0);
        });
        if (closing_) {
            break;
        }
        if (result == -EINTR || result == -EAGAIN) {
            continue;
        }
        if (result < 0) {
            co_return io::errno_to_status(-result, "receive from a client");
        }
        if (result == 0) {
            if (assembler_.pending_bytes() > 0) {
                co_return absl::UnavailableError("client closed the connection mid-frame");
            }
            co_return absl::OkStatus();
        }
        stats_.bytes_received += static_cast<uint64_t>(result);
        frames_.clear();
        const absl::Status fed =
            assembler_.feed(std::span(receive_buffer_).first(static_cast<size_t>(result)), frames_);
        for (const FrameAssembler::Frame frame : frames_) {
            // A chunk can hold many requests; back-pressure applies between them too.
            while (unsent_bytes_ > options_.unsent_bytes_max && !closing_) {
                ++stats_.reads_paused;
                co_await drained_.wait();
            }
            if (closing_) {
                co_return absl::OkStatus();
            }
            ++stats_.frames_received;
            std::optional<Response> response = co_await handler_.handle(frame);
            if (closing_) {
                co_return absl::OkStatus();
            }
            if (response.has_value()) {
                unsent_bytes_ += response->size_bytes();
                queue_.push_back(std::move(*response));
                send_ready_.notify_all();
            }
        }
        if (!fed.ok()) {
            co_return fed;
        }
    }
    co_return absl::OkStatus();
}

size_t Connection::fill_iovecs() {
    size_t count = 0;
    size_t first_segment = front_segment_;
    size_t first_offset = front_offset_;
    for (const Response& response : queue_) {
        const auto& segments = response.segments();
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
    while (!queue_.empty()) {
        const auto& segments = queue_.front().segments();
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
        queue_.pop_front();
        ++stats_.responses_sent;
        front_segment_ = 0;
    }
    RL_ASSERT(bytes == 0);
}

io::Task<void> Connection::send_loop() {
    while (true) {
        while (queue_.empty() && !receive_done_ && !closing_) {
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
        const int result = co_await reactor_.op([this](io_uring_sqe* sqe) {
            io_uring_prep_sendmsg(sqe, fd_, &message_, MSG_NOSIGNAL);
        });
        ++stats_.sends;
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
        drained_.notify_all();
    }
    drained_.notify_all();
}

}  // namespace ringlog::net::tcp

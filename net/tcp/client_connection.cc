// ClientConnection: see client_connection.h.
#include "net/tcp/client_connection.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <absl/strings/str_cat.h>

#include "io/base/assert.h"
#include "io/base/errno_status.h"

namespace ringlog::net::tcp {

namespace {

// Name resolution blocks, but it runs once per connection at start-up, not on the data path.
absl::StatusOr<sockaddr_in> resolve(const std::string& host, uint16_t port) {
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int error = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
    if (error != 0 || found == nullptr) {
        return absl::UnavailableError(absl::StrCat("resolve ", host, ": ", ::gai_strerror(error)));
    }
    sockaddr_in address{};
    std::memcpy(&address, found->ai_addr, sizeof(address));
    ::freeaddrinfo(found);
    address.sin_port = htons(port);
    return address;
}

}  // namespace

ClientConnection::ClientConnection(io::Reactor& reactor, int fd, ClientConnectionOptions options)
    : reactor_(reactor),
      fd_(fd),
      assembler_(options.frame_bytes_max),
      receive_buffer_(options.receive_buffer_bytes) {
    iovecs_.reserve(iovecs_max);
}

ClientConnection::~ClientConnection() {
    RL_ASSERT(!sending_, "connection destroyed during a send");
    RL_ASSERT(!receiving_, "connection destroyed during a receive");
    ::close(fd_);
}

io::Task<absl::StatusOr<std::unique_ptr<ClientConnection>>> ClientConnection::connect(
    io::Reactor& reactor, std::string host, uint16_t port, ClientConnectionOptions options) {
    absl::StatusOr<sockaddr_in> address = resolve(host, port);
    if (!address.ok()) {
        co_return address.status();
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        co_return io::errno_to_status(errno, "socket");
    }
    // Requests are whole frames handed over at once; Nagle would only hold the last piece back.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    // The kernel reads the address when the SQE is submitted; it lives in this frame.
    const sockaddr_in target = *address;
    const int result = co_await reactor.op([&](io_uring_sqe* sqe) {
        io_uring_prep_connect(sqe, fd, reinterpret_cast<const sockaddr*>(&target), sizeof(target));
    });
    if (result < 0) {
        ::close(fd);
        co_return absl::UnavailableError(absl::StrCat(
            "connect ", host, ":", port, ": ", io::errno_to_status(-result, "connect").message()));
    }
    co_return std::unique_ptr<ClientConnection>(new ClientConnection(reactor, fd, options));
}

io::Task<absl::Status> ClientConnection::send(std::span<const Segment> segments) {
    RL_ASSERT(!sending_, "one send at a time");
    sending_ = true;
    size_t next = 0;        // first segment not yet in iovecs_
    size_t skip_bytes = 0;  // bytes of segments[next] already sent
    absl::Status status;
    while (next < segments.size() && status.ok()) {
        iovecs_.clear();
        size_t offered = 0;
        for (size_t i = next; i < segments.size() && iovecs_.size() < iovecs_max; ++i) {
            const size_t skip = i == next ? skip_bytes : 0;
            if (segments[i].size() == skip) {
                continue;
            }
            iovecs_.push_back(iovec{const_cast<std::byte*>(segments[i].data() + skip),
                                    segments[i].size() - skip});
            offered += segments[i].size() - skip;
        }
        if (offered == 0) {
            break;
        }
        msghdr message{};
        message.msg_iov = iovecs_.data();
        message.msg_iovlen = iovecs_.size();
        const int sent = co_await reactor_.op(
            [&](io_uring_sqe* sqe) { io_uring_prep_sendmsg(sqe, fd_, &message, MSG_NOSIGNAL); });
        if (sent <= 0) {
            status = sent == 0 ? absl::UnavailableError("send: connection closed")
                               : io::errno_to_status(-sent, "send");
            break;
        }
        bytes_sent_ += static_cast<uint64_t>(sent);
        // Walk past what the kernel took.
        size_t left = static_cast<size_t>(sent);
        while (left > 0) {
            const size_t rest = segments[next].size() - skip_bytes;
            if (left < rest) {
                skip_bytes += left;
                left = 0;
            } else {
                left -= rest;
                ++next;
                skip_bytes = 0;
            }
        }
        while (next < segments.size() && segments[next].size() == skip_bytes) {
            ++next;
            skip_bytes = 0;
        }
    }
    sending_ = false;
    co_return status;
}

io::Task<absl::StatusOr<std::span<const std::byte>>> ClientConnection::next_frame() {
    RL_ASSERT(!receiving_, "one receive at a time");
    receiving_ = true;
    while (next_frame_ == frames_.size()) {
        frames_.clear();
        next_frame_ = 0;
        if (closed_) {
            receiving_ = false;
            co_return absl::UnavailableError("connection closed");
        }
        const int received = co_await reactor_.op([&](io_uring_sqe* sqe) {
            io_uring_prep_recv(sqe, fd_, receive_buffer_.data(), receive_buffer_.size(), 0);
        });
        if (received <= 0) {
            receiving_ = false;
            co_return received == 0 ? absl::UnavailableError("connection closed by the peer")
                                    : io::errno_to_status(-received, "receive");
        }
        bytes_received_ += static_cast<uint64_t>(received);
        const absl::Status fed = assembler_.feed(
            std::span<const std::byte>(receive_buffer_.data(), static_cast<size_t>(received)),
            frames_);
        if (!fed.ok()) {
            receiving_ = false;
            co_return fed;
        }
    }
    receiving_ = false;
    co_return frames_[next_frame_++];
}

void ClientConnection::close() {
    if (!closed_) {
        closed_ = true;
        ::shutdown(fd_, SHUT_RDWR);
    }
}

}  // namespace ringlog::net::tcp

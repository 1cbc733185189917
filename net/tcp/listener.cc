// Listener: see listener.h.
#include "net/tcp/listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <absl/strings/str_cat.h>

#include "io/base/errno_status.h"

namespace ringlog::net::tcp {

namespace {

struct BoundSocket {
    int fd;
    sockaddr_in address;
    std::string host;
};

// A TCP socket and the IPv4 address host:port, not yet bound.
absl::StatusOr<BoundSocket> tcp_socket_for(std::string_view host, uint16_t port) {
    BoundSocket socket{-1, {}, std::string(host)};
    socket.address.sin_family = AF_INET;
    socket.address.sin_port = htons(port);
    if (inet_pton(AF_INET, socket.host.c_str(), &socket.address.sin_addr) != 1) {
        return absl::InvalidArgumentError(absl::StrCat("not an IPv4 address: ", socket.host));
    }
    socket.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (socket.fd < 0) {
        return io::errno_to_status(errno, "create a TCP socket");
    }
    return socket;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Listener>> Listener::bind(io::Reactor& reactor,
                                                         std::string_view host, uint16_t port,
                                                         int backlog, bool reuse_port) {
    auto created = tcp_socket_for(host, port);
    if (!created.ok()) {
        return created.status();
    }
    const int fd = created->fd;
    sockaddr_in address = created->address;
    const std::string& host_string = created->host;
    const int one = 1;
    socklen_t length = sizeof(address);
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0
        || (reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0)
        || ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0
        || ::listen(fd, backlog) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        const int err = errno;
        ::close(fd);
        return io::errno_to_status(err, absl::StrCat("listen on ", host_string, ":", port));
    }
    return std::unique_ptr<Listener>(new Listener(reactor, fd, ntohs(address.sin_port)));
}

absl::Status Listener::check_port_unused(std::string_view host, uint16_t port) {
    auto created = tcp_socket_for(host, port);
    if (!created.ok()) {
        return created.status();
    }
    const int fd = created->fd;
    sockaddr_in address = created->address;
    const std::string& host_string = created->host;
    // SO_REUSEADDR ignores connections in TIME_WAIT but not a listening socket, with or without
    // SO_REUSEPORT: exactly "is anybody serving this port".
    const int one = 1;
    absl::Status status;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0
        || ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
        const int err = errno;
        status = err == EADDRINUSE
                     ? absl::AlreadyExistsError(
                         absl::StrCat(host_string, ":", port, " is already in use"))
                     : io::errno_to_status(err, absl::StrCat("bind ", host_string, ":", port));
    }
    ::close(fd);
    return status;
}

Listener::Listener(io::Reactor& reactor, int fd, uint16_t port)
    : reactor_(reactor), fd_(fd), port_(port) {}

Listener::~Listener() {
    RL_ASSERT(!armed_, "listener destroyed with its accept in flight; close() it first");
    for (const int result : results_) {
        if (result >= 0) {
            ::close(result);
        }
    }
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

void Listener::AcceptCompletion::on_cqe(Completion* self, int32_t result, uint32_t flags) {
    Listener& listener = static_cast<AcceptCompletion*>(self)->listener;
    if ((flags & IORING_CQE_F_MORE) == 0) {
        listener.armed_ = false;
    }
    if (result != -ECANCELED) {
        listener.results_.push_back(result);
    }
    listener.changed_.notify_all();
}

void Listener::arm() {
    RL_ASSERT(!armed_);
    armed_ = true;
    ++arm_count_;
    reactor_.prepare(&completion_, [this](io_uring_sqe* sqe) {
        io_uring_prep_multishot_accept(sqe, fd_, nullptr, nullptr, SOCK_CLOEXEC);
    });
}

io::Task<absl::StatusOr<int>> Listener::accept() {
    while (results_.empty() && !closing_) {
        if (!armed_) {
            arm();
        }
        co_await changed_.wait();
    }
    if (closing_) {
        co_return absl::CancelledError("listener closed");
    }
    const int result = results_.front();
    results_.pop_front();
    if (result < 0) {
        co_return io::errno_to_status(-result, absl::StrCat("accept on port ", port_));
    }
    co_return result;
}

io::Task<void> Listener::close() {
    if (closing_) {
        co_return;
    }
    closing_ = true;
    changed_.notify_all();
    if (armed_) {
        reactor_.prepare(nullptr,
                         [this](io_uring_sqe* sqe) { io_uring_prep_cancel(sqe, &completion_, 0); });
    }
    while (armed_) {
        co_await changed_.wait();
    }
    for (const int result : results_) {
        if (result >= 0) {
            ::close(result);
        }
    }
    results_.clear();
    ::close(fd_);
    fd_ = -1;
}

}  // namespace ringlog::net::tcp

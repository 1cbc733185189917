#include "net/http/http_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include <absl/strings/str_cat.h>

namespace ringlog::net::http {
namespace {

constexpr size_t request_bytes_max = 8 * 1024;

const char* reason(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        default:
            return "Error";
    }
}

}  // namespace

absl::StatusOr<std::string_view> parse_get_target(std::string_view request) {
    const size_t line_end = request.find("\r\n");
    if (line_end == std::string_view::npos) {
        return absl::InvalidArgumentError("no request line");
    }
    const std::string_view line = request.substr(0, line_end);
    const size_t first_space = line.find(' ');
    const size_t last_space = line.rfind(' ');
    if (first_space == std::string_view::npos || last_space == first_space) {
        return absl::InvalidArgumentError("malformed request line");
    }
    if (line.substr(0, first_space) != "GET") {
        return absl::UnimplementedError("only GET");
    }
    if (line.substr(last_space + 1, 5) != "HTTP/") {
        return absl::InvalidArgumentError("not HTTP");
    }
    return line.substr(first_space + 1, last_space - first_space - 1);
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::start(io::Reactor& reactor,
                                                              std::string_view host, uint16_t port,
                                                              HttpHandler handler) {
    auto listener = tcp::Listener::bind(reactor, host, port);
    if (!listener.ok()) {
        return listener.status();
    }
    std::unique_ptr<HttpServer> server(
        new HttpServer(reactor, *std::move(listener), std::move(handler)));
    server->tasks_.spawn(server->accept_loop());
    return server;
}

HttpServer::~HttpServer() {
    RL_ASSERT(tasks_.active() == 0, "HttpServer destroyed without stop()");
}

io::Task<void> HttpServer::stop() {
    stopping_ = true;
    co_await listener_->close();
    for (const int fd : open_fds_) {
        ::shutdown(fd, SHUT_RDWR);  // a pending receive returns 0
    }
    co_await tasks_.wait_idle();
}

io::Task<void> HttpServer::accept_loop() {
    while (!stopping_) {
        absl::StatusOr<int> accepted = co_await listener_->accept();
        if (!accepted.ok()) {
            if (accepted.status().code() == absl::StatusCode::kCancelled || stopping_) {
                break;
            }
            continue;
        }
        tasks_.spawn(serve(*accepted));
    }
}

io::Task<bool> HttpServer::send_all(int fd, std::string_view bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
        const int result = co_await reactor_.op([&](io_uring_sqe* sqe) {
            io_uring_prep_send(sqe, fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        });
        if (result == -EINTR || result == -EAGAIN) {
            continue;
        }
        if (result <= 0) {
            co_return false;
        }
        sent += static_cast<size_t>(result);
    }
    co_return true;
}

io::Task<void> HttpServer::serve(int fd) {
    open_fds_.push_back(fd);
    std::vector<char> request(request_bytes_max);
    size_t received = 0;
    HttpResponse response;
    bool complete = false;
    while (received < request.size()) {
        const int result = co_await reactor_.op([&](io_uring_sqe* sqe) {
            io_uring_prep_recv(sqe, fd, request.data() + received, request.size() - received, 0);
        });
        if (result == -EINTR || result == -EAGAIN) {
            continue;
        }
        if (result <= 0) {
            break;
        }
        received += static_cast<size_t>(result);
        if (std::string_view(request.data(), received).find("\r\n\r\n") != std::string_view::npos) {
            complete = true;
            break;
        }
    }
    if (!complete) {
        response.status = 400;
        response.body = "bad request\n";
    } else {
        absl::StatusOr<std::string_view> target =
            parse_get_target(std::string_view(request.data(), received));
        if (!target.ok()) {
            response.status =
                target.status().code() == absl::StatusCode::kUnimplemented ? 405 : 400;
            response.body = std::string(target.status().message()) + "\n";
        } else {
            response = co_await handler_(std::string(*target));
        }
    }
    const std::string head =
        absl::StrCat("HTTP/1.1 ", response.status, " ", reason(response.status),
                     "\r\nContent-Type: ", response.content_type,
                     "\r\nContent-Length: ", response.body.size(), "\r\nConnection: close\r\n\r\n");
    if (co_await send_all(fd, head)) {
        (void)co_await send_all(fd, response.body);
    }
    ::shutdown(fd, SHUT_WR);
    std::erase(open_fds_, fd);
    ::close(fd);
}

}  // namespace ringlog::net::http

// HttpServer: the smallest HTTP/1.1 server that Prometheus can scrape, on the shard's own
// reactor: GET requests only, one request per connection (the response says
// "Connection: close"), bodies made whole by the handler. It exists for /metrics; it is not a
// web framework and never will be.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "io/reactor.h"
#include "io/task.h"
#include "io/task_group.h"
#include "net/tcp/listener.h"

namespace ringlog::net::http {

struct HttpResponse {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

// The request line's target, e.g. "/metrics" (the query string included).
using HttpHandler = std::function<io::Task<HttpResponse>(std::string target)>;

// Contract: created, used and destroyed on its reactor's thread; stop() before destruction.
// A request larger than 8 KiB, not GET, or not finished within the read gets 400/405 and the
// connection closes.
class HttpServer {
public:
    [[nodiscard]] static absl::StatusOr<std::unique_ptr<HttpServer>> start(io::Reactor& reactor,
                                                                           std::string_view host,
                                                                           uint16_t port,
                                                                           HttpHandler handler);

    ~HttpServer();

    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    uint16_t port() const { return listener_->port(); }

    // Stops accepting and waits for the requests being answered.
    [[nodiscard]] io::Task<void> stop();

private:
    HttpServer(io::Reactor& reactor, std::unique_ptr<tcp::Listener> listener, HttpHandler handler)
        : reactor_(reactor), listener_(std::move(listener)), handler_(std::move(handler)) {}

    io::Task<void> accept_loop();
    io::Task<void> serve(int fd);
    // False when the peer went away first.
    io::Task<bool> send_all(int fd, std::string_view bytes);

    io::Reactor& reactor_;
    std::unique_ptr<tcp::Listener> listener_;
    HttpHandler handler_;
    io::TaskGroup tasks_;
    std::vector<int> open_fds_;  // shut down by stop(), so a silent client cannot hold it up
    bool stopping_ = false;
};

// "GET /metrics HTTP/1.1\r\n..." -> "/metrics"; kInvalidArgument for anything else.
[[nodiscard]] absl::StatusOr<std::string_view> parse_get_target(std::string_view request);

}  // namespace ringlog::net::http

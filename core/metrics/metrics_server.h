// MetricsServer: /metrics in Prometheus's text format, served by the controller shard's own
// reactor (--metrics-port, default 9644). A scrape asks every shard for its samples, each made
// on its own shard from its own counters (no shared counters anywhere), and writes them out
// grouped by family.
#pragma once

#include <cstdint>
#include <memory>

#include <absl/status/status.h>

#include "io/task.h"
#include "net/http/http_server.h"

namespace ringlog::core {

class Broker;

// Contract: created, started, stopped and destroyed on one shard.
class MetricsServer {
public:
    explicit MetricsServer(Broker& broker) : broker_(broker) {}

    [[nodiscard]] absl::Status start(io::Reactor& reactor, uint16_t port);

    [[nodiscard]] io::Task<void> stop();

    uint16_t port() const { return http_ != nullptr ? http_->port() : 0; }

private:
    io::Task<net::http::HttpResponse> answer(std::string target);

    Broker& broker_;
    std::unique_ptr<net::http::HttpServer> http_;
};

}  // namespace ringlog::core

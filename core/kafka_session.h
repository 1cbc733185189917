// KafkaSession: the Kafka side of one TCP connection. For each frame it decodes the request
// header, checks that the API and version are served, and runs the API's handler
// (core/api/). An ApiVersions request of an unknown version gets error 35 in a v0 body, as
// clients expect; any other request this broker cannot parse ends the connection with a log
// line, which is what Kafka does too: there is no response shape to carry the error.
// The same session serves datagram requests (core/datagram_server.h) without a connection:
// attach() is never called, and "closing" only logs. One private request outside Kafka's
// keys, 10000, opens a datagram session (net/dpdk/control.h).
#pragma once

#include <optional>
#include <span>

#include "core/broker.h"
#include "io/task.h"
#include "net/tcp/connection.h"

namespace ringlog::core {

// Contract: created and destroyed on one shard, outlives its connection's run().
class KafkaSession final : public net::tcp::FrameHandler {
public:
    explicit KafkaSession(Broker& broker) : broker_(broker) {}

    void attach(net::tcp::Connection& connection) { connection_ = &connection; }

    io::Task<std::optional<net::tcp::Response>> handle(std::span<const std::byte> frame) override;

private:
    Broker& broker_;
    net::tcp::Connection* connection_ = nullptr;
};

}  // namespace ringlog::core

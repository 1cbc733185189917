// KafkaServer: one shard's listeners and connections. Without --advertise-shards every shard
// listens on the Kafka port with SO_REUSEPORT and the kernel spreads connections across them;
// with it, shard i listens on port + i only, which Metadata advertises as broker i, so a
// client's requests for a partition arrive on the core that owns it.
#pragma once

#include <list>
#include <memory>

#include <absl/status/status.h>

#include "core/broker.h"
#include "core/kafka_session.h"
#include "io/provided_buffer_ring.h"
#include "io/task.h"
#include "io/task_group.h"
#include "net/tcp/connection.h"
#include "net/tcp/listener.h"

namespace ringlog::core {

// Contract: created, started, stopped and destroyed on its shard. stop() stops accepting and
// drains every connection (the requests it has read are answered, then the client sees EOF),
// closing any still open after a few seconds, and returns once all are gone.
class KafkaServer {
public:
    KafkaServer(Broker& broker, Shard& shard) : broker_(broker), shard_(shard) {}

    ~KafkaServer();

    KafkaServer(const KafkaServer&) = delete;
    KafkaServer& operator=(const KafkaServer&) = delete;

    [[nodiscard]] io::Task<absl::Status> start();

    [[nodiscard]] io::Task<void> stop();

    uint16_t port() const { return listener_ != nullptr ? listener_->port() : 0; }

private:
    struct Client {
        explicit Client(Broker& broker) : session(broker) {}

        KafkaSession session;
        std::unique_ptr<net::tcp::Connection> connection;
    };

    io::Task<void> accept_loop();
    io::Task<void> serve(int fd);

    Broker& broker_;
    Shard& shard_;
    std::unique_ptr<net::tcp::Listener> listener_;
    // The shard's receive buffers, shared by its connections (nullptr: plain receives, on a
    // kernel without buffer rings). Outlives every connection.
    std::unique_ptr<io::ProvidedBufferRing> buffer_ring_;
    std::list<Client*> clients_;
    io::TaskGroup tasks_;
    bool stopping_ = false;
};

}  // namespace ringlog::core

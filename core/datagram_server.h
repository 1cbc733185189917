// DatagramServer: one shard's datagram transport (net/dpdk), beside its KafkaServer. It owns
// the shard's PacketIo (a kernel UDP socket, or for shard i the DPDK ports p with p mod shards
// = i, served as one PacketIoGroup), the protocol's ServerEndpoint polled from the shard's
// reactor, and the KafkaSession that runs the requests: the same handler as TCP connections,
// without a connection (a request that would close one is logged and answered with nothing).
#pragma once

#include <memory>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "core/broker.h"
#include "core/kafka_session.h"
#include "io/task.h"
#include "net/dpdk/control.h"
#include "net/dpdk/packet_io.h"
#include "net/dpdk/server_endpoint.h"

namespace ringlog::core {

// Whether `config` asks for a datagram transport at all.
bool datagram_enabled(const BrokerConfig& config);

// Contract: created, started, stopped and destroyed on its shard. start() opens the PacketIo
// (on the shard's thread: a DPDK queue is polled by the thread that set it up) and begins
// polling; stop() stops polling and waits for the requests being executed.
class DatagramServer {
public:
    DatagramServer(Broker& broker, Shard& shard)
        : broker_(broker), shard_(shard), session_(broker) {}

    ~DatagramServer();

    DatagramServer(const DatagramServer&) = delete;
    DatagramServer& operator=(const DatagramServer&) = delete;

    [[nodiscard]] io::Task<absl::Status> start();

    [[nodiscard]] io::Task<void> stop();

    // The control request's answer for a new session on this shard (its error code set when
    // the session cannot be opened).
    net::dpdk::OpenSessionResponse open_session(int32_t client_datagram_bytes_max);

    net::dpdk::ServerEndpoint* endpoint() { return endpoint_.get(); }

private:
    Broker& broker_;
    Shard& shard_;
    KafkaSession session_;
    std::unique_ptr<net::dpdk::PacketIo> io_;  // for DPDK, a group of the shard's ports
    size_t port_count_ = 1;
    std::unique_ptr<net::dpdk::ServerEndpoint> endpoint_;
};

}  // namespace ringlog::core

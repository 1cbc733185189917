// DatagramClient: the project's own client over the datagram transport, for `ringlog
// datagram-check` and `ringlog bench --transport udp|dpdk` (one per bench thread, shared by
// its connections). It opens one session per broker shard over the Kafka listener
// (net/dpdk/control.h), more on request, and sends Kafka request frames on them; the frames
// and the handlers behind them are exactly those of TCP.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <absl/status/statusor.h>

#include "io/reactor.h"
#include "io/task.h"
#include "net/dpdk/client_endpoint.h"
#include "net/dpdk/packet_io.h"
#include "net/kafka/generated/headers.h"
#include "net/kafka/protocol/writer.h"

namespace ringlog::tools {

struct DatagramClientOptions {
    std::string bootstrap_host = "127.0.0.1";
    uint16_t bootstrap_port = 9092;
    std::string transport = "udp";       // udp | dpdk
    std::string dpdk_eal_args;           // for dpdk: EAL's arguments (a memif client vdev, say)
    std::string local_ip = "127.0.0.1";  // ours: bound (udp) or owned on the DPDK port
    uint16_t local_port = 0;             // 0: any (udp); the DPDK side defaults to 9101
    // DPDK: the broker's shard i is reached through our port dpdk_port + client_index *
    // shard_count + i, so several clients of one process (bench threads) each have ports of
    // their own (memif ports are point-to-point: the broker polls the matching one on shard
    // i). Their UDP ports differ too (local_port + client_index), so the broker can tell them
    // apart.
    uint16_t dpdk_port = 0;
    int client_index = 0;
    // Spin while calls wait (net::dpdk::ClientOptions::spin_while_waiting); default yes.
    std::optional<bool> spin;
};

// Contract: created, used and destroyed on one thread that owns `reactor`. connect() starts
// EAL if no one in the process has (DPDK), opens the PacketIo (for DPDK, one port per broker
// shard, see DatagramClientOptions::dpdk_port) and a session on every shard. Every call on
// every session has completed before it is destroyed.
class DatagramClient {
public:
    [[nodiscard]] static absl::StatusOr<std::unique_ptr<DatagramClient>> connect(
        io::Reactor& reactor, const DatagramClientOptions& options);

    ~DatagramClient();

    int shard_count() const { return static_cast<int>(sessions_.size()); }

    net::dpdk::ClientSession& session(int shard) { return *sessions_[static_cast<size_t>(shard)]; }

    // Another session on `shard` (a bench connection of its own, with its own window), opened
    // over the Kafka listener: blocks for that round trip, so call it while setting up only.
    [[nodiscard]] absl::StatusOr<net::dpdk::ClientSession*> open_session(int shard);

    // The counters of every endpoint, summed.
    net::dpdk::ClientStats stats() const;

private:
    explicit DatagramClient(const DatagramClientOptions& options) : options_(options) {}

    net::dpdk::ClientEndpoint& endpoint_for(int shard) {
        return *endpoints_[endpoints_.size() == 1 ? 0 : static_cast<size_t>(shard)];
    }

    DatagramClientOptions options_;
    std::vector<std::unique_ptr<net::dpdk::PacketIo>> ios_;
    std::vector<std::unique_ptr<net::dpdk::ClientEndpoint>> endpoints_;
    std::vector<net::dpdk::ClientSession*> sessions_;
};

// A Kafka request frame without its size prefix: the header (of the version the API's
// version calls for) and `body`.
template <typename Body>
std::vector<std::byte> request_frame(const Body& body, int16_t version, int32_t correlation_id) {
    net::kafka::Writer writer(256);
    net::kafka::RequestHeader header;
    header.request_api_key = static_cast<int16_t>(Body::api_key);
    header.request_api_version = version;
    header.correlation_id = correlation_id;
    header.client_id = "ringlog";
    header.encode(writer, net::kafka::request_header_version(header.request_api_key, version));
    body.encode(writer, version);
    return writer.flatten();
}

}  // namespace ringlog::tools

#include "tools/ringlog/datagram_client.h"

#include <mutex>

#include <absl/strings/str_cat.h>

#include "net/dpdk/control.h"
#include "net/dpdk/dpdk_port.h"
#include "net/dpdk/udp_packet_io.h"

namespace ringlog::tools {
namespace {

// Bench threads connect at once; EAL starts once per process, and ports are set up one at a
// time (start-up only: nothing on the data path takes it).
std::mutex& dpdk_setup_mutex() {
    static std::mutex mutex;
    return mutex;
}

absl::StatusOr<std::unique_ptr<net::dpdk::PacketIo>> open_port(const DatagramClientOptions& options,
                                                               uint32_t local_ip, int shard,
                                                               int shard_count) {
    const std::lock_guard<std::mutex> lock(dpdk_setup_mutex());
    if (!net::dpdk::eal_started()) {
        if (absl::Status started = net::dpdk::init_eal(options.dpdk_eal_args); !started.ok()) {
            return started;
        }
    }
    const int port_id = options.dpdk_port + options.client_index * shard_count + shard;
    if (port_id >= net::dpdk::dpdk_port_count()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--dpdk: client ", options.client_index, " of a broker with ", shard_count,
            " shards needs DPDK port ", port_id, ", EAL has ", net::dpdk::dpdk_port_count(),
            " (one port per client thread and broker shard)"));
    }
    net::dpdk::DpdkPortOptions port;
    port.port_id = static_cast<uint16_t>(port_id);
    const int local_port =
        (options.local_port != 0 ? options.local_port : 9101) + options.client_index;
    port.local = net::dpdk::Endpoint{.ipv4 = local_ip, .port = static_cast<uint16_t>(local_port)};
    port.external_buffers = false;  // requests are small, and the client pins nothing
    return net::dpdk::open_dpdk_port(port);
}

}  // namespace

absl::StatusOr<std::unique_ptr<DatagramClient>> DatagramClient::connect(
    io::Reactor& reactor, const DatagramClientOptions& options) {
    std::unique_ptr<DatagramClient> client(new DatagramClient(options));
    const bool dpdk = options.transport == "dpdk";
    if (!dpdk && options.transport != "udp") {
        return absl::InvalidArgumentError(
            absl::StrCat("--transport: '", options.transport, "' is not udp or dpdk"));
    }
    absl::StatusOr<uint32_t> local_ip = net::dpdk::parse_ipv4(options.local_ip);
    if (!local_ip.ok()) {
        return local_ip.status();
    }
    // Shard 0 first: its answer says how many shards there are. For DPDK that answer comes
    // before any port is opened (the port numbers depend on it), so the session is asked for
    // with the datagram size every DPDK port carries.
    int shard_count = 1;
    for (int shard = 0; shard < shard_count; ++shard) {
        net::dpdk::OpenSessionRequest request;
        request.shard = shard;
        if (dpdk) {
            request.datagram_bytes_max = static_cast<int32_t>(net::dpdk::dpdk_datagram_bytes_max);
        } else {
            if (client->ios_.empty()) {
                net::dpdk::UdpOptions udp;
                udp.host = options.local_ip;
                udp.port = options.local_port;
                absl::StatusOr<std::unique_ptr<net::dpdk::UdpPacketIo>> opened =
                    net::dpdk::UdpPacketIo::open(udp);
                if (!opened.ok()) {
                    return opened.status();
                }
                client->ios_.push_back(*std::move(opened));
            }
            request.datagram_bytes_max =
                static_cast<int32_t>(client->ios_.front()->datagram_bytes_max());
        }
        absl::StatusOr<net::dpdk::OpenSessionResponse> opened = net::dpdk::open_session_over_tcp(
            options.bootstrap_host, options.bootstrap_port, request);
        if (!opened.ok()) {
            return opened.status();
        }
        shard_count = opened->shard_count;
        if (dpdk) {
            absl::StatusOr<std::unique_ptr<net::dpdk::PacketIo>> port =
                open_port(options, *local_ip, shard, shard_count);
            if (!port.ok()) {
                return port.status();
            }
            client->ios_.push_back(*std::move(port));
        }
        if (client->endpoints_.size() < client->ios_.size()) {
            net::dpdk::ClientOptions endpoint_options;
            endpoint_options.spin_while_waiting = options.spin.value_or(true);
            client->endpoints_.push_back(std::make_unique<net::dpdk::ClientEndpoint>(
                reactor, *client->ios_.back(), endpoint_options));
        }
        client->sessions_.push_back(
            &client->endpoint_for(shard).add_session(opened->server, opened->grant));
    }
    return client;
}

absl::StatusOr<net::dpdk::ClientSession*> DatagramClient::open_session(int shard) {
    net::dpdk::ClientEndpoint& endpoint = endpoint_for(shard);
    net::dpdk::OpenSessionRequest request;
    request.shard = shard;
    request.datagram_bytes_max = static_cast<int32_t>(endpoint.io().datagram_bytes_max());
    absl::StatusOr<net::dpdk::OpenSessionResponse> opened =
        net::dpdk::open_session_over_tcp(options_.bootstrap_host, options_.bootstrap_port, request);
    if (!opened.ok()) {
        return opened.status();
    }
    return &endpoint.add_session(opened->server, opened->grant);
}

DatagramClient::~DatagramClient() {
    sessions_.clear();
    endpoints_.clear();  // before the PacketIo they poll
    ios_.clear();
}

net::dpdk::ClientStats DatagramClient::stats() const {
    net::dpdk::ClientStats total;
    for (const auto& endpoint : endpoints_) {
        const net::dpdk::ClientStats& part = endpoint->stats();
        total.calls += part.calls;
        total.calls_failed += part.calls_failed;
        total.retransmits += part.retransmits;
        total.packets_sent += part.packets_sent;
        total.stray_packets += part.stray_packets;
    }
    return total;
}

}  // namespace ringlog::tools

#include "core/datagram_server.h"

#include <cstdio>

#include <absl/strings/str_cat.h>

#include "net/dpdk/dpdk_port.h"
#include "net/dpdk/packet_io_group.h"
#include "net/dpdk/udp_packet_io.h"

namespace ringlog::core {

bool datagram_enabled(const BrokerConfig& config) {
    return config.udp_port != 0 || !config.dpdk_eal_args.empty();
}

DatagramServer::~DatagramServer() {
    RL_ASSERT(endpoint_ == nullptr, "DatagramServer destroyed while serving: stop() it first");
}

io::Task<absl::Status> DatagramServer::start() {
    const BrokerConfig& config = broker_.config();
    const uint32_t shard = shard_.id().value();
    if (!config.dpdk_eal_args.empty()) {
        absl::StatusOr<uint32_t> ipv4 = net::dpdk::parse_ipv4(config.datagram_host);
        if (!ipv4.ok()) {
            co_return ipv4.status();
        }
        // Every port p with p mod S = shard: one per client thread for point-to-point vdevs
        // (memif), served as one PacketIo.
        std::vector<std::unique_ptr<net::dpdk::PacketIo>> ports;
        const auto shard_count = static_cast<uint32_t>(broker_.shard_count());
        for (uint32_t port_id = shard; port_id < net::dpdk::dpdk_port_count();
             port_id += shard_count) {
            net::dpdk::DpdkPortOptions options;
            options.port_id = static_cast<uint16_t>(port_id);
            options.local = net::dpdk::Endpoint{
                .ipv4 = *ipv4, .port = static_cast<uint16_t>(config.dpdk_udp_port)};
            options.external_buffers = config.dpdk_external_buffers;
            if (!config.dpdk_peer_mac.empty()) {
                absl::StatusOr<std::array<uint8_t, 6>> mac =
                    net::dpdk::parse_mac(config.dpdk_peer_mac);
                if (!mac.ok()) {
                    co_return mac.status();
                }
                options.peer_mac = *mac;
            }
            absl::StatusOr<std::unique_ptr<net::dpdk::PacketIo>> port =
                net::dpdk::open_dpdk_port(options);
            if (!port.ok()) {
                co_return absl::Status(port.status().code(), absl::StrCat("shard ", shard, ": ",
                                                                          port.status().message()));
            }
            ports.push_back(*std::move(port));
        }
        RL_ASSERT(!ports.empty(), "the broker checked there is a DPDK port per shard");
        port_count_ = ports.size();
        io_ = ports.size() == 1 ? std::move(ports.front())
                                : std::make_unique<net::dpdk::PacketIoGroup>(std::move(ports));
    } else {
        net::dpdk::UdpOptions options;
        options.host = config.datagram_host;
        options.port = static_cast<uint16_t>(config.udp_port + static_cast<int>(shard));
        absl::StatusOr<std::unique_ptr<net::dpdk::UdpPacketIo>> socket =
            net::dpdk::UdpPacketIo::open(options);
        if (!socket.ok()) {
            co_return socket.status();
        }
        io_ = *std::move(socket);
    }
    net::dpdk::ServerOptions options;
    options.message_bytes_max = std::min<size_t>(config.request_bytes_max, 64 * 1024 * 1024);
    // Disjoint id ranges per shard, so a packet sent to the wrong shard names no session there.
    options.session_id_base = (shard + 1) << 24;
    endpoint_ =
        std::make_unique<net::dpdk::ServerEndpoint>(shard_.reactor(), *io_, session_, options);
    endpoint_->start();
    const net::dpdk::Endpoint local = io_->local_endpoint();
    std::fprintf(stderr, "ringlogd: shard %u datagrams on %s %s:%u (%zu port%s)\n", shard,
                 config.dpdk_eal_args.empty() ? "udp" : "dpdk",
                 net::dpdk::format_ipv4(local.ipv4).c_str(), local.port, port_count_,
                 port_count_ == 1 ? "" : "s");
    co_return absl::OkStatus();
}

io::Task<void> DatagramServer::stop() {
    if (endpoint_ != nullptr) {
        co_await endpoint_->stop();
        // One line per shard for whoever measures: how answers left (copied or in place).
        const net::dpdk::ServerStats& served = endpoint_->stats();
        const net::dpdk::PacketIoStats& sent = io_->stats();
        std::fprintf(stderr,
                     "ringlogd: shard %u datagrams: %llu requests, %llu duplicates, %llu packets "
                     "out, %llu external segments, %llu payload bytes copied; dropped: %llu busy, "
                     "%llu stale, %llu unknown, %llu refused by the device\n",
                     shard_.id().value(), static_cast<unsigned long long>(served.requests_executed),
                     static_cast<unsigned long long>(served.duplicate_requests),
                     static_cast<unsigned long long>(sent.transmitted),
                     static_cast<unsigned long long>(sent.transmit_external_segments),
                     static_cast<unsigned long long>(sent.transmit_copied_bytes),
                     static_cast<unsigned long long>(served.dropped_busy),
                     static_cast<unsigned long long>(served.dropped_stale),
                     static_cast<unsigned long long>(served.dropped_unknown),
                     static_cast<unsigned long long>(sent.transmit_full));
        endpoint_.reset();
    }
    io_.reset();
}

net::dpdk::OpenSessionResponse DatagramServer::open_session(int32_t client_datagram_bytes_max) {
    net::dpdk::OpenSessionResponse response;
    response.shard = static_cast<int32_t>(shard_.id().value());
    response.shard_count = broker_.shard_count();
    if (endpoint_ == nullptr) {
        response.error_code = net::dpdk::error_not_enabled;
        return response;
    }
    if (client_datagram_bytes_max <= 0) {
        response.error_code = net::dpdk::error_invalid;
        return response;
    }
    absl::StatusOr<net::dpdk::SessionGrant> grant =
        endpoint_->open_session(static_cast<uint32_t>(client_datagram_bytes_max));
    if (!grant.ok()) {
        response.error_code = grant.status().code() == absl::StatusCode::kResourceExhausted
                                  ? net::dpdk::error_exhausted
                                  : net::dpdk::error_invalid;
        return response;
    }
    response.grant = *grant;
    response.server = io_->local_endpoint();
    response.mac = io_->hardware_address();
    return response;
}

}  // namespace ringlog::core

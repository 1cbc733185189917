#include "tools/ringlog/datagram_client.h"

#include <absl/strings/str_cat.h>

#include "net/dpdk/control.h"
#include "net/dpdk/dpdk_port.h"
#include "net/dpdk/udp_packet_io.h"

namespace ringlog::tools {

absl::StatusOr<std::unique_ptr<DatagramClient>> DatagramClient::connect(
    io::Reactor& reactor, const DatagramClientOptions& options) {
    std::unique_ptr<DatagramClient> client(new DatagramClient());
    const bool dpdk = options.transport == "dpdk";
    if (!dpdk && options.transport != "udp") {
        return absl::InvalidArgumentError(
            absl::StrCat("--transport: '", options.transport, "' is not udp or dpdk"));
    }
    absl::StatusOr<uint32_t> local_ip = net::dpdk::parse_ipv4(options.local_ip);
    if (!local_ip.ok()) {
        return local_ip.status();
    }
    if (dpdk) {
        if (absl::Status started = net::dpdk::init_eal(options.dpdk_eal_args); !started.ok()) {
            return started;
        }
    }
    // Shard 0 first: its answer says how many shards there are.
    int shard_count = 1;
    for (int shard = 0; shard < shard_count; ++shard) {
        net::dpdk::PacketIo* io = nullptr;
        if (dpdk || client->ios_.empty()) {
            if (dpdk) {
                net::dpdk::DpdkPortOptions port;
                port.port_id = static_cast<uint16_t>(options.dpdk_port + shard);
                port.local = net::dpdk::Endpoint{
                    .ipv4 = *local_ip,
                    .port = options.local_port != 0 ? options.local_port : uint16_t{9101}};
                absl::StatusOr<std::unique_ptr<net::dpdk::PacketIo>> opened =
                    net::dpdk::open_dpdk_port(port);
                if (!opened.ok()) {
                    return opened.status();
                }
                client->ios_.push_back(*std::move(opened));
            } else {
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
            net::dpdk::ClientOptions endpoint_options;
            endpoint_options.spin_while_waiting = options.spin.value_or(true);
            client->endpoints_.push_back(std::make_unique<net::dpdk::ClientEndpoint>(
                reactor, *client->ios_.back(), endpoint_options));
        }
        io = client->ios_.back().get();
        net::dpdk::OpenSessionRequest request;
        request.shard = shard;
        request.datagram_bytes_max = static_cast<int32_t>(io->datagram_bytes_max());
        absl::StatusOr<net::dpdk::OpenSessionResponse> opened = net::dpdk::open_session_over_tcp(
            options.bootstrap_host, options.bootstrap_port, request);
        if (!opened.ok()) {
            return opened.status();
        }
        shard_count = opened->shard_count;
        client->sessions_.push_back(
            &client->endpoints_.back()->add_session(opened->server, opened->grant));
    }
    return client;
}

DatagramClient::~DatagramClient() {
    sessions_.clear();
    endpoints_.clear();  // before the PacketIo they poll
    ios_.clear();
}

const net::dpdk::ClientStats& DatagramClient::stats() const {
    return endpoints_.front()->stats();
}

}  // namespace ringlog::tools

// The DPDK side of the datagram transport: EAL start-up once per process, and a PacketIo on
// one queue of one DPDK port (dpdk_port_dpdk.cc) that builds and parses Ethernet, IPv4 and
// UDP headers itself. No DPDK header is included here, so code above net/ uses it without
// DPDK's compile flags; a build without DPDK links dpdk_port_no_dpdk.cc instead, whose
// functions say so (kUnimplemented).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include "net/dpdk/packet_io.h"

namespace ringlog::net::dpdk {

// Whether this build has the DPDK transport.
bool dpdk_available();

// The largest UDP payload a DPDK port carries: an Ethernet MTU of 1500 less 20 bytes of IPv4
// and 8 of UDP header.
inline constexpr size_t dpdk_datagram_bytes_max = 1472;

// rte_eal_init with `args` split at spaces (e.g. "--no-huge -m 256 --no-pci --no-shconf
// --no-telemetry --vdev=net_memif0,role=server,socket=/tmp/rl.sock"). Once per process, from
// a thread that is not a shard; the calling thread's CPU affinity is kept (EAL would pin it).
[[nodiscard]] absl::Status init_eal(const std::string& args);

// Whether init_eal() succeeded in this process.
bool eal_started();

// Ports EAL found (vdevs and bound NICs), numbered from 0.
uint16_t dpdk_port_count();

struct DpdkPortOptions {
    uint16_t port_id = 0;
    Endpoint local;  // our IPv4 address and UDP port on this port
    // Where frames to an address we have not heard from go: the peer's Ethernet address
    // (static ARP). Unset: broadcast, right for a point-to-point virtual link.
    std::optional<std::array<uint8_t, 6>> peer_mac;
    uint32_t mbuf_count = 4095;    // the port's pool: receive ring + held requests + transmit
    uint16_t ring_entries = 1024;  // receive and transmit descriptors
    // Packets given a PayloadPin (responses the server keeps, such as fetches over the log's
    // buffers) go out as chained mbufs whose payload segments are external buffers pointing at
    // those bytes (rte_pktmbuf_attach_extbuf), the pin held until the driver frees each segment
    // (a copying driver such as memif does so inside rte_eth_tx_burst; a NIC, in a later burst
    // or when the port stops: always on the polling thread). Off: every payload byte is copied
    // into one mbuf per frame. Pieces below external_bytes_min are copied either way (an mbuf
    // costs more than copying them). A NIC that DMAs would also need the log's memory
    // registered with DPDK (rte_extmem_register); memif and other copying vdevs do not.
    bool external_buffers = true;
    size_t external_bytes_min = 256;
};

// Configures and starts port `port_id` with one receive and one transmit queue, polled from
// the calling thread only (the shard's). Returns a PacketIo carrying datagrams of up to 1472
// bytes (an Ethernet MTU). Call on the thread that will poll it.
[[nodiscard]] absl::StatusOr<std::unique_ptr<PacketIo>> open_dpdk_port(DpdkPortOptions options);

// "aa:bb:cc:dd:ee:ff" to bytes; kInvalidArgument otherwise.
[[nodiscard]] absl::StatusOr<std::array<uint8_t, 6>> parse_mac(std::string_view text);

}  // namespace ringlog::net::dpdk

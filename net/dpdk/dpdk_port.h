// The DPDK side of the datagram transport: EAL start-up once per process, and a PacketIo on
// one queue of one DPDK port (dpdk_port_dpdk.cc) that builds and parses Ethernet, IPv4 and
// UDP headers itself. No DPDK header is included here, so code above net/ uses it without
// DPDK's compile flags; a build without DPDK links dpdk_port_no_dpdk.cc instead, whose
// functions say so (kUnimplemented).
#pragma once

#include <array>
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

// rte_eal_init with `args` split at spaces (e.g. "--no-huge -m 256 --no-pci --no-shconf
// --no-telemetry --vdev=net_memif0,role=server,socket=/tmp/rl.sock"). Once per process, from
// a thread that is not a shard; the calling thread's CPU affinity is kept (EAL would pin it).
[[nodiscard]] absl::Status init_eal(const std::string& args);

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
};

// Configures and starts port `port_id` with one receive and one transmit queue, polled from
// the calling thread only (the shard's). Returns a PacketIo carrying datagrams of up to 1472
// bytes (an Ethernet MTU). Call on the thread that will poll it.
[[nodiscard]] absl::StatusOr<std::unique_ptr<PacketIo>> open_dpdk_port(DpdkPortOptions options);

// "aa:bb:cc:dd:ee:ff" to bytes; kInvalidArgument otherwise.
[[nodiscard]] absl::StatusOr<std::array<uint8_t, 6>> parse_mac(std::string_view text);

}  // namespace ringlog::net::dpdk

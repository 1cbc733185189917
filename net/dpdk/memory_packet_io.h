// MemoryNetwork and MemoryPacketIo: datagrams between endpoints of one process, for tests of
// the protocol without sockets or DPDK (like io::SimFileSystem for files). A transmit copies
// the datagram into the target's queue; an unknown target drops it, as a network would.
#pragma once

#include <deque>
#include <map>
#include <vector>

#include "net/dpdk/packet_io.h"

namespace ringlog::net::dpdk {

class MemoryPacketIo;

// Contract: outlives its endpoints; single-threaded like everything on a reactor.
class MemoryNetwork {
public:
    static constexpr size_t datagram_bytes_max = 1472;  // an Ethernet MTU's UDP payload

private:
    friend class MemoryPacketIo;

    std::map<uint64_t, MemoryPacketIo*> endpoints_;
};

class MemoryPacketIo final : public PacketIo {
public:
    MemoryPacketIo(MemoryNetwork& network, Endpoint local);
    ~MemoryPacketIo() override;

    size_t receive(std::span<ReceivedPacket> packets) override;
    void release(const ReceivedPacket& packet) override;
    size_t transmit(std::span<const OutgoingPacket> packets) override;

    size_t datagram_bytes_max() const override { return MemoryNetwork::datagram_bytes_max; }

    Endpoint local_endpoint() const override { return local_; }

    const PacketIoStats& stats() const override { return stats_; }

    size_t held() const { return held_; }

private:
    struct Datagram {
        Endpoint source;
        std::vector<std::byte> bytes;
    };

    MemoryNetwork& network_;
    Endpoint local_;
    std::deque<Datagram> queue_;
    // Received datagrams until released (a map keeps their addresses stable).
    std::map<uintptr_t, Datagram> taken_;
    uintptr_t next_token_ = 1;
    size_t held_ = 0;
    PacketIoStats stats_;
};

}  // namespace ringlog::net::dpdk

// PacketIoGroup: several PacketIos served as one, so one ServerEndpoint (one shard) polls every
// DPDK port it owns. With memif, a port is a point-to-point link to one peer process or thread,
// so a shard that serves several client threads needs one port per thread; the group receives
// from each in turn and sends every answer back out of the member its peer was last heard on.
// It is not a load balancer: it never chooses among members for a peer it knows.
#pragma once

#include <memory>
#include <vector>

#include <absl/container/flat_hash_map.h>

#include "net/dpdk/packet_io.h"

namespace ringlog::net::dpdk {

// Contract: as PacketIo (one thread). The members share one local endpoint (the shard's address)
// and outlive nothing: the group owns them. A peer must keep to one member (a client thread to
// its own port); one heard on two members is answered on the later.
class PacketIoGroup final : public PacketIo {
public:
    explicit PacketIoGroup(std::vector<std::unique_ptr<PacketIo>> members);

    size_t receive(std::span<ReceivedPacket> packets) override;
    void release(const ReceivedPacket& packet) override;
    size_t transmit(std::span<const OutgoingPacket> packets) override;

    size_t datagram_bytes_max() const override { return datagram_bytes_max_; }

    Endpoint local_endpoint() const override { return members_.front()->local_endpoint(); }

    std::string hardware_address() const override { return members_.front()->hardware_address(); }

    // The members' counters, summed.
    const PacketIoStats& stats() const override;

    void arm_wakeup(io::Reactor& reactor) override;

    size_t member_count() const { return members_.size(); }

private:
    static uint64_t key(Endpoint endpoint) {
        return (uint64_t{endpoint.ipv4} << 16) | endpoint.port;
    }

    uint32_t route(Endpoint target) const;

    std::vector<std::unique_ptr<PacketIo>> members_;
    size_t datagram_bytes_max_;
    size_t next_member_ = 0;  // where the next receive() starts, for fairness
    absl::flat_hash_map<uint64_t, uint32_t> routes_;  // peer -> the member it was heard on
    mutable PacketIoStats stats_;
};

}  // namespace ringlog::net::dpdk

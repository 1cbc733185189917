// FaultPacketIo: a test shim between the protocol and a PacketIo that drops, duplicates and
// reorders outgoing datagrams at random, from a seed, so a test can replay a failure. Faults
// apply on transmit only; putting a shim on both sides covers both directions.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "net/dpdk/packet_io.h"

namespace ringlog::net::dpdk {

struct FaultOptions {
    double drop = 0.0;       // chance that a datagram vanishes
    double duplicate = 0.0;  // chance that it is sent twice
    double reorder = 0.0;    // chance that it is held back and sent after later ones
    uint64_t seed = 1;
};

struct FaultStats {
    uint64_t dropped = 0;
    uint64_t duplicated = 0;
    uint64_t reordered = 0;
};

// Contract: wraps `inner`, which outlives it. A held-back datagram goes out on a later
// transmit() or receive(), so nothing is held for ever while the endpoint is polled.
class FaultPacketIo final : public PacketIo {
public:
    FaultPacketIo(PacketIo& inner, FaultOptions options);

    size_t receive(std::span<ReceivedPacket> packets) override;

    void release(const ReceivedPacket& packet) override { inner_.release(packet); }

    size_t transmit(std::span<const OutgoingPacket> packets) override;

    size_t datagram_bytes_max() const override { return inner_.datagram_bytes_max(); }

    Endpoint local_endpoint() const override { return inner_.local_endpoint(); }

    const PacketIoStats& stats() const override { return inner_.stats(); }

    const FaultStats& faults() const { return faults_; }

private:
    struct Held {
        Endpoint target;
        std::vector<std::byte> bytes;
    };

    bool chance(double probability) { return std::bernoulli_distribution(probability)(random_); }

    void send_copy(Endpoint target, const std::vector<std::byte>& bytes);
    void release_held();

    PacketIo& inner_;
    FaultOptions options_;
    std::mt19937_64 random_;
    std::vector<Held> held_;
    FaultStats faults_;
};

}  // namespace ringlog::net::dpdk

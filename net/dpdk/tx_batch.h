// TxBatch: packets gathered during one poll and handed to PacketIo::transmit() together, so a
// burst costs one sendmmsg(2) or one rte_eth_tx_burst. It owns the headers and the span lists
// of the packets it holds. The payload bytes stay the caller's until flush(), or, given a
// PayloadPin, are kept valid by it: held from add() until flush() has handed the packet over
// (so a cached response dropped in between cannot leave a packet pointing at freed bytes), and
// past that by the PacketIo itself if it sends them in place.
#pragma once

#include <array>
#include <vector>

#include "net/dpdk/packet_io.h"
#include "net/dpdk/wire.h"

namespace ringlog::net::dpdk {

// Contract: add() may flush when the batch is full; flush() sends everything held and drops
// what the device refuses (counted in dropped(); the client's retransmission recovers).
class TxBatch {
public:
    static constexpr size_t packets_max = 32;
    // A fragment gathered from more pieces than this is copied into a scratch buffer instead.
    static constexpr size_t pieces_max = 8;

    explicit TxBatch(PacketIo& io);
    ~TxBatch();

    TxBatch(const TxBatch&) = delete;
    TxBatch& operator=(const TxBatch&) = delete;

    // Queues `header` plus the bytes [offset, offset + length) of the message made of
    // `message` segments, in order; `pin`, if any, keeps those bytes valid (see above).
    void add(Endpoint target, const PacketHeader& header, std::span<const Bytes> message,
             size_t offset, size_t length, PayloadPin* pin = nullptr);

    void add(Endpoint target, const PacketHeader& header) { add(target, header, {}, 0, 0); }

    void flush();

    uint64_t dropped() const { return dropped_; }

private:
    PacketIo& io_;
    size_t count_ = 0;
    std::array<std::array<std::byte, PacketHeader::wire_bytes>, packets_max> headers_{};
    std::array<std::array<Bytes, pieces_max>, packets_max> pieces_{};
    std::array<OutgoingPacket, packets_max> packets_{};
    std::vector<std::byte> scratch_;  // packets_max x datagram_bytes_max, for many-piece cases
    uint64_t dropped_ = 0;
};

}  // namespace ringlog::net::dpdk

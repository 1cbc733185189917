#include "net/dpdk/memory_packet_io.h"

#include "io/base/assert.h"

namespace ringlog::net::dpdk {
namespace {

uint64_t key_of(Endpoint endpoint) {
    return (uint64_t{endpoint.ipv4} << 16) | endpoint.port;
}

}  // namespace

MemoryPacketIo::MemoryPacketIo(MemoryNetwork& network, Endpoint local)
    : network_(network), local_(local) {
    const bool added = network_.endpoints_.emplace(key_of(local), this).second;
    RL_ASSERT(added, "two memory endpoints on one address");
}

MemoryPacketIo::~MemoryPacketIo() {
    network_.endpoints_.erase(key_of(local_));
}

size_t MemoryPacketIo::receive(std::span<ReceivedPacket> packets) {
    size_t count = 0;
    while (count < packets.size() && !queue_.empty()) {
        const uintptr_t token = next_token_++;
        Datagram& datagram = taken_.emplace(token, std::move(queue_.front())).first->second;
        queue_.pop_front();
        packets[count++] = ReceivedPacket{
            .source = datagram.source, .payload = Bytes(datagram.bytes), .token = token, .link = 0};
        ++held_;
        ++stats_.received;
        stats_.receive_bytes += datagram.bytes.size();
    }
    return count;
}

void MemoryPacketIo::release(const ReceivedPacket& packet) {
    const size_t erased = taken_.erase(packet.token);
    RL_ASSERT(erased == 1, "released a packet twice");
    --held_;
}

size_t MemoryPacketIo::transmit(std::span<const OutgoingPacket> packets) {
    for (const OutgoingPacket& packet : packets) {
        Datagram datagram{.source = local_, .bytes = {}};
        datagram.bytes.assign(packet.header.begin(), packet.header.end());
        for (const Bytes piece : packet.payload) {
            datagram.bytes.insert(datagram.bytes.end(), piece.begin(), piece.end());
        }
        RL_ASSERT(datagram.bytes.size() <= datagram_bytes_max());
        ++stats_.transmitted;
        stats_.transmit_bytes += datagram.bytes.size();
        const auto target = network_.endpoints_.find(key_of(packet.target));
        if (target != network_.endpoints_.end()) {
            target->second->queue_.push_back(std::move(datagram));
        }
    }
    return packets.size();
}

}  // namespace ringlog::net::dpdk

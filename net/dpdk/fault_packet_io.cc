#include "net/dpdk/fault_packet_io.h"

namespace ringlog::net::dpdk {

FaultPacketIo::FaultPacketIo(PacketIo& inner, FaultOptions options)
    : inner_(inner), options_(options), random_(options.seed) {}

size_t FaultPacketIo::receive(std::span<ReceivedPacket> packets) {
    if (!held_.empty() && chance(0.5)) {
        release_held();
    }
    return inner_.receive(packets);
}

void FaultPacketIo::send_copy(Endpoint target, const std::vector<std::byte>& bytes) {
    const Bytes whole(bytes);
    const OutgoingPacket packet{
        .target = target, .header = whole, .payload = std::span<const Bytes>()};
    (void)inner_.transmit(std::span<const OutgoingPacket>(&packet, 1));
}

void FaultPacketIo::release_held() {
    std::vector<Held> held;
    held.swap(held_);
    for (const Held& datagram : held) {
        send_copy(datagram.target, datagram.bytes);
    }
}

size_t FaultPacketIo::transmit(std::span<const OutgoingPacket> packets) {
    for (const OutgoingPacket& packet : packets) {
        if (chance(options_.drop)) {
            ++faults_.dropped;
            continue;
        }
        std::vector<std::byte> bytes(packet.header.begin(), packet.header.end());
        for (const Bytes piece : packet.payload) {
            bytes.insert(bytes.end(), piece.begin(), piece.end());
        }
        if (chance(options_.reorder)) {
            ++faults_.reordered;
            held_.push_back(Held{.target = packet.target, .bytes = std::move(bytes)});
            continue;
        }
        send_copy(packet.target, bytes);
        if (chance(options_.duplicate)) {
            ++faults_.duplicated;
            send_copy(packet.target, bytes);
        }
    }
    if (!held_.empty() && chance(0.3)) {
        release_held();
    }
    return packets.size();
}

}  // namespace ringlog::net::dpdk

// PacketIoGroup: see packet_io_group.h.
#include "net/dpdk/packet_io_group.h"

#include <algorithm>

#include "io/base/assert.h"

namespace ringlog::net::dpdk {

PacketIoGroup::PacketIoGroup(std::vector<std::unique_ptr<PacketIo>> members)
    : members_(std::move(members)) {
    RL_ASSERT(!members_.empty());
    datagram_bytes_max_ = members_.front()->datagram_bytes_max();
    for (const auto& member : members_) {
        datagram_bytes_max_ = std::min(datagram_bytes_max_, member->datagram_bytes_max());
    }
}

size_t PacketIoGroup::receive(std::span<ReceivedPacket> packets) {
    size_t count = 0;
    const size_t members = members_.size();
    for (size_t turn = 0; turn < members && count < packets.size(); ++turn) {
        const auto member = static_cast<uint32_t>((next_member_ + turn) % members);
        const size_t got = members_[member]->receive(packets.subspan(count));
        for (size_t index = count; index < count + got; ++index) {
            packets[index].link = member;
            if (members > 1) {
                routes_[key(packets[index].source)] = member;
            }
        }
        count += got;
    }
    next_member_ = (next_member_ + 1) % members;
    return count;
}

void PacketIoGroup::release(const ReceivedPacket& packet) {
    RL_ASSERT(packet.link < members_.size());
    members_[packet.link]->release(packet);
}

uint32_t PacketIoGroup::route(Endpoint target) const {
    if (members_.size() == 1) {
        return 0;
    }
    const auto found = routes_.find(key(target));
    return found == routes_.end() ? 0 : found->second;
}

size_t PacketIoGroup::transmit(std::span<const OutgoingPacket> packets) {
    // Runs of packets for one member go out in one burst; a member that refuses part of its run
    // ends the call there (the contract: the first n are sent, the rest refused).
    size_t sent = 0;
    while (sent < packets.size()) {
        const uint32_t member = route(packets[sent].target);
        size_t end = sent + 1;
        while (end < packets.size() && route(packets[end].target) == member) {
            ++end;
        }
        const size_t run = end - sent;
        const size_t accepted = members_[member]->transmit(packets.subspan(sent, run));
        sent += accepted;
        if (accepted < run) {
            break;
        }
    }
    return sent;
}

const PacketIoStats& PacketIoGroup::stats() const {
    stats_ = PacketIoStats{};
    for (const auto& member : members_) {
        const PacketIoStats& part = member->stats();
        stats_.received += part.received;
        stats_.transmitted += part.transmitted;
        stats_.transmit_full += part.transmit_full;
        stats_.receive_bytes += part.receive_bytes;
        stats_.transmit_bytes += part.transmit_bytes;
        stats_.dropped_malformed += part.dropped_malformed;
        stats_.transmit_external_segments += part.transmit_external_segments;
        stats_.transmit_copied_bytes += part.transmit_copied_bytes;
    }
    return stats_;
}

void PacketIoGroup::arm_wakeup(io::Reactor& reactor) {
    for (const auto& member : members_) {
        member->arm_wakeup(reactor);
    }
}

}  // namespace ringlog::net::dpdk

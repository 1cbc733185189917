// PacketIoGroup (net/dpdk/packet_io_group.h) over in-memory members, and TxBatch's payload pins:
// packets from two peers arriving on two members are released through the member that received
// them and answered out of that member; a peer never heard from goes out of the first; a pinned
// payload is held from add() until flush() and not after (the memory network copies).
#include "net/dpdk/packet_io_group.h"

#include <cstring>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "net/dpdk/memory_packet_io.h"
#include "net/dpdk/tx_batch.h"
#include "net/dpdk/wire.h"

namespace ringlog::net::dpdk {
namespace {

constexpr Endpoint member_a{.ipv4 = 0x7f000101, .port = 9100};
constexpr Endpoint member_b{.ipv4 = 0x7f000102, .port = 9100};
constexpr Endpoint peer_a{.ipv4 = 0x7f000201, .port = 9101};
constexpr Endpoint peer_b{.ipv4 = 0x7f000201, .port = 9102};
constexpr Endpoint stranger{.ipv4 = 0x7f000203, .port = 9103};

void send(PacketIo& from, Endpoint target, uint8_t tag) {
    const std::byte byte{tag};
    const Bytes piece(&byte, 1);
    const OutgoingPacket packet{.target = target, .header = piece, .payload = {}, .pin = nullptr};
    ASSERT_EQ(from.transmit(std::span<const OutgoingPacket>(&packet, 1)), 1u);
}

// The source and first byte of every datagram waiting at `io`.
std::vector<std::pair<Endpoint, uint8_t>> drain(PacketIo& io) {
    std::vector<std::pair<Endpoint, uint8_t>> out;
    std::vector<ReceivedPacket> packets(8);
    const size_t count = io.receive(packets);
    for (size_t index = 0; index < count; ++index) {
        out.emplace_back(packets[index].source, static_cast<uint8_t>(packets[index].payload[0]));
        io.release(packets[index]);
    }
    return out;
}

struct Network {
    MemoryNetwork network;
    MemoryPacketIo* a = nullptr;
    MemoryPacketIo* b = nullptr;
    std::unique_ptr<PacketIoGroup> group;
    MemoryPacketIo client_a{network, peer_a};
    MemoryPacketIo client_b{network, peer_b};
    MemoryPacketIo client_c{network, stranger};

    Network() {
        std::vector<std::unique_ptr<PacketIo>> members;
        auto first = std::make_unique<MemoryPacketIo>(network, member_a);
        auto second = std::make_unique<MemoryPacketIo>(network, member_b);
        a = first.get();
        b = second.get();
        members.push_back(std::move(first));
        members.push_back(std::move(second));
        group = std::make_unique<PacketIoGroup>(std::move(members));
    }
};

TEST(PacketIoGroup, AnswersEachPeerOutOfTheMemberItWasHeardOn) {
    Network net;
    send(net.client_a, member_a, 1);
    send(net.client_b, member_b, 2);
    std::vector<ReceivedPacket> packets(8);
    const size_t count = net.group->receive(packets);
    ASSERT_EQ(count, 2u);
    for (size_t index = 0; index < count; ++index) {
        const ReceivedPacket& packet = packets[index];
        EXPECT_EQ(packet.link, packet.source == peer_a ? 0u : 1u);
        net.group->release(packet);
    }
    EXPECT_EQ(net.a->held(), 0u);
    EXPECT_EQ(net.b->held(), 0u);
    // One burst with both answers: each leaves by its peer's member (its source says which).
    const std::byte x{10};
    const std::byte y{20};
    const OutgoingPacket answers[] = {
        {.target = peer_b, .header = Bytes(&y, 1), .payload = {}, .pin = nullptr},
        {.target = peer_a, .header = Bytes(&x, 1), .payload = {}, .pin = nullptr},
        {.target = stranger, .header = Bytes(&x, 1), .payload = {}, .pin = nullptr},
    };
    EXPECT_EQ(net.group->transmit(answers), 3u);
    const auto at_a = drain(net.client_a);
    const auto at_b = drain(net.client_b);
    const auto at_c = drain(net.client_c);
    ASSERT_EQ(at_a.size(), 1u);
    ASSERT_EQ(at_b.size(), 1u);
    ASSERT_EQ(at_c.size(), 1u);
    EXPECT_EQ(at_a[0].first, member_a);
    EXPECT_EQ(at_a[0].second, 10);
    EXPECT_EQ(at_b[0].first, member_b);
    EXPECT_EQ(at_b[0].second, 20);
    EXPECT_EQ(at_c[0].first, member_a) << "a peer never heard from goes out of the first member";
    EXPECT_EQ(net.group->stats().transmitted, 3u);
    EXPECT_EQ(net.group->stats().received, 2u);
}

class CountingPin final : public PayloadPin {
public:
    void retain() override { ++references; }

    void release() override {
        ASSERT_GT(references, 0);
        --references;
    }

    int references = 0;
};

TEST(TxBatch, HoldsAPinnedPayloadUntilFlushed) {
    MemoryNetwork network;
    MemoryPacketIo server(network, member_a);
    MemoryPacketIo client(network, peer_a);
    CountingPin pin;
    std::vector<std::byte> payload(100, std::byte{7});
    const Bytes message[] = {Bytes(payload)};
    {
        TxBatch batch(server);
        PacketHeader header;
        header.type = PacketType::response;
        batch.add(peer_a, header, message, 0, payload.size(), &pin);
        batch.add(peer_a, header, message, 10, 20, &pin);
        EXPECT_EQ(pin.references, 2);
        batch.flush();
        EXPECT_EQ(pin.references, 0) << "a copying PacketIo keeps no reference";
        batch.add(peer_a, header, message, 0, 10, &pin);
        EXPECT_EQ(pin.references, 1);
    }
    EXPECT_EQ(pin.references, 0) << "an unflushed batch gives its pins back when destroyed";
    std::vector<ReceivedPacket> packets(8);
    const size_t count = client.receive(packets);
    ASSERT_EQ(count, 2u);
    EXPECT_EQ(packets[0].payload.size(), PacketHeader::wire_bytes + payload.size());
    EXPECT_EQ(packets[1].payload.size(), PacketHeader::wire_bytes + 20);
    for (size_t index = 0; index < count; ++index) {
        client.release(packets[index]);
    }
}

}  // namespace
}  // namespace ringlog::net::dpdk

// The datagram protocol over the kernel UDP PacketIo on loopback, server and client in one
// process and one reactor: small and fragmented calls, each executed once, every receive slot
// given back. The logic is the same as over DPDK, so this is its test where DPDK is absent.
// Also the control request's codec.
#include <cstring>
#include <map>

#include <gtest/gtest.h>

#include "io/reactor.h"
#include "io/task_group.h"
#include "net/dpdk/client_endpoint.h"
#include "net/dpdk/control.h"
#include "net/dpdk/server_endpoint.h"
#include "net/dpdk/udp_packet_io.h"

namespace ringlog::net::dpdk {
namespace {

// Answers each request with its own bytes repeated `factor` times (after the size prefix).
class RepeatHandler final : public tcp::FrameHandler {
public:
    io::Task<std::optional<tcp::Response>> handle(std::span<const std::byte> frame) override {
        ++executed;
        std::vector<std::byte> response(4);
        for (int copy = 0; copy < factor; ++copy) {
            response.insert(response.end(), frame.begin(), frame.end());
        }
        co_return tcp::Response::copy_of(response);
    }

    int factor = 3;
    int executed = 0;
};

io::Task<void> call_and_check(ClientSession& session, size_t bytes, uint8_t seed, int& matched) {
    std::vector<std::byte> request(bytes);
    for (size_t index = 0; index < bytes; ++index) {
        request[index] = static_cast<std::byte>(index * 31 + seed);
    }
    absl::StatusOr<std::vector<std::byte>> response = co_await session.call(request);
    EXPECT_TRUE(response.ok()) << response.status();
    if (!response.ok() || response->size() != 3 * bytes) {
        co_return;
    }
    for (int copy = 0; copy < 3; ++copy) {
        if (std::memcmp(response->data() + copy * bytes, request.data(), bytes) != 0) {
            co_return;
        }
    }
    ++matched;
}

io::Task<void> run_calls(ClientSession& session, int& matched) {
    io::TaskGroup group;
    const size_t sizes[] = {1, 100, 1'400, 1'500, 10'000, 70'000};
    for (int round = 0; round < 20; ++round) {
        for (const size_t bytes : sizes) {
            group.spawn(call_and_check(session, bytes, static_cast<uint8_t>(round), matched));
        }
        co_await group.wait_idle();
    }
}

TEST(DatagramUdp, CallsRoundTripOverLoopback) {
    auto reactor = *io::Reactor::create();
    auto server_io = UdpPacketIo::open(UdpOptions{});
    auto client_io = UdpPacketIo::open(UdpOptions{});
    ASSERT_TRUE(server_io.ok()) << server_io.status();
    ASSERT_TRUE(client_io.ok()) << client_io.status();
    RepeatHandler handler;
    ServerEndpoint server(*reactor, **server_io, handler);
    server.start();
    int matched = 0;
    {
        ClientEndpoint client(*reactor, **client_io);
        const absl::StatusOr<SessionGrant> grant =
            server.open_session(static_cast<uint32_t>((*client_io)->datagram_bytes_max()));
        ASSERT_TRUE(grant.ok());
        ClientSession& session = client.add_session((*server_io)->local_endpoint(), *grant);
        reactor->block_on(run_calls(session, matched));
    }
    reactor->block_on(server.stop());
    EXPECT_EQ(matched, 120);
    // Loopback may still drop under load; a retransmission is then answered from the cache.
    EXPECT_EQ(handler.executed, 120);
    EXPECT_GT(server.stats().requests_in_place, 0u);
}

TEST(DatagramControl, OpenSessionMessagesRoundTrip) {
    OpenSessionResponse response;
    response.shard = 1;
    response.shard_count = 2;
    response.grant =
        SessionGrant{.session_id = 77, .credits = 32, .window = 16, .datagram_bytes_max = 1472};
    response.server = Endpoint{.ipv4 = 0x7f000101, .port = 9100};
    response.mac = std::string("\x02\x00\x00\x00\x00\x01", 6);
    kafka::Writer writer;
    response.encode(writer);
    const std::vector<std::byte> bytes = writer.flatten();
    kafka::Reader reader(bytes);
    OpenSessionResponse decoded;
    ASSERT_TRUE(decoded.decode(reader).ok());
    EXPECT_EQ(decoded.grant.session_id, 77u);
    EXPECT_EQ(decoded.grant.window, 16u);
    EXPECT_EQ(decoded.server, response.server);
    EXPECT_EQ(decoded.mac, response.mac);
    EXPECT_EQ(format_ipv4(decoded.server.ipv4), "127.0.1.1");
}

}  // namespace
}  // namespace ringlog::net::dpdk

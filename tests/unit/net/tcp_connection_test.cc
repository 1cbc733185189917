// Listener and Connection over loopback, once with plain receives into the connection's own
// buffer (the fallback for kernels without buffer rings) and once with the multishot receive
// over a shard's provided buffer ring: a server on the reactor in the test thread, clients with
// plain blocking sockets in std::threads (tcp_test_support.h). Pipelined frames of random sizes
// come back in order, a 10 MiB frame (mostly received straight into its buffer), large frames
// mixing direct receives with chunks, 50 connections at once (sharing one small ring), bad
// size prefixes and mid-frame disconnects end only their own connection, back-pressure stops
// reading until the client reads, and closing everything with connections open leaves nothing
// behind (ASan checks the leaks; the ring checks that every buffer came back).
#include <atomic>
#include <chrono>

#include <gtest/gtest.h>

#include "tests/unit/net/tcp_test_support.h"

namespace ringlog::net::tcp {
namespace {

using testing::Bytes;
using testing::Client;
using testing::echo_round_trip;
using testing::make_reactor;
using testing::random_payloads;
using testing::Server;
using testing::size_prefix;

enum class ReceiveMode { plain, ring };

class TcpConnection : public ::testing::TestWithParam<ReceiveMode> {
protected:
    // 64 buffers of 4 KiB: small enough that frames span buffers and busy connections run the
    // ring dry, so the multishot runs exercise ENOBUFS too.
    static std::optional<io::ProvidedBufferRingOptions> ring_options() {
        if (GetParam() == ReceiveMode::plain) {
            return std::nullopt;
        }
        return io::ProvidedBufferRingOptions{
            .group_id = 1, .buffer_count = 64, .buffer_bytes = 4096};
    }

    // Every connection used the mode under test (in ring mode, a connection that got a frame
    // for direct receives moved to plain receives, once), and every ring buffer came back.
    static void expect_mode_and_buffers(const Server& server) {
        for (const auto& connection : server.connections) {
            const uint64_t switched = connection->stats().switched_to_plain;
            EXPECT_LE(switched, GetParam() == ReceiveMode::ring ? 1u : 0u);
            EXPECT_EQ(connection->multishot(), GetParam() == ReceiveMode::ring && switched == 0);
        }
        if (server.ring != nullptr) {
            EXPECT_EQ(server.ring->available(), server.ring->buffer_count());
            EXPECT_EQ(server.ring->stats().consumed, server.ring->stats().returned);
        }
    }
};

TEST_P(TcpConnection, PipelinedFramesOfRandomSizesRoundTripInOrder) {
    auto reactor = make_reactor();
    Server server(*reactor, ConnectionOptions{.receive_buffer_bytes = 4096}, ring_options());
    const auto payloads = random_payloads(1, 2000, 20000);
    std::thread client([&] { echo_round_trip(server.listener->port(), payloads); });
    reactor->block_on(server.serve(1));
    client.join();
    ASSERT_EQ(server.results.size(), 1u);
    EXPECT_TRUE(server.results[0].ok()) << server.results[0];
    EXPECT_EQ(server.connections.front()->stats().frames_received, payloads.size());
    EXPECT_EQ(server.connections.front()->stats().responses_sent, payloads.size());
    expect_mode_and_buffers(server);
}

TEST_P(TcpConnection, TenMebibyteFrame) {
    auto reactor = make_reactor();
    Server server(*reactor, {}, ring_options());
    Bytes big(10 * 1024 * 1024);
    for (size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<std::byte>(i * 7 + i / 4096);
    }
    const std::vector<Bytes> payloads = {big, Bytes(3, std::byte{1})};
    std::thread client([&] { echo_round_trip(server.listener->port(), payloads); });
    reactor->block_on(server.serve(1));
    client.join();
    EXPECT_TRUE(server.results.at(0).ok()) << server.results[0];
    // Most of it went straight into the frame's buffer: at most the ring's burst before its
    // cancellation (256 KiB) and the receive buffer's 64 KiB came through a copy. In ring mode
    // the connection moved to plain receives for it.
    const ConnectionStats& stats = server.connections.front()->stats();
    EXPECT_EQ(stats.switched_to_plain, GetParam() == ReceiveMode::ring ? 1u : 0u);
    EXPECT_FALSE(server.connections.front()->multishot());
    EXPECT_GT(stats.direct_receives, 0u);
    EXPECT_GE(stats.direct_bytes, 9u * 1024 * 1024);
    EXPECT_EQ(stats.bytes_received, big.size() + 4 + payloads[1].size() + 4);
    expect_mode_and_buffers(server);
}

// Frames up to 400 KiB, pipelined, with a low threshold: direct receives, multishot chunks (or
// plain receives) and their switches interleave at every kind of boundary, and each frame
// still comes back whole and in order; a ring connection moves to plain receives at the first
// large frame; with direct receives off, none of that happens.
TEST_P(TcpConnection, DirectReceivesInterleaveWithChunksAndKeepFramesWhole) {
    for (const size_t threshold : {size_t{16 * 1024}, size_t{0}}) {
        auto reactor = make_reactor();
        Server server(*reactor, ConnectionOptions{.direct_receive_bytes_min = threshold},
                      ring_options());
        const auto payloads = random_payloads(static_cast<uint32_t>(threshold + 3), 60, 400000);
        std::thread client([&] { echo_round_trip(server.listener->port(), payloads); });
        reactor->block_on(server.serve(1));
        client.join();
        ASSERT_TRUE(server.results.at(0).ok()) << server.results[0];
        const ConnectionStats& stats = server.connections.front()->stats();
        EXPECT_EQ(stats.frames_received, payloads.size());
        uint64_t stream_bytes = 0;
        for (const auto& payload : payloads) {
            stream_bytes += 4 + payload.size();
        }
        EXPECT_EQ(stats.bytes_received, stream_bytes);
        if (threshold > 0) {
            EXPECT_GT(stats.direct_receives, 0u);
            EXPECT_GT(stats.direct_bytes, 0u);
            EXPECT_EQ(stats.switched_to_plain, GetParam() == ReceiveMode::ring ? 1u : 0u);
        } else {
            EXPECT_EQ(stats.direct_receives, 0u);
            EXPECT_EQ(stats.direct_bytes, 0u);
            EXPECT_EQ(stats.switched_to_plain, 0u);
        }
        expect_mode_and_buffers(server);
    }
}

TEST_P(TcpConnection, FiftyConcurrentConnections) {
    auto reactor = make_reactor();
    Server server(*reactor, {}, ring_options());
    std::vector<std::thread> clients;
    for (uint32_t i = 0; i < 50; ++i) {
        clients.emplace_back([port = server.listener->port(), i] {
            echo_round_trip(port, random_payloads(100 + i, 20, 3000));
        });
    }
    reactor->block_on(server.serve(50));
    for (auto& client : clients) {
        client.join();
    }
    EXPECT_EQ(server.count(absl::StatusCode::kOk), 50u);
    expect_mode_and_buffers(server);
}

TEST_P(TcpConnection, BadSizePrefixClosesOnlyThatConnection) {
    auto reactor = make_reactor();
    Server server(*reactor, ConnectionOptions{.frame_bytes_max = 1024 * 1024}, ring_options());
    const uint16_t port = server.listener->port();
    std::thread clients([port] {
        for (const uint32_t size : {uint32_t{1024 * 1024 + 1}, uint32_t{0xfffffff0}}) {
            Client bad(port);
            const auto prefix = size_prefix(size);
            EXPECT_TRUE(bad.write_all(prefix));
            EXPECT_TRUE(bad.closed_by_peer());
        }
        echo_round_trip(port, random_payloads(5, 50, 5000));
    });
    reactor->block_on(server.serve(3));
    clients.join();
    EXPECT_EQ(server.count(absl::StatusCode::kInvalidArgument), 2u);
    EXPECT_EQ(server.count(absl::StatusCode::kOk), 1u);
    expect_mode_and_buffers(server);
}

TEST_P(TcpConnection, ClientDisconnectingMidFrameEndsOnlyThatConnection) {
    auto reactor = make_reactor();
    Server server(*reactor, {}, ring_options());
    const uint16_t port = server.listener->port();
    std::thread clients([port] {
        {
            Client quitter(port);
            const auto prefix = size_prefix(100);
            EXPECT_TRUE(quitter.write_all(prefix));
            EXPECT_TRUE(quitter.write_all(Bytes(10, std::byte{1})));
        }
        echo_round_trip(port, random_payloads(6, 50, 5000));
    });
    reactor->block_on(server.serve(2));
    clients.join();
    EXPECT_EQ(server.count(absl::StatusCode::kUnavailable), 1u);
    EXPECT_EQ(server.count(absl::StatusCode::kOk), 1u);
    expect_mode_and_buffers(server);
}

// Polls the first connection's reads_paused on the loop (bounded at about 30 s), records how
// many frames it had taken by then, and lets the client go on.
io::Task<void> watch_pause(Server& server, std::atomic<bool>& paused, uint64_t& frames) {
    for (int i = 0; i < 30000; ++i) {
        if (!server.connections.empty() && server.connections.front()->stats().reads_paused > 0) {
            frames = server.connections.front()->stats().frames_received;
            break;
        }
        co_await io::Reactor::current().sleep_for(std::chrono::milliseconds(1));
    }
    paused = true;
    paused.notify_all();
}

io::Task<void> serve_watching_pause(Server& server, std::atomic<bool>& paused, uint64_t& frames) {
    io::TaskGroup watcher;
    watcher.spawn(watch_pause(server, paused, frames));
    co_await server.serve(1);
    co_await watcher.wait_idle();
}

// The client sends every request without reading; each response is 256 KiB, so the socket
// buffers fill and the unsent bytes pass the bound. The server must stop taking requests
// (reads_paused, and frames_received below the total), and finish once the client reads.
TEST_P(TcpConnection, BackPressureStopsReadingUntilTheClientReads) {
    constexpr size_t request_count = 200;
    constexpr size_t response_bytes = 256 * 1024;
    auto reactor = make_reactor();
    Server server(*reactor, ConnectionOptions{.unsent_bytes_max = 1024 * 1024}, ring_options());
    server.handler.response_bytes = response_bytes;
    std::atomic<bool> paused = false;
    std::thread client([&, port = server.listener->port()] {
        Client sender(port);
        for (size_t i = 0; i < request_count; ++i) {
            EXPECT_TRUE(sender.write_frame(Bytes(8, std::byte{2})));
        }
        paused.wait(false);
        for (size_t i = 0; i < request_count; ++i) {
            auto response = sender.read_frame();
            ASSERT_TRUE(response.has_value()) << i;
            EXPECT_EQ(response->size(), response_bytes);
        }
    });
    uint64_t frames_when_paused = 0;
    reactor->block_on(serve_watching_pause(server, paused, frames_when_paused));
    client.join();
    const ConnectionStats& stats = server.connections.front()->stats();
    EXPECT_GT(stats.reads_paused, 0u);
    EXPECT_GT(frames_when_paused, 0u);
    EXPECT_LT(frames_when_paused, request_count);
    EXPECT_EQ(stats.frames_received, request_count);
    EXPECT_EQ(stats.responses_sent, request_count);
    EXPECT_TRUE(server.results.at(0).ok()) << server.results[0];
    expect_mode_and_buffers(server);
}

io::Task<void> accept_into(Listener& listener, absl::Status& status) {
    status = (co_await listener.accept()).status();
}

// Accepts three connections, waits until each answered one frame, starts a fourth accept, then
// closes the listener and every connection.
io::Task<void> close_everything_while_open(Server& server, absl::Status& fourth_accept) {
    for (int i = 0; i < 3; ++i) {
        absl::StatusOr<int> fd = co_await server.listener->accept();
        RL_ASSERT(fd.ok());
        server.connections.push_back(std::make_unique<Connection>(io::Reactor::current(), *fd,
                                                                  server.handler, server.options));
        server.group.spawn(server.run(*server.connections.back()));
    }
    for (int i = 0; i < 30000; ++i) {  // about 30 s at most
        bool answered = true;
        for (const auto& connection : server.connections) {
            answered = answered && connection->stats().responses_sent == 1;
        }
        if (answered) {
            break;
        }
        co_await io::Reactor::current().sleep_for(std::chrono::milliseconds(1));
    }
    io::TaskGroup acceptor;
    acceptor.spawn(accept_into(*server.listener, fourth_accept));
    co_await server.listener->close();
    for (const auto& connection : server.connections) {
        connection->close();
    }
    co_await server.group.wait_idle();
    co_await acceptor.wait_idle();
}

// Three idle connections and an accept() waiting for a fourth: closing the listener and the
// connections ends everything, the clients see the close, and (under ASan) nothing leaks.
TEST_P(TcpConnection, ClosingListenerAndConnectionsWhileOpenLeaksNothing) {
    auto reactor = make_reactor();
    Server server(*reactor, {}, ring_options());
    const uint16_t port = server.listener->port();
    std::vector<std::thread> clients;
    for (int i = 0; i < 3; ++i) {
        clients.emplace_back([port] {
            Client client(port);
            EXPECT_TRUE(client.write_frame(Bytes(16, std::byte{3})));
            EXPECT_TRUE(client.read_frame().has_value());
            EXPECT_TRUE(client.closed_by_peer());
        });
    }
    absl::Status fourth_accept;
    reactor->block_on(close_everything_while_open(server, fourth_accept));
    for (auto& client : clients) {
        client.join();
    }
    EXPECT_EQ(fourth_accept.code(), absl::StatusCode::kCancelled);
    EXPECT_EQ(server.count(absl::StatusCode::kOk), 3u);
    EXPECT_EQ(reactor->inflight(), 0u);
    expect_mode_and_buffers(server);
}

INSTANTIATE_TEST_SUITE_P(Receive, TcpConnection,
                         ::testing::Values(ReceiveMode::plain, ReceiveMode::ring),
                         [](const ::testing::TestParamInfo<ReceiveMode>& mode) {
                             return mode.param == ReceiveMode::plain ? "Plain" : "Multishot";
                         });

}  // namespace
}  // namespace ringlog::net::tcp

// Connection over the multishot receive and a provided buffer ring, where the plain path has
// nothing to compare with: many small frames per buffer, frames spanning many tiny buffers, a
// ring of four buffers run dry (ENOBUFS, re-armed once buffers return), a connection paused by
// back-pressure giving every buffer back while it waits, the fallback to plain receives when
// the ring cannot be registered, an oversized frame closing the connection with a log line,
// and zero-copy sends. Counters are checked, never times.
#include <atomic>
#include <chrono>
#include <string>

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

void expect_every_buffer_returned(const Server& server) {
    EXPECT_EQ(server.ring->available(), server.ring->buffer_count());
    EXPECT_EQ(server.ring->stats().consumed, server.ring->stats().returned);
}

TEST(TcpMultishot, ManySmallFramesShareBuffers) {
    auto reactor = make_reactor();
    Server server(*reactor, {}, io::ProvidedBufferRingOptions{.buffer_count = 16});
    const auto payloads = random_payloads(11, 5000, 40);
    std::thread client([&] { echo_round_trip(server.listener->port(), payloads); });
    reactor->block_on(server.serve(1));
    client.join();
    ASSERT_TRUE(server.results.at(0).ok()) << server.results[0];
    const ConnectionStats& stats = server.connections.front()->stats();
    EXPECT_TRUE(server.connections.front()->multishot());
    EXPECT_EQ(stats.frames_received, payloads.size());
    EXPECT_EQ(stats.responses_sent, payloads.size());
    EXPECT_LT(stats.receives, stats.frames_received);  // several frames in place per buffer
    EXPECT_GE(stats.receive_arms, 1u);
    expect_every_buffer_returned(server);
}

// 256-byte buffers and frames up to 3000 bytes: most frames are assembled from many buffers.
TEST(TcpMultishot, FramesSpanningManyBuffersArriveWhole) {
    auto reactor = make_reactor();
    Server server(*reactor, {},
                  io::ProvidedBufferRingOptions{.buffer_count = 64, .buffer_bytes = 256});
    const auto payloads = random_payloads(12, 500, 3000);
    std::thread client([&] { echo_round_trip(server.listener->port(), payloads); });
    reactor->block_on(server.serve(1));
    client.join();
    ASSERT_TRUE(server.results.at(0).ok()) << server.results[0];
    const ConnectionStats& stats = server.connections.front()->stats();
    EXPECT_EQ(stats.frames_received, payloads.size());
    EXPECT_GT(stats.receives, stats.frames_received);
    expect_every_buffer_returned(server);
}

// The requests are in the server's socket before the connection arms its receive, so the
// kernel fills all four buffers at once and ends the receive with ENOBUFS; the connection must
// re-arm after handing the buffers back, again and again, and lose nothing.
TEST(TcpMultishot, RingRunDryRecoversFromEnobufs) {
    auto reactor = make_reactor();
    Server server(*reactor, {},
                  io::ProvidedBufferRingOptions{.buffer_count = 4, .buffer_bytes = 256});
    const auto payloads = random_payloads(13, 400, 150);
    Client client(server.listener->port());
    for (const auto& payload : payloads) {
        ASSERT_TRUE(client.write_frame(payload));
    }
    std::thread reader([&] {
        for (size_t i = 0; i < payloads.size(); ++i) {
            auto echoed = client.read_frame();
            ASSERT_TRUE(echoed.has_value()) << "frame " << i;
            ASSERT_EQ(*echoed, payloads[i]) << "frame " << i;
        }
        client.shutdown_write();
    });
    reactor->block_on(server.serve(1));
    reader.join();
    ASSERT_TRUE(server.results.at(0).ok()) << server.results[0];
    const ConnectionStats& stats = server.connections.front()->stats();
    EXPECT_EQ(stats.frames_received, payloads.size());
    EXPECT_GT(stats.buffer_waits, 0u);
    EXPECT_GT(stats.receive_arms, stats.buffer_waits);
    expect_every_buffer_returned(server);
}

// Waits (on the loop, polling a timer, about 30 s at most) until the connection paused for
// back-pressure and then until every ring buffer is back in the ring, and records both.
io::Task<void> watch_pause(Server& server, std::atomic<bool>& paused, bool& all_returned) {
    bool seen_pause = false;
    for (int i = 0; i < 30000 && !all_returned; ++i) {
        seen_pause = seen_pause
                     || (!server.connections.empty()
                         && server.connections.front()->stats().reads_paused > 0);
        all_returned = seen_pause && server.ring->available() == server.ring->buffer_count();
        if (!all_returned) {
            co_await io::Reactor::current().sleep_for(std::chrono::milliseconds(1));
        }
    }
    paused = true;
    paused.notify_all();
}

io::Task<void> serve_watching_pause(Server& server, std::atomic<bool>& paused, bool& all_returned) {
    io::TaskGroup watcher;
    watcher.spawn(watch_pause(server, paused, all_returned));
    co_await server.serve(1);
    co_await watcher.wait_idle();
}

// The client writes every request without reading; responses of 256 KiB pass the 1 MiB bound.
// While paused the connection must hold no ring buffer (it cancelled its receive and copied
// aside what arrived), and once the client reads, every request must still be answered.
TEST(TcpMultishot, BackPressurePausesWithoutHoldingRingBuffers) {
    constexpr size_t request_count = 200;
    constexpr size_t response_bytes = 256 * 1024;
    auto reactor = make_reactor();
    Server server(*reactor, ConnectionOptions{.unsent_bytes_max = 1024 * 1024},
                  io::ProvidedBufferRingOptions{.buffer_count = 8, .buffer_bytes = 512});
    server.handler.response_bytes = response_bytes;
    std::atomic<bool> paused = false;
    std::thread client([&, port = server.listener->port()] {
        Client sender(port);
        for (size_t i = 0; i < request_count; ++i) {
            EXPECT_TRUE(sender.write_frame(Bytes(100, std::byte{2})));
        }
        paused.wait(false);
        for (size_t i = 0; i < request_count; ++i) {
            auto response = sender.read_frame();
            ASSERT_TRUE(response.has_value()) << i;
            EXPECT_EQ(response->size(), response_bytes);
        }
    });
    bool all_returned_while_paused = false;
    reactor->block_on(serve_watching_pause(server, paused, all_returned_while_paused));
    client.join();
    const ConnectionStats& stats = server.connections.front()->stats();
    EXPECT_TRUE(all_returned_while_paused);
    EXPECT_GT(stats.reads_paused, 0u);
    EXPECT_EQ(stats.frames_received, request_count);
    EXPECT_EQ(stats.responses_sent, request_count);
    EXPECT_GT(stats.receive_arms, 1u);  // re-armed after each pause cancelled it
    EXPECT_TRUE(server.results.at(0).ok()) << server.results[0];
    expect_every_buffer_returned(server);
}

// What a shard does at start-up: try to register its ring, and serve with plain receives when
// that fails (here because the group id is taken; on a kernel < 5.19 because it has none).
TEST(TcpMultishot, ConnectionFallsBackToPlainReceivesWithoutARing) {
    auto reactor = make_reactor();
    auto taken = io::ProvidedBufferRing::create(*reactor, {.group_id = 5, .buffer_count = 4});
    ASSERT_TRUE(taken.ok()) << taken.status();
    auto refused = io::ProvidedBufferRing::create(*reactor, {.group_id = 5, .buffer_count = 4});
    ASSERT_FALSE(refused.ok());
    Server server(*reactor,
                  ConnectionOptions{.buffer_ring = refused.ok() ? refused->get() : nullptr});
    const auto payloads = random_payloads(14, 200, 5000);
    std::thread client([&] { echo_round_trip(server.listener->port(), payloads); });
    reactor->block_on(server.serve(1));
    client.join();
    ASSERT_TRUE(server.results.at(0).ok()) << server.results[0];
    EXPECT_FALSE(server.connections.front()->multishot());
    EXPECT_EQ(server.connections.front()->stats().receive_arms, 0u);
    EXPECT_EQ(server.connections.front()->stats().frames_received, payloads.size());
}

// Two good frames, then a size prefix one byte over the maximum, all in one write: the good
// ones are handled in order, then the connection closes (dropping unsent responses, as any
// close does) with a line on stderr naming the sizes.
TEST(TcpMultishot, FrameAboveTheMaximumClosesTheConnectionWithALogLine) {
    auto reactor = make_reactor();
    Server server(*reactor, ConnectionOptions{.frame_bytes_max = 4096},
                  io::ProvidedBufferRingOptions{.buffer_count = 8});
    Bytes stream;
    for (const size_t size : {size_t{10}, size_t{4096}}) {
        const auto prefix = size_prefix(size);
        stream.insert(stream.end(), prefix.begin(), prefix.end());
        stream.insert(stream.end(), size, std::byte{7});
    }
    const auto bad = size_prefix(4097);
    stream.insert(stream.end(), bad.begin(), bad.end());
    std::thread client([&, port = server.listener->port()] {
        Client sender(port);
        EXPECT_TRUE(sender.write_all(stream));
        EXPECT_TRUE(sender.read_until_closed());
    });
    ::testing::internal::CaptureStderr();
    reactor->block_on(server.serve(1));
    const std::string log = ::testing::internal::GetCapturedStderr();
    client.join();
    EXPECT_EQ(server.results.at(0).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(log.find("closing connection: frame of 4097 bytes exceeds the maximum of 4096"),
              std::string::npos)
        << log;
    EXPECT_EQ(server.connections.front()->stats().frames_received, 2u);
    expect_every_buffer_returned(server);
}

// Responses above the threshold go out with SENDMSG_ZC and arrive intact; the connection
// consumes a response only after the send's notification.
TEST(TcpMultishot, ZeroCopySendsAboveTheThreshold) {
    auto reactor = make_reactor();
    if (!reactor->supports(IORING_OP_SENDMSG_ZC)) {
        GTEST_SKIP() << "kernel without IORING_OP_SENDMSG_ZC (< 6.1)";
    }
    Server server(*reactor, ConnectionOptions{.zero_copy_send_bytes_min = 16 * 1024},
                  io::ProvidedBufferRingOptions{.buffer_count = 16});
    const auto payloads = random_payloads(15, 40, 200 * 1024);
    std::thread client([&] { echo_round_trip(server.listener->port(), payloads); });
    reactor->block_on(server.serve(1));
    client.join();
    ASSERT_TRUE(server.results.at(0).ok()) << server.results[0];
    const ConnectionStats& stats = server.connections.front()->stats();
    EXPECT_GT(stats.zero_copy_sends, 0u);
    EXPECT_EQ(stats.responses_sent, payloads.size());
    EXPECT_EQ(reactor->inflight(), 0u);
}

}  // namespace
}  // namespace ringlog::net::tcp

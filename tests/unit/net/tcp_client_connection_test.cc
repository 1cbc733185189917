// ClientConnection against the echo Server of tcp_test_support.h, on one reactor: pipelined
// frames come back in order, a frame larger than a receive buffer and sends larger than the
// socket buffer are reassembled, a peer close ends next_frame(), and nothing listening fails
// the connect with kUnavailable.
#include <gtest/gtest.h>

#include "net/tcp/client_connection.h"
#include "tests/unit/net/tcp_test_support.h"

namespace ringlog::net::tcp {
namespace {

using testing::Bytes;
using testing::Server;

struct Framed {
    std::array<std::byte, 4> prefix;
    Bytes payload;
};

Framed framed(Bytes payload) {
    Framed f{testing::size_prefix(payload.size()), std::move(payload)};
    return f;
}

io::Task<void> exchange(Server& server, std::vector<Bytes> payloads, size_t receive_bytes,
                        std::vector<Bytes>& echoed, absl::Status& end) {
    ClientConnectionOptions options;
    options.receive_buffer_bytes = receive_bytes;
    auto connection = co_await ClientConnection::connect(io::Reactor::current(), "127.0.0.1",
                                                         server.listener->port(), options);
    RL_ASSERT(connection.ok(), "%s", connection.status().ToString());
    std::vector<Framed> frames;
    for (Bytes& payload : payloads) {
        frames.push_back(framed(std::move(payload)));
    }
    std::vector<ClientConnection::Segment> segments;
    for (const Framed& f : frames) {
        segments.emplace_back(f.prefix);
        segments.emplace_back(f.payload);
    }
    // All requests go out before any response is read: pipelining.
    const absl::Status sent = co_await (*connection)->send(segments);
    RL_ASSERT(sent.ok(), "%s", sent.ToString());
    for (size_t i = 0; i < frames.size(); ++i) {
        auto frame = co_await (*connection)->next_frame();
        RL_ASSERT(frame.ok(), "%s", frame.status().ToString());
        echoed.emplace_back(frame->begin(), frame->end());
    }
    (*connection)->close();
    auto after = co_await (*connection)->next_frame();
    end = after.status();
}

io::Task<void> run_case(Server& server, std::vector<Bytes> payloads, size_t receive_bytes,
                        std::vector<Bytes>& echoed, absl::Status& end) {
    io::TaskGroup group;
    group.spawn(server.serve(1));
    co_await exchange(server, std::move(payloads), receive_bytes, echoed, end);
    co_await group.wait_idle();
}

TEST(ClientConnection, PipelinedFramesComeBackInOrder) {
    auto reactor = testing::make_reactor();
    Server server(*reactor);
    std::vector<Bytes> payloads = testing::random_payloads(3, 50, 3000);
    payloads.push_back(Bytes(3 * 1024 * 1024, std::byte{7}));  // larger than socket buffers
    std::vector<Bytes> echoed;
    absl::Status end;
    reactor->block_on(run_case(server, payloads, 4096, echoed, end));
    ASSERT_EQ(echoed.size(), payloads.size());
    for (size_t i = 0; i < payloads.size(); ++i) {
        EXPECT_EQ(echoed[i], payloads[i]) << i;
    }
    EXPECT_EQ(end.code(), absl::StatusCode::kUnavailable);
}

io::Task<void> connect_nowhere(absl::Status& status) {
    // Bind a port and close it again, so nothing listens there.
    auto listener = Listener::bind(io::Reactor::current(), "127.0.0.1", 0);
    RL_ASSERT(listener.ok());
    const uint16_t port = (*listener)->port();
    co_await (*listener)->close();
    auto connection = co_await ClientConnection::connect(io::Reactor::current(), "127.0.0.1", port);
    status = connection.status();
}

TEST(ClientConnection, NothingListeningIsUnavailable) {
    auto reactor = testing::make_reactor();
    absl::Status status;
    reactor->block_on(connect_nowhere(status));
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
}

}  // namespace
}  // namespace ringlog::net::tcp

// Connection::drain(), with plain receives and with the multishot receive over a provided
// buffer ring: a request being handled when the drain comes is still answered, the complete
// frames already received are answered in order and a partial one never is, the client then
// sees EOF, an idle connection ends at once (before run() too), and close() still cuts a drain
// short. Nothing waits on a clock: a handler holds a request on an io::Notify until the test
// releases it, requests are written before the server takes the first byte, and a test that
// must watch the client's socket on the reactor's own thread reads it with io_uring.
#include <array>
#include <chrono>
#include <cstring>
#include <optional>

#include <gtest/gtest.h>

#include "tests/unit/net/tcp_test_support.h"

namespace ringlog::net::tcp {
namespace {

using testing::Bytes;
using testing::Client;
using testing::EchoHandler;
using testing::make_reactor;
using testing::Server;
using testing::size_prefix;

// A request whose first byte is this is held by the HoldingHandler.
constexpr std::byte hold_marker{0xab};

// Echoes every frame, as EchoHandler does, but holds one that starts with hold_marker: it
// records that it is inside the handler and waits on a Notify until release().
class HoldingHandler : public FrameHandler {
public:
    io::Task<std::optional<Response>> handle(std::span<const std::byte> frame) override {
        ++handled;
        if (!frame.empty() && frame.front() == hold_marker) {
            holding_ = true;
            entered_.notify_all();
            while (holding_) {
                co_await released_.wait();
            }
        }
        co_return co_await echo_.handle(frame);
    }

    [[nodiscard]] io::Task<void> wait_until_holding() {
        while (!holding_) {
            co_await entered_.wait();
        }
    }

    void release() {
        holding_ = false;
        released_.notify_all();
    }

    size_t handled = 0;

private:
    EchoHandler echo_;
    bool holding_ = false;
    io::Notify entered_;
    io::Notify released_;
};

// Accepts one connection onto `handler` and starts serving it in the server's group, after a
// drain() if drain_before_run.
io::Task<Connection*> accept_one(Server& server, FrameHandler& handler,
                                 bool drain_before_run = false) {
    absl::StatusOr<int> fd = co_await server.listener->accept();
    RL_ASSERT(fd.ok(), "%s", fd.status().ToString());
    server.connections.push_back(
        std::make_unique<Connection>(io::Reactor::current(), *fd, handler, server.options));
    Connection& connection = *server.connections.back();
    if (drain_before_run) {
        connection.drain();
    }
    server.group.spawn(server.run(connection));
    co_return &connection;
}

struct LoopReceive {
    std::array<std::byte, 64> buffer{};
    int result = 0;
    bool done = false;
    io::Notify finished;
};

io::Task<void> receive_into(int fd, LoopReceive& receive) {
    receive.result = co_await io::Reactor::current().op([fd, &receive](io_uring_sqe* sqe) {
        io_uring_prep_recv(sqe, fd, receive.buffer.data(), receive.buffer.size(), 0);
    });
    receive.done = true;
    receive.finished.notify_all();
}

// One receive on a client's socket from the reactor's thread, for a test that runs client and
// server on one thread: recv's result (0 is EOF). After a generous 30 s it fails the test and
// shuts the socket down, which ends the receive, rather than hang.
io::Task<int> receive_on_loop(int fd) {
    LoopReceive receive;
    io::TaskGroup receiver;
    receiver.spawn(receive_into(fd, receive));
    while (!receive.done) {
        if (!co_await receive.finished.wait_for(std::chrono::seconds(30))) {
            ADD_FAILURE() << "nothing received within 30 s";
            ::shutdown(fd, SHUT_RDWR);
            break;
        }
    }
    co_await receiver.wait_idle();
    co_return receive.result;
}

// Reads until EOF and cuts what came into frames; false if it ended inside one (half an answer)
// or on an error.
bool read_frames_until_eof(Client& client, std::vector<Bytes>& frames) {
    Bytes stream;
    std::array<std::byte, 16 * 1024> chunk;
    for (;;) {
        const ssize_t n = ::recv(client.fd(), chunk.data(), chunk.size(), 0);
        if (n < 0) {
            return false;
        }
        if (n == 0) {
            break;
        }
        stream.insert(stream.end(), chunk.begin(), chunk.begin() + n);
    }
    size_t offset = 0;
    while (offset + 4 <= stream.size()) {
        uint32_t size;
        std::memcpy(&size, stream.data() + offset, 4);
        size = __builtin_bswap32(size);
        if (offset + 4 + size > stream.size()) {
            return false;
        }
        frames.emplace_back(stream.begin() + static_cast<ptrdiff_t>(offset + 4),
                            stream.begin() + static_cast<ptrdiff_t>(offset + 4 + size));
        offset += 4 + size;
    }
    return offset == stream.size();
}

void append_frame(Bytes& stream, const Bytes& payload) {
    const auto prefix = size_prefix(payload.size());
    stream.insert(stream.end(), prefix.begin(), prefix.end());
    stream.insert(stream.end(), payload.begin(), payload.end());
}

enum class ReceiveMode { plain, ring };

class TcpConnectionDrain : public ::testing::TestWithParam<ReceiveMode> {
protected:
    // 4 KiB buffers: the pipelined requests below fill three, so the drain must serve CQEs that
    // were still queued when it came.
    static std::optional<io::ProvidedBufferRingOptions> ring_options() {
        if (GetParam() == ReceiveMode::plain) {
            return std::nullopt;
        }
        return io::ProvidedBufferRingOptions{
            .group_id = 1, .buffer_count = 64, .buffer_bytes = 4096};
    }

    // Every connection used the mode under test, never re-armed a multishot receive after the
    // drain (one arm at most, in these tests), and (ring mode) every buffer came back; nothing
    // is left in flight.
    static void expect_clean_end(const Server& server, io::Reactor& reactor) {
        for (const auto& connection : server.connections) {
            EXPECT_EQ(connection->multishot(), GetParam() == ReceiveMode::ring);
            EXPECT_LE(connection->stats().receive_arms, 1u);
        }
        if (server.ring != nullptr) {
            EXPECT_EQ(server.ring->available(), server.ring->buffer_count());
            EXPECT_EQ(server.ring->stats().consumed, server.ring->stats().returned);
        }
        EXPECT_EQ(reactor.inflight(), 0u);
    }
};

io::Task<void> drain_while_held(Server& server, HoldingHandler& handler) {
    Connection* connection = co_await accept_one(server, handler);
    co_await handler.wait_until_holding();
    connection->drain();
    connection->drain();  // idempotent
    EXPECT_TRUE(connection->draining());
    // Let the cancellation of the receive reach the kernel before the handler goes on; the
    // response must get out whichever comes first.
    co_await io::Reactor::current().yield();
    handler.release();
    co_await server.group.wait_idle();
    co_await server.listener->close();
}

// The handler is suspended inside the request when drain() comes: it finishes, its response
// reaches the client, and then the client reads EOF.
TEST_P(TcpConnectionDrain, HeldRequestIsAnsweredThenTheClientSeesEof) {
    auto reactor = make_reactor();
    Server server(*reactor, {}, ring_options());
    HoldingHandler handler;
    Bytes request(100, std::byte{1});
    request.front() = hold_marker;
    std::thread client([&, port = server.listener->port()] {
        Client sender(port);
        EXPECT_TRUE(sender.write_frame(request));
        const auto response = sender.read_frame();
        ASSERT_TRUE(response.has_value());
        EXPECT_EQ(*response, request);
        EXPECT_TRUE(sender.closed_by_peer());
    });
    reactor->block_on(drain_while_held(server, handler));
    client.join();
    ASSERT_EQ(server.results.size(), 1u);
    EXPECT_TRUE(server.results[0].ok()) << server.results[0];
    const ConnectionStats& stats = server.connections.front()->stats();
    EXPECT_EQ(stats.frames_received, 1u);
    EXPECT_EQ(stats.responses_sent, 1u);
    expect_clean_end(server, *reactor);
}

// Four complete requests and the first 1000 bytes of a fifth are in the server's socket before
// its first receive (one write, before accept); the drain comes while the first is held. The
// other three were received with it, so they are answered, in order, and the partial fifth is
// not: the client reads four whole responses, then EOF. What it sends after that (the rest of
// the fifth, a sixth) is read and dropped, never handled.
TEST_P(TcpConnectionDrain, FramesAlreadyReceivedAreAnsweredInOrderAndAPartialOneNever) {
    auto reactor = make_reactor();
    Server server(*reactor, {}, ring_options());
    HoldingHandler handler;
    std::vector<Bytes> requests = {Bytes(100, std::byte{1}), Bytes(3000, std::byte{2}),
                                   Bytes(3000, std::byte{3}), Bytes(2500, std::byte{4})};
    requests[0].front() = hold_marker;
    Bytes stream;
    for (const Bytes& request : requests) {
        append_frame(stream, request);
    }
    const Bytes partial(5000, std::byte{5});
    const auto partial_prefix = size_prefix(partial.size());
    stream.insert(stream.end(), partial_prefix.begin(), partial_prefix.end());
    stream.insert(stream.end(), partial.begin(), partial.begin() + 1000);
    Client client(server.listener->port());
    ASSERT_TRUE(client.write_all(stream));
    std::thread reader([&] {
        std::vector<Bytes> responses;
        EXPECT_TRUE(read_frames_until_eof(client, responses));
        EXPECT_EQ(responses, requests);
        Bytes after(partial.begin() + 1000, partial.end());
        append_frame(after, Bytes(10, std::byte{6}));
        EXPECT_TRUE(client.write_all(after));
        client.shutdown_write();
    });
    reactor->block_on(drain_while_held(server, handler));
    reader.join();
    EXPECT_TRUE(server.results.at(0).ok()) << server.results[0];
    const ConnectionStats& stats = server.connections.front()->stats();
    EXPECT_EQ(stats.bytes_received, stream.size());
    EXPECT_EQ(stats.frames_received, requests.size());
    EXPECT_EQ(stats.responses_sent, requests.size());
    EXPECT_EQ(handler.handled, requests.size());
    if (GetParam() == ReceiveMode::ring) {
        EXPECT_GT(stats.receives, 1u);  // the stream filled several ring buffers
    }
    expect_clean_end(server, *reactor);
}

// Two idle connections, one drained while its receive is in flight, one before run(): each
// client reads EOF with nothing before it, and once it closes its side, run() returns OK.
io::Task<void> drain_idle(Server& server, FrameHandler& handler, std::optional<Client>& first,
                          std::optional<Client>& second) {
    Connection* running = co_await accept_one(server, handler);
    running->drain();
    EXPECT_EQ(co_await receive_on_loop(first->fd()), 0);
    co_await accept_one(server, handler, /*drain_before_run=*/true);
    EXPECT_EQ(co_await receive_on_loop(second->fd()), 0);
    first.reset();
    second.reset();
    co_await server.group.wait_idle();
    co_await server.listener->close();
}

TEST_P(TcpConnectionDrain, DrainEndsAnIdleConnectionAtOnce) {
    auto reactor = make_reactor();
    Server server(*reactor, {}, ring_options());
    HoldingHandler handler;
    std::optional<Client> first(std::in_place, server.listener->port());
    std::optional<Client> second(std::in_place, server.listener->port());
    reactor->block_on(drain_idle(server, handler, first, second));
    EXPECT_EQ(server.count(absl::StatusCode::kOk), 2u);
    EXPECT_EQ(handler.handled, 0u);
    expect_clean_end(server, *reactor);
}

// Drained, the connection has sent EOF and waits for the client's own, which never comes: the
// client keeps its socket open. close() ends it anyway, at once.
io::Task<void> close_while_lingering(Server& server, FrameHandler& handler, Client& client) {
    Connection* connection = co_await accept_one(server, handler);
    connection->drain();
    EXPECT_EQ(co_await receive_on_loop(client.fd()), 0);
    EXPECT_EQ(server.group.active(), 1u);
    connection->close();
    connection->drain();  // nothing after close()
    co_await server.group.wait_idle();
    co_await server.listener->close();
}

TEST_P(TcpConnectionDrain, CloseAfterDrainEndsItAtOnce) {
    auto reactor = make_reactor();
    Server server(*reactor, {}, ring_options());
    HoldingHandler handler;
    Client client(server.listener->port());
    reactor->block_on(close_while_lingering(server, handler, client));
    EXPECT_TRUE(server.results.at(0).ok()) << server.results[0];
    expect_clean_end(server, *reactor);
}

io::Task<void> close_while_held(Server& server, HoldingHandler& handler) {
    Connection* connection = co_await accept_one(server, handler);
    co_await handler.wait_until_holding();
    connection->drain();
    connection->close();
    handler.release();
    co_await server.group.wait_idle();
    co_await server.listener->close();
}

// close() after drain() drops what drain() would have sent: the held request still finishes
// (close() never abandons a handler), but the client gets no response, only the close.
TEST_P(TcpConnectionDrain, CloseAfterDrainDropsTheHeldResponse) {
    auto reactor = make_reactor();
    Server server(*reactor, {}, ring_options());
    HoldingHandler handler;
    Bytes request(10, std::byte{1});
    request.front() = hold_marker;
    std::thread client([&, port = server.listener->port()] {
        Client sender(port);
        EXPECT_TRUE(sender.write_frame(request));
        EXPECT_TRUE(sender.closed_by_peer());
    });
    reactor->block_on(close_while_held(server, handler));
    client.join();
    EXPECT_TRUE(server.results.at(0).ok()) << server.results[0];
    EXPECT_EQ(handler.handled, 1u);
    EXPECT_EQ(server.connections.front()->stats().responses_sent, 0u);
    expect_clean_end(server, *reactor);
}

INSTANTIATE_TEST_SUITE_P(Receive, TcpConnectionDrain,
                         ::testing::Values(ReceiveMode::plain, ReceiveMode::ring),
                         [](const ::testing::TestParamInfo<ReceiveMode>& mode) {
                             return mode.param == ReceiveMode::plain ? "Plain" : "Multishot";
                         });

}  // namespace
}  // namespace ringlog::net::tcp

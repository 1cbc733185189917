// Deferred responses (Response::deferred): the connection handles the next frames while earlier
// completions still run, sends every answer in request order whatever order the completions
// finish in, skips a completion that answers nothing, stops reading at deferred_max, and a
// drain still answers the deferred requests before the client sees EOF. Nothing waits on a
// clock: completions wait on an io::Notify until the test releases them.
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/net/tcp_test_support.h"

namespace ringlog::net::tcp {
namespace {

using testing::Bytes;
using testing::Client;
using testing::EchoHandler;
using testing::make_reactor;
using testing::Server;

// A frame whose first byte is this gets a deferred completion that answers nothing.
constexpr std::byte silent_marker{0xee};

// Answers frame i with a deferred echo that finishes once release(i) is called.
class DeferringHandler : public FrameHandler {
public:
    io::Task<std::optional<Response>> handle(std::span<const std::byte> frame) override {
        const size_t index = handled++;
        released.resize(handled, false);
        handled_changed.notify_all();
        co_return Response::deferred(complete(index, Bytes(frame.begin(), frame.end())));
    }

    void release(size_t index) {
        released.at(index) = true;
        release_changed.notify_all();
    }

    [[nodiscard]] io::Task<void> wait_handled(size_t count) {
        while (handled < count) {
            co_await handled_changed.wait();
        }
    }

    size_t handled = 0;
    size_t completed = 0;
    std::vector<bool> released;

private:
    io::Task<std::optional<Response>> complete(size_t index, Bytes frame) {
        while (!released.at(index)) {
            co_await release_changed.wait();
        }
        ++completed;
        if (!frame.empty() && frame.front() == silent_marker) {
            co_return std::nullopt;
        }
        co_return co_await echo_.handle(frame);
    }

    EchoHandler echo_;
    io::Notify handled_changed;
    io::Notify release_changed;
};

io::Task<Connection*> accept_one(Server& server, FrameHandler& handler) {
    absl::StatusOr<int> fd = co_await server.listener->accept();
    RL_ASSERT(fd.ok(), "%s", fd.status().ToString());
    server.connections.push_back(
        std::make_unique<Connection>(io::Reactor::current(), *fd, handler, server.options));
    Connection& connection = *server.connections.back();
    server.group.spawn(server.run(connection));
    co_return &connection;
}

Bytes payload(size_t bytes, uint8_t fill) {
    return Bytes(bytes, static_cast<std::byte>(fill));
}

// All four requests are handled before any completes; they complete last to first.
io::Task<void> release_in_reverse(Server& server, DeferringHandler& handler, size_t count) {
    co_await accept_one(server, handler);
    co_await handler.wait_handled(count);
    EXPECT_EQ(handler.completed, 0u);
    for (size_t i = count; i-- > 0;) {
        handler.release(i);
        co_await io::Reactor::current().yield();
    }
    co_await server.group.wait_idle();
    co_await server.listener->close();
}

TEST(TcpConnectionDeferred, AnswersGoOutInRequestOrderWhateverOrderTheyComplete) {
    auto reactor = make_reactor();
    Server server(*reactor);
    DeferringHandler handler;
    std::vector<Bytes> requests = {payload(10, 1), payload(3000, 2), payload(1, 3),
                                   payload(70000, 4)};
    std::thread client([&, port = server.listener->port()] {
        Client sender(port);
        for (const Bytes& request : requests) {
            EXPECT_TRUE(sender.write_frame(request));
        }
        for (const Bytes& request : requests) {
            const auto response = sender.read_frame();
            ASSERT_TRUE(response.has_value());
            EXPECT_EQ(*response, request);
        }
    });
    reactor->block_on(release_in_reverse(server, handler, requests.size()));
    client.join();
    EXPECT_TRUE(server.results.at(0).ok()) << server.results[0];
    const ConnectionStats& stats = server.connections.front()->stats();
    EXPECT_EQ(stats.deferred, requests.size());
    EXPECT_EQ(stats.responses_sent, requests.size());
    EXPECT_EQ(reactor->inflight(), 0u);
}

TEST(TcpConnectionDeferred, ACompletionWithoutAnswerIsSkipped) {
    auto reactor = make_reactor();
    Server server(*reactor);
    DeferringHandler handler;
    Bytes silent = payload(20, 7);
    silent.front() = silent_marker;
    const std::vector<Bytes> requests = {payload(5, 1), silent, payload(6, 2)};
    std::thread client([&, port = server.listener->port()] {
        Client sender(port);
        for (const Bytes& request : requests) {
            EXPECT_TRUE(sender.write_frame(request));
        }
        const auto first = sender.read_frame();
        const auto third = sender.read_frame();
        ASSERT_TRUE(first.has_value() && third.has_value());
        EXPECT_EQ(*first, requests[0]);
        EXPECT_EQ(*third, requests[2]);
    });
    reactor->block_on(release_in_reverse(server, handler, requests.size()));
    client.join();
    EXPECT_EQ(server.connections.front()->stats().responses_sent, 2u);
}

// With deferred_max 2 the third frame is not handled until a completion makes room.
io::Task<void> bounded(Server& server, DeferringHandler& handler, Connection*& connection) {
    connection = co_await accept_one(server, handler);
    co_await handler.wait_handled(2);
    // The other two frames are in the socket (the client wrote them first); the connection
    // must not take them while two completions are outstanding.
    for (int i = 0; i < 20; ++i) {
        co_await io::Reactor::current().yield();
    }
    EXPECT_EQ(handler.handled, 2u);
    handler.release(0);
    co_await handler.wait_handled(3);
    handler.release(1);
    handler.release(2);
    co_await handler.wait_handled(4);
    handler.release(3);
    co_await server.group.wait_idle();
    co_await server.listener->close();
}

TEST(TcpConnectionDeferred, ReadingStopsAtDeferredMax) {
    auto reactor = make_reactor();
    ConnectionOptions options;
    options.deferred_max = 2;
    Server server(*reactor, options);
    DeferringHandler handler;
    const std::vector<Bytes> requests = {payload(8, 1), payload(8, 2), payload(8, 3),
                                         payload(8, 4)};
    Client sender(server.listener->port());
    for (const Bytes& request : requests) {
        ASSERT_TRUE(sender.write_frame(request));
    }
    std::thread client([&] {
        for (const Bytes& request : requests) {
            const auto response = sender.read_frame();
            ASSERT_TRUE(response.has_value());
            EXPECT_EQ(*response, request);
        }
        sender.shutdown_write();  // the server's connection ends on our EOF
    });
    Connection* connection = nullptr;
    reactor->block_on(bounded(server, handler, connection));
    client.join();
    EXPECT_GE(connection->stats().reads_paused, 1u);
    EXPECT_EQ(connection->stats().responses_sent, requests.size());
}

// A drain while a deferred completion is outstanding: its answer still goes out, then EOF.
io::Task<void> drain_with_deferred(Server& server, DeferringHandler& handler) {
    Connection* connection = co_await accept_one(server, handler);
    co_await handler.wait_handled(1);
    connection->drain();
    co_await io::Reactor::current().yield();
    handler.release(0);
    co_await server.group.wait_idle();
    co_await server.listener->close();
}

TEST(TcpConnectionDeferred, DrainAnswersOutstandingCompletionsFirst) {
    auto reactor = make_reactor();
    Server server(*reactor);
    DeferringHandler handler;
    const Bytes request = payload(100, 9);
    std::thread client([&, port = server.listener->port()] {
        Client sender(port);
        EXPECT_TRUE(sender.write_frame(request));
        const auto response = sender.read_frame();
        ASSERT_TRUE(response.has_value());
        EXPECT_EQ(*response, request);
        EXPECT_TRUE(sender.closed_by_peer());
    });
    reactor->block_on(drain_with_deferred(server, handler));
    client.join();
    EXPECT_TRUE(server.results.at(0).ok()) << server.results[0];
    EXPECT_EQ(handler.completed, 1u);
}

}  // namespace
}  // namespace ringlog::net::tcp

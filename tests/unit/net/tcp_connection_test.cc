// Listener and Connection over loopback: a server on the reactor in the test thread, clients
// with plain blocking sockets in std::threads. Pipelined frames of random sizes come back in
// order, a 10 MiB frame, 50 connections at once, bad size prefixes and mid-frame disconnects
// end only their own connection, back-pressure stops reading until the client reads, and
// closing everything with connections open leaves nothing behind (ASan checks the leaks).
// Client sockets have a receive timeout so a server bug fails the test instead of hanging it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <list>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "io/reactor.h"
#include "io/task_group.h"
#include "net/tcp/connection.h"
#include "net/tcp/listener.h"

namespace ringlog::net::tcp {
namespace {

using Bytes = std::vector<std::byte>;

std::array<std::byte, 4> size_prefix(size_t size) {
    const uint32_t value = __builtin_bswap32(static_cast<uint32_t>(size));
    std::array<std::byte, 4> bytes;
    std::memcpy(bytes.data(), &value, 4);
    return bytes;
}

// Echoes each frame back as two segments (prefix, payload); with response_bytes set, answers
// every frame with that many bytes of a pattern instead.
class EchoHandler : public FrameHandler {
public:
    size_t response_bytes = 0;

    io::Task<std::optional<Response>> handle(std::span<const std::byte> frame) override {
        struct Owned {
            std::array<std::byte, 4> prefix;
            Bytes body;
        };

        Owned owned;
        if (response_bytes > 0) {
            owned.body.assign(response_bytes, std::byte{0x5a});
        } else {
            owned.body.assign(frame.begin(), frame.end());
        }
        owned.prefix = size_prefix(owned.body.size());
        co_return Response::holding(std::move(owned),
                                    [](const Owned& value, std::vector<Response::Segment>& out) {
                                        out.emplace_back(value.prefix);
                                        out.emplace_back(value.body);
                                    });
    }
};

// Accepts `count` connections, serves each until it ends, then closes the listener.
struct Server {
    Server(io::Reactor& reactor, ConnectionOptions connection_options = {})
        : options(connection_options) {
        auto bound = Listener::bind(reactor, "127.0.0.1", 0);
        RL_ASSERT(bound.ok());
        listener = *std::move(bound);
    }

    io::Task<void> serve(size_t count) {
        for (size_t i = 0; i < count; ++i) {
            absl::StatusOr<int> fd = co_await listener->accept();
            RL_ASSERT(fd.ok(), "%s", fd.status().ToString());
            connections.push_back(
                std::make_unique<Connection>(io::Reactor::current(), *fd, handler, options));
            group.spawn(run(*connections.back()));
        }
        co_await group.wait_idle();
        co_await listener->close();
    }

    io::Task<void> run(Connection& connection) { results.push_back(co_await connection.run()); }

    size_t count(absl::StatusCode code) const {
        return std::count_if(results.begin(), results.end(),
                             [code](const absl::Status& status) { return status.code() == code; });
    }

    ConnectionOptions options;
    EchoHandler handler;
    std::unique_ptr<Listener> listener;
    std::list<std::unique_ptr<Connection>> connections;
    std::vector<absl::Status> results;
    io::TaskGroup group;
};

std::unique_ptr<io::Reactor> make_reactor() {
    auto reactor = io::Reactor::create();
    RL_ASSERT(reactor.ok());
    return *std::move(reactor);
}

// A blocking loopback client.
class Client {
public:
    explicit Client(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
        RL_ASSERT(fd_ >= 0);
        const timeval timeout{30, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        RL_ASSERT(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    }

    ~Client() { ::close(fd_); }

    bool write_all(std::span<const std::byte> bytes) {
        while (!bytes.empty()) {
            const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            bytes = bytes.subspan(static_cast<size_t>(n));
        }
        return true;
    }

    bool write_frame(const Bytes& payload) {
        return write_all(size_prefix(payload.size())) && write_all(payload);
    }

    bool read_exact(std::span<std::byte> bytes) {
        while (!bytes.empty()) {
            const ssize_t n = ::recv(fd_, bytes.data(), bytes.size(), 0);
            if (n <= 0) {
                return false;
            }
            bytes = bytes.subspan(static_cast<size_t>(n));
        }
        return true;
    }

    std::optional<Bytes> read_frame() {
        std::array<std::byte, 4> prefix;
        if (!read_exact(prefix)) {
            return std::nullopt;
        }
        uint32_t size;
        std::memcpy(&size, prefix.data(), 4);
        Bytes payload(__builtin_bswap32(size));
        if (!read_exact(payload)) {
            return std::nullopt;
        }
        return payload;
    }

    // True once the server closed the connection (EOF or reset), false on a timeout or data.
    bool closed_by_peer() {
        std::byte byte;
        const ssize_t n = ::recv(fd_, &byte, 1, 0);
        return n == 0 || (n < 0 && errno == ECONNRESET);
    }

    void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

private:
    int fd_;
};

std::vector<Bytes> random_payloads(uint32_t seed, size_t count, size_t bytes_max) {
    std::mt19937 random(seed);
    std::vector<Bytes> payloads(count);
    for (auto& payload : payloads) {
        payload.resize(std::uniform_int_distribution<size_t>(0, bytes_max)(random));
        for (auto& byte : payload) {
            byte = static_cast<std::byte>(random());
        }
    }
    return payloads;
}

// Writes every payload from a second thread while reading the echoes, so neither side's
// socket buffer decides whether the test can finish.
void echo_round_trip(uint16_t port, const std::vector<Bytes>& payloads) {
    Client client(port);
    std::thread writer([&] {
        for (const auto& payload : payloads) {
            EXPECT_TRUE(client.write_frame(payload));
        }
    });
    for (size_t i = 0; i < payloads.size(); ++i) {
        auto echoed = client.read_frame();
        ASSERT_TRUE(echoed.has_value()) << "frame " << i;
        ASSERT_EQ(*echoed, payloads[i]) << "frame " << i;
    }
    writer.join();
}

TEST(TcpConnection, PipelinedFramesOfRandomSizesRoundTripInOrder) {
    auto reactor = make_reactor();
    Server server(*reactor, ConnectionOptions{.receive_buffer_bytes = 4096});
    const auto payloads = random_payloads(1, 2000, 20000);
    std::thread client([&] { echo_round_trip(server.listener->port(), payloads); });
    reactor->block_on(server.serve(1));
    client.join();
    ASSERT_EQ(server.results.size(), 1u);
    EXPECT_TRUE(server.results[0].ok()) << server.results[0];
    EXPECT_EQ(server.connections.front()->stats().frames_received, payloads.size());
    EXPECT_EQ(server.connections.front()->stats().responses_sent, payloads.size());
}

TEST(TcpConnection, TenMebibyteFrame) {
    auto reactor = make_reactor();
    Server server(*reactor);
    Bytes big(10 * 1024 * 1024);
    for (size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<std::byte>(i * 7 + i / 4096);
    }
    const std::vector<Bytes> payloads = {big, Bytes(3, std::byte{1})};
    std::thread client([&] { echo_round_trip(server.listener->port(), payloads); });
    reactor->block_on(server.serve(1));
    client.join();
    EXPECT_TRUE(server.results.at(0).ok()) << server.results[0];
}

TEST(TcpConnection, FiftyConcurrentConnections) {
    auto reactor = make_reactor();
    Server server(*reactor);
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
}

TEST(TcpConnection, BadSizePrefixClosesOnlyThatConnection) {
    auto reactor = make_reactor();
    Server server(*reactor, ConnectionOptions{.frame_bytes_max = 1024 * 1024});
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
}

TEST(TcpConnection, ClientDisconnectingMidFrameEndsOnlyThatConnection) {
    auto reactor = make_reactor();
    Server server(*reactor);
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
TEST(TcpConnection, BackPressureStopsReadingUntilTheClientReads) {
    constexpr size_t request_count = 200;
    constexpr size_t response_bytes = 256 * 1024;
    auto reactor = make_reactor();
    Server server(*reactor, ConnectionOptions{.unsent_bytes_max = 1024 * 1024});
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
TEST(TcpConnection, ClosingListenerAndConnectionsWhileOpenLeaksNothing) {
    auto reactor = make_reactor();
    Server server(*reactor);
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
}

}  // namespace
}  // namespace ringlog::net::tcp

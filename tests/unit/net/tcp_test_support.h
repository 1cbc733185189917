// Shared by the tcp_*_test.cc files: an echo FrameHandler, a Server that accepts and runs
// Connections on the test thread's reactor (optionally over a provided buffer ring), and a
// blocking loopback Client for std::threads. Client sockets have a receive timeout so a server
// bug fails a test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <list>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "io/provided_buffer_ring.h"
#include "io/reactor.h"
#include "io/task_group.h"
#include "net/tcp/connection.h"
#include "net/tcp/listener.h"

namespace ringlog::net::tcp::testing {

using Bytes = std::vector<std::byte>;

inline std::array<std::byte, 4> size_prefix(size_t size) {
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

// Accepts `count` connections, serves each until it ends, then closes the listener. With
// ring_options, its connections share one provided buffer ring (the multishot path).
struct Server {
    Server(io::Reactor& reactor, ConnectionOptions connection_options = {},
           std::optional<io::ProvidedBufferRingOptions> ring_options = std::nullopt)
        : options(connection_options) {
        auto bound = Listener::bind(reactor, "127.0.0.1", 0);
        RL_ASSERT(bound.ok());
        listener = *std::move(bound);
        if (ring_options.has_value()) {
            auto created = io::ProvidedBufferRing::create(reactor, *ring_options);
            RL_ASSERT(created.ok(), "%s", created.status().ToString());
            ring = *std::move(created);
            options.buffer_ring = ring.get();
        }
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
    // Declared before the connections, so destroyed after them.
    std::unique_ptr<io::ProvidedBufferRing> ring;
    std::list<std::unique_ptr<Connection>> connections;
    std::vector<absl::Status> results;
    io::TaskGroup group;
};

inline std::unique_ptr<io::Reactor> make_reactor() {
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

    // Reads and drops whatever comes until the server closes: true on EOF or reset, false on
    // the receive timeout.
    bool read_until_closed() {
        std::array<std::byte, 16 * 1024> sink;
        for (;;) {
            const ssize_t n = ::recv(fd_, sink.data(), sink.size(), 0);
            if (n == 0 || (n < 0 && errno == ECONNRESET)) {
                return true;
            }
            if (n < 0) {
                return false;
            }
        }
    }

    void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

    // For a test that reads the socket from the reactor's thread (io_uring) instead.
    int fd() const { return fd_; }

private:
    int fd_;
};

inline std::vector<Bytes> random_payloads(uint32_t seed, size_t count, size_t bytes_max) {
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
inline void echo_round_trip(uint16_t port, const std::vector<Bytes>& payloads) {
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

}  // namespace ringlog::net::tcp::testing

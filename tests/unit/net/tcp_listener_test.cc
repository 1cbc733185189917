// Listener's SO_REUSEPORT option: two listeners on one port, as two shards would bind them,
// both accept connections the kernel spread between them; without the option the second bind
// fails. Both listeners run on the test thread's reactor; clients connect from a std::thread.
#include <atomic>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/net/tcp_test_support.h"

namespace ringlog::net::tcp {
namespace {

using testing::Client;
using testing::make_reactor;

struct Accepted {
    size_t total = 0;
    size_t by_listener[2] = {0, 0};
};

// Accepts on `listeners[index]` until `count` connections arrived on both together, then
// closes both (which ends the other one's pending accept with kCancelled).
io::Task<void> accept_until(std::unique_ptr<Listener> (&listeners)[2], size_t index, size_t count,
                            Accepted& accepted) {
    while (accepted.total < count) {
        absl::StatusOr<int> fd = co_await listeners[index]->accept();
        if (!fd.ok()) {
            EXPECT_EQ(fd.status().code(), absl::StatusCode::kCancelled) << fd.status();
            break;
        }
        ::close(*fd);
        ++accepted.by_listener[index];
        ++accepted.total;
    }
    co_await listeners[0]->close();
    co_await listeners[1]->close();
}

io::Task<void> accept_on_both(std::unique_ptr<Listener> (&listeners)[2], size_t count,
                              Accepted& accepted) {
    io::TaskGroup group;
    group.spawn(accept_until(listeners, 0, count, accepted));
    group.spawn(accept_until(listeners, 1, count, accepted));
    co_await group.wait_idle();
}

// 64 connections from distinct source ports: the kernel's hash sends all of them to one
// listener with probability 2^-63, so each must have accepted some.
TEST(TcpListener, ReusePortLetsTwoListenersShareAPort) {
    constexpr size_t connection_count = 64;
    auto reactor = make_reactor();
    std::unique_ptr<Listener> listeners[2];
    auto first = Listener::bind(*reactor, "127.0.0.1", 0, 1024, /*reuse_port=*/true);
    ASSERT_TRUE(first.ok()) << first.status();
    listeners[0] = *std::move(first);
    const uint16_t port = listeners[0]->port();
    auto second = Listener::bind(*reactor, "127.0.0.1", port, 1024, /*reuse_port=*/true);
    ASSERT_TRUE(second.ok()) << second.status();
    listeners[1] = *std::move(second);
    EXPECT_EQ(listeners[1]->port(), port);

    std::atomic<bool> done = false;
    std::thread clients([port, &done] {
        std::vector<std::unique_ptr<Client>> open;
        for (size_t i = 0; i < connection_count; ++i) {
            open.push_back(std::make_unique<Client>(port));
        }
        done.wait(false);  // keep them open until the server has accepted all
    });
    Accepted accepted;
    reactor->block_on(accept_on_both(listeners, connection_count, accepted));
    done = true;
    done.notify_all();
    clients.join();
    EXPECT_EQ(accepted.total, connection_count);
    EXPECT_GT(accepted.by_listener[0], 0u);
    EXPECT_GT(accepted.by_listener[1], 0u);
    EXPECT_EQ(reactor->inflight(), 0u);
}

TEST(TcpListener, WithoutReusePortASecondBindFails) {
    auto reactor = make_reactor();
    auto first = Listener::bind(*reactor, "127.0.0.1", 0);
    ASSERT_TRUE(first.ok()) << first.status();
    auto second = Listener::bind(*reactor, "127.0.0.1", (*first)->port());
    EXPECT_FALSE(second.ok());
    // Only one side asking for SO_REUSEPORT is not enough either.
    auto third = Listener::bind(*reactor, "127.0.0.1", (*first)->port(), 1024, true);
    EXPECT_FALSE(third.ok());
    reactor->block_on((*first)->close());
}

// A reuse-port group would quietly accept another broker into it: the probe catches a port in
// use, by a reuse-port listener too, and passes a free one.
TEST(TcpListener, PortProbeSeesAnyListener) {
    auto reactor = make_reactor();
    auto shared = Listener::bind(*reactor, "127.0.0.1", 0, 1024, /*reuse_port=*/true);
    ASSERT_TRUE(shared.ok()) << shared.status();
    const uint16_t port = (*shared)->port();
    const absl::Status busy = Listener::check_port_unused("127.0.0.1", port);
    EXPECT_EQ(busy.code(), absl::StatusCode::kAlreadyExists) << busy;
    reactor->block_on((*shared)->close());
    shared->reset();
    EXPECT_TRUE(Listener::check_port_unused("127.0.0.1", port).ok());
    EXPECT_EQ(Listener::check_port_unused("not-an-address", port).code(),
              absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ringlog::net::tcp

// ProvidedBufferRing: registration fills the ring; a receive that selects from it gets a
// buffer the CQE names (IORING_CQE_F_BUFFER), which is held until given back; a ring run dry
// fails the next receive with ENOBUFS until a buffer comes back, in any order; and bad options
// or a group id already taken fail with a status, which is what the connection's fallback to
// plain receives rests on. Receives go through a socketpair, one byte string per send.
#include "io/provided_buffer_ring.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "io/task_group.h"

namespace ringlog::io {
namespace {

std::unique_ptr<Reactor> make_reactor() {
    auto reactor = Reactor::create();
    RL_ASSERT(reactor.ok());
    return *std::move(reactor);
}

class SocketPair {
public:
    SocketPair() { RL_ASSERT(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds_) == 0); }

    ~SocketPair() {
        ::close(fds_[0]);
        ::close(fds_[1]);
    }

    int reader() const { return fds_[0]; }

    void send(std::string_view bytes) const {
        RL_ASSERT(::write(fds_[1], bytes.data(), bytes.size()) == ssize_t(bytes.size()));
    }

private:
    int fds_[2];
};

// One single-shot receive that selects its buffer from `ring`.
Task<CqeResult> receive(Reactor& reactor, ProvidedBufferRing& ring, int fd) {
    co_return co_await reactor.op_cqe([&ring, fd](io_uring_sqe* sqe) {
        io_uring_prep_recv(sqe, fd, nullptr, static_cast<unsigned>(ring.buffer_bytes()), 0);
        ring.select(sqe);
    });
}

std::string_view text(std::span<std::byte> bytes, int32_t length) {
    return {reinterpret_cast<const char*>(bytes.data()), static_cast<size_t>(length)};
}

TEST(ProvidedBufferRing, RegistrationPutsEveryBufferInTheRing) {
    auto reactor = make_reactor();
    auto ring = ProvidedBufferRing::create(
        *reactor, {.group_id = 3, .buffer_count = 8, .buffer_bytes = 1024});
    ASSERT_TRUE(ring.ok()) << ring.status();
    EXPECT_EQ((*ring)->group_id(), 3);
    EXPECT_EQ((*ring)->buffer_count(), 8u);
    EXPECT_EQ((*ring)->available(), 8u);
    EXPECT_EQ((*ring)->buffer(7).size(), 1024u);
    EXPECT_EQ((*ring)->buffer(1).data() - (*ring)->buffer(0).data(), 1024);
}

TEST(ProvidedBufferRing, ReceiveTakesABufferTheCqeNamesUntilGivenBack) {
    auto reactor = make_reactor();
    auto created = ProvidedBufferRing::create(*reactor, {.buffer_count = 4, .buffer_bytes = 64});
    ASSERT_TRUE(created.ok()) << created.status();
    ProvidedBufferRing& ring = **created;
    SocketPair pair;
    pair.send("hello");
    const CqeResult cqe = reactor->block_on(receive(*reactor, ring, pair.reader()));
    ASSERT_EQ(cqe.result, 5);
    ASSERT_NE(cqe.flags & IORING_CQE_F_BUFFER, 0u);
    const uint16_t id = compat::cqe_buffer_id(cqe.flags);
    ASSERT_LT(id, 4);
    ring.consumed(id);
    EXPECT_EQ(ring.available(), 3u);
    EXPECT_EQ(text(ring.buffer(id), cqe.result), "hello");
    ring.give_back(id);
    EXPECT_EQ(ring.available(), 4u);
    EXPECT_EQ(ring.stats().consumed, 1u);
    EXPECT_EQ(ring.stats().returned, 1u);
}

// Two buffers: two receives hold both, the third gets ENOBUFS without a buffer; once the
// second buffer comes back (out of order) the next receive gets exactly that one.
TEST(ProvidedBufferRing, ExhaustedRingFailsWithEnobufsUntilABufferReturns) {
    auto reactor = make_reactor();
    auto created = ProvidedBufferRing::create(*reactor, {.buffer_count = 2, .buffer_bytes = 16});
    ASSERT_TRUE(created.ok()) << created.status();
    ProvidedBufferRing& ring = **created;
    SocketPair pair;
    uint16_t ids[2];
    for (uint16_t& id : ids) {
        pair.send("x");
        const CqeResult cqe = reactor->block_on(receive(*reactor, ring, pair.reader()));
        ASSERT_EQ(cqe.result, 1);
        ASSERT_NE(cqe.flags & IORING_CQE_F_BUFFER, 0u);
        id = compat::cqe_buffer_id(cqe.flags);
        ring.consumed(id);
    }
    EXPECT_NE(ids[0], ids[1]);
    EXPECT_EQ(ring.available(), 0u);

    pair.send("yz");
    const CqeResult dry = reactor->block_on(receive(*reactor, ring, pair.reader()));
    EXPECT_EQ(dry.result, -ENOBUFS);
    EXPECT_EQ(dry.flags & IORING_CQE_F_BUFFER, 0u);

    ring.give_back(ids[1]);
    const CqeResult again = reactor->block_on(receive(*reactor, ring, pair.reader()));
    ASSERT_EQ(again.result, 2);
    ASSERT_NE(again.flags & IORING_CQE_F_BUFFER, 0u);
    EXPECT_EQ(compat::cqe_buffer_id(again.flags), ids[1]);
    ring.consumed(ids[1]);
    EXPECT_EQ(text(ring.buffer(ids[1]), again.result), "yz");
    ring.give_back(ids[0]);
    ring.give_back(ids[1]);
    EXPECT_EQ(ring.available(), 2u);
}

// Returned buffers go round the ring many times over without the ring losing any.
TEST(ProvidedBufferRing, BuffersCycleThroughTheRingManyTimes) {
    auto reactor = make_reactor();
    auto created = ProvidedBufferRing::create(*reactor, {.buffer_count = 4, .buffer_bytes = 32});
    ASSERT_TRUE(created.ok()) << created.status();
    ProvidedBufferRing& ring = **created;
    SocketPair pair;
    for (int i = 0; i < 1000; ++i) {
        const std::string message = "message " + std::to_string(i);
        pair.send(message);
        const CqeResult cqe = reactor->block_on(receive(*reactor, ring, pair.reader()));
        ASSERT_EQ(cqe.result, static_cast<int32_t>(message.size())) << i;
        const uint16_t id = compat::cqe_buffer_id(cqe.flags);
        ring.consumed(id);
        EXPECT_EQ(text(ring.buffer(id), cqe.result), message);
        ring.give_back(id);
    }
    EXPECT_EQ(ring.available(), 4u);
    EXPECT_EQ(ring.stats().returned, 1000u);
}

Task<void> wait_for_return(ProvidedBufferRing& ring, bool& woke) {
    co_await ring.returned().wait();
    woke = true;
}

Task<void> give_back_while_waited(ProvidedBufferRing& ring, bool& woke) {
    TaskGroup waiter;
    waiter.spawn(wait_for_return(ring, woke));
    EXPECT_FALSE(woke);
    ring.give_back(0);
    co_await waiter.wait_idle();
}

// What a receiver that saw ENOBUFS waits on before re-arming.
TEST(ProvidedBufferRing, GiveBackWakesAWaiter) {
    auto reactor = make_reactor();
    auto created = ProvidedBufferRing::create(*reactor, {.buffer_count = 2, .buffer_bytes = 16});
    ASSERT_TRUE(created.ok()) << created.status();
    (*created)->consumed(0);
    bool woke = false;
    reactor->block_on(give_back_while_waited(**created, woke));
    EXPECT_TRUE(woke);
}

TEST(ProvidedBufferRing, BadOptionsAndATakenGroupIdFailWithAStatus) {
    auto reactor = make_reactor();
    EXPECT_EQ(ProvidedBufferRing::create(*reactor, {.buffer_count = 3}).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ProvidedBufferRing::create(*reactor, {.buffer_count = 65536}).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(ProvidedBufferRing::create(*reactor, {.buffer_bytes = 0}).status().code(),
              absl::StatusCode::kInvalidArgument);
    auto first = ProvidedBufferRing::create(*reactor, {.group_id = 9, .buffer_count = 2});
    ASSERT_TRUE(first.ok()) << first.status();
    auto second = ProvidedBufferRing::create(*reactor, {.group_id = 9, .buffer_count = 2});
    EXPECT_FALSE(second.ok());
}

}  // namespace
}  // namespace ringlog::io

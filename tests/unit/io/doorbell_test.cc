// Doorbell: a ring nobody waits for costs nothing; a reactor parked on its doorbell (nothing
// else in flight, so it sleeps in io_uring_enter) is woken by another thread, a thousand
// times; and the park protocol loses no wake-up while a producer pushes freely. Every wait is
// for a condition; nothing sleeps and nothing is timed.
#include "io/doorbell.h"

#include <atomic>
#include <cstdint>
#include <thread>

#include <gtest/gtest.h>

#include "io/reactor.h"
#include "io/spsc_queue.h"

namespace ringlog::io {
namespace {

std::unique_ptr<Doorbell> make_doorbell() {
    auto doorbell = Doorbell::create();
    RL_ASSERT(doorbell.ok());
    return *std::move(doorbell);
}

// The consumer side: drain, then park with the check-then-wait protocol, until `last` seen.
Task<void> consume(Reactor& reactor, Doorbell& bell, SpscQueue<uint64_t>& queue, uint64_t last,
                   uint64_t& received, uint64_t& out_of_order) {
    for (;;) {
        bool done = false;
        queue.pop_batch([&](uint64_t&& value) {
            out_of_order += value != received ? 1 : 0;
            ++received;
            done = done || value == last;
        });
        if (done) {
            co_return;
        }
        bell.prepare_wait();
        if (!queue.empty()) {
            bell.cancel_wait();
            continue;
        }
        co_await bell.wait(reactor);
    }
}

TEST(Doorbell, RingWithoutSleeperWritesNothing) {
    auto bell = make_doorbell();
    for (int i = 0; i < 100; ++i) {
        bell->ring();
    }
    EXPECT_EQ(bell->writes(), 0u);
}

TEST(Doorbell, WakesAReactorSleepingInTheKernelManyTimes) {
    constexpr uint64_t rounds = 1000;
    auto bell = make_doorbell();
    SpscQueue<uint64_t> queue(16);
    std::atomic<bool> consumer_ready{false};
    uint64_t received = 0;
    uint64_t out_of_order = 0;
    std::thread consumer([&] {
        auto reactor = Reactor::create();
        RL_ASSERT(reactor.ok());
        consumer_ready.store(true);
        (*reactor)->block_on(consume(**reactor, *bell, queue, rounds - 1, received, out_of_order));
    });
    while (!consumer_ready.load()) {
        std::this_thread::yield();
    }
    for (uint64_t i = 0; i < rounds; ++i) {
        // Wait until the consumer has announced it sleeps: with nothing else in flight, only
        // this ring can wake it.
        while (!bell->parked()) {
            std::this_thread::yield();
        }
        ASSERT_TRUE(queue.try_push(uint64_t(i)));
        bell->ring();
    }
    consumer.join();
    EXPECT_EQ(received, rounds);
    EXPECT_EQ(out_of_order, 0u);
    EXPECT_EQ(bell->writes(), rounds);  // exactly one eventfd write per sleep
}

TEST(Doorbell, LosesNoWakeUpUnderAFreeRunningProducer) {
    constexpr uint64_t count = 200'000;
    auto bell = make_doorbell();
    SpscQueue<uint64_t> queue(64);
    uint64_t received = 0;
    uint64_t out_of_order = 0;
    std::thread consumer([&] {
        auto reactor = Reactor::create();
        RL_ASSERT(reactor.ok());
        (*reactor)->block_on(consume(**reactor, *bell, queue, count - 1, received, out_of_order));
    });
    for (uint64_t next = 0; next < count;) {
        if (queue.try_push(uint64_t(next))) {
            ++next;
            bell->ring();
        } else {
            std::this_thread::yield();
        }
    }
    consumer.join();
    EXPECT_EQ(received, count);
    EXPECT_EQ(out_of_order, 0u);
    EXPECT_LE(bell->writes(), count);
}

}  // namespace
}  // namespace ringlog::io

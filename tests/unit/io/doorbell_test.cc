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
// `committed_waits`, when given, counts the times it found the queue still empty after
// announcing, so that it will wait whatever happens next: no cancel_wait can follow.
Task<void> consume(Reactor& reactor, Doorbell& bell, SpscQueue<uint64_t>& queue, uint64_t last,
                   uint64_t& received, uint64_t& out_of_order,
                   std::atomic<uint64_t>* committed_waits = nullptr) {
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
        if (committed_waits != nullptr) {
            committed_waits->fetch_add(1, std::memory_order_release);
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
    std::atomic<uint64_t> committed_waits{0};
    uint64_t received = 0;
    uint64_t out_of_order = 0;
    std::thread consumer([&] {
        auto reactor = Reactor::create();
        RL_ASSERT(reactor.ok());
        (*reactor)->block_on(
            consume(**reactor, *bell, queue, rounds - 1, received, out_of_order, &committed_waits));
    });
    for (uint64_t i = 0; i < rounds; ++i) {
        // Wait until the consumer has committed to its i-th wait: it announced, looked again
        // and found nothing, so it cannot cancel and only this ring can wake it. Waiting for
        // parked() alone is not enough: a push that lands between the consumer's announce and
        // its second look makes it cancel, and that ring rightly writes nothing.
        while (committed_waits.load(std::memory_order_acquire) <= i) {
            std::this_thread::yield();
        }
        ASSERT_TRUE(bell->parked());
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

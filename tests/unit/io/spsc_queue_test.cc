// SpscQueue: FIFO order, full and empty, index wrap-around, move-only elements, batch pops,
// destruction of what is left, and a two-thread run of 10 million sequence numbers that must
// arrive in order with none lost. The threads spin (yield) on full/empty; nothing sleeps.
#include "io/spsc_queue.h"

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ringlog::io {
namespace {

TEST(SpscQueue, EmptyQueuePopsNothing) {
    SpscQueue<int> queue(4);
    EXPECT_TRUE(queue.empty());
    EXPECT_FALSE(queue.try_pop().has_value());
    EXPECT_EQ(queue.pop_batch([](int&&) {}), 0u);
}

TEST(SpscQueue, FullQueueRefusesAndKeepsTheValue) {
    SpscQueue<std::unique_ptr<int>> queue(2);
    EXPECT_TRUE(queue.try_push(std::make_unique<int>(1)));
    EXPECT_TRUE(queue.try_push(std::make_unique<int>(2)));
    auto third = std::make_unique<int>(3);
    EXPECT_FALSE(queue.try_push(std::move(third)));
    ASSERT_NE(third, nullptr);  // a refused push leaves the value with the caller
    EXPECT_EQ(*third, 3);
    EXPECT_EQ(**queue.try_pop(), 1);
    EXPECT_TRUE(queue.try_push(std::move(third)));
    EXPECT_EQ(**queue.try_pop(), 2);
    EXPECT_EQ(**queue.try_pop(), 3);
    EXPECT_TRUE(queue.empty());
}

TEST(SpscQueue, WrapsAroundInOrder) {
    SpscQueue<uint64_t> queue(8);
    uint64_t pushed = 0;
    uint64_t popped = 0;
    // Uneven push and pop counts walk the indexes across the end of the ring many times.
    for (int round = 0; round < 1000; ++round) {
        for (int i = 0; i < 5; ++i) {
            ASSERT_TRUE(queue.try_push(uint64_t(pushed++)));
        }
        for (int i = 0; i < 5; ++i) {
            auto value = queue.try_pop();
            ASSERT_TRUE(value.has_value());
            ASSERT_EQ(*value, popped++);
        }
    }
    EXPECT_TRUE(queue.empty());
}

TEST(SpscQueue, PopBatchTakesAtMostTheLimitOldestFirst) {
    SpscQueue<int> queue(16);
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(queue.try_push(int(i)));
    }
    std::vector<int> seen;
    EXPECT_EQ(queue.pop_batch([&](int&& value) { seen.push_back(value); }, 4), 4u);
    EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(queue.pop_batch([&](int&& value) { seen.push_back(value); }), 6u);
    EXPECT_EQ(seen.size(), 10u);
    EXPECT_EQ(seen.back(), 9);
}

TEST(SpscQueue, MovesOwnershipThrough) {
    SpscQueue<std::unique_ptr<int>> queue(4);
    auto value = std::make_unique<int>(42);
    int* const address = value.get();
    ASSERT_TRUE(queue.try_push(std::move(value)));
    EXPECT_EQ(value, nullptr);
    std::unique_ptr<int> out = *queue.try_pop();
    EXPECT_EQ(out.get(), address);  // the same object, not a copy
}

TEST(SpscQueue, DestroysElementsLeftInIt) {
    auto counted = std::make_shared<int>(0);
    {
        SpscQueue<std::shared_ptr<int>> queue(4);
        ASSERT_TRUE(queue.try_push(std::shared_ptr<int>(counted)));
        ASSERT_TRUE(queue.try_push(std::shared_ptr<int>(counted)));
        ASSERT_TRUE(queue.try_push(std::shared_ptr<int>(counted)));
        (void)queue.try_pop();
        EXPECT_EQ(counted.use_count(), 3);
    }
    EXPECT_EQ(counted.use_count(), 1);
}

TEST(SpscQueue, TwoThreadsKeepOrderAndLoseNothing) {
    constexpr uint64_t count = 10'000'000;
    SpscQueue<uint64_t> queue(1024);
    std::thread producer([&queue] {
        for (uint64_t next = 0; next < count;) {
            if (queue.try_push(uint64_t(next))) {
                ++next;
            } else {
                std::this_thread::yield();
            }
        }
    });
    uint64_t expected = 0;
    uint64_t out_of_order = 0;
    while (expected < count) {
        const size_t taken = queue.pop_batch([&](uint64_t&& value) {
            out_of_order += value != expected ? 1 : 0;
            ++expected;
        });
        if (taken == 0) {
            std::this_thread::yield();
        }
    }
    producer.join();
    EXPECT_EQ(out_of_order, 0u);
    EXPECT_EQ(expected, count);
    EXPECT_TRUE(queue.empty());
}

}  // namespace
}  // namespace ringlog::io

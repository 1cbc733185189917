// Task<T>: laziness, values, void, nested awaits, move-only results, frames freed with their
// task, symmetric transfer keeping the stack flat over a million synchronous awaits, and
// io::spawn. Tasks that never suspend are driven by resuming them once; the rest run on a
// Reactor.
#include "io/task.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/reactor.h"

namespace ringlog::io {
namespace {

// Runs a task that must complete without suspending.
template <typename T>
T run_sync(Task<T> task) {
    task.handle().resume();
    RL_ASSERT(task.done());
    return task.take_result();
}

std::unique_ptr<Reactor> make_reactor() {
    auto reactor = Reactor::create();
    RL_ASSERT(reactor.ok());
    return *std::move(reactor);
}

Task<int> forty_two() {
    co_return 42;
}

Task<int> add_one(int value) {
    co_return value + 1;
}

Task<int> nested() {
    const int a = co_await forty_two();
    const int b = co_await add_one(a);
    co_return a + b;
}

Task<void> set_flag(bool& flag) {
    flag = true;
    co_return;
}

Task<std::unique_ptr<std::string>> make_owned(std::string text) {
    co_return std::make_unique<std::string>(std::move(text));
}

Task<size_t> owned_length() {
    std::unique_ptr<std::string> owned = co_await make_owned("coroutine");
    co_return owned->size();
}

TEST(Task, ReturnsItsValue) {
    EXPECT_EQ(run_sync(forty_two()), 42);
}

TEST(Task, IsLazyUntilStarted) {
    bool flag = false;
    Task<void> task = set_flag(flag);
    EXPECT_FALSE(flag);
    EXPECT_TRUE(task.valid());
    EXPECT_FALSE(task.done());
    task.handle().resume();
    EXPECT_TRUE(flag);
    EXPECT_TRUE(task.done());
}

TEST(Task, VoidTaskRunsToCompletion) {
    bool flag = false;
    run_sync(set_flag(flag));
    EXPECT_TRUE(flag);
}

TEST(Task, NestedAwaitsPassValuesUp) {
    EXPECT_EQ(run_sync(nested()), 42 + 43);
}

TEST(Task, MoveOnlyResultsAreMovedOut) {
    EXPECT_EQ(run_sync(owned_length()), 9u);
    std::unique_ptr<std::string> owned = run_sync(make_owned("x"));
    ASSERT_NE(owned, nullptr);
    EXPECT_EQ(*owned, "x");
}

TEST(Task, MovingATaskTransfersTheFrame) {
    Task<int> first = forty_two();
    Task<int> second = std::move(first);
    EXPECT_FALSE(first.valid());  // NOLINT(bugprone-use-after-move): checking the moved-from state
    EXPECT_EQ(run_sync(std::move(second)), 42);
}

// Counts its live copies, to observe when a coroutine frame holding one is destroyed.
struct LiveCounter {
    explicit LiveCounter(int& live) : live_(&live) { ++*live_; }

    LiveCounter(const LiveCounter& other) : live_(other.live_) { ++*live_; }

    ~LiveCounter() { --*live_; }

    int* live_;
};

Task<int> hold(LiveCounter counter) {
    (void)counter;
    co_return 1;
}

TEST(Task, DestroyingATaskFreesItsFrameStartedOrNot) {
    int live = 0;
    {
        Task<int> never_started = hold(LiveCounter(live));
        EXPECT_EQ(live, 1);
    }
    EXPECT_EQ(live, 0);
    {
        Task<int> finished = hold(LiveCounter(live));
        finished.handle().resume();
        EXPECT_TRUE(finished.done());
        EXPECT_EQ(live, 1);  // the frame (and its parameter copy) lives until the task goes
    }
    EXPECT_EQ(live, 0);
}

Task<int> one() {
    co_return 1;
}

Task<int> sum_of_ones(int count) {
    int total = 0;
    for (int i = 0; i < count; ++i) {
        total += co_await one();
    }
    co_return total;
}

TEST(Task, MillionSynchronousAwaitsDoNotGrowTheStack) {
    // Without symmetric transfer each await that completes at once would nest two native
    // frames (resume inside resume) and a million of them would overflow the 8 MiB stack.
    EXPECT_EQ(run_sync(sum_of_ones(1'000'000)), 1'000'000);
}

TEST(Task, BlockOnReturnsTheResult) {
    auto reactor = make_reactor();
    EXPECT_EQ(reactor->block_on(nested()), 85);
    EXPECT_EQ(reactor->block_on(owned_length()), 9u);
}

Task<void> record_around_yield(std::vector<int>& trace, int id) {
    trace.push_back(id);
    co_await Reactor::current().yield();
    trace.push_back(id + 100);
}

Task<void> yield_twice() {
    co_await Reactor::current().yield();
    co_await Reactor::current().yield();
}

TEST(Spawn, RunsUntilTheFirstSuspensionThenOnTheLoop) {
    auto reactor = make_reactor();
    std::vector<int> trace;
    spawn(record_around_yield(trace, 1));
    EXPECT_EQ(trace, std::vector<int>{1});
    reactor->block_on(yield_twice());
    EXPECT_EQ(trace, (std::vector<int>{1, 101}));
}

}  // namespace
}  // namespace ringlog::io

// Reactor: set-up and the current() pointer, block_on, single operations, batching of many
// operations into few io_uring_enter calls (counted, not timed), a submission queue smaller
// than the work, yield and schedule order, timers, the idle spin before a blocking wait,
// fixed-buffer registration, and the assertions that catch a nested block_on or a loop that would
// wait forever.
#include "io/reactor.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "io/buffer.h"
#include "io/event.h"
#include "io/task_group.h"

namespace ringlog::io {
namespace {

std::unique_ptr<Reactor> make_reactor(ReactorOptions options = {}) {
    auto reactor = Reactor::create(options);
    RL_ASSERT(reactor.ok());
    return *std::move(reactor);
}

Task<int> nop() {
    co_return co_await Reactor::current().op([](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); });
}

Task<void> nop_into(int& result) {
    result = co_await nop();
}

TEST(Reactor, CreatingOneMakesItCurrentUntilDestroyed) {
    EXPECT_EQ(Reactor::current_or_null(), nullptr);
    {
        auto reactor = make_reactor();
        EXPECT_EQ(Reactor::current_or_null(), reactor.get());
        EXPECT_EQ(&Reactor::current(), reactor.get());
    }
    EXPECT_EQ(Reactor::current_or_null(), nullptr);
}

TEST(Reactor, ProbesTheKernel) {
    auto reactor = make_reactor();
    EXPECT_TRUE(reactor->supports(IORING_OP_NOP));
    EXPECT_TRUE(reactor->supports(IORING_OP_TIMEOUT));
    EXPECT_FALSE(reactor->supports(-1));
    EXPECT_FALSE(reactor->supports(100000));
    // Informational: which set-up flags this kernel accepted.
    ::testing::Test::RecordProperty("defer_taskrun", reactor->defer_taskrun() ? "yes" : "no");
    if (reactor->defer_taskrun()) {
        EXPECT_NE(reactor->setup_flags() & IORING_SETUP_SINGLE_ISSUER, 0u);
    }
}

TEST(Reactor, BlockOnReturnsTheTaskResult) {
    auto reactor = make_reactor();
    EXPECT_EQ(reactor->block_on(nop()), 0);
    EXPECT_EQ(reactor->inflight(), 0u);
}

TEST(Reactor, OpReturnsCqeResultAndFlags) {
    auto reactor = make_reactor();
    // A timeout of zero with no completions to count fires at once with -ETIME.
    const int result = reactor->block_on([]() -> Task<int> {
        __kernel_timespec zero{};
        co_return co_await Reactor::current().op(
            [&](io_uring_sqe* sqe) { io_uring_prep_timeout(sqe, &zero, 0, 0); });
    }());
    EXPECT_EQ(result, -ETIME);
    const CqeResult cqe = reactor->block_on([]() -> Task<CqeResult> {
        co_return co_await Reactor::current().op_cqe(
            [](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); });
    }());
    EXPECT_EQ(cqe.result, 0);
    EXPECT_EQ(cqe.flags & IORING_CQE_F_MORE, 0u);
}

Task<void> run_nops(int count, std::vector<int>& results) {
    TaskGroup group;
    results.assign(static_cast<size_t>(count), -1);
    for (int i = 0; i < count; ++i) {
        group.spawn(nop_into(results[static_cast<size_t>(i)]));
    }
    co_await group.wait_idle();
}

TEST(Reactor, ConcurrentOpsAreSubmittedTogether) {
    auto reactor = make_reactor();
    std::vector<int> results;
    const ReactorStats before = reactor->stats();
    reactor->block_on(run_nops(200, results));
    EXPECT_EQ(results, std::vector<int>(200, 0));
    EXPECT_EQ(reactor->stats().sqes - before.sqes, 200u);
    EXPECT_EQ(reactor->stats().completions - before.completions, 200u);
    // One enter submits all 200 SQEs and waits; one SQE per enter would be 200.
    EXPECT_LE(reactor->stats().enters - before.enters, 3u);
    EXPECT_EQ(reactor->inflight(), 0u);
}

TEST(Reactor, MoreOpsThanQueueEntriesStillComplete) {
    // 8 SQ entries (16 CQ entries) for 1000 operations: the queue fills up again and again and
    // the completion queue overflows; every operation must still complete exactly once.
    auto reactor = make_reactor({.entries = 8});
    std::vector<int> results;
    reactor->block_on(run_nops(1000, results));
    EXPECT_EQ(results, std::vector<int>(1000, 0));
    EXPECT_EQ(reactor->stats().completions, 1000u);
    EXPECT_EQ(reactor->inflight(), 0u);
}

Task<void> record_turns(std::vector<std::string>& trace, std::string name, int turns) {
    for (int i = 0; i < turns; ++i) {
        trace.push_back(name + std::to_string(i));
        co_await Reactor::current().yield();
    }
}

Task<void> interleave(std::vector<std::string>& trace) {
    TaskGroup group;
    group.spawn(record_turns(trace, "a", 3));
    group.spawn(record_turns(trace, "b", 3));
    co_await group.wait_idle();
}

TEST(Reactor, YieldRunsEveryOtherReadyCoroutineFirst) {
    auto reactor = make_reactor();
    std::vector<std::string> trace;
    reactor->block_on(interleave(trace));
    EXPECT_EQ(trace, (std::vector<std::string>{"a0", "b0", "a1", "b1", "a2", "b2"}));
}

// Suspends and hands its handle to the test, which schedules it.
struct Parked {
    std::coroutine_handle<> handle;

    bool await_ready() const noexcept { return false; }

    void await_suspend(std::coroutine_handle<> h) { handle = h; }

    void await_resume() const noexcept {}
};

Task<void> park_then_record(Parked& parked, std::vector<int>& trace, int id) {
    co_await parked;
    trace.push_back(id);
}

TEST(Reactor, ScheduledCoroutinesRunInOrderOnTheNextTurn) {
    auto reactor = make_reactor();
    std::vector<int> trace;
    Parked parked[3];
    for (int i = 0; i < 3; ++i) {
        spawn(park_then_record(parked[i], trace, i));
    }
    reactor->schedule(parked[2].handle);
    reactor->schedule(parked[0].handle);
    reactor->schedule(parked[1].handle);
    EXPECT_TRUE(trace.empty());  // schedule never resumes inline
    reactor->block_on([]() -> Task<void> { co_return; }());
    EXPECT_EQ(trace, (std::vector<int>{2, 0, 1}));
}

TEST(Reactor, SleepForLetsAtLeastTheDurationPass) {
    auto reactor = make_reactor();
    const auto start = reactor->now();
    reactor->block_on([]() -> Task<void> {
        co_await Reactor::current().sleep_for(std::chrono::milliseconds(2));
    }());
    EXPECT_GE(reactor->now() - start, std::chrono::milliseconds(2));
    EXPECT_EQ(reactor->inflight(), 0u);
}

TEST(Reactor, AnIdleSpinCatchesACompletionWithoutBlocking) {
    // A spin far longer than the timer: the timer's completion is found while spinning (how
    // long that takes is not checked), so the loop never blocks in the kernel for it.
    ReactorOptions options;
    options.idle_spin = std::chrono::seconds(60);
    auto reactor = make_reactor(options);
    reactor->block_on([]() -> Task<void> {
        co_await Reactor::current().sleep_for(std::chrono::microseconds(200));
    }());
    EXPECT_GE(reactor->stats().spins, 1u);
    EXPECT_EQ(reactor->stats().spins_found, reactor->stats().spins);
    EXPECT_EQ(reactor->inflight(), 0u);
}

TEST(Reactor, WithoutAnIdleSpinTheLoopNeverSpins) {
    auto reactor = make_reactor();
    reactor->block_on([]() -> Task<void> {
        co_await Reactor::current().sleep_for(std::chrono::microseconds(200));
    }());
    EXPECT_EQ(reactor->stats().spins, 0u);
}

TEST(Reactor, BackgroundWorkContinuesAcrossBlockOnCalls) {
    auto reactor = make_reactor();
    int result = -1;
    spawn(nop_into(result));  // its SQE is queued now and submitted by the next loop
    EXPECT_EQ(result, -1);
    EXPECT_EQ(reactor->inflight(), 1u);
    reactor->block_on([]() -> Task<void> {
        co_await Reactor::current().sleep_for(std::chrono::microseconds(1));
    }());
    EXPECT_EQ(result, 0);
}

TEST(Reactor, RegistersSeveralPoolsAsFixedBuffers) {
    auto reactor = make_reactor({.fixed_buffer_slots = 6});
    BufferPool first(4096, 4);
    BufferPool second(8192, 2);
    BufferPool third(4096, 1);
    ASSERT_TRUE(reactor->register_buffers(first).ok());
    ASSERT_TRUE(reactor->register_buffers(second).ok());
    for (size_t i = 0; i < first.count(); ++i) {
        EXPECT_EQ(first.buffers()[i]->fixed_index(), static_cast<int>(i));
    }
    EXPECT_EQ(second.buffers()[0]->fixed_index(), 4);
    EXPECT_EQ(second.buffers()[1]->fixed_index(), 5);
    // The table is full now.
    const absl::Status full = reactor->register_buffers(third);
    EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
    EXPECT_EQ(third.buffers()[0]->fixed_index(), -1);
}

TEST(ReactorDeathTest, NestedBlockOnIsABug) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            auto reactor = make_reactor();
            reactor->block_on([]() -> Task<void> {
                Reactor::current().block_on(nop());
                co_return;
            }());
        },
        "nested block_on");
}

TEST(ReactorDeathTest, WaitingForeverIsABug) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            auto reactor = make_reactor();
            Notify never;
            reactor->block_on([](Notify& notify) -> Task<void> { co_await notify.wait(); }(never));
        },
        "wait forever");
}

}  // namespace
}  // namespace ringlog::io

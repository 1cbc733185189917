// Reactor pollers (busy-polling): a poller runs once per loop turn and can wake a waiting
// coroutine; idle spinning skips io_uring_enter(2) on most turns; a poller idle past the spin
// budget makes the loop wait in the kernel with a growing, bounded timeout; completions still
// arrive while pollers spin; pollers hear of each wait before it starts. Counted through
// ReactorStats, never timed.
#include <chrono>

#include <gtest/gtest.h>

#include "io/event.h"
#include "io/reactor.h"

namespace ringlog::io {
namespace {

std::unique_ptr<Reactor> make_reactor(ReactorOptions options = {}) {
    auto reactor = Reactor::create(options);
    RL_ASSERT(reactor.ok());
    return *std::move(reactor);
}

// Finds "work" on its `busy_at`-th poll and then notifies whoever waits.
class CountingPoller final : public Poller {
public:
    explicit CountingPoller(uint64_t busy_at) : busy_at_(busy_at) {}

    bool poll() override {
        ++polls;
        if (polls == busy_at_) {
            done.notify_all();
            return true;
        }
        return false;
    }

    void before_wait() override { ++before_waits; }

    uint64_t polls = 0;
    uint64_t before_waits = 0;
    Notify done;

private:
    uint64_t busy_at_;
};

Task<void> wait_for(Notify& notify) {
    co_await notify.wait();
}

TEST(ReactorPoller, RunsOncePerTurnAndCanWakeATask) {
    auto reactor = make_reactor();
    CountingPoller poller(5);
    reactor->add_poller(poller);
    reactor->block_on(wait_for(poller.done));
    EXPECT_EQ(poller.polls, 5u);
    EXPECT_EQ(reactor->stats().polls, 5u);
    EXPECT_EQ(reactor->stats().polls_busy, 1u);
    reactor->remove_poller(poller);
    EXPECT_EQ(reactor->stats().poll_waits, 0u);  // never idle long enough to back off
}

TEST(ReactorPoller, SpinningTurnsSkipMostSystemCalls) {
    ReactorOptions options;
    options.poll_spin_turns = 10'000;
    auto reactor = make_reactor(options);
    CountingPoller poller(1'600);
    reactor->add_poller(poller);
    const uint64_t enters_before = reactor->stats().enters;
    reactor->block_on(wait_for(poller.done));
    reactor->remove_poller(poller);
    // One enter every 16 idle turns: about 100 for 1,600 turns, not 1,600.
    EXPECT_LE(reactor->stats().enters - enters_before, 1'600u / 16 + 2);
    EXPECT_EQ(reactor->stats().poll_waits, 0u);
}

TEST(ReactorPoller, AnIdlePollerBacksOffIntoBoundedWaits) {
    ReactorOptions options;
    options.poll_spin_turns = 8;
    options.poll_wait_min = std::chrono::microseconds(1);
    options.poll_wait_max = std::chrono::microseconds(50);
    auto reactor = make_reactor(options);
    CountingPoller poller(8 + 20);
    reactor->add_poller(poller);
    reactor->block_on(wait_for(poller.done));
    reactor->remove_poller(poller);
    // 8 spinning turns, then each idle turn is one wait (nothing is in flight to end it early),
    // each announced to the poller first.
    EXPECT_EQ(reactor->stats().poll_waits, 20u - 1u);
    EXPECT_EQ(poller.before_waits, 20u - 1u);
}

TEST(ReactorPoller, CompletionsArriveWhilePollersSpin) {
    auto reactor = make_reactor();
    CountingPoller poller(0);  // never busy
    reactor->add_poller(poller);
    const int result = reactor->block_on([]() -> Task<int> {
        co_await Reactor::current().sleep_for(std::chrono::microseconds(200));
        co_return co_await Reactor::current().op([](io_uring_sqe* sqe) { io_uring_prep_nop(sqe); });
    }());
    reactor->remove_poller(poller);
    EXPECT_EQ(result, 0);
    EXPECT_GT(poller.polls, 0u);
}

}  // namespace
}  // namespace ringlog::io

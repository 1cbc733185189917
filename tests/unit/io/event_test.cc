// Notify: notify_all wakes every waiter on the next loop turn (never inline), a lost
// notification stays lost, and wait_for returns false on timeout and true when notified —
// in both cases with nothing left behind: no waiter in the list, no timer in the ring
// (Reactor::inflight() counts what the kernel still holds).
#include "io/event.h"

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "io/reactor.h"
#include "io/task_group.h"

namespace ringlog::io {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

class NotifyTest : public ::testing::Test {
protected:
    std::unique_ptr<Reactor> reactor_ = [] {
        auto reactor = Reactor::create();
        RL_ASSERT(reactor.ok());
        return *std::move(reactor);
    }();
    Notify notify_;
};

Task<void> wait_and_count(Notify& notify, int& woken) {
    co_await notify.wait();
    ++woken;
}

Task<void> wait_for_into(Notify& notify, nanoseconds timeout, int& result) {
    result = (co_await notify.wait_for(timeout)) ? 1 : 0;
}

Task<void> yield_once() {
    co_await Reactor::current().yield();
}

Task<void> notify_after_yields(Notify& notify, int yields) {
    for (int i = 0; i < yields; ++i) {
        co_await Reactor::current().yield();
    }
    notify.notify_all();
}

TEST_F(NotifyTest, NotifyAllWakesEveryWaiterOnTheNextTurn) {
    int woken = 0;
    TaskGroup group;
    for (int i = 0; i < 3; ++i) {
        group.spawn(wait_and_count(notify_, woken));
    }
    EXPECT_EQ(notify_.waiter_count(), 3u);
    notify_.notify_all();
    EXPECT_EQ(notify_.waiter_count(), 0u);
    EXPECT_EQ(woken, 0);  // scheduled, not resumed inline
    reactor_->block_on(group.wait_idle());
    EXPECT_EQ(woken, 3);
}

TEST_F(NotifyTest, NotifyWithoutWaitersIsLost) {
    notify_.notify_all();  // needs no reactor turn and is not remembered
    int result = -1;
    reactor_->block_on(wait_for_into(notify_, milliseconds(1), result));
    EXPECT_EQ(result, 0);
}

TEST_F(NotifyTest, AWokenWaiterWaitsAgainForTheNextNotify) {
    int woken = 0;
    TaskGroup group;
    group.spawn([](Notify& notify, int& count) -> Task<void> {
        co_await notify.wait();
        ++count;
        co_await notify.wait();
        ++count;
    }(notify_, woken));
    notify_.notify_all();
    reactor_->block_on(yield_once());
    EXPECT_EQ(woken, 1);
    EXPECT_EQ(notify_.waiter_count(), 1u);
    notify_.notify_all();
    reactor_->block_on(group.wait_idle());
    EXPECT_EQ(woken, 2);
}

TEST_F(NotifyTest, WaitForTimesOutWithNothingLeftBehind) {
    int result = -1;
    const auto start = reactor_->now();
    reactor_->block_on(wait_for_into(notify_, milliseconds(2), result));
    EXPECT_EQ(result, 0);
    EXPECT_GE(reactor_->now() - start, milliseconds(2));
    EXPECT_EQ(notify_.waiter_count(), 0u);
    EXPECT_EQ(reactor_->inflight(), 0u);
}

Task<void> notified_wait_for(Notify& notify, int& result, uint64_t& inflight_after) {
    TaskGroup group;
    group.spawn(notify_after_yields(notify, 2));
    // An hour: only the notification can end this wait.
    result = (co_await notify.wait_for(std::chrono::hours(1))) ? 1 : 0;
    inflight_after = Reactor::current().inflight();
    co_await group.wait_idle();
}

TEST_F(NotifyTest, WaitForReturnsTrueWhenNotifiedAndRemovesItsTimer) {
    int result = -1;
    uint64_t inflight_after = 99;
    reactor_->block_on(notified_wait_for(notify_, result, inflight_after));
    EXPECT_EQ(result, 1);
    EXPECT_EQ(inflight_after, 0u);  // the hour-long timer is gone when wait_for returns
    EXPECT_EQ(notify_.waiter_count(), 0u);
}

Task<void> race(Notify& notify, int rounds, int& notified, int& timed_out) {
    // Zero and tiny timeouts against notifications a few turns away: both outcomes happen,
    // sometimes on the same turn, and each must be counted exactly once.
    for (int round = 0; round < rounds; ++round) {
        TaskGroup group;
        group.spawn(notify_after_yields(notify, round % 3));
        const bool woken = co_await notify.wait_for(nanoseconds(round % 5 * 1000));
        ++(woken ? notified : timed_out);
        co_await group.wait_idle();
    }
}

TEST_F(NotifyTest, WaitForRacingNotifyAlwaysFinishesCleanly) {
    int notified = 0;
    int timed_out = 0;
    reactor_->block_on(race(notify_, 300, notified, timed_out));
    EXPECT_EQ(notified + timed_out, 300);
    EXPECT_EQ(notify_.waiter_count(), 0u);
    EXPECT_EQ(reactor_->inflight(), 0u);
}

TEST_F(NotifyTest, WaitAndWaitForShareOneNotification) {
    int woken = 0;
    int timed = -1;
    TaskGroup group;
    group.spawn(wait_and_count(notify_, woken));
    group.spawn(wait_for_into(notify_, std::chrono::hours(1), timed));
    EXPECT_EQ(notify_.waiter_count(), 2u);
    notify_.notify_all();
    reactor_->block_on(group.wait_idle());
    EXPECT_EQ(woken, 1);
    EXPECT_EQ(timed, 1);
    EXPECT_EQ(reactor_->inflight(), 0u);
}

}  // namespace
}  // namespace ringlog::io

// TaskGroup: spawn starts a task at once and counts it until it finishes; wait_idle completes
// only when every task has finished, and at once for an idle group.
#include "io/task_group.h"

#include <vector>

#include <gtest/gtest.h>

#include "io/event.h"
#include "io/reactor.h"

namespace ringlog::io {
namespace {

class TaskGroupTest : public ::testing::Test {
protected:
    std::unique_ptr<Reactor> reactor_ = [] {
        auto reactor = Reactor::create();
        RL_ASSERT(reactor.ok());
        return *std::move(reactor);
    }();
};

Task<void> wait_then_mark(Notify& release, std::vector<int>& done, int id) {
    co_await release.wait();
    done.push_back(id);
}

Task<void> mark(std::vector<int>& done, int id) {
    done.push_back(id);
    co_return;
}

Task<void> sleep_then_mark(std::vector<int>& done, int id) {
    co_await Reactor::current().sleep_for(std::chrono::microseconds(id * 100));
    done.push_back(id);
}

Task<bool> wait_idle_then_check(TaskGroup& group, const std::vector<int>& done, size_t expected) {
    co_await group.wait_idle();
    co_return done.size() == expected&& group.active() == 0;
}

TEST_F(TaskGroupTest, SpawnStartsTheTaskAtOnce) {
    TaskGroup group;
    std::vector<int> done;
    group.spawn(mark(done, 7));
    EXPECT_EQ(done, std::vector<int>{7});
    EXPECT_EQ(group.active(), 0u);
}

TEST_F(TaskGroupTest, WaitIdleOnAnIdleGroupCompletesAtOnce) {
    TaskGroup group;
    std::vector<int> done;
    EXPECT_TRUE(reactor_->block_on(wait_idle_then_check(group, done, 0)));
}

TEST_F(TaskGroupTest, WaitIdleWaitsForEveryTask) {
    TaskGroup group;
    Notify release;
    std::vector<int> done;
    for (int i = 0; i < 4; ++i) {
        group.spawn(wait_then_mark(release, done, i));
    }
    for (int i = 4; i < 7; ++i) {
        group.spawn(sleep_then_mark(done, i));
    }
    EXPECT_EQ(group.active(), 7u);
    EXPECT_TRUE(done.empty());
    release.notify_all();
    EXPECT_TRUE(reactor_->block_on(wait_idle_then_check(group, done, 7)));
}

TEST_F(TaskGroupTest, SeveralWaitersAllWakeWhenIdle) {
    TaskGroup group;
    Notify release;
    std::vector<int> done;
    group.spawn(wait_then_mark(release, done, 1));
    TaskGroup waiters;
    int idle_seen = 0;
    for (int i = 0; i < 3; ++i) {
        waiters.spawn([](TaskGroup& watched, int& seen) -> Task<void> {
            co_await watched.wait_idle();
            ++seen;
        }(group, idle_seen));
    }
    release.notify_all();
    reactor_->block_on(waiters.wait_idle());
    EXPECT_EQ(idle_seen, 3);
    EXPECT_EQ(done, std::vector<int>{1});
}

}  // namespace
}  // namespace ringlog::io

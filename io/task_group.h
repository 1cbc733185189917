// TaskGroup: counts the background coroutines an object starts, so that the object can wait
// for all of them before it goes away (STYLE.md §4: "an object that starts background
// coroutines counts them, and its stop() waits for zero"). It does not cancel anything: the
// owner tells its tasks to stop (a flag plus a Notify, say), then awaits wait_idle().
#pragma once

#include <cstddef>
#include <utility>

#include "io/base/assert.h"
#include "io/event.h"
#include "io/task.h"

namespace ringlog::io {

// Contract: spawn() starts the task at once, like io::spawn: it runs until its first
// suspension before spawn() returns. wait_idle() completes once active() is zero, at once if it
// already is. The group must outlive its tasks (asserted at destruction).
class TaskGroup {
public:
    TaskGroup() = default;

    ~TaskGroup() {
        RL_ASSERT(active_ == 0, "TaskGroup destroyed with %d tasks running", int(active_));
    }

    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;

    void spawn(Task<void> task) {
        ++active_;
        run(*this, std::move(task));
    }

    size_t active() const { return active_; }

    [[nodiscard]] Task<void> wait_idle() {
        while (active_ > 0) {
            co_await idle_.wait();
        }
    }

private:
    // The detached frame owns the task; the group outlives it (see the contract).
    static detail::Detached run(TaskGroup& group, Task<void> task) {
        co_await std::move(task);
        group.finished();
    }

    void finished() {
        RL_ASSERT(active_ > 0);
        if (--active_ == 0) {
            idle_.notify_all();
        }
    }

    size_t active_ = 0;
    Notify idle_;
};

}  // namespace ringlog::io

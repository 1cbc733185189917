// Notify's waiter list and its timed wait. The timed wait is the subtle part: two things can
// wake it (notify_all and its IORING_OP_TIMEOUT) and it may only return once the kernel no
// longer holds a pointer into its frame.
#include "io/event.h"

#include <linux/time_types.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "io/reactor.h"

namespace ringlog::io {

void Notify::link(Waiter& waiter, std::coroutine_handle<> handle) {
    RL_ASSERT(!waiter.linked());
    waiter.owner_ = this;
    waiter.handle_ = handle;
    waiter.notified_ = false;
    waiter.prev_ = tail_;
    waiter.next_ = nullptr;
    if (tail_ != nullptr) {
        tail_->next_ = &waiter;
    } else {
        head_ = &waiter;
    }
    tail_ = &waiter;
    ++count_;
}

void Notify::unlink(Waiter& waiter) {
    RL_ASSERT(waiter.owner_ == this);
    if (waiter.prev_ != nullptr) {
        waiter.prev_->next_ = waiter.next_;
    } else {
        head_ = waiter.next_;
    }
    if (waiter.next_ != nullptr) {
        waiter.next_->prev_ = waiter.prev_;
    } else {
        tail_ = waiter.prev_;
    }
    waiter.owner_ = nullptr;
    waiter.prev_ = nullptr;
    waiter.next_ = nullptr;
    --count_;
}

void Notify::notify_all() {
    if (head_ == nullptr) {
        return;
    }
    Reactor& reactor = Reactor::current();
    // Detach the whole list first: a woken coroutine may wait again, and must then wait for the
    // next notify_all, not this one.
    Waiter* waiter = std::exchange(head_, nullptr);
    tail_ = nullptr;
    count_ = 0;
    while (waiter != nullptr) {
        Waiter* next = waiter->next_;
        waiter->owner_ = nullptr;
        waiter->prev_ = nullptr;
        waiter->next_ = nullptr;
        waiter->notified_ = true;
        reactor.schedule(waiter->handle_);
        waiter = next;
    }
}

// The state of one wait_for(), in its coroutine frame. Awaiting it links the waiter and arms
// the timer; whichever of notify_all() and the timer's CQE comes first schedules the coroutine.
// If the notification won, the timer is still armed and its CQE will point at this frame, so
// the coroutine removes it (IORING_OP_TIMEOUT_REMOVE) and waits for that CQE before returning.
class Notify::TimedWait : public Completion {
public:
    TimedWait(Notify& notify, Reactor& reactor, std::chrono::nanoseconds timeout)
        : Completion(&on_timer), notify_(notify), reactor_(reactor) {
        const int64_t nanoseconds = std::max<int64_t>(0, timeout.count());
        timespec_.tv_sec = nanoseconds / 1'000'000'000;
        timespec_.tv_nsec = nanoseconds % 1'000'000'000;
    }

    ~TimedWait() { RL_ASSERT(!timer_armed_, "a wait_for frame destroyed with its timer armed"); }

    TimedWait(const TimedWait&) = delete;
    TimedWait& operator=(const TimedWait&) = delete;

    bool notified() const { return waiter_.notified(); }

    bool timer_armed() const { return timer_armed_; }

    // co_await wait: until notified or timed out.
    bool await_ready() const noexcept { return false; }

    void await_suspend(std::coroutine_handle<> handle) {
        handle_ = handle;
        notify_.link(waiter_, handle);
        timer_armed_ = true;
        reactor_.prepare(
            this, [this](io_uring_sqe* sqe) { io_uring_prep_timeout(sqe, &timespec_, 0, 0); });
    }

    void await_resume() const noexcept {}

    // co_await wait.disarm(): removes the armed timer and resumes once its CQE is reaped.
    auto disarm() {
        struct DisarmAwaiter {
            TimedWait& wait;

            bool await_ready() const noexcept { return !wait.timer_armed_; }

            void await_suspend(std::coroutine_handle<> handle) {
                wait.handle_ = handle;
                wait.disarming_ = true;
                const auto target = reinterpret_cast<uint64_t>(static_cast<Completion*>(&wait));
                // Nobody needs the removal's own CQE: success, or -ENOENT if the timer fired
                // meanwhile. Either way the timer's CQE follows (or came) and resumes us.
                wait.reactor_.prepare(nullptr, [target](io_uring_sqe* sqe) {
                    io_uring_prep_timeout_remove(sqe, target, 0);
                });
            }

            void await_resume() const noexcept {}
        };

        return DisarmAwaiter{*this};
    }

private:
    static void on_timer(Completion* self, int32_t result, uint32_t flags) {
        (void)result;  // -ETIME when it fired, -ECANCELED when removed
        (void)flags;
        auto* wait = static_cast<TimedWait*>(self);
        wait->timer_armed_ = false;
        if (wait->waiter_.linked()) {
            // Timed out first: leave the list, so a later notify_all does not touch us.
            wait->notify_.unlink(wait->waiter_);
            wait->reactor_.schedule(wait->handle_);
        } else if (wait->disarming_) {
            wait->reactor_.schedule(wait->handle_);
        }
        // Otherwise notify_all() already scheduled the coroutine, which will see the timer
        // gone and return without disarming.
    }

    Notify& notify_;
    Reactor& reactor_;
    Waiter waiter_;
    std::coroutine_handle<> handle_;
    __kernel_timespec timespec_{};
    bool timer_armed_ = false;
    bool disarming_ = false;
};

Task<bool> Notify::wait_for(std::chrono::nanoseconds timeout) {
    TimedWait wait(*this, Reactor::current(), timeout);
    co_await wait;
    if (wait.timer_armed()) {
        co_await wait.disarm();
    }
    co_return wait.notified();
}

}  // namespace ringlog::io
